#include "event_source.hpp"

#include <nlohmann/json.hpp>

namespace ep {

std::optional<ChatInfo> chat_info(const MessageFacts& m) {
  av_push_chat_type t;
  if (m.type == "chat")
    t = AV_PUSH_TYPE_CHAT;
  else if (m.type == "groupchat")
    t = AV_PUSH_TYPE_GROUPCHAT;
  else
    return std::nullopt;
  if (!m.has_body || m.body.empty()) return std::nullopt;
  return ChatInfo{t, m.body};
}

bool is_offline_redelivery(const MessageFacts& m, std::string_view recipient_domain) {
  return m.has_delay && !recipient_domain.empty() && m.delay_from == recipient_domain &&
         m.delay_text == "Offline Storage";
}

bool Metadata::set(std::string_view key, std::string_view json_value) {
  if (key.empty() || !nlohmann::json::accept(json_value.begin(), json_value.end())) return false;
  for (auto& [k, v] : items_)
    if (k == key) {
      v.assign(json_value);
      return true;
    }
  items_.emplace_back(std::string(key), std::string(json_value));
  return true;
}

}  // namespace ep
