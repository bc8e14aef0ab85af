// A few stanzas kept alive (retained) so that a later hook run can recognise the very same
// stanza by its address: while pinned, the address cannot be reused by another stanza.
// Bounded: past `max`, the oldest is released. [any-thread]
#pragma once

#include <aviary/aviary.hpp>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <mutex>

namespace ep {

class PinnedStanzas {
 public:
  explicit PinnedStanzas(size_t max) : max_(max) {}
  PinnedStanzas(const PinnedStanzas&) = delete;
  PinnedStanzas& operator=(const PinnedStanzas&) = delete;
  ~PinnedStanzas() { clear(); }

  void pin(av_stanza* s) {
    av::stanza_api().retain(s);
    std::lock_guard<std::mutex> lk(mu_);
    pinned_.push_back(s);
    if (pinned_.size() > max_) {
      av::stanza_api().release(pinned_.front());
      pinned_.pop_front();
    }
  }

  // True (and no longer pinned) when s was pinned.
  bool take(const av_stanza* s) {
    std::lock_guard<std::mutex> lk(mu_);
    auto it = std::find(pinned_.begin(), pinned_.end(), s);
    if (it == pinned_.end()) return false;
    av::stanza_api().release(*it);
    pinned_.erase(it);
    return true;
  }

  void clear() {
    std::lock_guard<std::mutex> lk(mu_);
    for (av_stanza* s : pinned_) av::stanza_api().release(s);
    pinned_.clear();
  }

 private:
  std::mutex mu_;
  std::deque<av_stanza*> pinned_;
  size_t max_;
};

}  // namespace ep
