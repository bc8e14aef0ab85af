// Strict base64 (RFC 4648 §4, standard alphabet) for SASL payloads and stored credentials.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace aviary::sasl {

// Always padded output.
std::string base64_encode(std::string_view raw);

// Strict decoder: length must be a multiple of 4, padding ('=') is required and may only
// appear as the last one or two characters, no whitespace or characters outside the
// alphabet, and the unused bits before padding must be zero (canonical encoding only).
// The empty string decodes to the empty string. Anything else invalid → nullopt.
std::optional<std::string> base64_decode(std::string_view b64);

}  // namespace aviary::sasl
