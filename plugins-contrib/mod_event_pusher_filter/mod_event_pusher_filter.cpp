// mod_event_pusher_filter: a third-party event pusher filter, built against the installed
// SDK (the counterpart of MongooseIM's big_tests mod_event_pusher_filter.erl).
//
// It handles event-pusher/push early (priority 10, before the transports at 50):
// - every event other than a user status (online/offline) is dropped for all later
//   handlers (the run stops);
// - a user status event gets two metadata keys, which the rabbit and kafka transports merge
//   into their JSON: "timestamp" (µs since the epoch, when the event was made) and
//   "session_count" (the user's sessions right now, from av.sessions/1).
// It needs no dependency on mod_event_pusher: it registers on the hook by name and simply
// is never called when no event pusher runs.
#include <aviary/aviary.hpp>
#include <aviary/cpp/event_pusher.hpp>
#include <aviary/ext/sessions.h>

#include <atomic>
#include <string>

namespace {

constexpr int32_t kPriority = 10;

class EventPusherFilter final : public av::Module {
 public:
  av_status start(av::Context& cx) override {
    sessions_ = cx.require<av_ext_sessions_v1>(AV_EXT_SESSIONS);
    hooks_.add(av::hooks::event_pusher_push, kPriority,
               [this](const av_push_event& e, av_push_acc& acc) { return on_event(e, acc); });
    return AV_OK;
  }

  void stop() override {
    av::log_info("stopping: kept " + std::to_string(kept_.load()) + " event(s), dropped " +
                 std::to_string(dropped_.load()));
  }

 private:
  av::Next on_event(const av_push_event& e, av_push_acc& acc) {
    if (e.kind != AV_PUSH_USER_STATUS) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return av::stop;  // no later handler (no transport) sees it
    }
    size_t count = 0;
    const std::string bare(av::jid_bare_part(av::sv(e.user_jid)));
    sessions_->list(
        av::str(bare), [](void* user, const av_session_info*, size_t n) { *static_cast<size_t*>(user) = n; },
        &count);
    av::push_meta_set(acc, "timestamp", std::to_string(e.timestamp_us));
    av::push_meta_set(acc, "session_count", std::to_string(count));
    kept_.fetch_add(1, std::memory_order_relaxed);
    return av::next;
  }

  const av_ext_sessions_v1* sessions_ = nullptr;
  std::atomic<uint64_t> kept_{0}, dropped_{0};
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(EventPusherFilter, "mod_event_pusher_filter", "0.1.0",
          "Example event pusher filter: keeps only presence events and adds timestamp and session_count")
