// mod_csi pure logic (XEP-0352): which stanzas are urgent, and the per-session hold buffer.
// No host calls: unit tested.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace csi {

inline constexpr std::string_view kNs = "urn:xmpp:csi:0";

// A summary of an element: name, namespace (inherited when it has no xmlns attribute),
// 'type' attribute and element children (depth-limited by the glue).
struct El {
  std::string name;
  std::string ns;
  std::string type;
  std::vector<El> kids;

  const El* child(std::string_view n, std::string_view xmlns) const {
    for (const auto& k : kids)
      if (k.name == n && k.ns == xmlns) return &k;
    return nullptr;
  }
};

// Is this stanza for the client worth waking it up (write now), or can it wait until the
// client is active again?
//   urgent: every IQ; presence subscription management (subscribe, subscribed, unsubscribe,
//     unsubscribed), probe and error presence; a message with a <body/> or <subject/>, of
//     type error, carrying an encrypted payload (OMEMO, OpenPGP, legacy OpenPGP, EME), a
//     Jingle message proposal or a MUC invitation; a carbon (XEP-0280) or forwarded
//     message whose inner message is urgent; anything that is not a stanza.
//   not urgent: available/unavailable presence, and every other message (chat states,
//     receipts, markers, carbons of those, pubsub event notifications without a body).
bool urgent(const El& stanza);

// The hold buffer of one session. T is the held item (a stanza reference in the module).
template <class T>
class Session {
 public:
  enum class Action {
    pass,   // write it now as usual
    hold,   // taken into the buffer
    write,  // write `out` (held items then this one, in order) after what is in flight
  };

  explicit Session(size_t max) : max_(max) {}

  bool inactive() const { return inactive_; }
  size_t held() const { return held_.size(); }
  bool draining() const { return in_flight_ > 0; }

  // A stanza arrives for the session. Order is kept: while earlier writes issued with
  // `write` are still in flight, a stanza that would pass is written behind them instead.
  Action offer(T item, bool is_urgent, std::vector<T>& out) {
    if (!inactive_) {
      if (in_flight_ == 0) return Action::pass;
      out.push_back(std::move(item));
      return Action::write;
    }
    if (!is_urgent && held_.size() < max_) {
      held_.push_back(std::move(item));
      return Action::hold;
    }
    take(out);
    out.push_back(std::move(item));
    return Action::write;
  }

  // <inactive/>
  void set_inactive() { inactive_ = true; }
  // <active/>: returns what to write, in order.
  std::vector<T> set_active() {
    inactive_ = false;
    std::vector<T> out;
    take(out);
    return out;
  }

  // The module issued a batch of writes (then posts a marker behind them) ...
  void batch_issued() { ++in_flight_; }
  // ... and the marker ran: that batch is written.
  void batch_done() {
    if (in_flight_ > 0) --in_flight_;
  }

 private:
  void take(std::vector<T>& out) {
    for (auto& h : held_) out.push_back(std::move(h));
    held_.clear();
  }

  size_t max_;
  bool inactive_ = false;
  uint32_t in_flight_ = 0;
  std::deque<T> held_;
};

}  // namespace csi
