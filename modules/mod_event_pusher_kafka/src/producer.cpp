#include "producer.hpp"

#include <librdkafka/rdkafka.h>

#include <cstring>

namespace kafka {

using namespace std::chrono;

namespace {
constexpr int kPollMs = 100;
constexpr milliseconds kReplaceRetry{1000};

std::string err_text(rd_kafka_resp_err_t e) {
  return std::string(rd_kafka_err2name(e)) + ": " + rd_kafka_err2str(e);
}
}  // namespace

struct Producer::Instance {
  rd_kafka_t* rk = nullptr;
  rd_kafka_topic_t* rkt[kTopicCount] = {};
  ~Instance() {
    for (auto*& t : rkt)
      if (t) rd_kafka_topic_destroy(t);
    if (rk) rd_kafka_destroy(rk);
  }
};

Producer::Producer(std::vector<Property> props, Topics topics, LogFn log)
    : props_(std::move(props)), topics_(std::move(topics)), log_(std::move(log)) {
  for (auto& p : props_)
    if (p.key == "bootstrap.servers") bootstrap_ = p.value;
}

Producer::~Producer() { stop(milliseconds(0)); }

std::shared_ptr<Producer::Instance> Producer::create_instance(std::string* error) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (auto& p : props_) {
    errstr[0] = '\0';
    if (rd_kafka_conf_set(conf, p.key.c_str(), p.value.c_str(), errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      *error = "librdkafka property '" + p.key + "' (" + p.origin + "): " + errstr;
      return nullptr;
    }
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &Producer::on_delivery);
  rd_kafka_conf_set_error_cb(conf, &Producer::on_error);
  rd_kafka_conf_set_log_cb(conf, &Producer::on_log);
  auto inst = std::make_shared<Instance>();
  errstr[0] = '\0';
  inst->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!inst->rk) {  // the conf is still ours on failure
    rd_kafka_conf_destroy(conf);
    *error = std::string("librdkafka refused the producer configuration: ") + errstr;
    return nullptr;
  }
  for (int t = 0; t < kTopicCount; ++t) {
    if (topics_[t].empty()) continue;
    inst->rkt[t] = rd_kafka_topic_new(inst->rk, topics_[t].c_str(), nullptr);
    if (!inst->rkt[t]) {
      *error = "topic '" + topics_[t] + "': " + err_text(rd_kafka_last_error());
      return nullptr;
    }
  }
  return inst;
}

std::string Producer::start(milliseconds check_timeout) {
  if (running_) return "already started";
  std::string error;
  auto inst = create_instance(&error);
  if (!inst) return error;
  std::atomic_store(&inst_, inst);
  stopping_ = false;
  running_ = true;
  poller_ = std::thread([this] { run(); });
  error = check_cluster(*inst, check_timeout);
  inst.reset();
  if (!error.empty()) stop(milliseconds(0));
  return error;
}

