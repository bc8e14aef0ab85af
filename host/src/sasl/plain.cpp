#include "sasl/plain.hpp"

namespace aviary::sasl {

int32_t next_utf8_codepoint(std::string_view s, size_t& i) {
  if (i >= s.size()) return -1;
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t len;
  int32_t cp;
  int32_t min;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
    cp = b0 & 0x1F;
    min = 0x80;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    cp = b0 & 0x0F;
    min = 0x800;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return -1;  // continuation byte, 0xC0/0xC1 (always overlong) or 0xF5..0xFF
  }
  if (s.size() - i < len) return -1;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF) return -1;
  if (cp >= 0xD800 && cp <= 0xDFFF) return -1;
  i += len;
  return cp;
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    if (next_utf8_codepoint(s, i) < 0) return false;
  }
  return true;
}

std::optional<PlainCreds> parse_plain(std::string_view msg) {
  const size_t nul1 = msg.find('\0');
  if (nul1 == std::string_view::npos) return std::nullopt;
  const size_t nul2 = msg.find('\0', nul1 + 1);
  if (nul2 == std::string_view::npos) return std::nullopt;
  if (msg.find('\0', nul2 + 1) != std::string_view::npos) return std::nullopt;  // extra NUL

  const std::string_view authzid = msg.substr(0, nul1);
  const std::string_view authcid = msg.substr(nul1 + 1, nul2 - nul1 - 1);
  const std::string_view password = msg.substr(nul2 + 1);

  if (authcid.empty() || password.empty()) return std::nullopt;
  for (std::string_view part : {authzid, authcid, password}) {
    if (part.size() > kPlainMaxPart || !is_valid_utf8(part)) return std::nullopt;
  }
  return PlainCreds{std::string(authzid), std::string(authcid), std::string(password)};
}

}  // namespace aviary::sasl
