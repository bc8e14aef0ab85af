// AWS Signature Version 4 (header-based, AWS4-HMAC-SHA256) for mod_event_pusher_sns.
//
// Everything here except amz_date_now() is a pure function of its arguments: no I/O, no clock,
// no globals. Hashing uses OpenSSL's libcrypto. Follows
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html and is checked
// against AWS's published aws-sig-v4-test-suite (tests/test_sigv4.cpp).
#pragma once

#include <ctime>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sns {

// RFC 3986 percent-encoding as SigV4 wants it: the unreserved characters A-Z a-z 0-9 - . _ ~
// are kept, every other byte becomes %XX with uppercase hex. '/' is kept unless encode_slash.
// Space is "%20", never '+'.
std::string uri_encode(std::string_view s, bool encode_slash);

struct Request {
  std::string method;  // "GET", "POST", ... used as given
  std::string host;    // used as the "host" header when `headers` has none (include ":port" if
                       // not the default, exactly as the HTTP client will send it)
  std::string path;    // as it appears on the request line, e.g. "/" (see canonical_uri)
  std::string query;   // without '?'; raw or already canonical (see canonical_query)
  std::vector<std::pair<std::string, std::string>> headers;  // all are signed, except Authorization
  std::string body;
};

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  // Optional (temporary credentials). When set, the request must carry it as a signed
  // x-amz-security-token header: sign_in_place() adds it, sign() insists on it.
  std::string session_token;
};

struct Signed {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lowercase hex
  std::string authorization;  // value of the Authorization header
};

// Signs `req` as given. amz_date is "YYYYMMDDTHHMMSSZ" (UTC); its first 8 characters are the
// credential-scope date. Throws std::invalid_argument when the request cannot verify: malformed
// amz_date, an x-amz-date header different from amz_date, neither a host header nor req.host, or
// a session token in `creds` that the request's x-amz-security-token header does not carry.
Signed sign(const Request& req, const Credentials& creds, std::string_view region,
            std::string_view service, std::string_view amz_date);

// Makes `req` ready to send: sets x-amz-date (and x-amz-security-token when creds has a session
// token), replacing earlier values and any Authorization header, signs it and appends the
// Authorization header. Returns what sign() returned.
Signed sign_in_place(Request& req, const Credentials& creds, std::string_view region,
                     std::string_view service, std::string_view amz_date);

// "YYYYMMDDTHHMMSSZ" for a UTC time; amz_date_now() reads the clock (the only impure function).
std::string format_amz_date(std::time_t t);
std::string amz_date_now();

// Building blocks, exposed for tests and for callers that need them.
std::string hex(std::string_view bytes);                            // lowercase
std::string sha256_hex(std::string_view data);                      // hex SHA-256
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw 32 bytes
// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request"), raw.
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);
// Canonical URI for every service but S3: "." and ".." segments resolved, empty segments
// dropped (a trailing '/' kept), then each segment uri_encode'd once. Since `path` is the wire
// form (itself encoded once), this is AWS's "encode twice" rule for raw names.
std::string canonical_uri(std::string_view path);
// Canonical query string: each name and value percent-decoded then uri_encode'd (so raw and
// canonical input give the same result; '+' is a literal plus, not a space), a missing '=' means
// an empty value, pairs sorted by encoded name then encoded value.
std::string canonical_query(std::string_view query);

}  // namespace sns
