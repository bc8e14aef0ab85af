// SASL PLAIN (RFC 4616) message parsing, plus the strict UTF-8 helpers the SASL code shares.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aviary::sasl {

struct PlainCreds {
  std::string authzid, authcid, password;
};

// Upper bound, in bytes, for each of the three parts of a PLAIN message (RFC 4616 §2).
constexpr size_t kPlainMaxPart = 255;

// `decoded_message` is the already base64-decoded response:
//   [authzid] NUL authcid NUL passwd
// Exactly two NULs; authcid and passwd non-empty; every part valid UTF-8 and at most
// kPlainMaxPart bytes. No normalization is applied here (the caller prepares the
// authcid as a JID localpart; verify_password() SASLpreps the password). → nullopt if bad.
std::optional<PlainCreds> parse_plain(std::string_view decoded_message);

// Decodes one UTF-8 sequence starting at s[i] and advances i past it. Strict: rejects
// truncated sequences, overlong forms, surrogates (U+D800–U+DFFF) and values above
// U+10FFFF. Returns the code point, or -1 on error (i is then unspecified).
int32_t next_utf8_codepoint(std::string_view s, size_t& i);

bool is_valid_utf8(std::string_view s);

}  // namespace aviary::sasl
