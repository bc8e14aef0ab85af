// mod_event_pusher_http: the HTTP transport of the event pusher (MongooseIM 6.5's
// mod_event_pusher_http with its default callback module mod_event_pusher_http_defaults).
// - start: reads the `handlers` list, and for each pool it names outgoing_pools.http.<name>
//   (av.pools/1; a missing pool fails the start, naming it), then starts one worker pool per
//   pool (`workers` threads, each with its own CURL easy handle, sharing a bounded queue).
// - event-pusher/push (AV_PUSH_PRIO_TRANSPORT): a chat message sent by a local user, type
//   chat, non-empty body, becomes one form-encoded POST per handler, queued; the hook thread
//   never waits on the network.
// - aviaryctl event_pusher httpStats: counters (also logged at stop).
#include <aviary/aviary.hpp>
#include <aviary/cpp/curl_post.hpp>
#include <aviary/cpp/event_pusher.hpp>
#include <aviary/ext/draft/pools.h>

#include <map>
#include <memory>

#include "http_config.hpp"
#include "worker_pool.hpp"

namespace {

const av_option_spec kOptions[] = {
    {"handlers", AV_OPT_ANY, nullptr, 1, 0, nullptr, false,
     "list of handlers {pool_name, path, callback_module}; every event goes to each (default: none)"},
    {"handlers[].pool_name", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "the outgoing_pools.http.<name> pool to POST through (http_pool)"},
    {"handlers[].path", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "path after the pool's path_prefix; a leading '/' is dropped (\"\")"},
    {"handlers[].callback_module", AV_OPT_ENUM, nullptr, 1, 0, "mod_event_pusher_http_defaults", false,
     "what to send: only mod_event_pusher_http_defaults (chat messages with a body)"},
    {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};

const av_dep kDeps[] = {{"mod_event_pusher", AV_DEP_HARD}, {nullptr, 0}};

std::string counters(uint64_t sent, uint64_t failed, uint64_t dropped, size_t queued) {
  return "sent " + std::to_string(sent) + ", failed " + std::to_string(failed) + ", dropped " +
         std::to_string(dropped) + ", queued " + std::to_string(queued);
}

class HttpTransport final : public av::Module {
 public:
  static const av_option_spec* options() { return kOptions; }
  static const av_dep* deps() { return kDeps; }

  av_status start(av::Context& cx) override {
    std::vector<ephttp::Handler> handlers = ephttp::parse_handlers(cx.option_json("handlers"));
    auto* pools = cx.require<av_ext_pools_v1>(AV_EXT_POOLS);
    curl_ = std::make_unique<av::CurlGlobal>();
    if (!curl_->ok) throw av::Error(AV_E_INTERNAL, "curl_global_init failed");

    for (size_t i = 0; i < handlers.size(); ++i) {
      const ephttp::Handler& h = handlers[i];
      auto it = pools_.find(h.pool_name);
      if (it == pools_.end()) {
        av_str json{};
        if (pools->config(av_cstr("http"), av::str(h.pool_name), &json) != AV_OK)
          throw av::Error(AV_E_NOT_FOUND, "handlers[" + std::to_string(i) + "] uses the pool '" + h.pool_name +
                                              "', but the config has no outgoing_pools.http." + h.pool_name);
        ephttp::PoolConfig pc = ephttp::parse_pool(h.pool_name, std::string(av::sv(json)));
        av::CurlPostOptions post;  // the response body is not used
        post.tls = pc.tls;
        auto pool = std::make_unique<ephttp::WorkerPool>(
            std::move(pc), [post] { return std::make_unique<av::CurlPost>(post); },
            [](bool warning, const std::string& m) { warning ? av::log_warning(m) : av::log_info(m); });
        it = pools_.emplace(h.pool_name, std::move(pool)).first;
      }
      routes_.push_back(Route{it->second.get(), ephttp::request_url(it->second->config(), h)});
    }
    for (auto& [name, pool] : pools_) pool->start();

    hooks_.add(av::hooks::event_pusher_push, AV_PUSH_PRIO_TRANSPORT, [this](const av_push_event& e, av_push_acc&) {
      on_event(e);
      return av::next;
    });
    commands_.add("event_pusher", "httpStats", "Counters of the HTTP event pusher transport", {},
                  [this](const av::CommandCall& call) { call.ok(stats_text()); });
    if (routes_.empty())
      av::log_warning("no handlers configured (modules.mod_event_pusher.http.handlers): nothing will be sent");
    for (auto& r : routes_)
      av::log_info("POSTing chat messages to " + r.url + " (pool " + r.pool->config().name + ", " +
                   std::to_string(r.pool->config().workers) + " worker(s))");
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    // One shared grace period for all pools: what is queued is sent for up to 2 s.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(2000);
    for (auto& [name, pool] : pools_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pool->stop(std::max(left, std::chrono::milliseconds(0)));
    }
    av::log_info(stats_text());
  }

 private:
  struct Route {
    ephttp::WorkerPool* pool;
    std::string url;
  };

  void on_event(const av_push_event& e) {
    // Cheap checks first: most events are not for this transport.
    if (e.kind != AV_PUSH_CHAT || e.direction != AV_PUSH_DIR_SENT || e.chat_type != AV_PUSH_TYPE_CHAT ||
        routes_.empty())
      return;
    av::PushEvent ev;
    ev.kind = e.kind;
    ev.direction = e.direction;
    ev.chat_type = e.chat_type;
    ev.from = std::string(av::sv(e.from));
    ev.to = std::string(av::sv(e.to));
    ev.body = std::string(av::sv(e.body));
    auto n = ephttp::notification_for(ev);
    if (!n) return;
    std::string body = ephttp::prepare_body(*n);
    for (auto& r : routes_)
      r.pool->submit(av::PostRequest{r.url, {std::string("content-type: ") + ephttp::kContentType}, body});
  }

  std::string stats_text() const {
    uint64_t sent = 0, failed = 0, dropped = 0;
    size_t queued = 0;
    std::string per_pool;
    for (auto& [name, pool] : pools_) {
      const auto& s = pool->stats();
      sent += s.sent.load();
      failed += s.failed.load();
      dropped += s.dropped.load();
      queued += pool->queued();
      per_pool += (per_pool.empty() ? "" : "; ") + std::string("pool ") + name + ": " +
                  counters(s.sent.load(), s.failed.load(), s.dropped.load(), pool->queued());
    }
    std::string out = counters(sent, failed, dropped, queued);
    if (!per_pool.empty()) out += " (" + per_pool + ")";
    return out;
  }

  std::unique_ptr<av::CurlGlobal> curl_;
  // Destroyed before curl_ (declared after it): the pools join their threads first.
  std::map<std::string, std::unique_ptr<ephttp::WorkerPool>> pools_;
  std::vector<Route> routes_;
  av::HookSet hooks_;
  av::Commands commands_;
};

}  // namespace

AV_MODULE(HttpTransport, "mod_event_pusher_http", "0.1.0",
          "Event pusher transport: POSTs chat messages to HTTP services (MongooseIM's format)")
