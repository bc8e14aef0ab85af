// mod_stream_management: XEP-0198 Stream Management (urn:xmpp:sm:3) with resumption.
//
// - c2s/stream-features: <sm xmlns='urn:xmpp:sm:3'/> after authentication.
// - c2s/nonza: <enable/>, <r/>, <a/>, <resume/> (drop = handled); answers with av.sessions/1
//   send_to.
// - c2s/user-send-packet (FIRST): counts the stanzas the client sent (inbound 'h'); remembers
//   its last broadcast presence (restored on resumption).
// - c2s/user-receive-packet (LAST - 1, just before mod_csi at LAST): every stanza that is
//   going to the client and that no earlier filter dropped is counted and kept until the
//   client acknowledges it. Counting before mod_csi means stanzas that CSI holds (and later
//   writes with send_to, which runs no hook) are counted in the order CSI writes them.
//   (LAST + 1): when ack_freq stanzas were written, an <r/> is posted behind the stanza.
// - session/closed: a resumable session that lost its connection ("transport" or
//   "connection-timeout" end reason) is kept detached for resume_timeout seconds; any other
//   end re-routes the unacknowledged messages to the bare JID at once.
// - router/filter-local-packet (LATE): stanzas to a detached full JID are queued for it.
// - av.timer/1: when resume_timeout expires, unacknowledged messages are routed to the bare
//   JID (another resource, or sm/offline-message storage); IQ get/set are answered with
//   service-unavailable; anything else is dropped.
// - session/opened: a new session binding a detached full JID ends the detached one.
// - <resume/>: av.sessions/1 resume_bind makes the new connection the old full JID.
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/stream_management.h>

#include "sm_logic.hpp"

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Queue = sm::OutQueue<av::StanzaRef>;

// A connection that enabled stream management (by av.sessions/1 token).
struct Conn {
  std::string id;       // resumption id (SM-ID)
  std::string jid;      // full JID
  bool resumable = false;
  bool dead = false;    // overflow or protocol error: will not be resumed
  bool replaying = false;  // inside resume_bind: the restored presence is not counted
  uint32_t in_h = 0;    // stanzas received from the client (mod 2^32)
  Queue out;
  sm::AckPacer pacer;
  av::StanzaRef presence;  // last presence without 'to' the client sent
  av_executor ex = AV_EXEC_IO_ANY;
};

// A resumable session whose connection is gone, waiting for <resume/>.
struct Detached {
  std::string jid;  // full JID
  uint32_t in_h = 0;
  Queue out;
  sm::AckPacer pacer;
  av::StanzaRef presence;
  av_timer_id timer = 0;
  struct Expiry* arg = nullptr;  // the pending timer's argument (freed by whoever wins)
  uint64_t gen = 0;  // matches the pending timer's argument
  bool expiring = false;  // given up (another session took the JID, or full): not resumable
};

struct State;
struct Expiry {
  std::shared_ptr<State> st;
  std::string id;
  uint64_t gen;
};

struct State {
  std::mutex mu;
  std::unordered_map<uint64_t, Conn> by_token;
  std::unordered_map<std::string, uint64_t> live_by_id;  // SM-ID -> token
  std::unordered_map<std::string, Detached> detached;    // SM-ID -> detached session
  std::unordered_map<std::string, std::string> detached_by_jid;  // full JID -> SM-ID
  std::atomic<size_t> conns{0};
  std::atomic<size_t> n_detached{0};
  uint64_t next_gen = 1;
  // set at start, read-only afterwards
  const av_ext_sessions_v1* sessions = nullptr;
  const av_ext_router_v1* router = nullptr;
  const av_ext_timer_v1* timers = nullptr;
  av_hook_id unacked_hook = -1;  // sm/unacknowledged-message, declared by this module
  av::StanzaRef r_el;
  void publish() {  // under mu
    conns.store(by_token.size(), std::memory_order_relaxed);
    n_detached.store(detached.size(), std::memory_order_relaxed);
  }
};

bool has_resume_api(const av_ext_sessions_v1* s) {
  return s && s->struct_size >= offsetof(av_ext_sessions_v1, resume_bind) + sizeof(s->resume_bind) &&
         s->end_reason && s->resume_bind;
}

bool has_send_api(const av_ext_sessions_v1* s) {
  return s && s->struct_size >= offsetof(av_ext_sessions_v1, send_to) + sizeof(s->send_to) && s->token &&
         s->send_to;
}

