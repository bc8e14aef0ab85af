// mod_offline: XEP-0160 offline message storage in SQL (MongooseIM's offline_message table).
// - sm/offline-message: a message for a user without an available session is stored (after
//   checking through av.auth.provider/1 that the account exists; else service-unavailable),
//   up to max_user_messages per user (past it: resource-constraint, type wait). Stores of
//   one user run one at a time, in arrival order.
// - session/available: the stored messages go to the session that sent its initial presence,
//   in order, each with an XEP-0203 <delay/>, and are deleted once routed.
// - account/removed: the user's messages are deleted.
// - disco/server-info: feature "msgoffline".
#include <aviary/aviary.hpp>
#include <aviary/ext/auth_provider.h>
#include <aviary/ext/draft/disco.h>
#include <aviary/ext/router.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <unordered_set>

#include "offline_logic.hpp"

namespace {

using namespace mod_offline;

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Job {
  av::StanzaRef msg;
  std::string key;  // recipient bare JID
  std::string user, server, from;
  int64_t ts = 0;
  std::optional<int64_t> expire;
};
using JobPtr = std::shared_ptr<Job>;

// State shared with asynchronous callbacks (they keep it alive).
struct Core {
  av::SqlPool db;
  Dialect dialect = Dialect::sqlite;
  int64_t max = 100;
  std::string insert;
  const av_ext_router_v1* router = nullptr;
  std::mutex mu;
  KeyedQueue<JobPtr> queue;
  std::unordered_set<std::string> flushing;  // users whose messages are being delivered

