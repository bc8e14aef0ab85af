#include "http_poster.hpp"

#include <curl/curl.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace mpush {

namespace {

constexpr size_t kMaxResponseKept = 2048;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One request on the wire.
struct Transfer {
  Request req;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string response;
  char error[CURL_ERROR_SIZE] = {0};
  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
    if (headers) curl_slist_free_all(headers);
  }
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->response.size() < kMaxResponseKept)
    t->response.append(data, std::min(len, kMaxResponseKept - t->response.size()));
  return len;
}

void finish(Transfer& t, long status, const std::string& error) {
  if (!t.req.done) return;
  auto done = std::move(t.req.done);
  try {
    done(status, error, t.response);
  } catch (...) {
    // The callback belongs to the module, which guards its own code; nothing may escape here.
  }
}

}  // namespace

HttpPoster::HttpPoster(Pool pool, size_t concurrency)
    : pool_(std::move(pool)), concurrency_(concurrency ? concurrency : 1), queue_(pool_.max_queue_len) {}

HttpPoster::~HttpPoster() {
  stop();
  if (multi_) curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void HttpPoster::start() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) throw std::runtime_error("libcurl cannot be initialised");
  CURLM* m = curl_multi_init();
  if (!m) throw std::runtime_error("libcurl: curl_multi_init failed");
  multi_ = m;
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(concurrency_));
  curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(concurrency_));
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, static_cast<long>(concurrency_));
  thread_ = std::thread([this] { run(); });
}

bool HttpPoster::submit(Request r) {
  if (stopping_.load() || !multi_) {
    stats_.dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (!queue_.try_push(std::move(r))) {
    stats_.dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  curl_multi_wakeup(static_cast<CURLM*>(multi_));
  return true;
}

void HttpPoster::stop(std::chrono::milliseconds grace) {
  if (stopping_.exchange(true)) {
    if (thread_.joinable()) thread_.join();
    return;
  }
  deadline_ms_ = steady_ms() + grace.count();
  queue_.close();
  if (multi_) curl_multi_wakeup(static_cast<CURLM*>(multi_));
  if (thread_.joinable()) thread_.join();
}

void HttpPoster::run() {
  CURLM* m = static_cast<CURLM*>(multi_);
  std::vector<std::unique_ptr<Transfer>> active;
  auto add = [&](Request r) {
    auto t = std::make_unique<Transfer>();
    t->req = std::move(r);
    t->easy = curl_easy_init();
    stats_.requests.fetch_add(1, std::memory_order_relaxed);
    if (!t->easy) {
      stats_.failed.fetch_add(1, std::memory_order_relaxed);
      finish(*t, 0, "libcurl: curl_easy_init failed");
      return;
    }
    CURL* e = t->easy;
    t->headers = curl_slist_append(t->headers, "content-type: application/json");
    t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip
    curl_easy_setopt(e, CURLOPT_URL, t->req.url.c_str());
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->req.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(t->req.body.size()));
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(pool_.request_timeout_ms));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(pool_.request_timeout_ms));
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
    if (pool_.tls.enabled) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, pool_.tls.verify_peer ? 1L : 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, pool_.tls.verify_peer ? 2L : 0L);
      if (!pool_.tls.cacertfile.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, pool_.tls.cacertfile.c_str());
      if (!pool_.tls.certfile.empty()) curl_easy_setopt(e, CURLOPT_SSLCERT, pool_.tls.certfile.c_str());
      if (!pool_.tls.keyfile.empty()) curl_easy_setopt(e, CURLOPT_SSLKEY, pool_.tls.keyfile.c_str());
    }
    if (curl_multi_add_handle(m, e) != CURLM_OK) {
      stats_.failed.fetch_add(1, std::memory_order_relaxed);
      finish(*t, 0, "libcurl: curl_multi_add_handle failed");
      return;
    }
    stats_.in_flight.fetch_add(1, std::memory_order_relaxed);
    active.push_back(std::move(t));
  };
  auto complete = [&](CURL* e, CURLcode code) {
    for (auto it = active.begin(); it != active.end(); ++it) {
      if ((*it)->easy != e) continue;
      std::unique_ptr<Transfer> t = std::move(*it);
      active.erase(it);
      curl_multi_remove_handle(m, e);
      stats_.in_flight.fetch_sub(1, std::memory_order_relaxed);
      if (code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
        stats_.responses.fetch_add(1, std::memory_order_relaxed);
        finish(*t, status, std::string());
      } else {
        stats_.failed.fetch_add(1, std::memory_order_relaxed);
        finish(*t, 0, t->error[0] ? std::string(t->error) : std::string(curl_easy_strerror(code)));
      }
      return;
    }
  };

  for (;;) {
    while (active.size() < concurrency_) {
      auto r = queue_.pop(std::chrono::milliseconds(0));
      if (!r) break;
      add(std::move(*r));
    }
    if (active.empty() && queue_.closed() && queue_.size() == 0) break;
    if (stopping_.load() && steady_ms() >= deadline_ms_.load()) break;
    int running = 0;
    curl_multi_perform(m, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &left))
      if (msg->msg == CURLMSG_DONE) complete(msg->easy_handle, msg->data.result);
    if (!active.empty() && active.size() >= concurrency_) {
      curl_multi_poll(m, nullptr, 0, 100, nullptr);
    } else if (active.empty() && queue_.size() == 0) {
      curl_multi_poll(m, nullptr, 0, 500, nullptr);  // woken by submit() / stop()
    } else if (!active.empty()) {
      curl_multi_poll(m, nullptr, 0, 100, nullptr);
    }
  }
  // Past the grace period: whatever is left fails.
  for (auto& t : active) {
    curl_multi_remove_handle(m, t->easy);
    stats_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    finish(*t, 0, "the server is shutting down");
  }
  active.clear();
  while (auto r = queue_.pop(std::chrono::milliseconds(0))) {
    Transfer t;
    t.req = std::move(*r);
    stats_.failed.fetch_add(1, std::memory_order_relaxed);
    finish(t, 0, "the server is shutting down");
  }
}

}  // namespace mpush
