#include "transport.hpp"

#include <algorithm>
#include <stdexcept>

namespace sns {

namespace {

constexpr size_t kMaxBody = 1024;

size_t keep_start(char* data, size_t size, size_t n, void* user) {
  auto* body = static_cast<std::string*>(user);
  const size_t len = size * n;
  if (body->size() < kMaxBody) body->append(data, std::min(len, kMaxBody - body->size()));
  return len;
}

int check_abort(void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(p)->load(std::memory_order_relaxed) ? 1 : 0;
}

struct Slist {
  curl_slist* l = nullptr;
  ~Slist() { curl_slist_free_all(l); }
  bool add(const std::string& s) {
    curl_slist* n = curl_slist_append(l, s.c_str());
    if (!n) return false;
    l = n;
    return true;
  }
};

}  // namespace

CurlTransport::CurlTransport() {
  h_ = curl_easy_init();
  if (!h_) throw std::runtime_error("curl_easy_init failed");
  const bool ok = curl_easy_setopt(h_, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&  // worker threads: no SIGALRM
                  curl_easy_setopt(h_, CURLOPT_PROXY, "") == CURLE_OK &&    // ignore http_proxy & co.
                  curl_easy_setopt(h_, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK &&
                  curl_easy_setopt(h_, CURLOPT_WRITEFUNCTION, &keep_start) == CURLE_OK &&
                  curl_easy_setopt(h_, CURLOPT_NOPROGRESS, 0L) == CURLE_OK &&
                  curl_easy_setopt(h_, CURLOPT_XFERINFOFUNCTION, &check_abort) == CURLE_OK;
  if (!ok) {
    curl_easy_cleanup(h_);
    throw std::runtime_error("libcurl refused an option (is it built with http, https and OpenSSL?)");
  }
}

CurlTransport::~CurlTransport() { curl_easy_cleanup(h_); }

PostResult CurlTransport::post(const HttpRequest& r, long timeout_ms, const std::atomic<bool>& abort) {
  PostResult res;
  Slist headers;
  // No "Accept: */*" nor "Expect: 100-continue" from curl: only the signed headers (curl adds
  // Content-Length, which is not signed).
  bool ok = headers.add("Accept:") && headers.add("Expect:");
  for (const auto& h : r.headers) ok = ok && headers.add(h);
  if (!ok) {
    res.error = "out of memory building the request headers";
    return res;
  }
  curl_easy_setopt(h_, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(h_, CURLOPT_HTTPHEADER, headers.l);
  curl_easy_setopt(h_, CURLOPT_POST, 1L);
  curl_easy_setopt(h_, CURLOPT_POSTFIELDS, r.body.data());
  curl_easy_setopt(h_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  curl_easy_setopt(h_, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h_, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h_, CURLOPT_WRITEDATA, &res.body);
  curl_easy_setopt(h_, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(&abort));
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(h_);
  curl_easy_setopt(h_, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(h_, CURLOPT_HTTPHEADER, nullptr);  // the list is freed below
  curl_easy_setopt(h_, CURLOPT_WRITEDATA, nullptr);
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

}  // namespace sns