bool is_carbon(const av::ElementView& m) {
  return m.child("received", "urn:xmpp:carbons:2") || m.child("sent", "urn:xmpp:carbons:2");
}

// Unacknowledged stanzas of a session that will not be resumed: messages go to the bare JID
// again (another resource, or offline storage), IQ requests get service-unavailable.
// Never called with State::mu held (routing runs hooks, ours included).
void dispose(const State& st, const std::string& full_jid, std::deque<av::StanzaRef> items) {
  const auto& api = av::stanza_api();
  std::string bare(av::jid_bare_part(full_jid));
  size_t rerouted = 0;
  for (auto& s : items) {
    av::ElementView root = s.root();
    switch (sm::fate_of(root.name(), root.attr("type"), is_carbon(root))) {
      case sm::Fate::reroute: {
        if (st.unacked_hook >= 0) {
          av_stanza_params p{sizeof(av_stanza_params), s.get(), av::str(root.attr("from")), av::str(full_jid),
                             nullptr, av::host().current_executor()};
          (void)av::host().hook_run(st.unacked_hook, nullptr, &p, nullptr, nullptr);
        }
        av_stanza* c = api.clone(s.get());
        if (!c) break;
        av::StanzaRef copy = av::StanzaRef::adopt(c);
        api.set_attr(api.mut_root(copy.get()), av_cstr("to"), av::str(bare));
        st.router->route(copy.get());
        ++rerouted;
        break;
      }
      case sm::Fate::bounce_iq: {
        av_stanza* e = api.make_error(s.get(), av_cstr("cancel"), av_cstr("service-unavailable"), av::str_absent());
        if (e) {
          av::StanzaRef err = av::StanzaRef::adopt(e);
          st.router->route(err.get());
        }
        break;
      }
      case sm::Fate::drop:
        break;
    }
  }
  if (rerouted) av::log_debug("stream management: " + std::to_string(rerouted) + " unacknowledged message(s) of " +
                              full_jid + " routed to " + bare);
}

void on_expiry(void* arg) noexcept;

// mu held. Starts the expiry timer of detached session `id`.
void arm(const std::shared_ptr<State>& st, const std::string& id, Detached& d, uint64_t delay_ms) {
  d.gen = st->next_gen++;
  auto* e = new Expiry{st, id, d.gen};
  d.timer = st->timers->start(AV_EXEC_IO_ANY, delay_ms, &on_expiry, e);
  d.arg = d.timer ? e : nullptr;
  if (!d.timer) delete e;
}

// mu held. Stops the expiry timer (its argument is freed here or by the callback).
void disarm(State& st, Detached& d) {
  // Cancelled: the callback never runs, its argument is ours. Otherwise it is running or about
  // to (waiting for mu): it owns its argument and, seeing another gen, does nothing.
  if (d.timer && st.timers->cancel(d.timer)) delete d.arg;
  d.timer = 0;
  d.arg = nullptr;
  d.gen = 0;
}

void on_expiry(void* arg) noexcept {
  av::detail::guard<int>("stream management expiry", 0, [&] {
    std::unique_ptr<Expiry> e(static_cast<Expiry*>(arg));
    std::string jid;
    std::deque<av::StanzaRef> items;
    {
      std::lock_guard<std::mutex> lk(e->st->mu);
      auto it = e->st->detached.find(e->id);
      if (it == e->st->detached.end() || it->second.gen != e->gen) return 0;
      jid = it->second.jid;
      items = it->second.out.take();
      if (auto j = e->st->detached_by_jid.find(jid); j != e->st->detached_by_jid.end() && j->second == e->id)
        e->st->detached_by_jid.erase(j);
      e->st->detached.erase(it);
      e->st->publish();
    }
    av::log_debug("stream management: " + jid + " was not resumed in time");
    dispose(*e->st, jid, std::move(items));
    return 0;
  });
}

struct AckReq {
  std::shared_ptr<State> st;
  uint64_t token;
};

