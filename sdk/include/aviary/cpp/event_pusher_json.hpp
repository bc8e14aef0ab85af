// Aviary C++ layer: MongooseIM 6.5's event pusher JSON payloads (rabbit; also the value of
// Aviary's kafka transport), so that consumers written for MongooseIM read Aviary's events
// unchanged. Needs nlohmann-json (Debian: nlohmann-json3-dev). Header-only.
//   presence: {"user_id":"alice@localhost/res1","present":true}
//   chat:     {"to_user_id":"bob@localhost","from_user_id":"alice@localhost/res1","message":"hi"}
// JIDs are lowercased (localpart and domain; the resource is kept), metadata that filters
// added (av_push_acc) is merged into the top level and may overwrite keys.
#pragma once

#include <aviary/cpp/event_pusher.hpp>
#include <aviary/cpp/jid.hpp>

#include <nlohmann/json.hpp>

#include <string>

namespace av {

// jid:to_lower: localpart and domain lowercased, resource as it is.
inline std::string lower_jid(std::string_view jid) {
  const std::string_view res = jid_resource_part(jid);
  std::string out = detail::jid_lower(jid_bare_part(jid));
  if (jid.find('/') != std::string_view::npos) out.append("/").append(res);
  return out;
}

// The payload object; `metadata` merged last.
inline nlohmann::ordered_json mongoose_event_object(const PushEvent& e) {
  nlohmann::ordered_json o = nlohmann::ordered_json::object();
  if (e.kind == AV_PUSH_USER_STATUS) {
    o["user_id"] = lower_jid(e.user_jid);
    o["present"] = e.online;
  } else {
    o["to_user_id"] = lower_jid(e.to);
    o["from_user_id"] = lower_jid(e.from);
    o["message"] = e.body;
  }
  for (auto& [k, v] : e.metadata) {
    auto parsed = nlohmann::ordered_json::parse(v, nullptr, false);
    if (!parsed.is_discarded()) o[k] = std::move(parsed);
  }
  return o;
}

// Compact JSON text (no spaces), UTF-8 as it came; invalid UTF-8 in a body is replaced
// (U+FFFD) rather than making the event unsendable.
inline std::string mongoose_event_json(const PushEvent& e) {
  return mongoose_event_object(e).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace av
