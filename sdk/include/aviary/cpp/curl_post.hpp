// Aviary C++ layer: a blocking HTTP POST client for a module's worker threads, one libcurl
// easy handle per CurlPost object (libcurl keeps that handle's connections alive between
// requests), behind an interface (PostTransport) that unit tests replace with a fake.
// Needs libcurl (Debian: libcurl4-openssl-dev; link the module with `curl`). Header-only.
//
// Every request: no signals (worker threads), no proxy from the environment, http and https
// only, no "Accept: */*" nor "Expect: 100-continue" added by curl (only the caller's headers,
// plus Host and Content-Length), one timeout bounding connect and transfer, and an abort flag
// that ends a request in flight (error "aborted at shutdown"). Any complete HTTP response is
// `delivered`, whatever its status; the start of its body is kept when asked for.
//
// curl_global_init must have run before a CurlPost is made: hold a CurlGlobal in the module,
// made in its start on the main thread, before any worker exists.
#pragma once

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace av {

// TLS of https:// requests. enabled = false: libcurl's defaults (peer and host name verified
// against the system CAs, no client certificate).
struct CurlTls {
  bool enabled = false;
  bool verify_peer = true;  // false: neither the certificate nor the host name is checked
  std::string cacertfile, certfile, keyfile;  // "" = not set
};

struct CurlPostOptions {
  CurlTls tls;
  size_t keep_body = 0;  // bytes of the response body kept in PostResult::body (0 = discarded)
};

struct PostRequest {
  std::string url;
  std::vector<std::string> headers;  // "name: value"
  std::string body;
};

struct PostResult {
  bool delivered = false;  // a complete HTTP response arrived (whatever its status)
  long status = 0;         // its status code when delivered
  std::string body;        // the start of its body (CurlPostOptions::keep_body bytes at most)
  std::string error;       // why there was no response otherwise (refused, timeout, TLS...)
  bool ok() const { return delivered && status >= 200 && status < 300; }
};

class PostTransport {
 public:
  virtual ~PostTransport() = default;
  // Blocks for at most timeout_ms; returns early (not delivered) once `abort` is true.
  virtual PostResult post(const PostRequest& r, long timeout_ms, const std::atomic<bool>& abort) = 0;
};

class CurlPost final : public PostTransport {
 public:
  // Throws std::runtime_error when libcurl fails or refuses an option.
  explicit CurlPost(const CurlPostOptions& opts = CurlPostOptions()) : keep_body_(opts.keep_body) {
    h_ = curl_easy_init();
    if (!h_) throw std::runtime_error("curl_easy_init failed");
    bool ok = curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&  // worker threads: no SIGALRM
              curl_easy_setopt(h_, CURLOPT_PROXY, "") == CURLE_OK &&    // ignore http_proxy & co.
              curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
              curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, &CurlPost::keep_start) == CURLE_OK &&
              curl_easy_setopt(h_, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
              curl_easy_setopt(h_, CURLOPT_XFERINFOFUNCTION, &CurlPost::check_abort) == CURLE_OK;
    const CurlTls& tls = opts.tls;
    if (ok && tls.enabled) {
      ok = curl_easy_setopt(h_, CURLOPT_SSL_VERIFYPEER, tls.verify_peer ? 1L : 0L) == CURLE_OK &&
           curl_easy_setopt(h_, CURLOPT_SSL_VERIFYHOST, tls.verify_peer ? 2L : 0L) == CURLE_OK;
      if (ok && !tls.cacertfile.empty()) ok = curl_easy_setopt(h_, CURLOPT_CAINFO, tls.cacertfile.c_str()) == CURLE_OK;
      if (ok && !tls.certfile.empty()) ok = curl_easy_setopt(h_, CURLOPT_SSLCERT, tls.certfile.c_str()) == CURLE_OK;
      if (ok && !tls.keyfile.empty()) ok = curl_easy_setopt(h_, CURLOPT_SSLKEY, tls.keyfile.c_str()) == CURLE_OK;
    }
    if (!ok) {
      curl_easy_cleanup(h_);
      throw std::runtime_error("libcurl refused an option (is it built with http, https and OpenSSL?)");
    }
  }
  ~CurlPost() override { curl_easy_cleanup(h_); }
  CurlPost(const CurlPost&) = delete;
  CurlPost& operator=(const CurlPost&) = delete;

  PostResult post(const PostRequest& r, long timeout_ms, const std::atomic<bool>& abort) override {
    PostResult res;
    Slist headers;
    bool ok = headers.add("Accept:") && headers.add("Expect:");
    for (const auto& h : r.headers) ok = ok && headers.add(h);
    if (!ok) {
      res.error = "out of memory building the request headers";
      return res;
    }
    Sink sink{&res.body, keep_body_};
    curl_easy_setopt(h_, CURLOPT_URL, r.url.c_str());
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers.l);
    curl_easy_setopt(h_, CURLOPT_POST, 1L);
    curl_easy_setopt(h_, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h_, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(&abort));
    char errbuf[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, errbuf);
    const CURLcode rc = curl_easy_perform(h_);
    // Nothing of this call stays referenced by the handle.
    curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(h_, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(h_, CURLOPT_WRITEDATA, nullptr);
    curl_easy_setopt(h_, CURLOPT_XFERINFODATA, nullptr);
    if (rc == CURLE_OK) {
      res.delivered = true;
      curl_easy_getinfo(h_, CURLINFO_RESPONSE_CODE, &res.status);
    } else if (rc == CURLE_ABORTED_BY_CALLBACK) {
      res.error = "aborted at shutdown";
    } else {
      res.error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    }
    return res;
  }

 private:
  struct Sink {
    std::string* body;
    size_t max;
  };
  struct Slist {
    curl_slist* l = nullptr;
    Slist() = default;
    Slist(const Slist&) = delete;
    Slist& operator=(const Slist&) = delete;
    ~Slist() { curl_slist_free_all(l); }
    bool add(const std::string& s) {
      curl_slist* n = curl_slist_append(l, s.c_str());
      if (!n) return false;
      l = n;
      return true;
    }
  };

  static size_t keep_start(char* data, size_t size, size_t n, void* user) {
    auto* sink = static_cast<Sink*>(user);
    const size_t len = size * n;
    if (sink && sink->body->size() < sink->max)
      sink->body->append(data, std::min(len, sink->max - sink->body->size()));
    return len;
  }
  static int check_abort(void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return p && static_cast<const std::atomic<bool>*>(p)->load(std::memory_order_relaxed) ? 1 : 0;
  }

  CURL* h_ = nullptr;
  size_t keep_body_;
};

// curl_global_init / curl_global_cleanup. curl_global_init is not thread-safe in every libcurl
// build: make this on the main thread (a module's start) before any worker exists. It is
// reference counted, so several modules holding one in the same process is fine.
struct CurlGlobal {
  bool ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  CurlGlobal() = default;
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
  ~CurlGlobal() {
    if (ok) curl_global_cleanup();
  }
};

}  // namespace av
