#include "sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <map>
#include <stdexcept>

namespace sns {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr char kHexLower[] = "0123456789abcdef";

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes only; a '%' not followed by two hex digits stays a literal '%'.
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t'; }

// Trims and turns each run of spaces/tabs into one space ("a   b" -> "a b"), as SigV4 asks.
std::string normalize_header_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool pending_space = false;
  for (char c : v) {
    if (is_space(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool valid_amz_date(std::string_view d) {
  if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') return false;
  for (size_t i = 0; i < 15; ++i)
    if (i != 8 && (d[i] < '0' || d[i] > '9')) return false;
  return true;
}

void erase_header(Request& req, std::string_view lower_name) {
  auto& h = req.headers;
  h.erase(std::remove_if(h.begin(), h.end(),
                         [&](const auto& kv) { return to_lower(kv.first) == lower_name; }),
          h.end());
}

}  // namespace

std::string uri_encode(std::string_view s, bool encode_slash) {
  std::string out;
  out.reserve(s.size() * 3);
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0x0F]);
    }
  }
  return out;
}

std::string hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    out.push_back(kHexLower[c >> 4]);
    out.push_back(kHexLower[c & 0x0F]);
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("sigv4: SHA-256 failed");
  return hex(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
            reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len))
    throw std::runtime_error("sigv4: HMAC-SHA256 failed");
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  std::string k = "AWS4";
  k.append(secret);
  k = hmac_sha256(k, date);
  k = hmac_sha256(k, region);
  k = hmac_sha256(k, service);
  return hmac_sha256(k, "aws4_request");
}

std::string canonical_uri(std::string_view path) {
  std::vector<std::string_view> segs;
  std::string_view last;  // the last raw segment decides whether a trailing '/' is kept
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view seg = path.substr(pos, slash - pos);
    last = seg;
    if (seg == "..") {
      if (!segs.empty()) segs.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segs.push_back(seg);
    }
    pos = slash + 1;
  }
  std::string out = "/";
  for (size_t i = 0; i < segs.size(); ++i) {
    if (i) out.push_back('/');
    out += uri_encode(segs[i], true);
  }
  // "/a/b/" and "/a/b/.." name a directory (RFC 3986 remove_dot_segments keeps the slash).
  if (!segs.empty() && (last.empty() || last == "." || last == "..")) out.push_back('/');
  return out;
}

std::string canonical_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos <= query.size()) {
    size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view kv = query.substr(pos, amp - pos);
    if (!kv.empty()) {
      size_t eq = kv.find('=');
      std::string_view k = kv.substr(0, eq);
      std::string_view v = eq == std::string_view::npos ? std::string_view() : kv.substr(eq + 1);
      params.emplace_back(uri_encode(percent_decode(k), true), uri_encode(percent_decode(v), true));
    }
    pos = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

Signed sign(const Request& req, const Credentials& creds, std::string_view region,
            std::string_view service, std::string_view amz_date) {
  if (!valid_amz_date(amz_date))
    throw std::invalid_argument("sigv4: amz_date must be YYYYMMDDTHHMMSSZ");

  // Lowercase name -> values in request order; duplicates are joined with ',' (AWS suite
  // get-header-key-duplicate / get-header-value-order). std::map sorts names bytewise.
  std::map<std::string, std::vector<std::string>> headers;
  for (const auto& [name, value] : req.headers) {
    std::string lname = to_lower(name);
    if (lname == "authorization") continue;  // carries the signature, so it cannot be signed
    headers[lname].push_back(normalize_header_value(value));
  }
  if (headers.find("host") == headers.end()) {
    if (req.host.empty()) throw std::invalid_argument("sigv4: no host");
    headers["host"].push_back(normalize_header_value(req.host));
  }
  if (auto it = headers.find("x-amz-date");
      it != headers.end() && (it->second.size() != 1 || it->second[0] != amz_date))
    throw std::invalid_argument("sigv4: x-amz-date header differs from amz_date");
  if (!creds.session_token.empty()) {
    auto it = headers.find("x-amz-security-token");
    if (it == headers.end() || it->second.size() != 1 ||
        it->second[0] != normalize_header_value(creds.session_token))
      throw std::invalid_argument("sigv4: session token not in x-amz-security-token header");
  }

  std::string canonical_headers, signed_headers;
  for (const auto& [name, values] : headers) {
    canonical_headers += name;
    canonical_headers.push_back(':');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i) canonical_headers.push_back(',');
      canonical_headers += values[i];
    }
    canonical_headers.push_back('\n');
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers += name;
  }

  Signed out;
  out.canonical_request = req.method + '\n' + canonical_uri(req.path) + '\n' +
                          canonical_query(req.query) + '\n' + canonical_headers + '\n' +
                          signed_headers + '\n' + sha256_hex(req.body);

  std::string_view date = amz_date.substr(0, 8);
  std::string scope = std::string(date) + '/' + std::string(region) + '/' +
                      std::string(service) + "/aws4_request";
  out.string_to_sign = std::string(kAlgorithm) + '\n' + std::string(amz_date) + '\n' + scope +
                       '\n' + sha256_hex(out.canonical_request);

  out.signature = hex(hmac_sha256(signing_key(creds.secret_access_key, date, region, service),
                                  out.string_to_sign));
  out.authorization = std::string(kAlgorithm) + " Credential=" + creds.access_key_id + '/' +
                      scope + ", SignedHeaders=" + signed_headers +
                      ", Signature=" + out.signature;
  return out;
}

Signed sign_in_place(Request& req, const Credentials& creds, std::string_view region,
                     std::string_view service, std::string_view amz_date) {
  erase_header(req, "authorization");
  erase_header(req, "x-amz-date");
  req.headers.emplace_back("x-amz-date", std::string(amz_date));
  if (!creds.session_token.empty()) {
    erase_header(req, "x-amz-security-token");
    req.headers.emplace_back("x-amz-security-token", creds.session_token);
  }
  Signed s = sign(req, creds, region, service, amz_date);
  req.headers.emplace_back("Authorization", s.authorization);
  return s;
}

std::string format_amz_date(std::time_t t) {
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) throw std::runtime_error("sigv4: gmtime_r failed");
  char buf[32];
  size_t n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

std::string amz_date_now() { return format_amz_date(std::time(nullptr)); }

}  // namespace sns
