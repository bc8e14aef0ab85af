// mod_event_pusher_sns: the Amazon SNS transport of the event pusher (MongooseIM 6.5's
// mod_event_pusher_sns with its default plugin mod_event_pusher_sns_defaults).
// - start: reads and checks the options (sns_host, region, credentials and account id are
//   required), then starts the publisher: pool_size worker threads, each with its own CURL
//   easy handle, sharing a bounded queue.
// - event-pusher/push (AV_PUSH_PRIO_TRANSPORT): presence changes and messages sent by local
//   users (chat -> pm topic, groupchat -> muc topic) become an SNS Publish (SigV4-signed
//   Query API request), queued; failures are retried with backoff, off the hook thread.
// - aviaryctl event_pusher snsStats: counters (also logged at stop).
#include <aviary/aviary.hpp>
#include <aviary/cpp/curl_post.hpp>
#include <aviary/cpp/event_pusher.hpp>

#include <memory>
#include <optional>

#include "publisher.hpp"
#include "sns_config.hpp"
#include "sns_request.hpp"

namespace {

const av_option_spec kOptions[] = {
    {"presence_updates_topic", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "topic of presence changes (absent: not published)"},
    {"pm_messages_topic", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "topic of one-to-one messages sent by local users (absent: not published)"},
    {"muc_messages_topic", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "topic of groupchat messages sent by local users (absent: not published)"},
    {"plugin_module", AV_OPT_ENUM, "mod_event_pusher_sns_defaults", 1, 0, "mod_event_pusher_sns_defaults", false,
     "user ids and message attributes: only mod_event_pusher_sns_defaults"},
    {"sns_host", AV_OPT_STRING, nullptr, 1, 0, nullptr, true, "SNS host, e.g. sns.eu-west-1.amazonaws.com"},
    {"region", AV_OPT_STRING, nullptr, 1, 0, nullptr, true, "AWS region, e.g. eu-west-1"},
    {"access_key_id", AV_OPT_STRING, nullptr, 1, 0, nullptr, true, "AWS access key id"},
    {"secret_access_key", AV_OPT_STRING, nullptr, 1, 0, nullptr, true, "AWS secret access key"},
    {"account_id", AV_OPT_STRING, nullptr, 1, 0, nullptr, true, "AWS account id (in the topic ARNs)"},
    {"pool_size", AV_OPT_INT, "100", 1, 1000, nullptr, false, "worker threads (connections to SNS)"},
    {"publish_retry_count", AV_OPT_INT, "2", 0, 30, nullptr, false, "retries of a failed publish"},
    {"publish_retry_time_ms", AV_OPT_INT, "50", 0, 60000, nullptr, false, "backoff base of the retries, ms"},
    // Aviary extras
    {"sns_endpoint", AV_OPT_STRING, nullptr, 1, 0, nullptr, false,
     "where requests go, http[s]://host[:port] (default https://<sns_host>); Host stays sns_host"},
    {"request_timeout", AV_OPT_INT, "10000", 1, 600000, nullptr, false, "timeout of one attempt, ms"},
    {"max_queue_len", AV_OPT_INT, "10000", 1, 100000000, nullptr, false,
     "events waiting for a worker or a retry; past it they are dropped"},
    {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};

const av_dep kDeps[] = {{"mod_event_pusher", AV_DEP_HARD}, {nullptr, 0}};

class SnsTransport final : public av::Module {
 public:
  static const av_option_spec* options() { return kOptions; }
  static const av_dep* deps() { return kDeps; }

  av_status start(av::Context& cx) override {
    sns::Settings s;
    auto topic = [&](const char* key) -> std::optional<std::string> {
      if (!cx.has_option(key, AV_OPT_STRING)) return std::nullopt;
      return cx.option_string(key);
    };
    s.presence_topic = topic("presence_updates_topic");
    s.pm_topic = topic("pm_messages_topic");
    s.muc_topic = topic("muc_messages_topic");
    s.sns_host = cx.option_string("sns_host");
    s.region = cx.option_string("region");
    s.creds.access_key_id = cx.option_string("access_key_id");
    s.creds.secret_access_key = cx.option_string("secret_access_key");
    s.account_id = cx.option_string("account_id");
    s.pool_size = static_cast<int>(cx.option_int("pool_size"));
    s.retry_count = static_cast<int>(cx.option_int("publish_retry_count"));
    s.retry_time_ms = static_cast<int>(cx.option_int("publish_retry_time_ms"));
    if (cx.has_option("sns_endpoint", AV_OPT_STRING)) s.endpoint = cx.option_string("sns_endpoint");
    s.request_timeout_ms = static_cast<long>(cx.option_int("request_timeout"));
    s.max_queue_len = static_cast<size_t>(cx.option_int("max_queue_len"));
    if (cx.option_enum("plugin_module") != sns::kDefaultPlugin)
      throw av::Error(AV_E_INVALID_ARG, "plugin_module: only mod_event_pusher_sns_defaults is available");
    sns::validate(s);  // throws with the option's name
    settings_ = s;

    curl_ = std::make_unique<av::CurlGlobal>();
    if (!curl_->ok) throw av::Error(AV_E_INTERNAL, "curl_global_init failed");
    pub_ = std::make_unique<sns::Publisher>(
        s, [] { return std::make_unique<av::CurlPost>(sns::curl_options()); },
        [](bool warning, const std::string& m) { warning ? av::log_warning(m) : av::log_info(m); });
    pub_->start();

    hooks_.add(av::hooks::event_pusher_push, AV_PUSH_PRIO_TRANSPORT, [this](const av_push_event& e, av_push_acc&) {
      on_event(e);
      return av::next;
    });
    commands_.add("event_pusher", "snsStats", "Counters of the Amazon SNS event pusher transport", {},
                  [this](const av::CommandCall& call) { call.ok(stats_text()); });
    std::string topics;
    for (auto* t : {&s.presence_topic, &s.pm_topic, &s.muc_topic})
      if (*t) topics += (topics.empty() ? "" : ", ") + sns::topic_arn(s.region, s.account_id, **t);
    av::log_info("publishing to " + s.endpoint + "/ (Host " + s.sns_host + ") with " + std::to_string(s.pool_size) +
                 " worker(s), topics: " + (topics.empty() ? "none (nothing will be published)" : topics));
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    if (pub_) pub_->stop();
    av::log_info(stats_text());
  }

 private:
  void on_event(const av_push_event& e) {
    // Cheap checks first: most events are not for this transport.
    if (e.kind == AV_PUSH_USER_STATUS) {
      if (!settings_.presence_topic) return;
    } else if (e.kind == AV_PUSH_CHAT && e.direction == AV_PUSH_DIR_SENT) {
      if (!(e.chat_type == AV_PUSH_TYPE_GROUPCHAT ? settings_.muc_topic : settings_.pm_topic)) return;
    } else {
      return;
    }
    av::PushEvent ev;
    ev.kind = e.kind;
    ev.user_jid = std::string(av::sv(e.user_jid));
    ev.online = e.online;
    ev.chat_type = e.chat_type;
    ev.direction = e.direction;
    ev.from = std::string(av::sv(e.from));
    ev.to = std::string(av::sv(e.to));
    ev.body = std::string(av::sv(e.body));
    if (auto p = sns::publication_for(settings_, ev)) pub_->submit(std::move(*p));
  }

  std::string stats_text() const {
    if (!pub_) return "not started";
    const auto& s = pub_->stats();
    return "published " + std::to_string(s.published.load()) + ", retried " + std::to_string(s.retried.load()) +
           ", failed " + std::to_string(s.failed.load()) + ", dropped " + std::to_string(s.dropped.load()) +
           ", queued " + std::to_string(pub_->queued());
  }

  sns::Settings settings_;
  std::unique_ptr<av::CurlGlobal> curl_;
  std::unique_ptr<sns::Publisher> pub_;  // destroyed before curl_: joins its threads first
  av::HookSet hooks_;
  av::Commands commands_;
};

}  // namespace

AV_MODULE(SnsTransport, "mod_event_pusher_sns", "0.1.0",
          "Event pusher transport: publishes events to Amazon SNS topics (MongooseIM's format)")
