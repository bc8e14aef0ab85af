#include "core/vhosts.hpp"

namespace aviary {

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

Vhosts::Vhosts(const std::vector<std::string>& names) {
  for (auto& n : names) {
    auto v = std::make_unique<av_vhost>();
    v->index = static_cast<uint32_t>(owned_.size());
    v->name = ascii_lower(n);
    list_.push_back(v.get());
    owned_.push_back(std::move(v));
  }
}

av_vhost* Vhosts::find(std::string_view name) const {
  // A handful of vhosts: a linear scan beats hashing here.
  for (auto* v : list_) {
    if (v->name.size() != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < name.size() && eq; ++i) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      eq = c == v->name[i];
    }
    if (eq) return v;
  }
  return nullptr;
}

}  // namespace aviary
