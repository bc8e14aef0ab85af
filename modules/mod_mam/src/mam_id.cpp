#include "mam_id.hpp"

namespace mod_mam {

int64_t IdGenerator::next(int64_t now_us) {
  const int64_t wanted = id_from_us(now_us, node_);
  int64_t last = last_.load(std::memory_order_relaxed);
  for (;;) {
    const int64_t id = wanted > last ? wanted : last + 256;
    if (last_.compare_exchange_weak(last, id, std::memory_order_relaxed)) return id;
  }
}

std::string encode_id(int64_t id) {
  static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";
  if (id <= 0) return "0";
  char buf[16];
  int n = 0;
  auto v = static_cast<uint64_t>(id);
  while (v) {
    buf[n++] = digits[v & 31];
    v >>= 5;
  }
  std::string out;
  out.reserve(n);
  while (n) out += buf[--n];
  return out;
}

std::optional<int64_t> decode_id(std::string_view text) {
  if (text.empty() || text.size() > 13) return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    unsigned d;
    if (c >= '0' && c <= '9')
      d = static_cast<unsigned>(c - '0');
    else if (c >= 'A' && c <= 'V')
      d = static_cast<unsigned>(c - 'A' + 10);
    else if (c >= 'a' && c <= 'v')
      d = static_cast<unsigned>(c - 'a' + 10);
    else
      return std::nullopt;
    if (v > (static_cast<uint64_t>(INT64_MAX) >> 5)) return std::nullopt;
    v = (v << 5) | d;
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(v);
}

}  // namespace mod_mam
