// mod_push_service_mongoosepush: a push service for XEP-0357 without a PubSub service
// (MongooseIM 6.5's mod_push_service_mongoosepush): handles the hook push/notifications
// (ext/draft/push.h) that mod_event_pusher_push runs for its virtual_pubsub_hosts, and POSTs
// each notification to MongoosePush's REST API, {path_prefix}{v3|v2}/notification/{device_id},
// over the HTTP pool outgoing_pools.http.<pool_name>.
// - push/notifications (AV_PUSH_PRIO_SERVICE = 10): a notification whose publish-options
//   have a device_id is queued (the answer comes later through the accumulator's done()):
//   2xx ok, 410 device_not_registered (the registration is disabled), anything else an error
//   (logged). Without a device_id it is not for this service (left to others).
// - aviaryctl event_pusher mongoosepushStats: counters.
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/pools.h>
#include <aviary/ext/draft/push.h>

#include <algorithm>
#include <atomic>
#include <memory>

#include "http_poster.hpp"
#include "mongoosepush.hpp"

namespace {

using namespace mpush;

struct Counters {
  std::atomic<uint64_t> notifications{0}, ok{0}, device_not_registered{0}, http_errors{0}, invalid{0}, skipped{0};
};

class MongoosePush final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"pool_name", AV_OPT_STRING, nullptr, 1, 0, nullptr, true, "the HTTP pool: outgoing_pools.http.<pool_name>"},
        {"api_version", AV_OPT_ENUM, "v3", 1, 0, "v3|v2", false, "MongoosePush API version in the request path"},
        {"max_http_connections", AV_OPT_INT, "100", 1, 100000, nullptr, false,
         "requests running at once (also bounded by the pool's workers)"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    const std::string pool_name = cx.option_string("pool_name");
    api_version_ = cx.option_enum("api_version");
    auto* pools = cx.require<av_ext_pools_v1>(AV_EXT_POOLS);
    av_str pool_json{};
    if (pools->config(av_cstr("http"), av::str(pool_name), &pool_json) != AV_OK)
      throw av::Error(AV_E_NOT_FOUND, "pool_name '" + pool_name + "': there is no outgoing_pools.http." + pool_name +
                                          " in the config");
    try {
      pool_ = parse_pool(std::string(av::sv(pool_json)));
    } catch (const std::exception& e) {
      throw av::Error(AV_E_INVALID_ARG, "outgoing_pools.http." + pool_name + ": " + e.what());
    }
    if (!pool_.tls.server_name_indication.empty())
      av::log_warning("outgoing_pools.http." + pool_name + ".connection.tls.server_name_indication is ignored");
    const size_t concurrency =
        std::min<size_t>(static_cast<size_t>(cx.option_int("max_http_connections")), static_cast<size_t>(pool_.workers));
    poster_ = std::make_unique<HttpPoster>(pool_, concurrency);
    try {
      poster_->start();
    } catch (const std::exception& e) {
      throw av::Error(AV_E_INTERNAL, e.what());
    }
    hooks_.add_named<av_push_notification_params, av_push_notification_acc>(
        AV_HOOK_PUSH_NOTIFICATIONS, AV_PUSH_PRIO_SERVICE,
        [this](const av_push_notification_params& p, av_push_notification_acc& acc) { return on_notification(p, acc); });
    commands_.add("event_pusher", "mongoosepushStats", "Counters of the MongoosePush push service", {},
                  [this](const av::CommandCall& call) { call.ok(stats_text()); });
    av::log_info("MongoosePush " + api_version_ + " at " + pool_.base + pool_.path_prefix + ", " +
                 std::to_string(concurrency) + " connection(s), queue " + std::to_string(pool_.max_queue_len));
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    if (poster_) poster_->stop();  // answers every pending notification
    av::log_info(stats_text());
  }

 private:
  static KeyValues copy(const av_push_kv* kv, size_t n) {
    KeyValues out;
    for (size_t i = 0; kv && i < n; ++i) out.emplace_back(std::string(av::sv(kv[i].key)), std::string(av::sv(kv[i].value)));
    return out;
  }

  av::Next on_notification(const av_push_notification_params& p, av_push_notification_acc& acc) {
    if (acc.handled) return av::next;
    const KeyValues options = copy(p.options, p.option_count);
    const std::string* device = find(options, "device_id");
    if (!device || device->empty()) {
      c_.skipped.fetch_add(1, std::memory_order_relaxed);
      av::log_debug("a notification for " + std::string(av::sv(p.owner_jid)) + " has no device_id: not for MongoosePush");
      return av::next;
    }
    c_.notifications.fetch_add(1, std::memory_order_relaxed);
    acc.handled = true;
    Body body = make_body(copy(p.fields, p.field_count), options);
    if (!body.ok) {
      c_.invalid.fetch_add(1, std::memory_order_relaxed);
      av::log_error("cannot notify " + std::string(av::sv(p.owner_jid)) + " through MongoosePush: " + body.error);
      acc.result = AV_PUSH_RESULT_ERROR;
      return av::stop;
    }
    Request r;
    r.url = notification_url(pool_, api_version_, *device);
    r.body = std::move(body.json);
    av_push_done_fn done = acc.done;
    void* done_user = acc.done_user;
    const std::string url = r.url, payload = r.body;
    r.done = [this, done, done_user, url, payload](long status, const std::string& error, const std::string& response) {
      const av_push_result res = result_of(status);
      if (status == 0) {
        c_.http_errors.fetch_add(1, std::memory_order_relaxed);
        av::log_error("MongoosePush request to " + url + " failed: " + error);
      } else if (res == AV_PUSH_RESULT_OK) {
        c_.ok.fetch_add(1, std::memory_order_relaxed);
      } else if (res == AV_PUSH_RESULT_DEVICE_NOT_REGISTERED) {
        c_.device_not_registered.fetch_add(1, std::memory_order_relaxed);
        av::log_warning("Unable to send push notification. Device not registered (HTTP 410 from " + url + ")");
      } else {
        c_.http_errors.fetch_add(1, std::memory_order_relaxed);
        av::log_error(status >= 400 && status < 500
                          ? "Unable to send push notification. Possible API mismatch: HTTP " + std::to_string(status) +
                                " from " + url + ", response " + response + ", payload " + payload
                          : "Unable to send push notification: HTTP " + std::to_string(status) + " from " + url +
                                ", response " + response);
      }
      if (done) done(done_user, res);
    };
    // The runner reads `pending` after the hook: set it before the worker may answer.
    acc.pending = done != nullptr;
    if (!poster_->submit(std::move(r))) {
      acc.pending = false;
      acc.result = AV_PUSH_RESULT_ERROR;
      av::log_warning("MongoosePush queue full: a notification for " + std::string(av::sv(p.owner_jid)) + " is dropped");
    }
    return av::stop;
  }

  std::string stats_text() const {
    auto n = [](const std::atomic<uint64_t>& a) { return std::to_string(a.load(std::memory_order_relaxed)); };
    if (!poster_) return "not started";
    const PosterStats& s = poster_->stats();
    return "notifications " + n(c_.notifications) + ", ok " + n(c_.ok) + ", device_not_registered " +
           n(c_.device_not_registered) + ", failed " + n(c_.http_errors) + ", invalid " + n(c_.invalid) +
           ", dropped " + n(s.dropped) + ", skipped " + n(c_.skipped) + ", queued " + std::to_string(poster_->queued()) +
           ", in_flight " + std::to_string(s.in_flight.load());
  }

  std::string api_version_;
  Pool pool_;
  std::unique_ptr<HttpPoster> poster_;
  Counters c_;
  av::HookSet hooks_;
  av::Commands commands_;
};

}  // namespace

AV_MODULE(MongoosePush, "mod_push_service_mongoosepush", "0.1.0",
          "Push service for XEP-0357 virtual PubSub hosts: notifications POSTed to MongoosePush's REST API")
