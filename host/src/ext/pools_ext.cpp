#include "ext/pools_ext.hpp"

#include "core/host.hpp"

#include <string>

namespace aviary {

namespace {

av_status x_config(av_str type, av_str tag, av_str* out) noexcept {
  if (!out || !type.ptr || !tag.ptr) return AV_E_INVALID_ARG;
  // Config::module_pools is immutable once the host exists, so the text stays valid.
  const auto& pools = Host::get().config().module_pools;
  auto t = pools.find(std::string(type.ptr, type.len));
  if (t == pools.end()) return AV_E_NOT_FOUND;
  auto p = t->second.find(std::string(tag.ptr, tag.len));
  if (p == t->second.end()) return AV_E_NOT_FOUND;
  *out = av_strn(p->second.data(), p->second.size());
  return AV_OK;
}

}  // namespace

const av_ext_pools_v1* pools_ext() {
  static const av_ext_pools_v1 ext = {sizeof(av_ext_pools_v1), &x_config};
  return &ext;
}

}  // namespace aviary
