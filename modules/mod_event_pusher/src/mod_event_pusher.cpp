// mod_event_pusher: turns core hooks into events and runs the fold hook event-pusher/push for
// each (MongooseIM's mod_event_pusher_hook_translator). It sends nothing itself: transports
// (mod_event_pusher_rabbit, _kafka, _http, _sns, _push, or a third party's) handle the hook.
// - c2s/user-send-message (90): a chat/groupchat message with a body sent by a local user, or
//   through aviaryctl stanza sendMessage (which runs the same hooks) -> CHAT, SENT.
// - router/filter-local-packet (80): such a message routed to a local JID, also when the
//   recipient is offline -> CHAT, RECEIVED (not again when mod_offline delivers it later).
// - session/available (90) -> USER_STATUS online; session/unavailable (90) -> offline.
// - sm/unacknowledged-message (90) -> UNACK.
#include <aviary/aviary.hpp>
#include <aviary/cpp/event_pusher.hpp>
#include <aviary/ext/draft/stream_management.h>

#include <time.h>

#include "event_source.hpp"
#include "pinned_stanzas.hpp"

namespace {

constexpr int32_t kPrioSend = 90;    // MongooseIM's priorities for the source hooks
constexpr int32_t kPrioFilter = 80;
constexpr int32_t kPrioStatus = 90;

// The parts of a message the event rules look at (views into the stanza), in one pass over
// its children: the body in the client namespace (a direct child named body without another
// xmlns) and an XEP-0203 delay.
ep::MessageFacts facts_of(const av::ElementView& m) {
  ep::MessageFacts f;
  f.type = m.attr("type");
  for (size_t i = 0, n = m.child_count(); i < n; ++i) {
    av::ElementView c = m.child_at(i);
    const std::string_view name = c.name();
    if (name == "body" && !f.has_body) {
      const std::string_view ns = c.attr("xmlns");
      if (!ns.empty() && ns != "jabber:client") continue;
      f.has_body = true;
      f.body = c.text();
    } else if (name == "delay" && !f.has_delay && c.attr("xmlns") == "urn:xmpp:delay") {
      f.has_delay = true;
      f.delay_from = c.attr("from");
      f.delay_text = c.text();
    }
  }
  return f;
}

// The precise real-time clock (about 20 ns a call here). The coarse one costs less but
// lags up to a kernel tick: an event could then be stamped before a moment the client saw
// pass, which consumers comparing clocks would rightly call wrong.
int64_t now_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// The vhost the source hook runs for (the host looked it up already), else by domain.
av_vhost* vhost_of(const av_hook_ctx& cx, std::string_view domain) {
  return cx.vhost ? cx.vhost : av::host().vhost_find(av::str(domain));
}

// The C accumulator over an ep::Metadata (functions of av_push_acc).
struct Acc {
  av_push_acc c{};
  ep::Metadata md;
  Acc() {
    c.struct_size = sizeof(av_push_acc);
    c.impl = &md;
    c.meta_set = &meta_set;
    c.meta_count = &meta_count;
    c.meta_at = &meta_at;
  }
  static ep::Metadata& of(const av_push_acc* a) { return *static_cast<ep::Metadata*>(a->impl); }
  static av_status meta_set(av_push_acc* a, av_str key, av_str value) noexcept {
    if (!a || !a->impl) return AV_E_INVALID_ARG;
    return av::detail::guard<av_status>("meta_set", AV_E_NOMEM, [&] {
      return of(a).set(av::sv(key), av::sv(value)) ? AV_OK : AV_E_INVALID_ARG;
    });
  }
  static size_t meta_count(const av_push_acc* a) noexcept { return a && a->impl ? of(a).size() : 0; }
  static av_status meta_at(const av_push_acc* a, size_t i, av_str* key, av_str* value) noexcept {
    if (!a || !a->impl || i >= of(a).size() || !key || !value) return AV_E_INVALID_ARG;
    const auto& kv = of(a).at(i);
    *key = av::str(kv.first);
    *value = av::str(kv.second);
    return AV_OK;
  }
};

class EventPusher final : public av::Module {
 public:
  void stop() override {
    hooks_.clear();
    forged_stamps_.clear();
  }

