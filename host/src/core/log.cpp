#include "core/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace aviary::log {

namespace {
spdlog::level::level_enum to_spd(const std::string& l) {
  if (l == "debug") return spdlog::level::debug;
  if (l == "warning") return spdlog::level::warn;
  if (l == "error") return spdlog::level::err;
  return spdlog::level::info;
}
spdlog::logger& logger() {
  static auto l = [] {
    auto lg = spdlog::stderr_color_mt("aviary");
    lg->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    return lg;
  }();
  return *l;
}
}  // namespace

void init(const std::string& level) { set_level(level); }
void set_level(const std::string& level) { logger().set_level(to_spd(level)); }

bool enabled(Level l) {
  switch (l) {
    case Level::debug: return logger().should_log(spdlog::level::debug);
    case Level::info: return logger().should_log(spdlog::level::info);
    case Level::warning: return logger().should_log(spdlog::level::warn);
    default: return true;
  }
}

void write(Level l, std::string_view who, std::string_view msg) {
  auto lvl = l == Level::debug ? spdlog::level::debug
             : l == Level::info ? spdlog::level::info
             : l == Level::warning ? spdlog::level::warn
                                   : spdlog::level::err;
  logger().log(lvl, "[{}] {}", who, msg);
}

}  // namespace aviary::log
