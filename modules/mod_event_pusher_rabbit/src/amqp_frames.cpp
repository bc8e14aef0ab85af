#include "amqp_frames.hpp"

namespace rabbit {

namespace {

constexpr uint8_t kFrameMethod = 1, kFrameHeader = 2, kFrameBody = 3, kFrameEnd = 0xCE;
constexpr uint16_t kClassBasic = 60, kMethodPublish = 40;
constexpr size_t kFrameOverhead = 8;  // type, channel, size, frame-end

void u8(std::string& b, uint8_t v) { b.push_back(static_cast<char>(v)); }
void u16(std::string& b, uint16_t v) {
  u8(b, static_cast<uint8_t>(v >> 8));
  u8(b, static_cast<uint8_t>(v));
}
void u32(std::string& b, uint32_t v) {
  u16(b, static_cast<uint16_t>(v >> 16));
  u16(b, static_cast<uint16_t>(v));
}
void u64(std::string& b, uint64_t v) {
  u32(b, static_cast<uint32_t>(v >> 32));
  u32(b, static_cast<uint32_t>(v));
}

// Frame header; the payload follows, then frame-end.
void frame_start(std::string& b, uint8_t type, uint16_t channel, size_t payload) {
  u8(b, type);
  u16(b, channel);
  u32(b, static_cast<uint32_t>(payload));
}

}  // namespace

bool append_publish(std::string& out, uint16_t channel, uint32_t frame_max, std::string_view exchange,
                    std::string_view routing_key, std::string_view body) {
  if (exchange.size() > 255 || routing_key.size() > 255) return false;
  // method frame: class, method, reserved-1 (short), exchange, routing-key, bits
  frame_start(out, kFrameMethod, channel, 2 + 2 + 2 + 1 + exchange.size() + 1 + routing_key.size() + 1);
  u16(out, kClassBasic);
  u16(out, kMethodPublish);
  u16(out, 0);
  u8(out, static_cast<uint8_t>(exchange.size()));
  out.append(exchange);
  u8(out, static_cast<uint8_t>(routing_key.size()));
  out.append(routing_key);
  u8(out, 0);  // mandatory = immediate = false
  u8(out, kFrameEnd);
  // content header: class, weight, body size, property flags (none)
  frame_start(out, kFrameHeader, channel, 2 + 2 + 8 + 2);
  u16(out, kClassBasic);
  u16(out, 0);
  u64(out, body.size());
  u16(out, 0);
  u8(out, kFrameEnd);
  // body frames (none for an empty body)
  const size_t chunk = frame_max > kFrameOverhead ? frame_max - kFrameOverhead : 4096;
  for (size_t off = 0; off < body.size(); off += chunk) {
    const std::string_view part = body.substr(off, chunk);
    frame_start(out, kFrameBody, channel, part.size());
    out.append(part);
    u8(out, kFrameEnd);
  }
  return true;
}

}  // namespace rabbit
