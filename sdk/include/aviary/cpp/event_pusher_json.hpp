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

// jid:to_lower: localpart and domain lowercased, resource as it is; appended to out.
inline void append_lower_jid(std::string& out, std::string_view jid) {
  const std::string_view bare = jid_bare_part(jid);
  detail::jid_lower_append(out, bare);
  if (bare.size() < jid.size()) out.append(jid.substr(bare.size()));  // "/resource"
}

inline std::string lower_jid(std::string_view jid) {
  std::string out;
  append_lower_jid(out, jid);
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
// Printable ASCII without '"' or '\': written into JSON as it is.
inline bool json_plain(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  return true;
}

// Appends s as a JSON string. Plain text (JIDs, most bodies) is copied as it is; anything
// else goes through nlohmann's serializer (escapes, UTF-8 checks, invalid UTF-8 replaced by
// U+FFFD), so the output is the same as dumping the whole object.
inline void append_json_string(std::string& out, std::string_view s) {
  if (json_plain(s)) {
    out.push_back('"');
    out.append(s);
    out.push_back('"');
    return;
  }
  out += nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Appends jid:to_lower(jid) as a JSON string (lowercasing keeps plain text plain).
inline void append_json_lower_jid(std::string& out, std::string_view jid) {
  if (!json_plain(jid)) return append_json_string(out, lower_jid(jid));
  out.push_back('"');
  append_lower_jid(out, jid);
  out.push_back('"');
}
}  // namespace detail

// Appends the compact JSON text of an event without metadata (no spaces, UTF-8 as it came;
// invalid UTF-8 in a body is replaced by U+FFFD rather than making the event unsendable).
// Written directly, without building a tree or copying the event: this runs for every
// message on the routing thread.
inline void append_mongoose_event_json(std::string& out, const PushEventView& e) {
  if (e.kind == AV_PUSH_USER_STATUS) {
    out += "{\"user_id\":";
    detail::append_json_lower_jid(out, e.user_jid);
    out += e.online ? ",\"present\":true}" : ",\"present\":false}";
  } else {
    out += "{\"to_user_id\":";
    detail::append_json_lower_jid(out, e.to);
    out += ",\"from_user_id\":";
    detail::append_json_lower_jid(out, e.from);
    out += ",\"message\":";
    detail::append_json_string(out, e.body);
    out += '}';
  }
}

// The JSON text of an event, with the metadata that handlers added merged in.
inline std::string mongoose_event_json(const PushEvent& e) {
  if (!e.metadata.empty())
    return mongoose_event_object(e).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::string out;
  out.reserve(64 + e.user_jid.size() + e.to.size() + e.from.size() + e.body.size());
  append_mongoose_event_json(out, PushEventView::of(e));
  return out;
}

}  // namespace av
