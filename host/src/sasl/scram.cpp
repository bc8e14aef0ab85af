#include "sasl/scram.hpp"

#include "sasl/base64.hpp"
#include "sasl/plain.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <climits>
#include <stdexcept>

namespace aviary::sasl {

namespace {

const EVP_MD* md(Hash h) { return h == Hash::sha1 ? EVP_sha1() : EVP_sha256(); }

const unsigned char kEmpty[1] = {0};

// OpenSSL wants non-null pointers even for empty inputs.
const unsigned char* bytes(std::string_view s) {
  return s.empty() ? kEmpty : reinterpret_cast<const unsigned char*>(s.data());
}

void check_iterations(uint32_t iterations) {
  if (iterations == 0 || iterations > static_cast<uint32_t>(INT_MAX))
    throw std::invalid_argument("SCRAM iteration count out of range");
}

std::string xor_bytes(std::string_view a, std::string_view b) {
  std::string out(a.size(), '\0');
  for (size_t i = 0; i < a.size(); ++i) out[i] = static_cast<char>(a[i] ^ b[i]);
  return out;
}

bool ct_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // lengths are public (digest sizes)
  return CRYPTO_memcmp(bytes(a), bytes(b), a.size()) == 0;
}

// SASLprep normalization of a password, or the raw bytes if SASLprep rejects it.
std::string normalize_password(std::string_view password) {
  bool ok = false;
  std::string prepped = saslprep(password, &ok);
  return ok ? prepped : std::string(password);
}

bool usable(const ScramCreds& c, Hash h) {
  return c.hash == h && c.iterations != 0 && c.iterations <= static_cast<uint32_t>(INT_MAX) &&
         !c.salt.empty() && c.stored_key.size() == digest_size(h) && c.server_key.size() == digest_size(h);
}

// Random key used to fabricate credentials for unknown users; fixed for the process
// lifetime so a repeated probe of one username sees the same salt.
const std::string& process_secret() {
  static const std::string secret = random_bytes(32);
  return secret;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Decimal 1..INT_MAX, digits only.
std::optional<uint32_t> parse_iterations(std::string_view s) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v == 0 || v > static_cast<uint64_t>(INT_MAX)) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// attr-val = ALPHA "=" 1*value-char (value-char: any UTF-8 char but NUL and ',', already
// excluded by the caller's checks and split).
bool is_attr_val(std::string_view f) {
  if (f.size() < 3 || f[1] != '=') return false;
  const char a = f[0];
  return (a >= 'a' && a <= 'z') || (a >= 'A' && a <= 'Z');
}

// saslname: 1*(value-safe-char / "=2C" / "=3D"). Escapes are decoded; any other '=' fails.
std::optional<std::string> decode_saslname(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out.push_back(s[i]);
      continue;
    }
    const std::string_view esc = s.substr(i + 1, 2);
    if (esc == "2C")
      out.push_back(',');
    else if (esc == "3D")
      out.push_back('=');
    else
      return std::nullopt;
    i += 2;
  }
  return out;
}

// Printable ASCII except ',' (RFC 5802 "printable"); the caller already split on ','.
bool is_nonce(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7E || c == ',') return false;
  return true;
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// --- SASLprep tables (RFC 3454 appendices, only what RFC 4013 uses)

