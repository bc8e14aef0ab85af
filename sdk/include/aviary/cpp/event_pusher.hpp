// Aviary C++ layer for the event pusher's hook (ext/draft/event_pusher.h): the typed hook,
// a value copy of an event that a transport can queue, and metadata access.
//
//   hooks_.add(av::hooks::event_pusher_push, AV_PUSH_PRIO_TRANSPORT,
//              [this](const av_push_event& e, av_push_acc& acc) {
//                queue_.try_push(av::PushEvent::copy(e, acc));
//                return av::next;
//              });
#pragma once

#include <aviary/cpp/hook.hpp>
#include <aviary/ext/draft/event_pusher.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace av {

namespace hooks {
inline constexpr HookDef<av_push_event, av_push_acc> event_pusher_push{AV_HOOK_EVENT_PUSHER_PUSH};
}

// Adds or replaces one metadata entry; json_value is one JSON value ("12", "\"text\"", "true").
inline bool push_meta_set(av_push_acc& acc, std::string_view key, std::string_view json_value) {
  return acc.meta_set && acc.meta_set(&acc, str(key), str(json_value)) == AV_OK;
}

// An event with its own copies of the strings (and none of the stanza): safe to queue.
struct PushEvent {
  av_push_event_kind kind = AV_PUSH_USER_STATUS;
  std::string vhost;
  std::string user_jid;
  bool online = false;
  av_push_chat_type chat_type = AV_PUSH_TYPE_CHAT;
  av_push_direction direction = AV_PUSH_DIR_SENT;
  std::string from, to, body;
  int64_t timestamp_us = 0;
  std::vector<std::pair<std::string, std::string>> metadata;  // key, JSON value

  static PushEvent copy(const av_push_event& e, const av_push_acc& acc) {
    PushEvent p;
    p.kind = e.kind;
    if (e.vhost) p.vhost = std::string(sv(host().vhost_name(e.vhost)));
    p.user_jid = std::string(sv(e.user_jid));
    p.online = e.online;
    p.chat_type = e.chat_type;
    p.direction = e.direction;
    p.from = std::string(sv(e.from));
    p.to = std::string(sv(e.to));
    p.body = std::string(sv(e.body));
    p.timestamp_us = e.timestamp_us;
    const size_t n = acc.meta_count ? acc.meta_count(&acc) : 0;
    for (size_t i = 0; i < n; ++i) {
      av_str k{}, v{};
      if (acc.meta_at(&acc, i, &k, &v) == AV_OK) p.metadata.emplace_back(std::string(sv(k)), std::string(sv(v)));
    }
    return p;
  }
};

// The fields the payload formats read, as views: of an av_push_event during the handler
// call (formatting without copying the event first), or of a queued PushEvent.
struct PushEventView {
  av_push_event_kind kind = AV_PUSH_USER_STATUS;
  std::string_view user_jid;
  bool online = false;
  av_push_chat_type chat_type = AV_PUSH_TYPE_CHAT;
  av_push_direction direction = AV_PUSH_DIR_SENT;
  std::string_view from, to, body;

  static PushEventView of(const av_push_event& e) {
    return {e.kind, sv(e.user_jid), e.online, e.chat_type, e.direction, sv(e.from), sv(e.to), sv(e.body)};
  }
  static PushEventView of(const PushEvent& e) {
    return {e.kind, e.user_jid, e.online, e.chat_type, e.direction, e.from, e.to, e.body};
  }
};

// Whether a handler added metadata to this event (the formats then merge it in).
inline bool push_has_meta(const av_push_acc& acc) { return acc.meta_count && acc.meta_count(&acc) > 0; }

}  // namespace av
