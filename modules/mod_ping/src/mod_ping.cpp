// mod_ping: XEP-0199 XMPP Ping.
// - answers pings to the server (iq/server/urn:xmpp:ping) and to the sender's own bare JID
//   (iq/bare/urn:xmpp:ping: "handled by the server on behalf of the client");
// - with send_pings, pings each client after ping_interval seconds of inactivity and, with
//   timeout_action kill, ends the session (stream error connection-timeout) when no answer
//   comes within ping_req_timeout seconds. One av.timer/1 timer per session on its thread;
//   answers arrive on iq/response;
// - adds urn:xmpp:ping to the server's disco#info (hook disco/server-info, by name).
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/disco.h>
#include <aviary/ext/router.h>
#include <aviary/ext/sessions.h>
#include <aviary/ext/timer.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "ping_state.hpp"

namespace {

constexpr const char* kNs = "urn:xmpp:ping";

// Everything a timer callback may touch: shared with pending timer args, so it outlives the
// module object if a callback is running while the module stops.
struct Core;
struct Tick {
  std::shared_ptr<Core> core;
  std::string jid;
  uint64_t serial;
};

struct Sess {
  mod_ping::PingState st;
  std::string jid;
  std::string domain;
  av_executor ex;
  uint64_t serial;
  av_timer_id timer = 0;
  Tick* tick = nullptr;  // owned by the pending timer
  Sess(const mod_ping::PingConfig& c, uint64_t serial_, uint64_t now) : st(c, serial_, now), serial(serial_) {}
};

struct Core {
  mod_ping::PingConfig cfg;
  const av_ext_timer_v1* timers = nullptr;
  const av_ext_router_v1* router = nullptr;
  const av_ext_sessions_v1* sessions = nullptr;
  std::mutex mu;
  bool stopping = false;
  std::unordered_map<std::string, std::shared_ptr<Sess>> by_jid;
  std::unordered_map<const av_session*, std::shared_ptr<Sess>> by_session;
  std::atomic<uint64_t> next_serial{1};
};

void on_tick(void* arg);

// mu held. Starts the session's one timer.
void arm(const std::shared_ptr<Core>& core, Sess& s, uint64_t delay_ms) {
  auto* t = new Tick{core, s.jid, s.serial};
  av_timer_id id = core->timers->start(s.ex, delay_ms, &on_tick, t);
  if (id == 0) {
    delete t;
    av::log_warning("cannot start a ping timer for " + s.jid);
    return;
  }
  s.timer = id;
  s.tick = t;
}

// mu held. Cancels the session's timer (if it has not started running).
void disarm(Core& core, Sess& s) {
  if (s.timer && core.timers->cancel(s.timer)) delete s.tick;
  s.timer = 0;
  s.tick = nullptr;
}

void on_tick(void* arg) {
  std::unique_ptr<Tick> t(static_cast<Tick*>(arg));
  av::detail::guard<int>("ping timer", 0, [&] {
    auto core = t->core;
    mod_ping::TimerAction a;
    std::string jid, domain;
    {
      std::lock_guard<std::mutex> lk(core->mu);
      if (core->stopping) return 0;
      auto it = core->by_jid.find(t->jid);
      if (it == core->by_jid.end() || it->second->serial != t->serial || it->second->tick != t.get()) return 0;
      Sess& s = *it->second;
      s.timer = 0;
      s.tick = nullptr;
      a = s.st.on_timer(core->timers->now_ms());
      jid = s.jid;
      domain = s.domain;
      if (a.next_delay_ms) arm(core, s, a.next_delay_ms);
    }
    if (a.kind == mod_ping::TimerAction::send_ping) {
      std::string xml = "<iq type='get' from='" + av::xml_escape(domain) + "' to='" + av::xml_escape(jid) +
                        "' id='" + a.ping_id + "'><ping xmlns='urn:xmpp:ping'/></iq>";
      auto s = av::StanzaRef::parse(xml);
      core->router->route(s.get());
    } else if (a.kind == mod_ping::TimerAction::kill) {
      av::log_info("no answer to ping: disconnecting " + jid);
      core->sessions->kick(av::str(jid), av_cstr("connection-timeout"), av_cstr("No answer to ping"));
    }
    return 0;
  });
}

class ModPing final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"send_pings", AV_OPT_BOOL, "false", 1, 0, nullptr, false, "ping idle clients from the server"},
        {"ping_interval", AV_OPT_INT, "60", 1, 86400, nullptr, false, "seconds of client inactivity before a ping"},
        {"ping_req_timeout", AV_OPT_INT, "32", 1, 86400, nullptr, false, "seconds to wait for the answer"},
        {"timeout_action", AV_OPT_ENUM, "none", 1, 0, "none|kill", false, "what to do without an answer"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    core_ = std::make_shared<Core>();
    core_->cfg.interval_ms = static_cast<uint64_t>(cx.option_int("ping_interval")) * 1000;
    core_->cfg.timeout_ms = static_cast<uint64_t>(cx.option_int("ping_req_timeout")) * 1000;
    core_->cfg.kill = cx.option_enum("timeout_action") == "kill";

    hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_SERVER_PREFIX) + kNs, AV_PRIO_NORMAL,
                                                  [](const av_stanza_params& p, av_iq_acc& acc) { return answer(p, acc, false); });
    hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_BARE_PREFIX) + kNs, AV_PRIO_NORMAL,
                                                  [](const av_stanza_params& p, av_iq_acc& acc) { return answer(p, acc, true); });
    hooks_.add_named<av_disco_params, av_disco_acc>(AV_HOOK_DISCO_SERVER_INFO, AV_PRIO_NORMAL,
                                                    [](const av_disco_params& p, av_disco_acc& acc) {
                                                      if (p.node.len == 0) av::add_disco_feature(acc.query, kNs);
                                                      return av::next;
                                                    });

    if (cx.option_bool("send_pings")) {
      core_->timers = cx.require<av_ext_timer_v1>(AV_EXT_TIMER);
      core_->router = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
      core_->sessions = cx.require<av_ext_sessions_v1>(AV_EXT_SESSIONS);
      hooks_.add(av::hooks::session_opened, AV_PRIO_NORMAL, [this](const av_session_params& p) { opened(p); });
      hooks_.add(av::hooks::session_closed, AV_PRIO_NORMAL, [this](const av_session_params& p) { closed(p); });
      hooks_.add(av::hooks::user_send_packet, AV_PRIO_FIRST, [this](const av_stanza_params& p, av_stanza_acc&) {
        activity(p);
        return av::next;
      });
      hooks_.add_named<av_stanza_params, av_iq_acc>(AV_HOOK_IQ_RESPONSE, AV_PRIO_NORMAL,
                                                    [this](const av_stanza_params& p, av_iq_acc& acc) { return response(p, acc); });
    }
    return AV_OK;
  }

  void stop() override {
    if (!core_) return;
    std::lock_guard<std::mutex> lk(core_->mu);
    core_->stopping = true;
    for (auto& kv : core_->by_jid) disarm(*core_, *kv.second);
    core_->by_jid.clear();
    core_->by_session.clear();
  }

 private:
  // A ping to the server, or to the sender's own bare JID: a result. A ping to somebody
  // else's bare JID stays unhandled (the host answers service-unavailable).
  static av::Next answer(const av_stanza_params& p, av_iq_acc& acc, bool bare) {
    if (acc.handled) return av::next;
    if (bare && av::jid_bare_part(av::sv(p.from)) != av::jid_bare_part(av::sv(p.to))) return av::next;
    auto& api = av::stanza_api();
    acc.handled = true;
    av_stanza* r = av::StanzaView(p.stanza).type() != "get"
                       ? api.make_error(p.stanza, av_cstr("cancel"), av_cstr("not-allowed"), av::str_absent())
                       : api.make_result(p.stanza);
    // No 'to' in the request (the client's own account): the answer comes from that JID.
    if (r && !av::StanzaView(r).root().has_attr("from"))
      if (av_xml_el* root = api.mut_root(r)) api.set_attr(root, av_cstr("from"), p.to);
    acc.reply = r;
    return av::stop;
  }

  void opened(const av_session_params& p) {
    uint64_t serial = core_->next_serial.fetch_add(1);
    auto s = std::make_shared<Sess>(core_->cfg, serial, core_->timers->now_ms());
    s->jid = std::string(av::sv(p.jid));
    s->domain = std::string(av::sv(p.server));
    s->ex = p.executor;
    std::lock_guard<std::mutex> lk(core_->mu);
    if (core_->stopping) return;
    auto old = core_->by_jid.find(s->jid);
    if (old != core_->by_jid.end()) disarm(*core_, *old->second);  // a replaced session not closed yet
    arm(core_, *s, s->st.first_delay_ms());
    core_->by_jid[s->jid] = s;
    if (p.session) core_->by_session[p.session] = s;
  }

  void closed(const av_session_params& p) {
    std::lock_guard<std::mutex> lk(core_->mu);
    if (p.session) {
      auto it = core_->by_session.find(p.session);
      if (it == core_->by_session.end()) return;
      auto s = it->second;
      core_->by_session.erase(it);
      disarm(*core_, *s);
      auto j = core_->by_jid.find(s->jid);
      if (j != core_->by_jid.end() && j->second == s) core_->by_jid.erase(j);
    }
  }

  void activity(const av_stanza_params& p) {
    if (!p.session) return;
    std::lock_guard<std::mutex> lk(core_->mu);
    auto it = core_->by_session.find(p.session);
    if (it != core_->by_session.end()) it->second->st.on_activity(core_->timers->now_ms());
  }

  av::Next response(const av_stanza_params& p, av_iq_acc& acc) {
    if (acc.handled) return av::next;
    std::string id(av::StanzaView(p.stanza).id());
    if (id.compare(0, 5, "ping-") != 0) return av::next;
    std::lock_guard<std::mutex> lk(core_->mu);
    auto it = core_->by_jid.find(std::string(av::sv(p.from)));
    if (it == core_->by_jid.end()) return av::next;
    if (!it->second->st.on_response(id, core_->timers->now_ms())) return av::next;
    acc.handled = true;
    return av::stop;
  }

  std::shared_ptr<Core> core_;
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(ModPing, "mod_ping", "0.1.0", "XEP-0199 XMPP Ping: answers pings, pings idle clients")