bool mapped_to_nothing(int32_t c) {  // B.1
  return c == 0x00AD || c == 0x034F || c == 0x1806 || (c >= 0x180B && c <= 0x180D) ||
         (c >= 0x200B && c <= 0x200D) || c == 0x2060 || (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF;
}

bool non_ascii_space(int32_t c) {  // C.1.2
  return c == 0x00A0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200B) || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool prohibited(int32_t c) {
  // C.2.1 ASCII control characters
  if (c <= 0x1F || c == 0x7F) return true;
  // C.2.2 non-ASCII control characters
  if ((c >= 0x80 && c <= 0x9F) || c == 0x06DD || c == 0x070F || c == 0x180E || c == 0x200C || c == 0x200D ||
      c == 0x2028 || c == 0x2029 || (c >= 0x2060 && c <= 0x2063) || (c >= 0x206A && c <= 0x206F) ||
      c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC) || (c >= 0x1D173 && c <= 0x1D17A))
    return true;
  // C.3 private use
  if ((c >= 0xE000 && c <= 0xF8FF) || (c >= 0xF0000 && c <= 0xFFFFD) || (c >= 0x100000 && c <= 0x10FFFD))
    return true;
  // C.4 non-character code points
  if ((c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE) return true;
  // C.5 surrogates (cannot come out of the strict decoder, kept for completeness)
  if (c >= 0xD800 && c <= 0xDFFF) return true;
  // C.6 inappropriate for plain text
  if (c >= 0xFFF9 && c <= 0xFFFD) return true;
  // C.7 inappropriate for canonical representation
  if (c >= 0x2FF0 && c <= 0x2FFB) return true;
  // C.8 change display properties / deprecated
  if (c == 0x0340 || c == 0x0341 || c == 0x200E || c == 0x200F || (c >= 0x202A && c <= 0x202E)) return true;
  // C.9 tagging characters
  if (c == 0xE0001 || (c >= 0xE0020 && c <= 0xE007F)) return true;
  return false;
}

void append_utf8(std::string& out, int32_t c) {
  const auto u = static_cast<uint32_t>(c);
  if (u < 0x80) {
    out.push_back(static_cast<char>(u));
  } else if (u < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (u >> 6)));
    out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else if (u < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (u >> 12)));
    out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (u >> 18)));
    out.push_back(static_cast<char>(0x80 | ((u >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (u & 0x3F)));
  }
}

const char* section_marker(Hash h) { return h == Hash::sha1 ? "===SHA1===" : "==SHA256=="; }

// "<salt>|<stored>|<server>" for hash h.
std::optional<ScramCreds> parse_section(Hash h, std::string_view body, uint32_t iterations) {
  auto parts = split(body, '|');
  if (parts.size() != 3) return std::nullopt;
  auto salt = base64_decode(parts[0]);
  auto stored = base64_decode(parts[1]);
  auto server = base64_decode(parts[2]);
  if (!salt || !stored || !server) return std::nullopt;
  ScramCreds c{h, std::move(*salt), iterations, std::move(*stored), std::move(*server)};
  if (!usable(c, h)) return std::nullopt;
  return c;
}

}  // namespace

// ---------------------------------------------------------------- primitives

const char* mechanism_name(Hash h) { return h == Hash::sha1 ? "SCRAM-SHA-1" : "SCRAM-SHA-256"; }

size_t digest_size(Hash h) { return h == Hash::sha1 ? 20 : 32; }

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (n == 0) return out;
  if (n > static_cast<size_t>(INT_MAX)) throw std::invalid_argument("random_bytes: too many");
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("RAND_bytes failed");
  return out;
}

std::string hash_digest(Hash h, std::string_view data) {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(bytes(data), data.size(), buf, &len, md(h), nullptr) != 1)
    throw std::runtime_error("EVP_Digest failed");
  return std::string(reinterpret_cast<const char*>(buf), len);
}

std::string hmac(Hash h, std::string_view key, std::string_view data) {
  if (key.size() > static_cast<size_t>(INT_MAX)) throw std::invalid_argument("hmac: key too long");
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!HMAC(md(h), bytes(key), static_cast<int>(key.size()), bytes(data), data.size(), buf, &len))
    throw std::runtime_error("HMAC failed");
  return std::string(reinterpret_cast<const char*>(buf), len);
}

