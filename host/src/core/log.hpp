// Logging: spdlog behind a few functions so the rest of the host does not depend on it.
#pragma once

#include <string>
#include <string_view>

namespace aviary::log {

enum class Level { debug, info, warning, error };
void init(const std::string& level);            // "debug" | "info" | "warning" | "error"
void set_level(const std::string& level);
bool enabled(Level l);
void write(Level l, std::string_view who, std::string_view msg);
inline void debug(std::string_view m) { if (enabled(Level::debug)) write(Level::debug, "host", m); }
inline void info(std::string_view m) { write(Level::info, "host", m); }
inline void warning(std::string_view m) { write(Level::warning, "host", m); }
inline void error(std::string_view m) { write(Level::error, "host", m); }

}  // namespace aviary::log
