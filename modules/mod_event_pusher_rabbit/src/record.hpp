// A publish waiting for a worker, encoded into a byte buffer: the routing thread formats
// the routing key and the JSON straight into it (no allocation per event) and a worker
// takes a chunk of many at once. Layout of one record:
//   u8 exchange length, exchange, u8 routing key length, routing key, u32 body length, body
// (AMQP short strings: an exchange or routing key over 255 bytes cannot be published).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rabbit {

struct RecordView {
  std::string_view exchange, routing_key, body;
};

// Records back to back, as a worker takes them from its queue and publishes them.
struct Chunk {
  std::string bytes;
  size_t count = 0;  // how many records
};

namespace detail {
inline void put_u32(std::string& out, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[at + i] = static_cast<char>(v >> (24 - 8 * i));
}
}  // namespace detail

// Appends one record; write_key(out) and write_body(out) append the routing key and the
// body. false (and out as it was) when the exchange or the key is longer than 255 bytes.
template <class WriteKey, class WriteBody>
bool append_record(std::string& out, std::string_view exchange, WriteKey&& write_key, WriteBody&& write_body) {
  const size_t start = out.size();
  if (exchange.size() > 255) return false;
  out.push_back(static_cast<char>(exchange.size()));
  out.append(exchange);
  const size_t key_at = out.size();
  out.push_back('\0');
  write_key(out);
  const size_t key_len = out.size() - key_at - 1;
  if (key_len > 255) {
    out.resize(start);
    return false;
  }
  out[key_at] = static_cast<char>(key_len);
  const size_t body_at = out.size();
  out.append(4, '\0');
  write_body(out);
  const size_t body_len = out.size() - body_at - 4;
  if (body_len > UINT32_MAX) {
    out.resize(start);
    return false;
  }
  detail::put_u32(out, body_at, static_cast<uint32_t>(body_len));
  return true;
}

// Reads the record at pos and moves pos past it; false at the end of buf or when what is
// there is not a whole record.
bool next_record(std::string_view buf, size_t& pos, RecordView& r);

}  // namespace rabbit
