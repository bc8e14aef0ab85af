// XEP-0198 Stream Management: the pure parts (counters, the unacknowledged-stanza queue,
// the protocol elements as text). No host calls: unit tested on their own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace sm {

inline constexpr std::string_view kNs = "urn:xmpp:sm:3";

// Stanzas sent to the client and not acknowledged yet, with the XEP-0198 'h' counters.
// Counters are 32-bit and wrap at 2^32 (XEP-0198 section 4: "h" is an unsigned int that
// wraps to 0 after 2^32 - 1).
template <class T>
class OutQueue {
 public:
  enum class Ack { ok, stale, too_high };

  explicit OutQueue(size_t max = 0) : max_(max) {}

  // One stanza sent. Returns false when the queue now holds more than `max` (0: no limit).
  bool push(T item) {
    ++sent_;
    q_.push_back(std::move(item));
    return max_ == 0 || q_.size() <= max_;
  }
  // How <a h='h'/> would be taken, without changing anything.
  Ack check(uint32_t h) const {
    uint32_t n = h - acked_;  // newly handled, modulo 2^32
    if (n <= q_.size()) return Ack::ok;
    // An 'h' below the last one (wrapped to a huge difference) is an old, reordered ack.
    return n >= 0x80000000u ? Ack::stale : Ack::too_high;
  }
  // The client handled every stanza up to `h`: forget them. stale/too_high change nothing.
  Ack ack(uint32_t h) {
    Ack a = check(h);
    if (a != Ack::ok) return a;
    uint32_t n = h - acked_;
    q_.erase(q_.begin(), q_.begin() + static_cast<std::ptrdiff_t>(n));
    acked_ = h;
    return a;
  }
  uint32_t sent() const { return sent_; }
  uint32_t acked() const { return acked_; }
  size_t size() const { return q_.size(); }
  size_t max() const { return max_; }
  bool over() const { return max_ != 0 && q_.size() > max_; }
  const std::deque<T>& items() const { return q_; }
  std::deque<T> take() {
    std::deque<T> out;
    out.swap(q_);
    acked_ = sent_;
    return out;
  }
  // Test hook: start the counters somewhere else (e.g. near 2^32).
  void set_counters(uint32_t sent_and_acked) { sent_ = acked_ = sent_and_acked; }

 private:
  size_t max_;
  uint32_t sent_ = 0;   // stanzas sent since <enable/> (mod 2^32)
  uint32_t acked_ = 0;  // last 'h' the client acknowledged
  std::deque<T> q_;     // sent_ - acked_ items, oldest first
};

// Ack requests: one <r/> after every `freq` stanzas sent (0: never).
class AckPacer {
 public:
  explicit AckPacer(uint32_t freq = 1) : freq_(freq) {}
  void sent() { ++pending_; }
  // True once `freq` stanzas were sent since the last request; resets the count.
  bool due() {
    if (freq_ == 0 || pending_ < freq_) return false;
    pending_ = 0;
    return true;
  }

 private:
  uint32_t freq_;
  uint32_t pending_ = 0;
};

// A non-negative decimal below 2^32 (the XEP's xs:unsignedInt), else nullopt.
std::optional<uint32_t> parse_h(std::string_view s);
// "true" / "1" (XML Schema boolean), the values of <enable resume=.../>.
bool parse_bool(std::string_view s);

// The elements the server writes (namespace urn:xmpp:sm:3).
std::string enabled_xml(const std::string& id, bool resume, uint64_t max_seconds);
std::string a_xml(uint32_t h);
std::string r_xml();
std::string resumed_xml(const std::string& previd, uint32_t h);
std::string failed_xml(std::string_view condition);  // a stanza error condition

// What becomes of an unacknowledged stanza when the session cannot be resumed: messages are
// routed again to the bare JID (other resource or offline storage); everything else is dropped.
// Not rerouted: type error or groupchat, and carbon copies (XEP-0280 sent/received), which the
// other resources already had.
enum class Fate { reroute, bounce_iq, drop };
Fate fate_of(std::string_view name, std::string_view type, bool is_carbon);

// A new resumption id: `bytes` random bytes in hex.
std::string new_id(size_t bytes = 16);

}  // namespace sm