class StreamManagement final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"resume_timeout", AV_OPT_INT, "600", 0, 31536000, nullptr, false,
         "seconds a session that lost its connection can be resumed (0: no resumption)"},
        {"buffer_max", AV_OPT_INT, "100", 1, 1000000, nullptr, false,
         "unacknowledged stanzas kept per session; one more ends it with resource-constraint"},
        {"ack_freq", AV_OPT_INT, "1", 0, 1000000, nullptr, false,
         "send <r/> after this many stanzas (0: never, MongooseIM's 'never')"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    resume_timeout_ = static_cast<uint64_t>(cx.option_int("resume_timeout"));
    buffer_max_ = static_cast<size_t>(cx.option_int("buffer_max"));
    ack_freq_ = static_cast<uint32_t>(cx.option_int("ack_freq"));
    st_->sessions = cx.require<av_ext_sessions_v1>(AV_EXT_SESSIONS);
    st_->router = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    st_->timers = cx.require<av_ext_timer_v1>(AV_EXT_TIMER);
    if (!has_send_api(st_->sessions)) {
      av::log_warning("av.sessions/1 lacks token/send_to: stream management is not offered");
      return AV_OK;
    }
    can_resume_ = has_resume_api(st_->sessions) && resume_timeout_ > 0;
    if (!has_resume_api(st_->sessions))
      av::log_warning("av.sessions/1 lacks end_reason/resume_bind: stream management without resumption");
    st_->r_el = av::StanzaRef::parse(sm::r_xml());
    if (av::host().hook_declare(av::self(), AV_HOOK_SM_UNACKNOWLEDGED_MESSAGE, AV_HOOK_KIND_NOTIFY,
                                &st_->unacked_hook) != AV_OK)
      throw av::Error(AV_E_INTERNAL, "cannot declare hook " AV_HOOK_SM_UNACKNOWLEDGED_MESSAGE);

    hooks_.add(av::hooks::stream_features, AV_PRIO_NORMAL, [](const av_session_params&, av_features_acc& acc) {
      const auto& api = av::stanza_api();
      if (av_xml_el* f = acc.features ? api.mut_root(acc.features) : nullptr)
        api.add_child(f, av_cstr("sm"), av::str(sm::kNs));
      return av::next;
    });
    hooks_.add(av::hooks::c2s_nonza, AV_PRIO_NORMAL,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_nonza(p, acc); });
    hooks_.add(av::hooks::user_send_packet, AV_PRIO_FIRST,
               [this](const av_stanza_params& p, av_stanza_acc&) { return on_send(p); });
    hooks_.add(av::hooks::user_receive_packet, AV_PRIO_LAST - 1,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_receive(p, acc); });
    hooks_.add(av::hooks::user_receive_packet, AV_PRIO_LAST + 1,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_written(p, acc); });
    hooks_.add(av::hooks::session_closed, AV_PRIO_NORMAL, [this](const av_session_params& p) { on_closed(p); });
    if (can_resume_) {
      hooks_.add(av::hooks::filter_local_packet, AV_PRIO_LATE,
                 [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_filter(p, acc); });
      hooks_.add(av::hooks::session_opened, AV_PRIO_NORMAL, [this](const av_session_params& p) { on_opened(p); });
      hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL, [this](const av_session_params& p) { on_removed(p); });
    }
    return AV_OK;
  }

  void stop() override {
    std::lock_guard<std::mutex> lk(st_->mu);
    size_t lost = 0;
    for (auto& [id, d] : st_->detached) {
      lost += d.out.size();
      disarm(*st_, d);
    }
    if (lost)
      av::log_warning("stream management: stopping with " + std::to_string(st_->detached.size()) +
                      " detached session(s), " + std::to_string(lost) + " unacknowledged stanza(s) dropped");
    st_->detached.clear();
    st_->detached_by_jid.clear();
    st_->by_token.clear();
    st_->live_by_id.clear();
    st_->publish();
  }

 private:
  uint64_t token(const av_session* s) const { return s ? st_->sessions->token(s) : 0; }

  void send(uint64_t tok, const std::string& xml) const {
    try {
      av::StanzaRef e = av::StanzaRef::parse(xml);
      st_->sessions->send_to(tok, e.get());
    } catch (const std::exception& ex) {
      av::log_error(std::string("stream management: cannot build an element: ") + ex.what());
    }
  }

  // ---------------------------------------------------------------- nonzas

  av::Next on_nonza(const av_stanza_params& p, av_stanza_acc& acc) {
    av::ElementView e(av::stanza_api().root(p.stanza));
    if (e.attr("xmlns") != sm::kNs) return av::next;
    uint64_t tok = token(p.session);
    if (!tok) return av::next;
    auto name = e.name();
    std::string from(av::sv(p.from));
    bool bound = from.find('/') != std::string::npos;
    if (name == "enable") {
      acc.drop = true;
      on_enable(tok, from, bound, sm::parse_bool(e.attr("resume")), p.executor);
      return av::stop;
    }
    if (name == "r") {
      acc.drop = true;
      std::optional<uint32_t> h;
      {
        std::lock_guard<std::mutex> lk(st_->mu);
        auto it = st_->by_token.find(tok);
        if (it != st_->by_token.end()) h = it->second.in_h;
      }
      if (h) send(tok, sm::a_xml(*h));
      return av::stop;
    }
    if (name == "a") {
      acc.drop = true;
      on_ack(tok, from, e.attr("h"));
      return av::stop;
    }
    if (name == "resume") {
      acc.drop = true;
      on_resume(tok, from, bound, std::string(e.attr("previd")), e.attr("h"), p.executor);
      return av::stop;
    }
    return av::next;  // <enabled/>, <resumed/>, <failed/> from a client: not ours to take
  }

  void on_enable(uint64_t tok, const std::string& from, bool bound, bool want_resume, av_executor ex) {
    if (!bound) return send(tok, sm::failed_xml("unexpected-request"));
    std::string id = sm::new_id();
    bool resume = want_resume && can_resume_;
    {
      std::lock_guard<std::mutex> lk(st_->mu);
      // A second <enable/> (XEP-0198 section 3: at most one attempt).
      if (st_->by_token.count(tok)) return send(tok, sm::failed_xml("unexpected-request"));
      Conn& c = st_->by_token[tok];
      c.id = id;
      c.jid = from;
      c.resumable = resume;
      c.out = Queue(buffer_max_);
      c.pacer = sm::AckPacer(ack_freq_);
      c.ex = ex;
      st_->live_by_id[id] = tok;
      st_->publish();
    }
    send(tok, sm::enabled_xml(id, resume, resume_timeout_));
  }

  void on_ack(uint64_t tok, const std::string& from, std::string_view h_text) {
    auto h = sm::parse_h(h_text);
    std::string too_high;
    {
      std::lock_guard<std::mutex> lk(st_->mu);
      auto it = st_->by_token.find(tok);
      if (it == st_->by_token.end() || !h) return;
      Conn& c = it->second;
      if (c.dead) return;
      if (c.out.ack(*h) == Queue::Ack::too_high) {
        c.dead = true;
        too_high = "You acknowledged " + std::to_string(*h) + " stanzas, but I only sent you " +
                   std::to_string(c.out.sent()) + " so far.";
      }
    }
    if (!too_high.empty()) st_->sessions->kick(av::str(from), av_cstr("undefined-condition"), av::str(too_high));
  }

  void on_resume(uint64_t tok, const std::string& from, bool bound, const std::string& previd,
                 std::string_view h_text, av_executor ex) {
    if (!can_resume_) return send(tok, sm::failed_xml("feature-not-implemented"));
    auto h = sm::parse_h(h_text);
    if (bound || previd.empty() || !h) return send(tok, sm::failed_xml(bound ? "unexpected-request" : "bad-request"));
    std::string jid;
    std::vector<av::StanzaRef> replay;
    av::StanzaRef presence;
    uint32_t in_h = 0;
    std::string old_conn_jid;  // a still-connected former session (taken over)
    {
      std::lock_guard<std::mutex> lk(st_->mu);
      if (st_->by_token.count(tok)) return send(tok, sm::failed_xml("unexpected-request"));
      Conn fresh;
      if (auto d = st_->detached.find(previd); d != st_->detached.end() && !d->second.expiring &&
                                                               av::jid_bare_part(d->second.jid) == from) {
        if (d->second.out.check(*h) == Queue::Ack::too_high) return send(tok, sm::failed_xml("undefined-condition"));
        d->second.out.ack(*h);
        disarm(*st_, d->second);
        fresh.jid = d->second.jid;
        fresh.in_h = d->second.in_h;
        fresh.out = std::move(d->second.out);
        fresh.pacer = d->second.pacer;
        fresh.presence = std::move(d->second.presence);
        st_->detached_by_jid.erase(d->second.jid);
        st_->detached.erase(d);
      } else if (auto l = st_->live_by_id.find(previd); l != st_->live_by_id.end() && l->second != tok) {
        // The former connection is still open here (the client noticed the loss first):
        // take its state over; resume_bind replaces it with a conflict stream error.
        auto o = st_->by_token.find(l->second);
        if (o == st_->by_token.end() || av::jid_bare_part(o->second.jid) != from || !o->second.resumable || o->second.dead)
          return send(tok, sm::failed_xml("item-not-found"));
        if (o->second.out.check(*h) == Queue::Ack::too_high) return send(tok, sm::failed_xml("undefined-condition"));
        o->second.out.ack(*h);
        fresh = std::move(o->second);
        st_->by_token.erase(o);
        st_->live_by_id.erase(l);
      } else {
        return send(tok, sm::failed_xml("item-not-found"));
      }
      fresh.id = previd;
      fresh.resumable = true;
      fresh.dead = false;
      fresh.replaying = true;
      fresh.ex = ex;
      jid = fresh.jid;
      in_h = fresh.in_h;
      presence = fresh.presence;
      for (auto& s : fresh.out.items()) replay.push_back(s);
      st_->by_token[tok] = std::move(fresh);
      st_->live_by_id[previd] = tok;
      st_->publish();
    }
    // <resumed/> and the unacknowledged stanzas first (send_to on this thread writes at
    // once), then the binding, which may deliver more (counted by on_receive).
    send(tok, sm::resumed_xml(previd, in_h));
    for (auto& s : replay) st_->sessions->send_to(tok, s.get());
    av_status rs = st_->sessions->resume_bind(tok, av::str(jid), presence.get());
    std::lock_guard<std::mutex> lk(st_->mu);
    auto it = st_->by_token.find(tok);
    if (it == st_->by_token.end()) return;
    it->second.replaying = false;
    if (rs == AV_OK) {
      av::log_debug("stream management: " + jid + " resumed");
      return;
    }
    // Not bound (the connection went away meanwhile): park the session again.
    av::log_warning("stream management: resume_bind(" + jid + ") failed (" + std::to_string(rs) + ")");
    park(std::move(it->second));
    st_->by_token.erase(it);
    st_->live_by_id.erase(previd);
    st_->publish();
  }

  // mu held. Keeps `c` detached for resume_timeout.
  void park(Conn c) {
    if (auto old = st_->detached_by_jid.find(c.jid); old != st_->detached_by_jid.end()) {
      // Cannot happen often (one full JID, one session); keep the newer one, drop the older
      // one's queue into the newer one is wrong order: expire the older at once instead.
      expire_later(old->second);
    }
    Detached d;
    d.jid = c.jid;
    d.in_h = c.in_h;
    d.out = std::move(c.out);
    d.pacer = c.pacer;
    d.presence = std::move(c.presence);
    auto& slot = st_->detached[c.id] = std::move(d);
    st_->detached_by_jid[c.jid] = c.id;
    arm(st_, c.id, slot, resume_timeout_ * 1000);
  }

  // mu held. Makes detached session `id` expire as soon as possible (its messages are
  // rerouted by the timer callback, outside the lock).
  void expire_later(std::string id) {  // by value: callers pass a map entry erased here
    auto it = st_->detached.find(id);
    if (it == st_->detached.end()) return;
    disarm(*st_, it->second);
    if (auto j = st_->detached_by_jid.find(it->second.jid); j != st_->detached_by_jid.end() && j->second == id)
      st_->detached_by_jid.erase(j);
    it->second.expiring = true;
    arm(st_, id, it->second, 0);
  }

  // ---------------------------------------------------------------- stanzas

  av::Next on_send(const av_stanza_params& p) {
    if (st_->conns.load(std::memory_order_relaxed) == 0 || !p.session) return av::next;
    uint64_t tok = token(p.session);
    std::lock_guard<std::mutex> lk(st_->mu);
    auto it = st_->by_token.find(tok);
    if (it == st_->by_token.end()) return av::next;
    Conn& c = it->second;
    if (c.replaying) return av::next;  // the restored presence, not sent by the client
    ++c.in_h;
    av::StanzaView v(p.stanza);
    if (v.kind() == AV_STANZA_PRESENCE && v.to().empty() && (v.type().empty() || v.type() == "unavailable"))
      c.presence = av::StanzaRef::share(p.stanza);
    return av::next;
  }

  av::Next on_receive(const av_stanza_params& p, av_stanza_acc& acc) {
    if (acc.drop || st_->conns.load(std::memory_order_relaxed) == 0) return av::next;
    uint64_t tok = token(p.session);
    std::string jid;
    {
      std::lock_guard<std::mutex> lk(st_->mu);
      auto it = st_->by_token.find(tok);
      if (it == st_->by_token.end()) return av::next;
      Conn& c = it->second;
      bool fits = c.out.push(av::StanzaRef::share(p.stanza));
      c.pacer.sent();
      if (fits || c.dead) return av::next;
      c.dead = true;  // keeps counting (so nothing is lost) but is not resumed
      jid = c.jid;
    }
    st_->sessions->kick(av::str(jid), av_cstr("resource-constraint"), av_cstr("Too many unacknowledged stanzas"));
    return av::next;
  }

  // After every other receive filter (mod_csi included): the stanza is written now, so an
  // ack request posted behind it follows it on the wire.
  av::Next on_written(const av_stanza_params& p, av_stanza_acc& acc) {
    if (acc.drop || ack_freq_ == 0 || st_->conns.load(std::memory_order_relaxed) == 0) return av::next;
    uint64_t tok = token(p.session);
    {
      std::lock_guard<std::mutex> lk(st_->mu);
      auto it = st_->by_token.find(tok);
      if (it == st_->by_token.end() || it->second.dead || !it->second.pacer.due()) return av::next;
    }
    auto* r = new AckReq{st_, tok};
    if (av::host().post(p.executor, &StreamManagement::send_r, r) != AV_OK) delete r;
    return av::next;
  }

  static void send_r(void* arg) noexcept {
    std::unique_ptr<AckReq> r(static_cast<AckReq*>(arg));
    if (r->st->sessions && r->st->r_el) r->st->sessions->send_to(r->token, r->st->r_el.get());
  }

  // Stanzas routed to a detached full JID wait for it.
  av::Next on_filter(const av_stanza_params& p, av_stanza_acc& acc) {
    if (acc.drop || st_->n_detached.load(std::memory_order_relaxed) == 0) return av::next;
    std::string to(av::sv(p.to));
    if (to.find('/') == std::string::npos) return av::next;
    std::lock_guard<std::mutex> lk(st_->mu);
    auto j = st_->detached_by_jid.find(to);
    if (j == st_->detached_by_jid.end()) return av::next;
    auto d = st_->detached.find(j->second);
    if (d == st_->detached.end()) return av::next;
    if (d->second.out.size() >= buffer_max_) {
      // Full: give up on this session now; this stanza goes on as if it were not there.
      expire_later(j->second);
      return av::next;
    }
    d->second.out.push(av::StanzaRef::share(p.stanza));
    d->second.pacer.sent();
    acc.drop = true;
    return av::stop;
  }

  // ---------------------------------------------------------------- session life

  void on_closed(const av_session_params& p) {
    if (st_->conns.load(std::memory_order_relaxed) == 0) return;
    uint64_t tok = token(p.session);
    std::string reason;
    if (has_resume_api(st_->sessions)) reason = std::string(av::sv(st_->sessions->end_reason(p.session)));
    std::string jid;
    std::deque<av::StanzaRef> items;
    {
      std::lock_guard<std::mutex> lk(st_->mu);
      auto it = st_->by_token.find(tok);
      if (it == st_->by_token.end()) return;
      Conn& c = it->second;
      st_->live_by_id.erase(c.id);
      bool lost = reason == "transport" || reason == "connection-timeout";
      if (can_resume_ && c.resumable && !c.dead && lost) {
        av::log_debug("stream management: " + c.jid + " detached (" + reason + "), resumable for " +
                      std::to_string(resume_timeout_) + " s");
        park(std::move(c));
      } else {
        jid = c.jid;
        items = c.out.take();
      }
      st_->by_token.erase(it);
      st_->publish();
    }
    if (!items.empty()) dispose(*st_, jid, std::move(items));
  }

  // A session bound the full JID of a detached one: the detached one can no longer get it.
  void on_opened(const av_session_params& p) {
    if (st_->n_detached.load(std::memory_order_relaxed) == 0) return;
    std::string jid(av::sv(p.jid));
    std::lock_guard<std::mutex> lk(st_->mu);
    auto j = st_->detached_by_jid.find(jid);
    if (j != st_->detached_by_jid.end()) expire_later(j->second);
  }

  void on_removed(const av_session_params& p) {
    if (st_->n_detached.load(std::memory_order_relaxed) == 0) return;
    std::string bare(av::sv(p.jid));
    std::lock_guard<std::mutex> lk(st_->mu);
    for (auto it = st_->detached.begin(); it != st_->detached.end();) {
      if (av::jid_bare_part(it->second.jid) == bare) {
        disarm(*st_, it->second);
        st_->detached_by_jid.erase(it->second.jid);
        it = st_->detached.erase(it);
      } else {
        ++it;
      }
    }
    st_->publish();
  }

  uint64_t resume_timeout_ = 600;
  size_t buffer_max_ = 100;
  uint32_t ack_freq_ = 1;
  bool can_resume_ = false;
  std::shared_ptr<State> st_ = std::make_shared<State>();
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(StreamManagement, "mod_stream_management", "0.1.0", "XEP-0198 Stream Management with resumption")