  av_status start(av::Context&) override {
    if (av::host().hook_declare(av::self(), AV_HOOK_EVENT_PUSHER_PUSH, AV_HOOK_KIND_FOLD, &push_) != AV_OK)
      throw av::Error(AV_E_INTERNAL, "cannot declare hook " AV_HOOK_EVENT_PUSHER_PUSH);
    // Both source hooks run for the vhost of the local side: the sender's for
    // user-send-message, the recipient's for filter-local-packet.
    hooks_.add(av::hooks::user_send_message, kPrioSend,
               [this](const av_hook_ctx& cx, const av_stanza_params& p, av_stanza_acc& acc) {
                 if (!acc.drop) chat(cx, p, AV_PUSH_DIR_SENT);
                 return av::next;
               });
    hooks_.add(av::hooks::filter_local_packet, kPrioFilter,
               [this](const av_hook_ctx& cx, const av_stanza_params& p, av_stanza_acc& acc) {
                 if (!acc.drop) chat(cx, p, AV_PUSH_DIR_RECEIVED);
                 return av::next;
               });
    hooks_.add(av::hooks::session_available, kPrioStatus,
               [this](const av_hook_ctx& cx, const av_session_params& p) { status(cx, p, true); });
    hooks_.add(av::hooks::session_unavailable, kPrioStatus,
               [this](const av_hook_ctx& cx, const av_session_params& p) { status(cx, p, false); });
    hooks_.add_named<av_stanza_params, void>(AV_HOOK_SM_UNACKNOWLEDGED_MESSAGE, kPrioStatus,
                                             [this](const av_stanza_params& p) { unacked(p); });
    return AV_OK;
  }

 private:
  void chat(const av_hook_ctx& cx, const av_stanza_params& p, av_push_direction dir) {
    if (!p.stanza || av::stanza_api().kind(p.stanza) != AV_STANZA_MESSAGE) return;
    const ep::MessageFacts f = facts_of(av::ElementView(av::stanza_api().root(p.stanza)));
    auto info = ep::chat_info(f);
    if (!info) return;
    // The local side: the sender for SENT, the recipient for RECEIVED.
    const std::string_view domain = av::jid_domain_part(dir == AV_PUSH_DIR_SENT ? av::sv(p.from) : av::sv(p.to));
    av_vhost* vh = vhost_of(cx, domain);
    if (!vh) return;
    if (f.has_delay) {
      // mod_offline stamps what it delivers from storage; that message made its RECEIVED
      // event when it first arrived. A client can write the same stamp into a message it
      // sends: such a message is pinned at SENT, so that its RECEIVED event still comes.
      if (dir == AV_PUSH_DIR_SENT && ep::is_offline_redelivery(f, av::jid_domain_part(av::sv(p.to))))
        forged_stamps_.pin(p.stanza);
      if (dir == AV_PUSH_DIR_RECEIVED && ep::is_offline_redelivery(f, domain) && !forged_stamps_.take(p.stanza))
        return;
    }
    av_push_event e{};
    e.struct_size = sizeof e;
    e.kind = AV_PUSH_CHAT;
    e.vhost = vh;
    e.chat_type = info->type;
    e.direction = dir;
    e.from = p.from;
    e.to = p.to;
    e.body = av::str(info->body);
    e.stanza = p.stanza;
    e.timestamp_us = now_us();
    push(e);
  }

  void status(const av_hook_ctx& cx, const av_session_params& p, bool online) {
    av_push_event e{};
    e.struct_size = sizeof e;
    e.kind = AV_PUSH_USER_STATUS;
    e.vhost = vhost_of(cx, av::sv(p.server));
    e.user_jid = p.jid;
    e.online = online;
    e.timestamp_us = now_us();
    if (e.vhost) push(e);
  }

  void unacked(const av_stanza_params& p) {
    av_push_event e{};
    e.struct_size = sizeof e;
    e.kind = AV_PUSH_UNACK;
    e.vhost = av::host().vhost_find(av::str(av::jid_domain_part(av::sv(p.to))));
    e.from = p.from;
    e.to = p.to;
    e.stanza = p.stanza;
    if (p.stanza) {
      auto info = ep::chat_info(facts_of(av::ElementView(av::stanza_api().root(p.stanza))));
      if (info) {
        e.chat_type = info->type;
        e.body = av::str(info->body);
      }
    }
    e.timestamp_us = now_us();
    if (e.vhost) push(e);
  }

  void push(const av_push_event& e) {
    Acc acc;
    (void)av::host().hook_run(push_, e.vhost, &e, &acc.c, nullptr);
  }

  av_hook_id push_ = -1;
  av::HookSet hooks_;
  // Sent messages that carry the server's offline-storage stamp (forged by a client), until
  // their RECEIVED event; at most a few (one whose recipient is remote is never received here).
  ep::PinnedStanzas forged_stamps_{64};
};

}  // namespace

AV_MODULE(EventPusher, "mod_event_pusher", "0.1.0",
          "Turns logins, logouts and messages into events for the event pusher transports")