  void bounce(const av::StanzaRef& msg, const char* type, const char* cond, const char* text) const {
    av_stanza* e = av::stanza_api().make_error(msg.get(), av_cstr(type), av_cstr(cond), av_cstr(text));
    if (!e) return;
    auto r = av::StanzaRef::adopt(e);
    router->route(r.get());
  }
};
using CorePtr = std::shared_ptr<Core>;

void start_job(const CorePtr& core, const JobPtr& job);

void finish_job(const CorePtr& core, const JobPtr& job) {
  std::optional<JobPtr> next;
  {
    std::lock_guard<std::mutex> lk(core->mu);
    next = core->queue.next(job->key);
  }
  if (next) start_job(core, *next);
}

void insert_job(const CorePtr& core, const JobPtr& job) {
  std::vector<av::SqlParam> params{std::to_string(job->ts),
                                   job->expire ? av::SqlParam(std::to_string(*job->expire)) : std::nullopt,
                                   job->server, job->user, job->from, job->msg.root().xml()};
  if (core->max > 0) {
    params.push_back(job->server);
    params.push_back(job->user);
  }
  av_status st = core->db.query(core->insert, params, AV_EXEC_IO_ANY, [core, job](av_status st, const av::SqlResult& r) {
    if (st != AV_OK) {
      av::log_error("cannot store an offline message for " + job->key + ": " + std::string(r.error()));
      core->bounce(job->msg, "wait", "internal-server-error", "The message could not be stored");
    } else if (r.affected() == 0) {
      core->bounce(job->msg, "wait", "resource-constraint",
                   "Your contact offline message queue is full. The message has been discarded.");
    }
    finish_job(core, job);
  });
  if (st != AV_OK) {
    core->bounce(job->msg, "wait", "resource-constraint", "Offline storage is busy");
    finish_job(core, job);
  }
}

struct ExistsCx {
  CorePtr core;
  JobPtr job;
};

void on_exists(void* cx, av_status st, bool exists) {
  std::unique_ptr<ExistsCx> c(static_cast<ExistsCx*>(cx));
  av::detail::guard<int>("offline user_exists callback", 0, [&] {
    if (st == AV_OK && !exists) {
      c->core->bounce(c->job->msg, "cancel", "service-unavailable", "");
      finish_job(c->core, c->job);
    } else if (st != AV_OK) {
      c->core->bounce(c->job->msg, "wait", "internal-server-error", "");
      finish_job(c->core, c->job);
    } else {
      insert_job(c->core, c->job);
    }
    return 0;
  });
}

void start_job(const CorePtr& core, const JobPtr& job) {
  auto* auth = static_cast<const av_auth_provider_v1*>(av::host().get_extension(av::self(), AV_EXT_AUTH_PROVIDER));
  if (!auth || !auth->user_exists) return insert_job(core, job);
  auto* cx = new ExistsCx{core, job};
  if (auth->user_exists(auth->self, av::str(job->user), av::str(job->server), &on_exists, cx) != AV_OK) {
    delete cx;
    core->bounce(job->msg, "wait", "internal-server-error", "");
    finish_job(core, job);
  }
}

class ModOffline final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"pool", AV_OPT_STRING, "default", 1, 0, nullptr, false, "outgoing_pools.rdbms tag of the database"},
        {"max_user_messages", AV_OPT_INT, "100", 0, 100000000, nullptr, false,
         "stored messages per user (MongooseIM's max_user_offline_messages); 0 = no limit"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    core_ = std::make_shared<Core>();
    core_->db = av::SqlPool::open(cx.option_string("pool"));
    switch (core_->db.dialect()) {
      case AV_SQL_PGSQL: core_->dialect = Dialect::pgsql; break;
      case AV_SQL_MYSQL: core_->dialect = Dialect::mysql; break;
      default: core_->dialect = Dialect::sqlite; break;
    }
    for (auto& s : schema(core_->dialect)) core_->db.query_sync(s);
    core_->max = cx.option_int("max_user_messages");
    core_->insert = insert_sql(core_->dialect, core_->max);
    core_->router = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);

    hooks_.add(av::hooks::offline_message, AV_PRIO_NORMAL,
               [this](const av_stanza_params& p, av_offline_acc& acc) { return on_offline(p, acc); });
    hooks_.add(av::hooks::session_available, AV_PRIO_NORMAL, [this](const av_session_params& p) { deliver(p); });
    hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL, [this](const av_session_params& p) { removed(p); });
    hooks_.add_named<av_disco_params, av_disco_acc>(AV_HOOK_DISCO_SERVER_INFO, AV_PRIO_NORMAL,
                                                    [](const av_disco_params& p, av_disco_acc& acc) {
                                                      if (p.node.len == 0) av::add_disco_feature(acc.query, "msgoffline");
                                                      return av::next;
                                                    });
    return AV_OK;
  }

 private:
  av::Next on_offline(const av_stanza_params& p, av_offline_acc& acc) {
    if (acc.handled) return av::next;
    av::StanzaView m(p.stanza);
    av::ElementView root = m.root();
    std::vector<Child> children;
    for (size_t i = 0; i < root.child_count(); ++i) {
      auto c = root.child_at(i);
      children.push_back({std::string(c.name()), std::string(c.attr("xmlns"))});
    }
    Decision d = classify(std::string(m.type()), children);
    if (d == Decision::not_ours) return av::next;
    acc.handled = true;
    if (d == Decision::discard) return av::stop;

    auto job = std::make_shared<Job>();
    job->msg = av::StanzaRef::share(p.stanza);
    job->key = std::string(av::jid_bare_part(av::sv(p.to)));
    auto at = job->key.find('@');
    if (at == std::string::npos) return av::stop;  // not a user JID: nothing to store
    job->user = job->key.substr(0, at);
    job->server = job->key.substr(at + 1);
    job->from = std::string(m.from().empty() ? av::sv(p.from) : m.from());
    job->ts = now_us();
    if (auto x = root.child("x", "jabber:x:expire")) job->expire = expire_at(std::string(x.attr("seconds")), job->ts);
    bool run;
    {
      std::lock_guard<std::mutex> lk(core_->mu);
      run = core_->queue.push(job->key, job);
    }
    if (run) start_job(core_, job);
    return av::stop;
  }

  // Initial presence: deliver what waited, on the session's own thread, in id order.
  void deliver(const av_session_params& p) {
    std::string user(av::sv(p.user)), server(av::sv(p.server)), full(av::sv(p.jid));
    std::string key = user + "@" + server;
    {
      std::lock_guard<std::mutex> lk(core_->mu);
      if (!core_->flushing.insert(key).second) return;  // another resource is taking them
    }
    auto core = core_;
    av_status st = core->db.query(
        select_sql(), {server, user, std::to_string(now_us())}, p.executor,
        [core, key, user, server, full](av_status st, const av::SqlResult& r) {
          std::vector<std::string> ids;
          if (st != AV_OK) {
            av::log_error("cannot read offline messages of " + key + ": " + std::string(r.error()));
          } else {
            auto& api = av::stanza_api();
            for (size_t i = 0; i < r.rows(); ++i) {
              ids.emplace_back(r.value(i, 0));
              int64_t ts = 0;
              try {
                ts = std::stoll(std::string(r.value(i, 1)));
              } catch (...) {
              }
              const char* err = nullptr;
              av_stanza* s = api.parse(av::str(r.value(i, 2)), &err);
              if (!s) {
                av::log_warning("dropping a malformed offline message of " + key);
                continue;
              }
              auto msg = av::StanzaRef::adopt(s);
              av_xml_el* root = api.mut_root(s);
              if (!root) continue;
              api.set_attr(root, av_cstr("to"), av::str(full));
              // Keep the first stamp if it was stored, delivered to a closing session and stored again.
              auto old = msg.root().child("delay", "urn:xmpp:delay");
              if (!old || old.attr("from") != server) api.add_xml(root, av::str(delay_xml(server, ts)));
              core->router->route(s);
            }
          }
          {
            std::lock_guard<std::mutex> lk(core->mu);
            core->flushing.erase(key);
          }
          // Routed (or dropped as malformed): delete, in chunks.
          for (size_t off = 0; off < ids.size(); off += 200) {
            size_t n = std::min<size_t>(200, ids.size() - off);
            std::vector<av::SqlParam> params{server, user};
            for (size_t i = 0; i < n; ++i) params.emplace_back(ids[off + i]);
            av_status ds = core->db.query(delete_ids_sql(n), params, AV_EXEC_IO_ANY,
                                          [key](av_status st, const av::SqlResult& r) {
                                            if (st != AV_OK)
                                              av::log_error("cannot delete delivered offline messages of " + key +
                                                            ": " + std::string(r.error()));
                                          });
            if (ds != AV_OK) av::log_error("cannot delete delivered offline messages of " + key + " (busy)");
          }
          if (st == AV_OK) {  // expired ones (XEP-0023) are never delivered
            core->db.query("DELETE FROM offline_message WHERE server = ? AND username = ? AND expire IS NOT NULL"
                           " AND expire <= ?",
                           {server, user, std::to_string(now_us())}, AV_EXEC_IO_ANY,
                           [](av_status, const av::SqlResult&) {});
          }
        });
    if (st != AV_OK) {
      av::log_error("cannot read offline messages of " + key + " (busy)");
      std::lock_guard<std::mutex> lk(core_->mu);
      core_->flushing.erase(key);
    }
  }

  void removed(const av_session_params& p) {
    std::string user(av::sv(p.user)), server(av::sv(p.server));
    core_->db.query("DELETE FROM offline_message WHERE server = ? AND username = ?", {server, user}, AV_EXEC_IO_ANY,
                    [user, server](av_status st, const av::SqlResult& r) {
                      if (st != AV_OK)
                        av::log_error("cannot delete offline messages of " + user + "@" + server + ": " +
                                      std::string(r.error()));
                    });
  }

  CorePtr core_;
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(ModOffline, "mod_offline", "0.1.0", "XEP-0160 offline message storage in SQL")
