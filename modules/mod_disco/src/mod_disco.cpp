// mod_disco: XEP-0030 Service Discovery for the served domains and for local users' bare
// JIDs, XEP-0128 extensions and XEP-0157 contact addresses (option server_info).
// It declares and runs the hooks of sdk/include/aviary/ext/draft/disco.h, through which any
// module adds its identities, features, forms and items.
#include <aviary/aviary.hpp>
#include <aviary/ext/auth_provider.h>
#include <aviary/ext/draft/disco.h>
#include <aviary/ext/router.h>

#include <memory>
#include <stdexcept>

#include "disco_build.hpp"

namespace {

using mod_disco::Identity;
using mod_disco::Item;

class ModDisco final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"server_info", AV_OPT_ANY, nullptr, 1, 0, nullptr, false,
         "XEP-0157 addresses: [{name, urls, modules}] (MongooseIM's form) or {name: urls}"},
        {"extra_domains", AV_OPT_STRING_LIST, "[]", 1, 0, nullptr, false, "extra items in the server's disco#items"},
        {"users_can_see_hidden_services", AV_OPT_BOOL, "true", 1, 0, nullptr, false,
         "accepted for MongooseIM compatibility (no service is hidden yet)"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    try {
      server_info_ = mod_disco::server_info_form(mod_disco::parse_server_info(cx.option_json("server_info")), "mod_disco");
    } catch (const std::invalid_argument& e) {
      throw av::Error(AV_E_INVALID_ARG, std::string("modules.mod_disco.") + e.what());
    }
    extra_domains_ = cx.option_list("extra_domains");
    router_ = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    h_server_info_ = declare(AV_HOOK_DISCO_SERVER_INFO);
    h_server_items_ = declare(AV_HOOK_DISCO_SERVER_ITEMS);
    h_user_info_ = declare(AV_HOOK_DISCO_USER_INFO);
    h_user_items_ = declare(AV_HOOK_DISCO_USER_ITEMS);

    const std::string info = mod_disco::kNsInfo, items = mod_disco::kNsItems;
    hooks_.add_named<av_stanza_params, av_iq_acc>(AV_HOOK_IQ_SERVER_PREFIX + info, AV_PRIO_NORMAL,
                                                  [this](const av_stanza_params& p, av_iq_acc& acc) { return server_iq(p, acc, true); });
    hooks_.add_named<av_stanza_params, av_iq_acc>(AV_HOOK_IQ_SERVER_PREFIX + items, AV_PRIO_NORMAL,
                                                  [this](const av_stanza_params& p, av_iq_acc& acc) { return server_iq(p, acc, false); });
    hooks_.add_named<av_stanza_params, av_iq_acc>(AV_HOOK_IQ_BARE_PREFIX + info, AV_PRIO_NORMAL,
                                                  [this](const av_stanza_params& p, av_iq_acc& acc) { return user_iq(p, acc, true); });
    hooks_.add_named<av_stanza_params, av_iq_acc>(AV_HOOK_IQ_BARE_PREFIX + items, AV_PRIO_NORMAL,
                                                  [this](const av_stanza_params& p, av_iq_acc& acc) { return user_iq(p, acc, false); });
    return AV_OK;
  }

 private:
  static av_hook_id declare(const char* name) {
    av_hook_id id = -1;
    av_status st = av::host().hook_declare(av::self(), name, AV_HOOK_KIND_FOLD, &id);
    if (st != AV_OK) throw av::Error(st, std::string("cannot declare hook ") + name);
    return id;
  }

  struct Collected {
    std::vector<Identity> identities;
    std::vector<std::string> features;
    std::vector<std::string> extensions;
    std::vector<Item> items;
    bool found = false;
  };

  // Runs a disco hook with a fresh <query/> and reads back what the handlers added.
  static Collected run(av_hook_id hook, const std::string& from, const std::string& to, const std::string& node,
                       bool info) {
    auto& api = av::stanza_api();
    auto query = av::StanzaRef::adopt(
        api.create(av_cstr("query"), av_cstr(info ? mod_disco::kNsInfo : mod_disco::kNsItems)));
    av_vhost* vh = av::host().vhost_find(av::str(av::jid_domain_part(to)));
    av_disco_params p{sizeof(av_disco_params), vh, av::str(from), av::str(to),
                      node.empty() ? av::str_absent() : av::str(node)};
    av_disco_acc acc{sizeof(av_disco_acc), query.get(), false};
    av::run_hook(hook, vh, p, &acc);
    Collected c;
    c.found = acc.found;
    av::ElementView root = query.root();
    for (size_t i = 0; i < root.child_count(); ++i) {
      av::ElementView e = root.child_at(i);
      std::string_view n = e.name();
      if (n == "identity")
        c.identities.push_back({std::string(e.attr("category")), std::string(e.attr("type")),
                                std::string(e.attr("name")), std::string(e.attr("xml:lang"))});
      else if (n == "feature")
        c.features.emplace_back(e.attr("var"));
      else if (n == "item")
        c.items.push_back({std::string(e.attr("jid")), std::string(e.attr("name")), std::string(e.attr("node"))});
      else
        c.extensions.push_back(e.xml());
    }
    return c;
  }

  static av_stanza* reply_with(const av_stanza* req, const std::string& payload) {
    auto& api = av::stanza_api();
    av_stanza* r = api.make_result(req);
    if (r)
      if (av_xml_el* root = api.mut_root(r)) api.add_xml(root, av::str(payload));
    return r;
  }
  static av_stanza* error(const av_stanza* req, const char* type, const char* cond) {
    return av::stanza_api().make_error(req, av_cstr(type), av_cstr(cond), av::str_absent());
  }

  // A request without 'to' (a client asking about its own account) gives a reply without
  // 'from', which the router would drop: the reply comes from the JID asked about.
  static av_stanza* from_if_absent(av_stanza* r, const std::string& to) {
    if (!r || av::StanzaView(r).root().has_attr("from")) return r;
    if (av_xml_el* root = av::stanza_api().mut_root(r)) av::stanza_api().set_attr(root, av_cstr("from"), av::str(to));
    return r;
  }

  // The reply to a disco query, built synchronously (hooks run on this thread).
  av_stanza* answer(const av_stanza* req, const std::string& from, const std::string& to, bool user, bool info) const {
    return from_if_absent(answer_(req, from, to, user, info), to);
  }
  av_stanza* answer_(const av_stanza* req, const std::string& from, const std::string& to, bool user, bool info) const {
    av::StanzaView v(req);
    if (v.type() != "get") return error(req, "cancel", "not-allowed");
    std::string node(v.root().child_at(0).attr("node"));
    av_hook_id h = user ? (info ? h_user_info_ : h_user_items_) : (info ? h_server_info_ : h_server_items_);
    Collected c = run(h, from, to, node, info);
    if (!node.empty() && !c.found) return error(req, "cancel", "item-not-found");
    if (info) {
      if (node.empty()) {
        if (user) {
          c.identities.push_back({"account", "registered", "", ""});
        } else {
          c.identities.push_back({"server", "im", "Aviary", ""});
          if (!server_info_.empty()) c.extensions.push_back(server_info_);
        }
        c.features.push_back(mod_disco::kNsInfo);
        c.features.push_back(mod_disco::kNsItems);
      }
      return reply_with(req, mod_disco::info_query(node, c.identities, c.features, c.extensions));
    }
    if (node.empty() && !user)
      for (auto& d : extra_domains_) c.items.push_back({d, "", ""});
    return reply_with(req, mod_disco::items_query(node, c.items));
  }

  av::Next server_iq(const av_stanza_params& p, av_iq_acc& acc, bool info) {
    if (acc.handled) return av::next;
    acc.handled = true;
    acc.reply = answer(p.stanza, std::string(av::sv(p.from)), std::string(av::sv(p.to)), false, info);
    return av::stop;
  }

  struct Pending {
    const ModDisco* self;
    av::StanzaRef req;
    std::string from, to;
    bool info;
  };

  // Disco to a user's bare JID: answered by the server on the account's behalf, for
  // requesters on a domain served here, once the account is known to exist.
  av::Next user_iq(const av_stanza_params& p, av_iq_acc& acc, bool info) {
    if (acc.handled) return av::next;
    std::string from(av::sv(p.from)), to(av::jid_bare_part(av::sv(p.to)));
    acc.handled = true;
    if (!av::host().vhost_find(av::str(av::jid_domain_part(from)))) {
      acc.reply = from_if_absent(error(p.stanza, "cancel", "service-unavailable"), to);
      return av::stop;
    }
    if (av::jid_bare_part(from) == to) {  // one's own account exists
      acc.reply = answer(p.stanza, from, to, true, info);
      return av::stop;
    }
    auto* auth = static_cast<const av_auth_provider_v1*>(av::host().get_extension(av::self(), AV_EXT_AUTH_PROVIDER));
    if (!auth || !auth->user_exists) {
      acc.reply = answer(p.stanza, from, to, true, info);
      return av::stop;
    }
    auto* pend = new Pending{this, av::StanzaRef::share(p.stanza), from, to, info};
    std::string user(av::jid_local_part(to)), server(av::jid_domain_part(to));
    av_status st = auth->user_exists(auth->self, av::str(user), av::str(server), &on_exists, pend);
    if (st != AV_OK) {
      delete pend;
      acc.reply = from_if_absent(error(p.stanza, "wait", "internal-server-error"), to);
    }
    return av::stop;
  }

  static void on_exists(void* cx, av_status st, bool exists) {
    std::unique_ptr<Pending> pend(static_cast<Pending*>(cx));
    av::detail::guard<int>("disco user_exists callback", 0, [&] {
      av_stanza* r = nullptr;
      if (st != AV_OK)
        r = from_if_absent(error(pend->req.get(), "wait", "internal-server-error"), pend->to);
      else if (!exists)
        r = from_if_absent(error(pend->req.get(), "cancel", "service-unavailable"), pend->to);
      else
        r = pend->self->answer(pend->req.get(), pend->from, pend->to, true, pend->info);
      if (r) {
        auto ref = av::StanzaRef::adopt(r);
        pend->self->router_->route(ref.get());
      }
      return 0;
    });
  }

  std::string server_info_;
  std::vector<std::string> extra_domains_;
  const av_ext_router_v1* router_ = nullptr;
  av_hook_id h_server_info_ = -1, h_server_items_ = -1, h_user_info_ = -1, h_user_items_ = -1;
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(ModDisco, "mod_disco", "0.1.0", "XEP-0030 Service Discovery, XEP-0128 and XEP-0157 server info")
