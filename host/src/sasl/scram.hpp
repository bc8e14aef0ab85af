// SCRAM-SHA-1 / SCRAM-SHA-256 (RFC 5802, RFC 7677), server side, without channel binding
// (no -PLUS mechanisms are offered), plus the credential helpers the auth code uses:
// deriving and verifying stored keys, and MongooseIM's "==MULTI_SCRAM==" text form.
//
// Functions that need the CSPRNG or OpenSSL throw std::runtime_error if OpenSSL fails
// (practically never); argument errors are reported as noted per function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aviary::sasl {

enum class Hash { sha1, sha256 };

const char* mechanism_name(Hash);  // "SCRAM-SHA-1", "SCRAM-SHA-256"
size_t digest_size(Hash);          // 20, 32

// Iteration count used for made-up credentials of unknown users (matches the default of
// auth.password.scram_iterations, so fake and real server-first messages look alike).
constexpr uint32_t kDefaultScramIterations = 10000;

// Stored SCRAM credentials for one hash. All fields are raw bytes (not base64).
struct ScramCreds {
  Hash hash;
  std::string salt;
  uint32_t iterations = 0;
  std::string stored_key, server_key;
};

// ---------------------------------------------------------------- primitives

std::string random_bytes(size_t n);  // CSPRNG (RAND_bytes)
std::string hash_digest(Hash h, std::string_view data);                    // H()
std::string hmac(Hash h, std::string_view key, std::string_view data);     // HMAC()
// Hi() = PBKDF2-HMAC. `password` is used as given (no normalization).
// Throws std::invalid_argument if iterations is 0 or above INT_MAX.
std::string salted_password(Hash h, std::string_view password, std::string_view salt, uint32_t iterations);

// ---------------------------------------------------------------- credentials

// SaltedPassword = Hi(Normalize(password), salt, i); StoredKey = H(HMAC(SP, "Client Key"));
// ServerKey = HMAC(SP, "Server Key"). Normalize = saslprep(); a password SASLprep rejects
// (control characters, invalid UTF-8, empty...) is used as raw bytes instead, the same way in
// verify_password(), so PLAIN and SCRAM stay consistent for such passwords.
// Throws std::invalid_argument if iterations is 0 or above INT_MAX.
ScramCreds make_scram_creds(Hash h, std::string_view password, std::string_view salt, uint32_t iterations);

// Recomputes StoredKey from `password` and compares in constant time. False (never throws
// for bad input) if `c` is unusable (wrong key length, zero iterations...).
bool verify_password(const ScramCreds& c, std::string_view password);

// MongooseIM's multi-SCRAM form (users.pass_details):
//   ==MULTI_SCRAM==,<iterations>,===SHA1===<salt>|<stored>|<server>,==SHA256==<salt>|<stored>|<server>
// salt/stored/server base64; the SHA1 marker has three '=' each side, the others two.
// serialize_creds writes the sections in the order given. Throws std::invalid_argument if
// `creds` is empty, the iteration counts differ, or a hash appears twice.
std::string serialize_creds(const std::vector<ScramCreds>& creds);

// Parses the multi-SCRAM form (SHA1 and SHA256 sections; other "==NAME==" sections such as
// SHA224/384/512 are skipped) and also MongooseIM's legacy SHA-1-only form
//   ==SCRAM==,<stored>,<server>,<salt>,<iterations>
// nullopt if malformed (bad base64, wrong key length, empty salt, bad iteration count,
// duplicate section...) or if it holds no SHA1/SHA256 credentials at all.
std::optional<std::vector<ScramCreds>> parse_creds(std::string_view text);

// SASLprep (RFC 4013), reduced: non-ASCII spaces (C.1.2) → U+0020; "commonly mapped to
// nothing" (B.1) removed (U+200B, in both lists, is removed, as libidn does); prohibited
// output (C.2–C.9: control characters, private use, non-characters, surrogates, display
// and tagging characters) and invalid UTF-8 rejected. NOT implemented: NFKC normalization
// (non-ASCII text passes through unnormalized), the bidi rules, and the unassigned code
// point check. On failure (or an empty result) *ok = false and "" is returned; ok may be null.
std::string saslprep(std::string_view s, bool* ok);

// ---------------------------------------------------------------- server exchange

// One SCRAM exchange, server side. Call client_first, then (after looking up the user's
// credentials) server_first, then client_final; any other order fails.
class ScramServer {
 public:
  // `fake_iterations` is announced for unknown users; pass the configured iteration count.
  explicit ScramServer(Hash h, uint32_t fake_iterations = kDefaultScramIterations);

  struct FirstResult {
    bool ok = false;
    std::string error;     // RFC 5802 server-error-value name when !ok
    std::string username;  // '=2C'/'=3D' decoded, SASLprepped
    std::string authzid;   // '=2C'/'=3D' decoded, empty if absent (not normalized)
    bool malformed = false;  // !ok: true → <malformed-request/>, false → <not-authorized/>
  };
  // `msg` = decoded client-first-message: gs2 header "n,," or "y,," with optional a=authzid,
  // then n=username,r=nonce[,extensions]. "p=..." fails (channel-binding-not-supported),
  // a mandatory extension "m=" fails (extensions-not-supported).
  FirstResult client_first(std::string_view msg);

  // server-first-message "r=<cnonce><snonce>,s=<salt>,i=<iterations>". With nullopt (unknown
  // user), or creds unusable for this hash, a salt derived from the username and a
  // per-process secret plus `fake_iterations` are announced and client_final always fails.
  // Returns "" if client_first did not succeed first.
  std::string server_first(const std::optional<ScramCreds>& creds);

  struct FinalResult {
    bool ok = false;
    std::string server_final;  // "v=<ServerSignature>" on success
    std::string error;         // RFC 5802 server-error-value name when !ok
    bool malformed = false;    // as in FirstResult
  };
  // `msg` = decoded client-final-message: c= must be the base64 of the exact gs2 header,
  // r= the combined nonce, p= the proof (checked in constant time).
  FinalResult client_final(std::string_view msg);

  void set_server_nonce_for_test(std::string nonce);

  Hash hash() const { return hash_; }

 private:
  enum class State { start, got_first, sent_first, done };

  Hash hash_;
  uint32_t fake_iterations_;
  State state_ = State::start;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string client_nonce_;
  std::string server_nonce_;
  std::string username_;
  std::string server_first_;
  ScramCreds creds_;
  bool fake_ = false;
};

}  // namespace aviary::sasl