std::string salted_password(Hash h, std::string_view password, std::string_view salt, uint32_t iterations) {
  check_iterations(iterations);
  if (password.size() > static_cast<size_t>(INT_MAX) || salt.size() > static_cast<size_t>(INT_MAX))
    throw std::invalid_argument("salted_password: input too long");
  std::string out(digest_size(h), '\0');
  if (PKCS5_PBKDF2_HMAC(reinterpret_cast<const char*>(bytes(password)), static_cast<int>(password.size()),
                        bytes(salt), static_cast<int>(salt.size()), static_cast<int>(iterations), md(h),
                        static_cast<int>(out.size()), reinterpret_cast<unsigned char*>(out.data())) != 1)
    throw std::runtime_error("PKCS5_PBKDF2_HMAC failed");
  return out;
}

// ---------------------------------------------------------------- credentials

ScramCreds make_scram_creds(Hash h, std::string_view password, std::string_view salt, uint32_t iterations) {
  const std::string sp = salted_password(h, normalize_password(password), salt, iterations);
  ScramCreds c;
  c.hash = h;
  c.salt = std::string(salt);
  c.iterations = iterations;
  c.stored_key = hash_digest(h, hmac(h, sp, "Client Key"));
  c.server_key = hmac(h, sp, "Server Key");
  return c;
}

bool verify_password(const ScramCreds& c, std::string_view password) {
  if (c.hash != Hash::sha1 && c.hash != Hash::sha256) return false;
  if (c.iterations == 0 || c.iterations > static_cast<uint32_t>(INT_MAX)) return false;
  if (c.stored_key.size() != digest_size(c.hash)) return false;
  const std::string sp = salted_password(c.hash, normalize_password(password), c.salt, c.iterations);
  return ct_equal(hash_digest(c.hash, hmac(c.hash, sp, "Client Key")), c.stored_key);
}

std::string serialize_creds(const std::vector<ScramCreds>& creds) {
  if (creds.empty()) throw std::invalid_argument("serialize_creds: no credentials");
  const uint32_t it = creds.front().iterations;
  bool seen[2] = {false, false};
  std::string out = "==MULTI_SCRAM==," + std::to_string(it);
  for (const auto& c : creds) {
    if (c.iterations != it) throw std::invalid_argument("serialize_creds: iteration counts differ");
    bool& s = seen[c.hash == Hash::sha1 ? 0 : 1];
    if (s) throw std::invalid_argument("serialize_creds: duplicate hash");
    s = true;
    out += ',';
    out += section_marker(c.hash);
    out += base64_encode(c.salt);
    out += '|';
    out += base64_encode(c.stored_key);
    out += '|';
    out += base64_encode(c.server_key);
  }
  return out;
}

std::optional<std::vector<ScramCreds>> parse_creds(std::string_view text) {
  constexpr std::string_view kMulti = "==MULTI_SCRAM==,";
  constexpr std::string_view kLegacy = "==SCRAM==,";
  std::vector<ScramCreds> out;

  if (starts_with(text, kLegacy)) {
    auto f = split(text.substr(kLegacy.size()), ',');
    if (f.size() != 4) return std::nullopt;
    auto it = parse_iterations(f[3]);
    auto stored = base64_decode(f[0]);
    auto server = base64_decode(f[1]);
    auto salt = base64_decode(f[2]);
    if (!it || !stored || !server || !salt) return std::nullopt;
    ScramCreds c{Hash::sha1, std::move(*salt), *it, std::move(*stored), std::move(*server)};
    if (!usable(c, Hash::sha1)) return std::nullopt;
    out.push_back(std::move(c));
    return out;
  }

  if (!starts_with(text, kMulti)) return std::nullopt;
  auto f = split(text.substr(kMulti.size()), ',');
  if (f.size() < 2) return std::nullopt;
  auto it = parse_iterations(f[0]);
  if (!it) return std::nullopt;
  bool seen[2] = {false, false};
  for (size_t i = 1; i < f.size(); ++i) {
    const std::string_view sec = f[i];
    std::optional<Hash> h;
    if (starts_with(sec, section_marker(Hash::sha1)))
      h = Hash::sha1;
    else if (starts_with(sec, section_marker(Hash::sha256)))
      h = Hash::sha256;
    if (!h) {
      // Another hash (==SHA224==, ==SHA384==, ==SHA512==...): skipped, but it must at least
      // look like a section.
      if (!starts_with(sec, "==") || sec.find("==", 2) == std::string_view::npos) return std::nullopt;
      continue;
    }
    bool& s = seen[*h == Hash::sha1 ? 0 : 1];
    if (s) return std::nullopt;
    s = true;
    auto c = parse_section(*h, sec.substr(std::string_view(section_marker(*h)).size()), *it);
    if (!c) return std::nullopt;
    out.push_back(std::move(*c));
  }
  if (out.empty()) return std::nullopt;
  return out;
}

