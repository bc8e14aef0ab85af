// mod_private: XEP-0049 private XML storage (jabber:iq:private) in SQL table
// `private_storage` (MongooseIM's layout), for the user's own account only.
#include <aviary/aviary.hpp>
#include <aviary/ext/router.h>

#include "private_storage.hpp"

#include <atomic>
#include <memory>
#include <string>

namespace {

// Replies to a request handled on behalf of the account: one with no 'to' gets a reply
// 'from' the account's bare JID (the router needs a 'from').
av::StanzaRef fix_from(av::StanzaRef r, const std::string& account) {
  if (r && !r.root().has_attr("from"))
    if (av_xml_el* root = av::stanza_api().mut_root(r.get()))
      av::stanza_api().set_attr(root, av_cstr("from"), av::str(account));
  return r;
}
av::StanzaRef error(const av_stanza* req, const std::string& account, std::string_view type, std::string_view cond) {
  return fix_from(av::StanzaRef::adopt(av::stanza_api().make_error(req, av::str(type), av::str(cond), av::str_absent())),
                  account);
}
av::StanzaRef result(const av_stanza* req, const std::string& account) {
  return fix_from(av::StanzaRef::adopt(av::stanza_api().make_result(req)), account);
}

class Private final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"pool", AV_OPT_STRING, "default", 1, 0, nullptr, false, "outgoing_pools.rdbms tag holding private_storage"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    db_ = av::SqlPool::open(cx.option_string("pool"));
    router_ = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    dialect_ = db_.dialect();
    db_.query_sync(priv::schema_sql(dialect_));
    hooks_.add_named<av_stanza_params, av_iq_acc>(
        std::string(AV_HOOK_IQ_BARE_PREFIX) + std::string(priv::kNs), AV_PRIO_NORMAL,
        [this](const av_stanza_params& p, av_iq_acc& acc) { return on_iq(p, acc); });
    hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      db_.query(priv::kDeleteSql, {std::string(av::sv(p.server)), std::string(av::sv(p.user))}, AV_EXEC_IO_ANY,
                [](av_status st, const av::SqlResult& r) {
                  if (st != AV_OK) av::log_error("mod_private: cannot delete private data: " + std::string(r.error()));
                });
    });
    return AV_OK;
  }

 private:
  void send(const av::StanzaRef& r) const {
    if (r) router_->route(r.get());
  }

  av::Next on_iq(const av_stanza_params& p, av_iq_acc& acc) {
    av::StanzaView v(p.stanza);
    std::string account(av::jid_bare_part(av::sv(p.to)));
    auto query = v.root().child_at(0);
    std::vector<priv::Child> children;
    for (size_t i = 0; i < query.child_count(); ++i) {
      auto c = query.child_at(i);
      children.push_back(priv::Child{std::string(c.attr("xmlns")), c.xml()});
    }
    bool is_set = v.type() == "set";
    priv::Request req = priv::parse(is_set, av::sv(p.from), account, query.name(), children);
    acc.handled = true;
    if (!req.ok()) {
      acc.reply = error(p.stanza, account, req.error_type, req.condition).release();
      return av::stop;
    }
    std::string user(av::jid_local_part(account)), server(av::jid_domain_part(account));
    auto ref = av::StanzaRef::share(p.stanza);
    if (is_set) {
      struct Pending {
        std::atomic<size_t> left;
        std::atomic<bool> failed{false};
        explicit Pending(size_t n) : left(n) {}
      };
      auto pending = std::make_shared<Pending>(req.items.size());
      for (auto& [ns, xml] : req.items) {
        av_status st = db_.query(priv::upsert_sql(dialect_), {server, user, ns, xml}, AV_EXEC_IO_ANY,
                                 [this, pending, ref, account](av_status st, const av::SqlResult& r) {
                                   if (st != AV_OK) {
                                     av::log_error("mod_private: cannot store: " + std::string(r.error()));
                                     pending->failed = true;
                                   }
                                   if (pending->left.fetch_sub(1) != 1) return;
                                   if (pending->failed) send(error(ref.get(), account, "wait", "internal-server-error"));
                                   else send(result(ref.get(), account));
                                 });
        if (st != AV_OK) {
          pending->failed = true;
          if (pending->left.fetch_sub(1) == 1) send(error(ref.get(), account, "wait", "resource-constraint"));
        }
      }
      return av::stop;
    }
    std::string ns = req.items[0].first, asked = req.items[0].second;
    av_status st = db_.query(priv::kSelectSql, {server, user, ns}, AV_EXEC_IO_ANY,
                             [this, ref, account, asked](av_status st, const av::SqlResult& r) {
                               if (st != AV_OK) {
                                 av::log_error("mod_private: cannot read: " + std::string(r.error()));
                                 return send(error(ref.get(), account, "wait", "internal-server-error"));
                               }
                               std::string inner = r.rows() > 0 ? std::string(r.value(0, 0)) : asked;
                               auto res = result(ref.get(), account);
                               auto& api = av::stanza_api();
                               av_xml_el* root = res ? api.mut_root(res.get()) : nullptr;
                               if (!root) return;
                               std::string q = "<query xmlns='jabber:iq:private'>" + inner + "</query>";
                               if (api.add_xml(root, av::str(q)) != AV_OK)
                                 api.add_xml(root, av::str("<query xmlns='jabber:iq:private'>" + asked + "</query>"));
                               send(res);
                             });
    if (st != AV_OK) acc.reply = error(p.stanza, account, "wait", "resource-constraint").release();
    return av::stop;
  }

  av::SqlPool db_;
  int dialect_ = 1;
  const av_ext_router_v1* router_ = nullptr;
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(Private, "mod_private", "0.1.0", "XEP-0049 private XML storage in SQL")
