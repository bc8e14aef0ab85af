// Aviary C++ layer: XML escaping for text and attribute values (either quote style).
// Header-only and pure: no host calls.
#pragma once

#include <string>
#include <string_view>

namespace av {

// Escapes & < > ' " so the result is safe as element text and inside '...' or "..." attributes.
inline std::string xml_escape(std::string_view s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '\'': o += "&apos;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

}  // namespace av