std::string saslprep(std::string_view s, bool* ok) {
  // No NFKC here: strings are compared as given after mapping (a documented deviation).
  if (ok) *ok = false;
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const int32_t c = next_utf8_codepoint(s, i);
    if (c < 0) return {};  // invalid UTF-8 (including encoded surrogates)
    if (mapped_to_nothing(c)) continue;
    const int32_t m = non_ascii_space(c) ? 0x20 : c;
    if (prohibited(m)) return {};
    append_utf8(out, m);
  }
  if (out.empty()) return {};
  if (ok) *ok = true;
  return out;
}

// ---------------------------------------------------------------- server exchange

ScramServer::ScramServer(Hash h, uint32_t fake_iterations)
    : hash_(h),
      fake_iterations_(fake_iterations == 0 || fake_iterations > static_cast<uint32_t>(INT_MAX)
                           ? kDefaultScramIterations
                           : fake_iterations) {
  creds_.hash = h;
}

ScramServer::FirstResult ScramServer::client_first(std::string_view msg) {
  FirstResult r;
  auto fail = [&](const char* error, bool malformed) {
    state_ = State::done;
    r.ok = false;
    r.error = error;
    r.malformed = malformed;
    r.username.clear();
    r.authzid.clear();
    return r;
  };
  if (state_ != State::start) return fail("other-error", false);
  if (has_nul(msg) || !is_valid_utf8(msg)) return fail("invalid-encoding", true);

  // gs2-header = gs2-cbind-flag "," [ authzid ] ","
  size_t pos;
  if (starts_with(msg, "n,") || starts_with(msg, "y,")) {
    // "y": the client supports channel binding but thinks we do not, which is true.
    pos = 2;
  } else if (starts_with(msg, "p=")) {
    return fail("channel-binding-not-supported", false);
  } else {
    return fail("other-error", true);
  }
  if (starts_with(msg.substr(pos), "a=")) {
    const size_t end = msg.find(',', pos);
    if (end == std::string_view::npos) return fail("other-error", true);
    auto authzid = decode_saslname(msg.substr(pos + 2, end - pos - 2));
    if (!authzid) return fail("invalid-encoding", true);
    r.authzid = std::move(*authzid);
    pos = end;
  }
  if (pos >= msg.size() || msg[pos] != ',') return fail("other-error", true);
  ++pos;
  const std::string_view header = msg.substr(0, pos);
  const std::string_view bare = msg.substr(pos);

  // client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
  if (starts_with(bare, "m=")) return fail("extensions-not-supported", false);
  auto f = split(bare, ',');
  if (f.size() < 2 || !starts_with(f[0], "n=") || !starts_with(f[1], "r=")) return fail("other-error", true);
  for (size_t i = 2; i < f.size(); ++i)
    if (!is_attr_val(f[i])) return fail("other-error", true);
  const std::string_view nonce = f[1].substr(2);
  if (!is_nonce(nonce)) return fail("other-error", true);

  auto raw_user = decode_saslname(f[0].substr(2));
  if (!raw_user) return fail("invalid-username-encoding", true);
  bool ok = false;
  std::string user = saslprep(*raw_user, &ok);
  if (!ok) return fail("invalid-username-encoding", false);

  gs2_header_ = std::string(header);
  client_first_bare_ = std::string(bare);
  client_nonce_ = std::string(nonce);
  username_ = user;
  state_ = State::got_first;
  r.ok = true;
  r.username = std::move(user);
  return r;
}

