// Which stanzas make events (MongooseIM's hook translator rules), as pure functions.
#pragma once

#include <aviary/ext/draft/event_pusher.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ep {

// What the rules look at in a message stanza (read by the module through av.stanza/1).
struct MessageFacts {
  std::string_view type;          // the 'type' attribute ("" when absent)
  bool has_body = false;          // a <body/> in the client namespace
  std::string_view body;
  bool has_delay = false;         // an XEP-0203 <delay/>
  std::string_view delay_from, delay_text;
};

struct ChatInfo {
  av_push_chat_type type;
  std::string_view body;
};

// A message makes a chat event only with type chat or groupchat and a non-empty <body>
// (no type = normal, headline, error: none; MongooseIM 6.5 skips body-less messages).
std::optional<ChatInfo> chat_info(const MessageFacts& m);

// A message that mod_offline delivers from storage (XEP-0203 <delay/> stamped by the
// recipient's own server, "Offline Storage"): it made its "received" event when it first
// arrived, so it makes none again.
bool is_offline_redelivery(const MessageFacts& m, std::string_view recipient_domain);

// Metadata of one event: keys in first-set order, values as JSON text.
class Metadata {
 public:
  // false when json_value is not exactly one JSON value.
  bool set(std::string_view key, std::string_view json_value);
  size_t size() const { return items_.size(); }
  const std::pair<std::string, std::string>& at(size_t i) const { return items_[i]; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

}  // namespace ep
