// The server configuration: one YAML file, sections shaped like mongooseim.toml.
#pragma once

#include "ext/sql_pool.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace aviary {

struct TlsConfig {
  std::string mode = "none";  // none | starttls | starttls_required | tls
  std::string certfile, keyfile, ciphers;
};

struct C2sListener {
  std::string ip_address = "0.0.0.0";
  int port = 5222;
  int backlog = 1024;
  size_t max_stanza_size = 65536;
  unsigned max_depth = 32;
  unsigned max_attrs = 64;
  TlsConfig tls;
  bool allow_unencrypted_plain = false;  // offer SASL PLAIN without TLS (benchmarks, tests)
  bool backwards_compatible_session = true;
  int state_timeout_ms = 30000;           // time allowed before the session is bound
  int line = 0;
};

struct ModuleSection {
  std::string name;  // mod_x
  YAML::Node node;   // its options (may be null)
  int line = 0;
};

struct Config {
  std::string file;
  // general
  std::vector<std::string> hosts;
  std::string loglevel = "info";
  std::string data_dir = "/var/lib/aviary";
  int threads = 0;          // 0 = number of cores
  int worker_threads = 4;   // blocking pool
  std::string ctl_socket;   // default <data_dir>/aviary.sock
  std::vector<std::string> module_path;
  // auth
  std::vector<std::string> auth_methods{"internal"};
  std::vector<std::string> sasl_mechanisms{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"};
  uint32_t scram_iterations = 10000;
  int max_users_per_domain = 0;  // 0 = unlimited
  // listen, pools, modules
  std::vector<C2sListener> c2s;
  std::vector<SqlPoolConfig> rdbms;
  // outgoing_pools.<type>.<tag> of rabbit, kafka and http: JSON with defaults (av.pools/1)
  std::map<std::string, std::map<std::string, std::string>> module_pools;
  std::vector<ModuleSection> modules;
  YAML::Node root;
};

// Parse and validate. On failure returns false and fills errors with "FILE:LINE: ..." lines.
// Module option sections are checked later, by the loader, against each module's spec.
bool load_config(const std::string& path, Config& out, std::vector<std::string>& errors);
bool parse_config_text(const std::string& text, const std::string& file_label, Config& out,
                       std::vector<std::string>& errors);

}  // namespace aviary
