// MAM message ids (MongooseIM's format, spec 6.2): (microseconds since the epoch << 8) | node
// number (0-255), unique and increasing on one node, written base-32 with digits 0-9A-V so
// that the text sorts like the number when lengths are equal.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mod_mam {

class IdGenerator {
 public:
  explicit IdGenerator(uint8_t node = 0) : node_(node) {}
  void set_node(uint8_t node) { node_ = node; }  // [main] before the first next()
  // [any-thread] A new id for a message received at `now_us`: (now_us << 8 | node), or the
  // last id + 256 when the clock has not moved past it (several messages in one
  // microsecond, or a clock step back): ids never repeat and never go down.
  int64_t next(int64_t now_us);

 private:
  uint8_t node_;
  std::atomic<int64_t> last_{0};
};

inline int64_t id_from_us(int64_t us, uint8_t node = 0) { return (us << 8) | node; }
inline int64_t us_of_id(int64_t id) { return id >> 8; }

std::string encode_id(int64_t id);
// nullopt for anything but 1-13 characters of 0-9, A-V (a-v accepted), or a value over
// INT64_MAX.
std::optional<int64_t> decode_id(std::string_view text);

}  // namespace mod_mam
