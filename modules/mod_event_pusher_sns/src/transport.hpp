// HTTP POST for the workers of mod_event_pusher_sns: an interface (so the publisher can be
// tested with a fake) and its libcurl implementation, one CURL easy handle per worker thread
// (libcurl keeps that handle's connection to SNS alive between requests).
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <string>

#include "sns_config.hpp"

namespace sns {

struct PostResult {
  bool delivered = false;  // a complete HTTP response arrived
  long status = 0;         // its status code
  std::string body;        // its body, at most 1 KiB (SNS explains errors there)
  std::string error;       // why there was no response (refused, timeout, TLS...)
  bool ok() const { return delivered && status >= 200 && status < 300; }
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Blocks for at most timeout_ms; returns early (not delivered) once `abort` is true.
  virtual PostResult post(const HttpRequest& r, long timeout_ms, const std::atomic<bool>& abort) = 0;
};

// libcurl, verifying the server's certificate against the system CAs. Needs
// curl_global_init() to have run (the module does it in start).
class CurlTransport final : public Transport {
 public:
  CurlTransport();  // throws std::runtime_error when libcurl fails
  ~CurlTransport() override;
  CurlTransport(const CurlTransport&) = delete;
  CurlTransport& operator=(const CurlTransport&) = delete;
  PostResult post(const HttpRequest& r, long timeout_ms, const std::atomic<bool>& abort) override;

 private:
  CURL* h_ = nullptr;
};

}  // namespace sns
