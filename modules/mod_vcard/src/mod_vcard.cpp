// mod_vcard: XEP-0054 vcard-temp. A user stores their own vCard (IQ set with no 'to' or to
// their bare JID); anyone may read a local user's vCard (IQ get to the bare JID). Stored in
// SQL table `vcard` (MongooseIM's layout); account/removed deletes it.
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/disco.h>
#include <aviary/ext/router.h>
#include <aviary/ext/auth_provider.h>

#include "vcard.hpp"

#include <memory>
#include <string>

namespace {

class Vcard final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"pool", AV_OPT_STRING, "default", 1, 0, nullptr, false, "outgoing_pools.rdbms tag holding the vcard table"},
        {"max_vcard_size", AV_OPT_INT, "65536", 0, 16777216, nullptr, false,
         "largest accepted vCard in bytes of XML (0 = no limit): larger sets get not-acceptable"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    db_ = av::SqlPool::open(cx.option_string("pool"));
    max_ = static_cast<size_t>(cx.option_int("max_vcard_size"));
    router_ = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    dialect_ = db_.dialect();
    db_.query_sync(vcard::schema_sql(dialect_));
    db_.query_sync(vcard::search_schema_sql(dialect_));
    hooks_.add_named<av_stanza_params, av_iq_acc>(
        std::string(AV_HOOK_IQ_BARE_PREFIX) + "vcard-temp", AV_PRIO_NORMAL,
        [this](const av_stanza_params& p, av_iq_acc& acc) { return on_iq(p, acc); });
    hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      std::string server(av::sv(p.server)), user(av::sv(p.user));
      auto log = [](av_status st, const av::SqlResult& r) {
        if (st != AV_OK) av::log_error("mod_vcard: cannot delete a vCard: " + std::string(r.error()));
      };
      db_.query(vcard::kDeleteSql, {server, user}, AV_EXEC_IO_ANY, log);
      db_.query(vcard::kSearchDeleteSql, {server, vcard::lower(user)}, AV_EXEC_IO_ANY, log);
    });
    hooks_.add_named<av_disco_params, av_disco_acc>(AV_HOOK_DISCO_SERVER_INFO, AV_PRIO_NORMAL,
                                                    [](const av_disco_params& p, av_disco_acc& acc) {
                                                      if (p.node.ptr && p.node.len) return av::next;
                                                      add_feature(acc.query, vcard::kNs);
                                                      return av::next;
                                                    });
    return AV_OK;
  }

 private:
  static void add_feature(av_stanza* query, std::string_view var) {
    auto& api = av::stanza_api();
    av_xml_el* root = api.mut_root(query);
    if (!root) return;
    av_xml_el* f = api.add_child(root, av_cstr("feature"), av::str_absent());
    if (f) api.set_attr(f, av_cstr("var"), av::str(var));
  }

  // A reply for a request handled on behalf of the account: a request with no 'to' gets
  // a reply 'from' the account's bare JID (the router needs a 'from').
  static av::StanzaRef fix_from(av::StanzaRef r, const std::string& account) {
    if (!r) return r;
    if (!r.root().has_attr("from")) {
      if (av_xml_el* root = av::stanza_api().mut_root(r.get()))
        av::stanza_api().set_attr(root, av_cstr("from"), av::str(account));
    }
    return r;
  }
  static av::StanzaRef error(const av_stanza* req, const std::string& account, std::string_view type, std::string_view cond) {
    return fix_from(av::StanzaRef::adopt(av::stanza_api().make_error(req, av::str(type), av::str(cond), av::str_absent())),
                    account);
  }
  static av::StanzaRef result(const av_stanza* req, const std::string& account) {
    return fix_from(av::StanzaRef::adopt(av::stanza_api().make_result(req)), account);
  }
  void send(av::StanzaRef r) const {
    if (r) router_->route(r.get());
  }

  av::Next on_iq(const av_stanza_params& p, av_iq_acc& acc) {
    av::StanzaView v(p.stanza);
    std::string account(av::jid_bare_part(av::sv(p.to)));
    auto payload = v.root().child_at(0);
    acc.handled = true;
    if (v.type() == "set") {
      std::string xml = payload.xml();
      switch (vcard::check_set(payload.name(), av::sv(p.from), account, xml.size(), max_)) {
        case vcard::Verdict::forbidden: acc.reply = error(p.stanza, account, "auth", "forbidden").release(); return av::stop;
        case vcard::Verdict::bad_request: acc.reply = error(p.stanza, account, "modify", "bad-request").release(); return av::stop;
        case vcard::Verdict::not_acceptable:
          acc.reply = error(p.stanza, account, "modify", "not-acceptable").release();
          return av::stop;
        case vcard::Verdict::ok: break;
      }
      std::string user(av::jid_local_part(account)), server(av::jid_domain_part(account));
      auto req = av::StanzaRef::share(p.stanza);
      av_status st = db_.query(vcard::upsert_sql(dialect_), {user, server, xml}, AV_EXEC_IO_ANY,
                               [this, req, account](av_status st, const av::SqlResult& r) {
                                 if (st != AV_OK) {
                                   av::log_error("mod_vcard: cannot store a vCard: " + std::string(r.error()));
                                   return send(error(req.get(), account, "wait", "internal-server-error"));
                                 }
                                 send(result(req.get(), account));
                               });
      if (st != AV_OK) {
        acc.reply = error(p.stanza, account, "wait", "resource-constraint").release();
        return av::stop;
      }
      auto params = vcard::search_params(user, server, search_fields(payload));
      db_.query(vcard::search_upsert_sql(dialect_), std::vector<av::SqlParam>(params.begin(), params.end()),
                AV_EXEC_IO_ANY, [](av_status st, const av::SqlResult& r) {
                  if (st != AV_OK) av::log_error("mod_vcard: cannot index a vCard: " + std::string(r.error()));
                });
      return av::stop;
    }
    if (vcard::check_get(payload.name()) != vcard::Verdict::ok) {
      acc.reply = error(p.stanza, account, "modify", "bad-request").release();
      return av::stop;
    }
    std::string user(av::jid_local_part(account)), server(av::jid_domain_part(account));
    auto req = av::StanzaRef::share(p.stanza);
    av_status st = db_.query(vcard::kSelectSql, {server, user}, AV_EXEC_IO_ANY,
                             [this, req, account, user = user, server = server](av_status st, const av::SqlResult& r) {
                               if (st != AV_OK) {
                                 av::log_error("mod_vcard: cannot read a vCard: " + std::string(r.error()));
                                 return send(error(req.get(), account, "wait", "internal-server-error"));
                               }
                               if (r.rows() > 0) return answer(req, account, std::string(r.value(0, 0)));
                               answer_empty(req, account, user, server);
                             });
    if (st != AV_OK) acc.reply = error(p.stanza, account, "wait", "resource-constraint").release();
    return av::stop;
  }

  // The searchable fields of a vCard (vcard-temp layout, as MongooseIM indexes them).
  static vcard::SearchFields search_fields(const av::ElementView& v) {
    auto t = [](const av::ElementView& e) { return std::string(e.text()); };
    vcard::SearchFields f;
    f.fn = t(v.child("FN"));
    auto n = v.child("N");
    f.family = t(n.child("FAMILY"));
    f.given = t(n.child("GIVEN"));
    f.middle = t(n.child("MIDDLE"));
    f.nickname = t(v.child("NICKNAME"));
    f.bday = t(v.child("BDAY"));
    auto adr = v.child("ADR");
    f.ctry = t(adr.child("CTRY"));
    f.locality = t(adr.child("LOCALITY"));
    auto email = v.child("EMAIL");
    f.email = email.child("USERID") ? t(email.child("USERID")) : t(email);
    auto org = v.child("ORG");
    f.orgname = t(org.child("ORGNAME"));
    f.orgunit = t(org.child("ORGUNIT"));
    return f;
  }

  void answer(const av::StanzaRef& req, const std::string& account, const std::string& xml) const {
    auto r = result(req.get(), account);
    if (!r) return;
    auto& api = av::stanza_api();
    av_xml_el* root = api.mut_root(r.get());
    if (root && api.add_xml(root, av::str(xml)) != AV_OK) api.add_xml(root, av_cstr(vcard::kEmpty));
    send(std::move(r));
  }

  // No stored vCard: an empty one for an existing account, service-unavailable otherwise
  // (RFC 6121 8.5.1). Without an auth provider offering user_exists, assume it exists.
  void answer_empty(const av::StanzaRef& req, const std::string& account, const std::string& user,
                    const std::string& server) const {
    auto* prov = static_cast<const av_auth_provider_v1*>(av::host().get_extension(av::self(), AV_EXT_AUTH_PROVIDER));
    if (!prov || !prov->user_exists) return answer(req, account, vcard::kEmpty);
    struct Cx {
      const Vcard* me;
      av::StanzaRef req;
      std::string account;
    };
    auto* cx = new Cx{this, req, account};
    av_status st = prov->user_exists(prov->self, av::str(user), av::str(server), [](void* c, av_status st, bool yes) {
      std::unique_ptr<Cx> x(static_cast<Cx*>(c));
      av::detail::guard<int>("mod_vcard user_exists", 0, [&] {
        if (st == AV_OK && !yes) x->me->send(error(x->req.get(), x->account, "cancel", "service-unavailable"));
        else x->me->answer(x->req, x->account, vcard::kEmpty);
        return 0;
      });
    }, cx);
    if (st != AV_OK) {
      delete cx;
      answer(req, account, vcard::kEmpty);
    }
  }

  av::SqlPool db_;
  int dialect_ = 1;
  size_t max_ = 65536;
  const av_ext_router_v1* router_ = nullptr;
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(Vcard, "mod_vcard", "0.1.0", "XEP-0054 vcard-temp in SQL")
