// aviary: the XMPP server.
#include "core/config.hpp"
#include "core/host.hpp"
#include "core/log.hpp"

#include <aviary/version.h>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstring>
#include <iostream>

namespace {

void usage() {
  std::cout << "Usage: aviary [--config PATH] [--check-config] [--version]\n"
               "  --config PATH    YAML configuration (default /etc/aviary/aviary.yaml)\n"
               "  --check-config   validate the configuration (and load modules) then exit\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path = "/etc/aviary/aviary.yaml";
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--config" || a == "-c") && i + 1 < argc) {
      config_path = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      config_path = a.substr(9);
    } else if (a == "--check-config") {
      check_only = true;
    } else if (a == "--version") {
      std::cout << "aviary " AVIARY_VERSION " (module ABI " << AV_ABI_MAJOR << "." << AV_ABI_MINOR << ")\n";
      return 0;
    } else if (a == "--help" || a == "-h") {
      usage();
      return 0;
    } else {
      std::cerr << "aviary: unknown argument '" << a << "'\n";
      usage();
      return 2;
    }
  }
  std::signal(SIGPIPE, SIG_IGN);

  aviary::Config cfg;
  std::vector<std::string> errors;
  if (!aviary::load_config(config_path, cfg, errors)) {
    for (auto& e : errors) std::cerr << e << "\n";
    std::cerr << "aviary: configuration rejected, not starting\n";
    return 1;
  }
  aviary::log::init(cfg.loglevel);
  aviary::Host host(std::move(cfg));
  if (!host.prepare(errors)) {
    for (auto& e : errors) std::cerr << e << "\n";
    std::cerr << "aviary: start-up failed\n";
    return 1;
  }
  if (check_only) {
    std::cout << config_path << ": configuration OK\n";
    return 0;
  }
  std::string err;
  if (!host.open_network(&err)) {
    std::cerr << "aviary: " << err << "\n";
    return 1;
  }
  boost::asio::signal_set signals(host.runtime().main(), SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    aviary::log::info(std::string("received ") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", shutting down");
    host.stop();
  });
  aviary::log::info("aviary " AVIARY_VERSION " started for " + std::to_string(host.vhosts().size()) + " domain(s)");
  host.run();
  aviary::log::info("aviary stopped");
  return 0;
}
