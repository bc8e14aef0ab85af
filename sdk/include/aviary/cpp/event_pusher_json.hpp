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

namespace detail {
// Appends s as a JSON string. Printable ASCII without '"' or '\' (JIDs, most bodies) is
// copied as it is; anything else goes through nlohmann's serializer (escapes, UTF-8 checks,
// invalid UTF-8 replaced by U+FFFD), so the output is the same as dumping the whole object.
inline void append_json_string(std::string& out, std::string_view s) {
  bool plain = true;
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      plain = false;
      break;
    }
  if (plain) {
    out.push_back('"');
    out.append(s);
    out.push_back('"');
    return;
  }
  out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace detail

// Compact JSON text (no spaces), UTF-8 as it came; invalid UTF-8 in a body is replaced
// (U+FFFD) rather than making the event unsendable. Events without metadata (the common
// case, on the hot path of every message) are written directly, without building a tree.
inline std::string mongoose_event_json(const PushEvent& e) {
  if (!e.metadata.empty())
    return mongoose_event_object(e).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::string out;
  if (e.kind == AV_PUSH_USER_STATUS) {
    out.reserve(40 + e.user_jid.size());
    out += "{\"user_id\":";
    detail::append_json_string(out, lower_jid(e.user_jid));
    out += e.online ? ",\"present\":true}" : ",\"present\":false}";
  } else {
    out.reserve(56 + e.to.size() + e.from.size() + e.body.size());
    out += "{\"to_user_id\":";
    detail::append_json_string(out, lower_jid(e.to));
    out += ",\"from_user_id\":";
    detail::append_json_string(out, lower_jid(e.from));
    out += ",\"message\":";
    detail::append_json_string(out, e.body);
    out += '}';
  }
  return out;
}

}  // namespace av