std::string ScramServer::server_first(const std::optional<ScramCreds>& creds) {
  if (state_ != State::got_first) {
    state_ = State::done;
    return {};
  }
  if (creds && usable(*creds, hash_)) {
    creds_ = *creds;
    fake_ = false;
  } else {
    // Unknown user: keys nobody can match, a salt stable per (mechanism, username).
    const std::string& secret = process_secret();
    const std::string label = std::string(mechanism_name(hash_)) + '\0' + username_ + '\0';
    creds_.hash = hash_;
    creds_.salt = hmac(Hash::sha256, secret, label + "salt").substr(0, 16);
    creds_.iterations = fake_iterations_;
    creds_.stored_key = hmac(hash_, secret, label + "stored");
    creds_.server_key = hmac(hash_, secret, label + "server");
    fake_ = true;
  }
  if (server_nonce_.empty()) server_nonce_ = base64_encode(random_bytes(18));
  server_first_ = "r=" + client_nonce_ + server_nonce_ + ",s=" + base64_encode(creds_.salt) +
                  ",i=" + std::to_string(creds_.iterations);
  state_ = State::sent_first;
  return server_first_;
}

ScramServer::FinalResult ScramServer::client_final(std::string_view msg) {
  FinalResult r;
  auto fail = [&](const char* error, bool malformed) {
    state_ = State::done;
    r.ok = false;
    r.error = error;
    r.malformed = malformed;
    r.server_final.clear();
    return r;
  };
  if (state_ != State::sent_first) return fail("other-error", false);
  if (has_nul(msg) || !is_valid_utf8(msg)) return fail("invalid-encoding", true);

  // client-final-message = channel-binding "," nonce ["," extensions] "," proof
  auto f = split(msg, ',');
  if (f.size() < 3 || !starts_with(f[0], "c=") || !starts_with(f[1], "r=") || !starts_with(f.back(), "p="))
    return fail("other-error", true);
  for (size_t i = 2; i + 1 < f.size(); ++i)
    if (!is_attr_val(f[i])) return fail("other-error", true);

  auto cbind = base64_decode(f[0].substr(2));
  if (!cbind) return fail("invalid-encoding", true);
  auto proof = base64_decode(f.back().substr(2));
  if (!proof) return fail("invalid-encoding", true);
  if (*cbind != gs2_header_) return fail("channel-bindings-dont-match", false);
  if (f[1].substr(2) != client_nonce_ + server_nonce_) return fail("other-error", false);
  if (proof->size() != digest_size(hash_)) return fail("invalid-proof", false);

  const std::string_view without_proof = msg.substr(0, msg.size() - f.back().size() - 1);
  std::string auth_message;
  auth_message.reserve(client_first_bare_.size() + server_first_.size() + without_proof.size() + 2);
  auth_message.append(client_first_bare_).append(",").append(server_first_).append(",").append(without_proof);

  const std::string client_signature = hmac(hash_, creds_.stored_key, auth_message);
  const std::string client_key = xor_bytes(*proof, client_signature);
  const bool match = ct_equal(hash_digest(hash_, client_key), creds_.stored_key);
  if (!match || fake_) return fail("invalid-proof", false);

  state_ = State::done;
  r.ok = true;
  r.server_final = "v=" + base64_encode(hmac(hash_, creds_.server_key, auth_message));
  return r;
}

void ScramServer::set_server_nonce_for_test(std::string nonce) { server_nonce_ = std::move(nonce); }

}  // namespace aviary::sasl
