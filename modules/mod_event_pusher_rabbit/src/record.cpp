#include "record.hpp"

namespace rabbit {

bool next_record(std::string_view buf, size_t& pos, RecordView& r) {
  size_t p = pos;
  auto short_str = [&](std::string_view& s) {
    if (p >= buf.size()) return false;
    const size_t n = static_cast<unsigned char>(buf[p++]);
    if (buf.size() - p < n) return false;
    s = buf.substr(p, n);
    p += n;
    return true;
  };
  if (!short_str(r.exchange) || !short_str(r.routing_key) || buf.size() - p < 4) return false;
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(buf[p++]);
  if (buf.size() - p < n) return false;
  r.body = buf.substr(p, n);
  pos = p + n;
  return true;
}

}  // namespace rabbit
