// HTTP POST for the workers of mod_event_pusher_http: an interface (so the worker pool can be
// tested with a fake) and its libcurl implementation, one CURL easy handle per worker thread
// (libcurl keeps that handle's connections alive between requests).
#pragma once

#include "http_config.hpp"

#include <curl/curl.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace ephttp {

struct PostRequest {
  std::string url;
  std::vector<std::string> headers;  // "name: value"
  std::string body;
};

struct PostResult {
  bool delivered = false;  // a complete HTTP response arrived (whatever its status)
  long status = 0;         // its status code when delivered
  std::string error;       // why not, otherwise (connection refused, timeout, TLS...)
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Blocks for at most timeout_ms; returns early (not delivered) once `abort` is true.
  virtual PostResult post(const PostRequest& r, long timeout_ms, const std::atomic<bool>& abort) = 0;
};

// libcurl. Needs curl_global_init() to have run (the module does it in start).
class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(const Tls& tls);  // throws std::runtime_error when libcurl fails
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;
  PostResult post(const PostRequest& r, long timeout_ms, const std::atomic<bool>& abort) override;

 private:
  CURL* h_ = nullptr;
};

}  // namespace ephttp
