// mod_last: XEP-0012 last activity. To the server: its uptime. To a user's bare JID: 0 while
// the user has an available session, else the seconds since the last session went
// unavailable with the status of that last unavailable presence (SQL table `last`).
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/disco.h>
#include <aviary/ext/router.h>
#include <aviary/ext/sessions.h>

#include "last_activity.hpp"

#include <chrono>
#include <ctime>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

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
av::StanzaRef result_with(const av_stanza* req, const std::string& account, const std::string& payload) {
  auto r = fix_from(av::StanzaRef::adopt(av::stanza_api().make_result(req)), account);
  if (r)
    if (av_xml_el* root = av::stanza_api().mut_root(r.get())) av::stanza_api().add_xml(root, av::str(payload));
  return r;
}

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

class Last final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"pool", AV_OPT_STRING, "default", 1, 0, nullptr, false, "outgoing_pools.rdbms tag holding the last table"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    started_ = std::chrono::steady_clock::now();
    db_ = av::SqlPool::open(cx.option_string("pool"));
    router_ = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    sessions_ = cx.require<av_ext_sessions_v1>(AV_EXT_SESSIONS);
    for (av_vhost* vh : cx.vhosts()) domains_.emplace_back(av::Context::vhost_name(vh));
    dialect_ = db_.dialect();
    db_.query_sync(last::schema_sql(dialect_));
    std::string ns(last::kNs);
    hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_SERVER_PREFIX) + ns, AV_PRIO_NORMAL,
                                                  [this](const av_stanza_params& p, av_iq_acc& acc) {
                                                    return on_server_iq(p, acc);
                                                  });
    hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_BARE_PREFIX) + ns, AV_PRIO_NORMAL,
                                                  [this](const av_stanza_params& p, av_iq_acc& acc) {
                                                    return on_user_iq(p, acc);
                                                  });
    hooks_.add(av::hooks::user_send_presence, AV_PRIO_EARLY, [this](const av_stanza_params& p, av_stanza_acc&) {
      av::StanzaView v(p.stanza);
      if (v.type() == "unavailable" && !v.root().has_attr("to")) {
        std::lock_guard<std::mutex> lk(mu_);
        status_[std::string(av::sv(p.from))] = std::string(v.child("status").text());
      }
      return av::next;
    });
    hooks_.add(av::hooks::session_unavailable, AV_PRIO_NORMAL, [this](const av_session_params& p) { on_unavailable(p); });
    hooks_.add(av::hooks::session_closed, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      std::lock_guard<std::mutex> lk(mu_);
      status_.erase(std::string(av::sv(p.jid)));
    });
    hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      db_.query(last::kDeleteSql, {std::string(av::sv(p.server)), std::string(av::sv(p.user))}, AV_EXEC_IO_ANY,
                [](av_status st, const av::SqlResult& r) {
                  if (st != AV_OK) av::log_error("mod_last: cannot delete: " + std::string(r.error()));
                });
    });
    hooks_.add_named<av_disco_params, av_disco_acc>(AV_HOOK_DISCO_SERVER_INFO, AV_PRIO_NORMAL,
                                                    [](const av_disco_params& p, av_disco_acc& acc) {
                                                      if (p.node.ptr && p.node.len) return av::next;
                                                      auto& api = av::stanza_api();
                                                      if (av_xml_el* q = api.mut_root(acc.query))
                                                        if (av_xml_el* f = api.add_child(q, av_cstr("feature"), av::str_absent()))
                                                          api.set_attr(f, av_cstr("var"), av::str(last::kNs));
                                                      return av::next;
                                                    });
    return AV_OK;
  }

 private:
  void send(const av::StanzaRef& r) const {
    if (r) router_->route(r.get());
  }

  bool has_available_session(const std::string& bare) const {
    bool any = false;
    sessions_->list(av::str(bare), [](void* u, const av_session_info* items, size_t n) {
      for (size_t i = 0; i < n; ++i)
        if (items[i].available) *static_cast<bool*>(u) = true;
    }, &any);
    return any;
  }

  bool is_local(std::string_view jid) const {
    auto d = av::jid_domain_part(jid);
    for (auto& x : domains_)
      if (x == d) return true;
    return false;
  }

  av::Next on_server_iq(const av_stanza_params& p, av_iq_acc& acc) {
    av::StanzaView v(p.stanza);
    acc.handled = true;
    std::string me(av::sv(p.to));
    if (v.type() != "get" || v.root().child_at(0).name() != "query") {
      acc.reply = error(p.stanza, me, "modify", "bad-request").release();
      return av::stop;
    }
    auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_).count();
    acc.reply = result_with(p.stanza, me, last::query_xml(last::Answer{static_cast<int64_t>(up), ""})).release();
    return av::stop;
  }

  av::Next on_user_iq(const av_stanza_params& p, av_iq_acc& acc) {
    av::StanzaView v(p.stanza);
    acc.handled = true;
    std::string account(av::jid_bare_part(av::sv(p.to)));
    if (v.type() != "get" || v.root().child_at(0).name() != "query") {
      acc.reply = error(p.stanza, account, "modify", "bad-request").release();
      return av::stop;
    }
    if (!last::may_ask(av::sv(p.from), account, is_local(av::sv(p.from)))) {
      acc.reply = error(p.stanza, account, "auth", "forbidden").release();
      return av::stop;
    }
    if (has_available_session(account)) {
      acc.reply = result_with(p.stanza, account, last::query_xml(*last::compute(true, std::nullopt, 0))).release();
      return av::stop;
    }
    std::string user(av::jid_local_part(account)), server(av::jid_domain_part(account));
    auto ref = av::StanzaRef::share(p.stanza);
    av_status st = db_.query(last::kSelectSql, {server, user}, AV_EXEC_IO_ANY,
                             [this, ref, account](av_status st, const av::SqlResult& r) {
                               if (st != AV_OK) {
                                 av::log_error("mod_last: cannot read: " + std::string(r.error()));
                                 return send(error(ref.get(), account, "wait", "internal-server-error"));
                               }
                               std::optional<last::Stored> stored;
                               if (r.rows() > 0) {
                                 try {
                                   stored = last::Stored{std::stoll(std::string(r.value(0, 0))), std::string(r.value(0, 1))};
                                 } catch (const std::exception&) {
                                 }
                               }
                               // Nothing recorded (no such user, or never went offline):
                               // service-unavailable, as MongooseIM answers.
                               auto a = last::compute(false, stored, unix_now());
                               if (!a) return send(error(ref.get(), account, "cancel", "service-unavailable"));
                               send(result_with(ref.get(), account, last::query_xml(*a)));
                             });
    if (st != AV_OK) acc.reply = error(p.stanza, account, "wait", "resource-constraint").release();
    return av::stop;
  }

  void on_unavailable(const av_session_params& p) {
    std::string full(av::sv(p.jid)), status;
    {
      std::lock_guard<std::mutex> lk(mu_);
      auto it = status_.find(full);
      if (it != status_.end()) {
        status = std::move(it->second);
        status_.erase(it);
      }
    }
    std::string user(av::sv(p.user)), server(av::sv(p.server));
    if (has_available_session(user + "@" + server)) return;  // another resource is still online
    db_.query(last::upsert_sql(dialect_), {user, server, std::to_string(unix_now()), status}, AV_EXEC_IO_ANY,
              [](av_status st, const av::SqlResult& r) {
                if (st != AV_OK) av::log_error("mod_last: cannot store: " + std::string(r.error()));
              });
  }

  std::chrono::steady_clock::time_point started_;
  av::SqlPool db_;
  int dialect_ = 1;
  const av_ext_router_v1* router_ = nullptr;
  const av_ext_sessions_v1* sessions_ = nullptr;
  std::vector<std::string> domains_;
  std::mutex mu_;
  std::unordered_map<std::string, std::string> status_;  // full JID -> status of its unavailable presence
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(Last, "mod_last", "0.1.0", "XEP-0012 last activity in SQL")
