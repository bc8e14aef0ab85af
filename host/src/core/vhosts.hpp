// The virtual hosts (XMPP domains) this server serves, fixed at start-up.
#pragma once

#include <aviary/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

// The opaque SDK handle, defined here. Lives for the whole process.
struct av_vhost {
  uint32_t index;    // 0-based, dense: used to index per-vhost tables
  std::string name;  // lowercase domain
};

namespace aviary {

class Vhosts {
 public:
  explicit Vhosts(const std::vector<std::string>& names);
  av_vhost* find(std::string_view name) const;  // case-insensitive; nullptr if not served
  size_t size() const { return list_.size(); }
  av_vhost* at(size_t i) const { return list_[i]; }
  av_vhost* const* data() const { return list_.data(); }

 private:
  std::vector<std::unique_ptr<av_vhost>> owned_;
  std::vector<av_vhost*> list_;
};

std::string ascii_lower(std::string_view s);

}  // namespace aviary