std::string Producer::check_cluster(Instance& inst, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  for (int t = 0; t < kTopicCount; ++t) {
    if (!inst.rkt[t]) continue;
    const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
    const struct rd_kafka_metadata* md = nullptr;
    rd_kafka_resp_err_t e =
        rd_kafka_metadata(inst.rk, 0, inst.rkt[t], &md, static_cast<int>(std::max<int64_t>(left.count(), 1)));
    if (e) {
      std::string why = "no answer from the Kafka cluster at " + bootstrap_ + " within " +
                        std::to_string(timeout.count()) + " ms (" + err_text(e) + ")";
      if (std::string last = last_error(); !last.empty()) why += "; last error: " + last;
      return why;
    }
    rd_kafka_resp_err_t terr = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    for (int i = 0; i < md->topic_cnt; ++i)
      if (topics_[t] == md->topics[i].topic) terr = md->topics[i].err;
    rd_kafka_metadata_destroy(md);
    // LEADER_NOT_AVAILABLE: a topic just created (auto-creation), usable in a moment.
    if (terr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
      return "topic '" + topics_[t] + "' does not exist on the Kafka cluster at " + bootstrap_ +
             " (create it, or let the cluster create topics)";
    if (terr && terr != RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
      return "topic '" + topics_[t] + "' on the Kafka cluster at " + bootstrap_ + ": " + err_text(terr);
  }
  return {};
}

bool Producer::produce(const Record& r, std::string_view vhost, int64_t timestamp_ms) {
  std::shared_ptr<Instance> inst = std::atomic_load(&inst_);
  rd_kafka_resp_err_t e = RD_KAFKA_RESP_ERR__STATE;
  if (inst && inst->rkt[r.topic]) {
    e = rd_kafka_producev(
        inst->rk, RD_KAFKA_V_RKT(inst->rkt[r.topic]), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
        RD_KAFKA_V_HEADER("event_type", r.event_type.data(), static_cast<ssize_t>(r.event_type.size())),
        RD_KAFKA_V_HEADER("host", vhost.data(), static_cast<ssize_t>(vhost.size())),
        RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_END);
  }
  if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
    stats_.produced.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL || e == RD_KAFKA_RESP_ERR__FATAL || e == RD_KAFKA_RESP_ERR__STATE) {
    stats_.dropped.fetch_add(1, std::memory_order_relaxed);
    log_limited(Level::warning, "produce:" + std::to_string(e),
                e == RD_KAFKA_RESP_ERR__QUEUE_FULL
                    ? "the producer queue is full (queue.buffering.max.messages): events dropped"
                    : "the producer is being replaced after a fatal error: events dropped");
  } else {
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    log_limited(Level::warning, "produce:" + std::to_string(e),
                "cannot produce to topic '" + topics_[r.topic] + "': " + err_text(e));
  }
  return false;
}

void Producer::run() {
  auto next_replace = steady_clock::now();
  while (!stopping_.load()) {
    std::shared_ptr<Instance> inst = std::atomic_load(&inst_);
    rd_kafka_poll(inst->rk, kPollMs);  // delivery reports and errors -> the callbacks below
    if (fatal_.load() && !stopping_.load() && steady_clock::now() >= next_replace) {
      replace(inst);
      if (fatal_.load()) next_replace = steady_clock::now() + kReplaceRetry;
    }
  }
}

void Producer::replace(std::shared_ptr<Instance>& old) {
  std::string error;
  auto fresh = create_instance(&error);
  if (!fresh) {
    log_limited(Level::error, "replace", "cannot create a new Kafka producer: " + error + "; retrying");
    return;
  }
  fatal_ = false;
  std::atomic_store(&inst_, fresh);
  stats_.restarts.fetch_add(1, std::memory_order_relaxed);
  // What the old producer still holds cannot be sent with its guarantees any more: fail it
  // (the delivery reports count it), then destroy it once no hook thread is inside produce().
  rd_kafka_purge(old->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(old->rk, 1000);
  while (old.use_count() > 1) std::this_thread::sleep_for(milliseconds(1));
  old.reset();
  log_(Level::info, "a new Kafka producer replaced the failed one");
}

void Producer::stop(milliseconds flush_timeout) {
  if (!running_) return;
  running_ = false;
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
  std::shared_ptr<Instance> inst = std::atomic_load(&inst_);
  std::atomic_store(&inst_, std::shared_ptr<Instance>());
  if (!inst) return;
  // Delivers what is queued (serving the delivery reports) for at most flush_timeout.
  rd_kafka_flush(inst->rk, static_cast<int>(flush_timeout.count()));
  const int left = rd_kafka_outq_len(inst->rk);
  if (left > 0) {
    const uint64_t failed_before = stats_.failed.load();
    rd_kafka_purge(inst->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(inst->rk, 1000);  // the purged records' delivery reports
    log_(Level::warning, std::to_string(stats_.failed.load() - failed_before) +
                             " event(s) not delivered within the flush timeout (" +
                             std::to_string(flush_timeout.count()) + " ms) at stop, counted as failed");
  }
  inst.reset();  // rd_kafka_destroy
}

size_t Producer::queued() const {
  // Records accepted and not yet reported on (rd_kafka_outq_len() would also count pending
  // error events and other internal ops).
  const uint64_t produced = stats_.produced.load(), reported = reported_.load();
  return produced > reported ? static_cast<size_t>(produced - reported) : 0;
}

std::string Producer::last_error() const {
  std::lock_guard<std::mutex> lk(err_mu_);
  return last_error_;
}

void Producer::log_limited(Level level, const std::string& key, const std::string& msg) {
  std::string line = limiter_.filter(key, msg);
  if (!line.empty()) log_(level, line);
}

void Producer::on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  self->reported_.fetch_add(1, std::memory_order_relaxed);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->stats_.delivered.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  self->stats_.failed.fetch_add(1, std::memory_order_relaxed);
  if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
    return;  // stop() and replace() report these in one line
  self->log_limited(Level::warning, "delivery:" + std::to_string(m->err),
                    std::string("delivery to topic '") + rd_kafka_topic_name(m->rkt) + "' [" +
                        std::to_string(m->partition) + "] failed: " + err_text(m->err));
}

void Producer::on_error(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  self->stats_.errors.fetch_add(1, std::memory_order_relaxed);
  std::string text = std::string(rd_kafka_err2name(code)) + ": " + (reason ? reason : "");
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512] = "";
    rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, buf, sizeof(buf));
    text = std::string("fatal producer error ") + rd_kafka_err2name(orig) + ": " + buf;
    std::shared_ptr<Instance> cur = std::atomic_load(&self->inst_);
    if (cur && cur->rk == rk && !self->fatal_.exchange(true))
      self->log_(Level::error, text + "; replacing the producer (what it still holds is counted as failed)");
  } else {
    self->log_limited(Level::warning, "error:" + std::to_string(err), "Kafka client error " + text);
  }
  std::lock_guard<std::mutex> lk(self->err_mu_);
  self->last_error_ = std::move(text);
}

void Producer::on_log(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  auto* self = static_cast<Producer*>(rd_kafka_opaque(rk));
  if (!self) return;
  // syslog levels: 0..3 errors, 4 warning, 5..6 notice/info, 7 debug.
  const Level lvl = level <= 4 ? Level::warning : level <= 6 ? Level::info : Level::debug;
  std::string msg = std::string("librdkafka ") + (fac ? fac : "") + ": " + (buf ? buf : "");
  if (lvl == Level::debug)
    self->log_(lvl, msg);
  else
    self->log_limited(lvl, std::string("log:") + (fac ? fac : ""), msg);
}

}  // namespace kafka
