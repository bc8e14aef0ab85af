// Config validation (host/src/core/config.cpp + schema.cpp) and module option validation
// through the real ModuleLoader::configure. Every message is pinned in full: operators
// read them as "FILE:LINE: path: message".
#include "core/config.hpp"
#include "core/host.hpp"
#include "modules/loader.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

using Errors = std::vector<std::string>;

namespace {

// Parses `text` as "aviary.yaml"; returns the errors (empty on success).
Errors parse(const std::string& text, aviary::Config* out = nullptr) {
  aviary::Config c;
  Errors errors;
  bool ok = aviary::parse_config_text(text, "aviary.yaml", c, errors);
  CHECK(ok == errors.empty());
  if (out) *out = c;
  return errors;
}

}  // namespace

// ---- the server config ----

TEST_CASE("config: a full valid config fills every field") {
  const std::string text =
      "general:\n"                                   // 1
      "  hosts: [Example.COM, localhost]\n"          // 2
      "  data_dir: /tmp/aviary-test\n"               // 3
      "  loglevel: debug\n"                          // 4
      "  module_path: [/opt/aviary/modules]\n"       // 5
      "listen:\n"                                    // 6
      "  c2s:\n"                                     // 7
      "    - port: 5223\n"                           // 8
      "      ip_address: 127.0.0.1\n"                // 9
      "      backlog: 64\n"                          // 10
      "      max_stanza_size: 131072\n"              // 11
      "      allow_unencrypted_plain: true\n"        // 12
      "      backwards_compatible_session: false\n"  // 13
      "      state_timeout: 5000\n"                  // 14
      "      tls:\n"                                 // 15
      "        mode: tls\n"                          // 16
      "        certfile: /etc/aviary/cert.pem\n"     // 17
      "        keyfile: /etc/aviary/key.pem\n"       // 18
      "    - port: 5222\n"                           // 19
      "auth:\n"                                      // 20
      "  methods: [internal]\n"                      // 21
      "  sasl_mechanisms: [scram_sha_256, plain]\n"  // 22
      "  password:\n"                                // 23
      "    format: scram\n"                          // 24
      "    scram_iterations: 4096\n"                 // 25
      "outgoing_pools:\n"                            // 26
      "  rdbms:\n"                                   // 27
      "    default:\n"                               // 28
      "      driver: sqlite\n"                       // 29
      "      workers: 2\n"                           // 30
      "modules:\n"                                   // 31
      "  mod_fx_good: {}\n"                          // 32
      "  mod_fx_options:\n"                          // 33
      "    name: x\n";                               // 34
  aviary::Config c;
  REQUIRE(parse(text, &c) == Errors{});
  CHECK(c.file == "aviary.yaml");
  CHECK(c.hosts == std::vector<std::string>{"example.com", "localhost"});  // lowercased
  CHECK(c.loglevel == "debug");
  CHECK(c.data_dir == "/tmp/aviary-test");
  CHECK(c.threads == static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));  // 0 = cores
  CHECK(c.worker_threads == 4);
  CHECK(c.ctl_socket == "/tmp/aviary-test/aviary.sock");  // default: <data_dir>/aviary.sock
  CHECK(c.module_path == std::vector<std::string>{"/opt/aviary/modules"});

  REQUIRE(c.c2s.size() == 2);
  const auto& l = c.c2s[0];
  CHECK(l.line == 8);
  CHECK(l.port == 5223);
  CHECK(l.ip_address == "127.0.0.1");
  CHECK(l.backlog == 64);
  CHECK(l.max_stanza_size == 131072);
  CHECK(l.max_depth == 32);
  CHECK(l.max_attrs == 64);
  CHECK(l.allow_unencrypted_plain);
  CHECK_FALSE(l.backwards_compatible_session);
  CHECK(l.state_timeout_ms == 5000);
  CHECK(l.tls.mode == "tls");
  CHECK(l.tls.certfile == "/etc/aviary/cert.pem");
  CHECK(l.tls.keyfile == "/etc/aviary/key.pem");
  const auto& d = c.c2s[1];  // all defaults
  CHECK(d.line == 19);
  CHECK(d.port == 5222);
  CHECK(d.ip_address == "0.0.0.0");
  CHECK(d.backlog == 1024);
  CHECK(d.max_stanza_size == 65536);
  CHECK(d.tls.mode == "none");
  CHECK_FALSE(d.allow_unencrypted_plain);
  CHECK(d.backwards_compatible_session);
  CHECK(d.state_timeout_ms == 30000);

  CHECK(c.auth_methods == std::vector<std::string>{"internal"});
  CHECK(c.sasl_mechanisms == std::vector<std::string>{"SCRAM-SHA-256", "PLAIN"});  // normalised
  CHECK(c.scram_iterations == 4096);
  CHECK(c.max_users_per_domain == 0);

  REQUIRE(c.rdbms.size() == 1);
  CHECK(c.rdbms[0].tag == "default");
  CHECK(c.rdbms[0].driver == "sqlite");
  CHECK(c.rdbms[0].database == "/tmp/aviary-test/aviary.db");
  CHECK(c.rdbms[0].workers == 2);

  REQUIRE(c.modules.size() == 2);
  CHECK(c.modules[0].name == "mod_fx_good");
  CHECK(c.modules[0].line == 32);
  CHECK(c.modules[1].name == "mod_fx_options");
  CHECK(c.modules[1].line == 33);
}

TEST_CASE("config: the smallest valid config takes every default") {
  aviary::Config c;
  REQUIRE(parse("general:\n  hosts: [localhost]\n", &c) == Errors{});
  CHECK(c.data_dir == "/var/lib/aviary");
  CHECK(c.ctl_socket == "/var/lib/aviary/aviary.sock");
  CHECK(c.loglevel == "info");
  CHECK(c.threads >= 1);
  CHECK(c.c2s.empty());
  CHECK(c.rdbms.empty());
  CHECK(c.modules.empty());
  CHECK(c.sasl_mechanisms == std::vector<std::string>{"SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"});
  CHECK(c.scram_iterations == 10000);
}

TEST_CASE("config: explicit ctl_socket and threads win over the defaults") {
  aviary::Config c;
  REQUIRE(parse("general:\n  hosts: [localhost]\n  threads: 3\n  ctl_socket: /run/aviary/ctl\n", &c) == Errors{});
  CHECK(c.threads == 3);
  CHECK(c.ctl_socket == "/run/aviary/ctl");
}

TEST_CASE("config: unknown top-level key") {
  CHECK(parse("general:\n  hosts: [localhost]\nlisten_c2s:\n  port: 5222\n") ==
        Errors{"aviary.yaml:3: listen_c2s: unknown key (expected one of: auth, general, listen, modules, outgoing_pools)"});
}

TEST_CASE("config: unknown key inside general") {
  CHECK(parse("general:\n  hosts: [localhost]\n  treads: 4\n") ==
        Errors{"aviary.yaml:3: general.treads: unknown key (expected one of: ctl_socket, data_dir, hosts, loglevel, "
               "module_path, threads, worker_threads)"});
}

TEST_CASE("config: a string where an integer is expected") {
  CHECK(parse("general:\n  hosts: [localhost]\n  threads: four\n") ==
        Errors{"aviary.yaml:3: general.threads: expected an integer from 0 to 256, got 'four'"});
}

TEST_CASE("config: out-of-range port") {
  CHECK(parse("general:\n  hosts: [localhost]\nlisten:\n  c2s:\n    - port: 70000\n") ==
        Errors{"aviary.yaml:5: listen.c2s[0].port: expected an integer from 1 to 65535, got '70000'"});
  CHECK(parse("general:\n  hosts: [localhost]\nlisten:\n  c2s:\n    - port: 5222\n    - port: 0\n") ==
        Errors{"aviary.yaml:6: listen.c2s[1].port: expected an integer from 1 to 65535, got '0'"});
}

TEST_CASE("config: a listener without a port") {
  CHECK(parse("general:\n  hosts: [localhost]\nlisten:\n  c2s:\n    - ip_address: ::1\n") ==
        Errors{"aviary.yaml:5: listen.c2s[0]: missing required key 'port'"});
}

TEST_CASE("config: bad tls mode") {
  CHECK(parse("general:\n  hosts: [localhost]\nlisten:\n  c2s:\n    - port: 5222\n      tls:\n        mode: sometimes\n") ==
        Errors{"aviary.yaml:7: listen.c2s[0].tls.mode: expected one of none, starttls, starttls_required, tls, got 'sometimes'"});
}

TEST_CASE("config: bad loglevel lists the choices") {
  CHECK(parse("general:\n  hosts: [localhost]\n  loglevel: verbose\n") ==
        Errors{"aviary.yaml:3: general.loglevel: expected one of debug, info, warning, error, got 'verbose'"});
}

TEST_CASE("config: missing general.hosts") {
  CHECK(parse("general:\n  loglevel: info\n") == Errors{"aviary.yaml:2: general: missing required key 'hosts'"});
  CHECK(parse("general:\n  hosts: []\n") == Errors{"aviary.yaml:2: general.hosts: expected at least one domain"});
  CHECK(parse("general:\n  hosts: localhost\n") ==
        Errors{"aviary.yaml:2: general.hosts: expected a list of strings, got 'localhost'"});
  CHECK(parse("general:\n  hosts: [a@b]\n") == Errors{"aviary.yaml:2: general.hosts: 'a@b' is not a valid domain name"});
}

TEST_CASE("config: YAML syntax error") {
  CHECK(parse("general:\n  hosts: [localhost\nlisten:\n") ==
        Errors{"aviary.yaml:3: YAML syntax error: end of sequence flow not found"});
  CHECK(parse("general:\n  hosts: [localhost]\n bad indent: 1\n") ==
        Errors{"aviary.yaml:3: YAML syntax error: end of map not found"});
  CHECK(parse("- just\n- a list\n") ==
        Errors{"aviary.yaml:1: expected a map with the sections general, listen, auth, outgoing_pools, modules"});
}

TEST_CASE("config: tls without certfile") {
  CHECK(parse("general:\n  hosts: [localhost]\nlisten:\n  c2s:\n    - port: 5222\n      tls:\n        mode: starttls\n"
              "        keyfile: /k.pem\n") ==
        Errors{"aviary.yaml:5: listen.c2s (port 5222): tls needs both certfile and keyfile"});
  // A tls section without a mode means starttls_required, so it needs the files too.
  CHECK(parse("general:\n  hosts: [localhost]\nlisten:\n  c2s:\n    - port: 5223\n      tls: {}\n") ==
        Errors{"aviary.yaml:5: listen.c2s (port 5223): tls needs both certfile and keyfile"});
}

TEST_CASE("config: bad module names") {
  CHECK(parse("general:\n  hosts: [localhost]\nmodules:\n  mod_good: {}\n  mod_Bad-Name: {}\n  auth_internal:\n") ==
        Errors{"aviary.yaml:5: modules.mod_Bad-Name: module names look like mod_name ([a-z0-9_])",
               "aviary.yaml:6: modules.auth_internal: module names look like mod_name ([a-z0-9_])"});
}

TEST_CASE("config: an rdbms pool without a driver") {
  CHECK(parse("general:\n  hosts: [localhost]\noutgoing_pools:\n  rdbms:\n    default:\n      database: aviary\n") ==
        Errors{"aviary.yaml:5: outgoing_pools.rdbms.default: missing required key 'driver' (sqlite, pgsql or mysql)"});
  CHECK(parse("general:\n  hosts: [localhost]\noutgoing_pools:\n  rdbms:\n    default:\n      driver: oracle\n") ==
        Errors{"aviary.yaml:6: outgoing_pools.rdbms.default.driver: expected one of sqlite, pgsql, mysql, got 'oracle'"});
}

TEST_CASE("config: several errors are all reported, in file order") {
  CHECK(parse("general:\n  hosts: [localhost]\n  threads: -1\n  colour: blue\nlisten:\n  c2s:\n    - port: x\n") ==
        Errors{"aviary.yaml:3: general.threads: expected an integer from 0 to 256, got '-1'",
               "aviary.yaml:4: general.colour: unknown key (expected one of: ctl_socket, data_dir, hosts, loglevel, "
               "module_path, threads, worker_threads)",
               "aviary.yaml:7: listen.c2s[0].port: expected an integer from 1 to 65535, got 'x'"});
}

// ---- module options, checked by the loader against the module's declared spec ----
// mod_fx_options (tests/abi/fixtures/options.c) declares:
//   max_items int 1..1000 = 50, mode enum fast|safe = safe, enabled bool = true,
//   domains string list = [localhost], tls.certfile string, tls.verify bool = false,
//   name string (required), ratio double = 0.5.

namespace {

std::vector<std::string>& option_logs() {
  static std::vector<std::string> v;
  return v;
}

struct OptionsFixture {
  aviary::Config cfg;
  aviary::ModuleLoader loader{{AV_FX_DIR}};
  Errors errors;

  // Parses the config (which must be valid) and configures mod_fx_options with it.
  bool configure(const std::string& text) {
    Errors parse_errors;
    REQUIRE(aviary::parse_config_text(text, "aviary.yaml", cfg, parse_errors));
    std::string err;
    if (!loader.find("mod_fx_options")) REQUIRE(loader.load_file(AV_FX_mod_fx_options, &err));
    return loader.configure(cfg.modules, cfg.file, errors);
  }
  av_module* mod() { return loader.find("mod_fx_options"); }
};

const std::string kHead = "general:\n  hosts: [localhost]\nmodules:\n  mod_fx_options:\n";  // section at line 4

}  // namespace

TEST_CASE_METHOD(OptionsFixture, "module options: an undeclared key is refused with FILE:LINE") {
  CHECK_FALSE(configure(kHead + "    name: x\n    colour: blue\n"));
  CHECK(errors == Errors{"aviary.yaml:6: modules.mod_fx_options.colour: unknown key (expected one of: domains, "
                         "enabled, max_items, mode, name, ratio, tls)"});
}

TEST_CASE_METHOD(OptionsFixture, "module options: an undeclared key inside a dotted map") {
  CHECK_FALSE(configure(kHead + "    name: x\n    tls:\n      certfile: /c.pem\n      keyfile: /k.pem\n"));
  CHECK(errors == Errors{"aviary.yaml:8: modules.mod_fx_options.tls.keyfile: unknown key (expected one of: certfile, "
                         "verify)"});
}

TEST_CASE_METHOD(OptionsFixture, "module options: wrong types and ranges") {
  CHECK_FALSE(configure(kHead +
                        "    name: x\n"                 // 5
                        "    max_items: lots\n"         // 6
                        "    mode: reckless\n"          // 7
                        "    enabled: maybe\n"          // 8
                        "    domains: localhost\n"      // 9
                        "    ratio: half\n"             // 10
                        "    tls: /c.pem\n"));          // 11
  CHECK(errors == Errors{
                      "aviary.yaml:6: modules.mod_fx_options.max_items: expected an integer from 1 to 1000, got 'lots'",
                      "aviary.yaml:7: modules.mod_fx_options.mode: expected one of fast, safe, got 'reckless'",
                      "aviary.yaml:8: modules.mod_fx_options.enabled: expected true or false, got 'maybe'",
                      "aviary.yaml:9: modules.mod_fx_options.domains: expected a list of strings, got 'localhost'",
                      "aviary.yaml:10: modules.mod_fx_options.ratio: expected a number, got 'half'",
                      "aviary.yaml:11: modules.mod_fx_options.tls: expected a map, got '/c.pem'",
                  });
}

TEST_CASE_METHOD(OptionsFixture, "module options: an integer out of its declared range") {
  CHECK_FALSE(configure(kHead + "    name: x\n    max_items: 1001\n"));
  CHECK(errors == Errors{"aviary.yaml:6: modules.mod_fx_options.max_items: expected an integer from 1 to 1000, got '1001'"});
}

TEST_CASE_METHOD(OptionsFixture, "module options: a missing required key") {
  CHECK_FALSE(configure(kHead + "    max_items: 5\n"));
  CHECK(errors == Errors{"aviary.yaml:5: modules.mod_fx_options: missing required key 'name'"});
}

TEST_CASE_METHOD(OptionsFixture, "module options: an empty section still needs the required key") {
  // Reported at the section's line, not at the token after it (line 5 is another module).
  CHECK_FALSE(configure("general:\n  hosts: [localhost]\nmodules:\n  mod_fx_options:\n  mod_fx_good: {}\n"));
  CHECK(errors == Errors{"aviary.yaml:4: modules.mod_fx_options: missing required key 'name'"});
  errors.clear();
  cfg = aviary::Config{};
  CHECK_FALSE(configure("general:\n  hosts: [localhost]\nmodules:\n  mod_fx_options:\n"));
  CHECK(errors == Errors{"aviary.yaml:4: modules.mod_fx_options: missing required key 'name'"});
}

TEST_CASE_METHOD(OptionsFixture, "module options: configure leaves the config tree as written") {
  REQUIRE(configure(kHead + "    name: x\n    tls:\n      verify: true\n"));
  const YAML::Node& sec = cfg.modules.at(0).node;
  REQUIRE(sec.IsMap());
  CHECK(sec.size() == 2);                       // no defaults written into it
  CHECK(sec["name"].Scalar() == "x");
  CHECK(sec["tls"].IsMap());
  CHECK(sec["tls"].size() == 1);
  CHECK_FALSE(sec["max_items"].IsDefined());
  const YAML::Node& root = cfg.root;
  CHECK(root["modules"]["mod_fx_options"]["name"].Scalar() == "x");
}

TEST_CASE("module options: a module's own invalid defaults are blamed on the module") {
  aviary::Config cfg;
  Errors errors;
  REQUIRE(aviary::parse_config_text("general:\n  hosts: [localhost]\nmodules:\n  mod_fx_bad_default: {}\n",
                                    "aviary.yaml", cfg, errors));
  aviary::ModuleLoader loader{{AV_FX_DIR}};
  std::string err;
  REQUIRE(loader.load_file(AV_FX_mod_fx_bad_default, &err));
  CHECK_FALSE(loader.configure(cfg.modules, cfg.file, errors));
  CHECK(errors == Errors{"module mod_fx_bad_default: option limit: the module declares an invalid default 'many'",
                         "module mod_fx_bad_default: option peers: the module declares an invalid default '[unclosed'"});
}

TEST_CASE_METHOD(OptionsFixture, "module options: defaults are applied and readable through the host API") {
  REQUIRE(configure(kHead + "    name: alpha\n"));
  CHECK(errors.empty());
  aviary::Config hc;
  hc.hosts = {"localhost"};
  aviary::Host host{hc};
  const av_host_api* api = host.api();
  av_value v{};
  REQUIRE(api->get_option(mod(), nullptr, "max_items", AV_OPT_INT, &v) == AV_OK);
  CHECK(v.present);
  CHECK(v.i == 50);
  REQUIRE(api->get_option(mod(), nullptr, "mode", AV_OPT_ENUM, &v) == AV_OK);
  CHECK(std::string(v.s.ptr, v.s.len) == "safe");
  REQUIRE(api->get_option(mod(), nullptr, "enabled", AV_OPT_BOOL, &v) == AV_OK);
  CHECK(v.present);
  CHECK(v.b);
  REQUIRE(api->get_option(mod(), nullptr, "tls.verify", AV_OPT_BOOL, &v) == AV_OK);
  CHECK(v.present);
  CHECK_FALSE(v.b);
  REQUIRE(api->get_option(mod(), nullptr, "domains", AV_OPT_STRING_LIST, &v) == AV_OK);
  REQUIRE(v.count == 1);
  CHECK(std::string(v.items[0].ptr, v.items[0].len) == "localhost");
  REQUIRE(api->get_option(mod(), nullptr, "ratio", AV_OPT_DOUBLE, &v) == AV_OK);
  CHECK(v.d == 0.5);
  REQUIRE(api->get_option(mod(), nullptr, "name", AV_OPT_STRING, &v) == AV_OK);
  CHECK(std::string(v.s.ptr, v.s.len) == "alpha");
  // No value and no default: present == false.
  REQUIRE(api->get_option(mod(), nullptr, "tls.certfile", AV_OPT_STRING, &v) == AV_OK);
  CHECK_FALSE(v.present);
  // Undeclared key, and a declared key read as the wrong type.
  CHECK(api->get_option(mod(), nullptr, "colour", AV_OPT_STRING, &v) == AV_E_NOT_FOUND);
  CHECK(api->get_option(mod(), nullptr, "max_items", AV_OPT_STRING, &v) == AV_E_INVALID_ARG);
}

TEST_CASE_METHOD(OptionsFixture, "module options: configured values, dotted keys included, reach the module") {
  REQUIRE(configure(kHead +
                    "    name: beta\n"
                    "    max_items: 7\n"
                    "    mode: fast\n"
                    "    enabled: false\n"
                    "    domains: [a.example, b.example]\n"
                    "    ratio: 0.25\n"
                    "    tls:\n"
                    "      certfile: /etc/aviary/fx.pem\n"
                    "      verify: true\n"));
  aviary::Config hc;
  hc.hosts = {"localhost"};
  aviary::Host host{hc};
  av_host_api api = *host.api();
  option_logs().clear();
  api.log = [](av_module*, av_log_level, av_str msg) { option_logs().emplace_back(msg.ptr, msg.len); };
  std::string err;
  REQUIRE(loader.resolve(&err));
  REQUIRE(loader.start_all(&api, &err, [](av_module*) {}));
  CHECK(option_logs() == Errors{"max_items=7 mode=fast enabled=0 domains=a.example,b.example "
                                "tls.certfile=/etc/aviary/fx.pem tls.verify=1 name=beta ratio=0.25"});
  loader.stop_all([](av_module*) {});
}

TEST_CASE_METHOD(OptionsFixture, "module options: defaults reach the module's start") {
  REQUIRE(configure(kHead + "    name: gamma\n"));
  aviary::Config hc;
  hc.hosts = {"localhost"};
  aviary::Host host{hc};
  av_host_api api = *host.api();
  option_logs().clear();
  api.log = [](av_module*, av_log_level, av_str msg) { option_logs().emplace_back(msg.ptr, msg.len); };
  std::string err;
  REQUIRE(loader.resolve(&err));
  REQUIRE(loader.start_all(&api, &err, [](av_module*) {}));
  CHECK(option_logs() == Errors{"max_items=50 mode=safe enabled=1 domains=localhost tls.certfile= tls.verify=0 "
                                "name=gamma ratio=0.5"});
  loader.stop_all([](av_module*) {});
}

// ---- sub-module sections and outgoing pools of modules ----

TEST_CASE_METHOD(OptionsFixture, "sub-modules: a map that names mod_<module>_<key> loads that module with it") {
  Errors parse_errors;
  REQUIRE(aviary::parse_config_text(kHead +
                                        "    name: x\n"        // 5
                                        "    sub: {}\n"        // 6
                                        "    nosuch: {a: 1}\n", // 7
                                    "aviary.yaml", cfg, parse_errors));
  std::string err;
  REQUIRE(loader.load_file(AV_FX_mod_fx_options, &err));
  CHECK_FALSE(loader.load_submodules(cfg.modules, cfg.file, errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == std::string("aviary.yaml:7: modules.mod_fx_options.nosuch: unknown key: mod_fx_options has no "
                                 "option 'nosuch' and no module file mod_fx_options_nosuch.so is in the module path (") +
                         AV_FX_DIR + ")");
  REQUIRE(loader.find("mod_fx_options_sub"));
  REQUIRE(cfg.modules.size() == 2);
  CHECK(cfg.modules[1].name == "mod_fx_options_sub");
  CHECK(cfg.modules[1].line == 6);
  // The parent's own validation no longer sees the keys that belong to sub-modules.
  errors.clear();
  CHECK(loader.resolve(&err));
  CHECK(loader.configure(cfg.modules, cfg.file, errors));
  CHECK(errors.empty());
}

TEST_CASE_METHOD(OptionsFixture, "sub-modules: configured twice is refused") {
  Errors parse_errors;
  REQUIRE(aviary::parse_config_text(kHead + "    name: x\n    sub: {}\n  mod_fx_options_sub: {}\n", "aviary.yaml",
                                    cfg, parse_errors));
  std::string err;
  REQUIRE(loader.load_file(AV_FX_mod_fx_options, &err));
  REQUIRE(loader.load_file(AV_FX_mod_fx_options_sub, &err));
  CHECK_FALSE(loader.load_submodules(cfg.modules, cfg.file, errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] ==
        "aviary.yaml:6: modules.mod_fx_options.sub configures module mod_fx_options_sub, which "
        "modules.mod_fx_options_sub configures as well: keep one of them");
}

TEST_CASE_METHOD(OptionsFixture, "backends: a string option `backend` loads mod_<module>_<value>, started first") {
  Errors parse_errors;
  REQUIRE(aviary::parse_config_text("general:\n  hosts: [localhost]\nmodules:\n  mod_fx_store: {}\n", "aviary.yaml",
                                    cfg, parse_errors));
  std::string err;
  REQUIRE(loader.load_file(AV_FX_mod_fx_store, &err));
  REQUIRE(loader.load_submodules(cfg.modules, cfg.file, errors));
  REQUIRE(loader.find("mod_fx_store_mem"));
  REQUIRE(loader.resolve(&err));
  REQUIRE(loader.ordered().size() == 2);
  CHECK(loader.ordered()[0]->id == "mod_fx_store_mem");
  CHECK(loader.configure(cfg.modules, cfg.file, errors));
  CHECK(errors.empty());
}

TEST_CASE_METHOD(OptionsFixture, "backends: a backend without its module file is refused with FILE:LINE") {
  Errors parse_errors;
  REQUIRE(aviary::parse_config_text(
      "general:\n  hosts: [localhost]\nmodules:\n  mod_fx_store:\n    backend: nosuch\n", "aviary.yaml", cfg,
      parse_errors));
  std::string err;
  REQUIRE(loader.load_file(AV_FX_mod_fx_store, &err));
  CHECK_FALSE(loader.load_submodules(cfg.modules, cfg.file, errors));
  REQUIRE(errors.size() == 1);
  CHECK(errors[0] == std::string("aviary.yaml:5: modules.mod_fx_store.backend: nosuch: no module file "
                                 "mod_fx_store_nosuch.so is in the module path (") +
                         AV_FX_DIR + ")");
}

TEST_CASE("config: outgoing pools of modules are validated and handed out with defaults") {
  aviary::Config c;
  Errors e = parse(
      "general: {hosts: [localhost]}\n"
      "outgoing_pools:\n"
      "  rabbit:\n"
      "    event_pusher:\n"
      "      connection: {host: 127.0.0.1, confirms_enabled: true}\n"
      "  http:\n"
      "    http_pool:\n"
      "      connection: {host: 'http://127.0.0.1:8000', path_prefix: /hook/}\n"
      "  kafka:\n"
      "    event_pusher:\n"
      "      connection: {bootstrap_servers: '127.0.0.1:9092', properties: {linger.ms: '5'}}\n",
      &c);
  REQUIRE(e.empty());
  auto rabbit = nlohmann::json::parse(c.module_pools.at("rabbit").at("event_pusher"));
  CHECK(rabbit["workers"] == 10);
  CHECK(rabbit["connection"]["host"] == "127.0.0.1");
  CHECK(rabbit["connection"]["port"] == 5672);
  CHECK(rabbit["connection"]["confirms_enabled"] == true);
  CHECK(rabbit["connection"]["virtual_host"] == "/");
  CHECK(rabbit["connection"]["max_worker_queue_len"] == 1000);
  CHECK_FALSE(rabbit["connection"].contains("tls"));  // TLS only when configured
  auto http = nlohmann::json::parse(c.module_pools.at("http").at("http_pool"));
  CHECK(http["connection"]["path_prefix"] == "/hook/");
  CHECK(http["connection"]["request_timeout"] == 2000);
  auto kafka = nlohmann::json::parse(c.module_pools.at("kafka").at("event_pusher"));
  CHECK(kafka["connection"]["properties"]["linger.ms"] == "5");
  CHECK(kafka["connection"]["client_id"] == "aviary");
}

TEST_CASE("config: a wrong key or value in a module pool names file and line") {
  Errors e = parse(
      "general: {hosts: [localhost]}\n"
      "outgoing_pools:\n"
      "  rabbit:\n"
      "    event_pusher:\n"
      "      connection: {hots: x, port: none}\n"
      "  http:\n"
      "    p: {workers: 2}\n");
  REQUIRE(e.size() == 3);
  CHECK(e[0] == "aviary.yaml:5: outgoing_pools.rabbit.event_pusher.connection.hots: unknown key (expected one of: "
                "confirms_enabled, host, max_worker_queue_len, password, port, tls, username, virtual_host)");
  CHECK(e[1] == "aviary.yaml:5: outgoing_pools.rabbit.event_pusher.connection.port: expected an integer from 1 to "
                "65535, got 'none'");
  CHECK(e[2] == "aviary.yaml:7: outgoing_pools.http.p: missing required key 'connection'");
}

TEST_CASE("config: the kafka pool's defaults, flush_timeout and properties typed as strings") {
  aviary::Config c;
  Errors e = parse(
      "general: {hosts: [localhost]}\n"
      "outgoing_pools:\n"
      "  kafka:\n"
      "    event_pusher:\n"
      "      connection:\n"
      "        flush_timeout: 250\n"
      "        properties: {linger.ms: 5, enable.idempotence: false, sasl.mechanisms: PLAIN}\n",
      &c);
  REQUIRE(e.empty());
  auto k = nlohmann::json::parse(c.module_pools.at("kafka").at("event_pusher"));
  CHECK(k["connection"]["bootstrap_servers"] == "localhost:9092");
  CHECK(k["connection"]["client_id"] == "aviary");
  CHECK(k["connection"]["max_queue_len"] == 100000);
  CHECK(k["connection"]["flush_timeout"] == 250);
  // Unquoted YAML numbers and booleans reach librdkafka as the text it expects.
  CHECK(k["connection"]["properties"]["linger.ms"] == "5");
  CHECK(k["connection"]["properties"]["enable.idempotence"] == "false");
  CHECK(k["connection"]["properties"]["sasl.mechanisms"] == "PLAIN");

  aviary::Config d;
  REQUIRE(parse("general: {hosts: [localhost]}\noutgoing_pools:\n  kafka:\n    event_pusher: {}\n", &d).empty());
  CHECK(nlohmann::json::parse(d.module_pools.at("kafka").at("event_pusher"))["connection"]["flush_timeout"] == 5000);

  Errors bad = parse(
      "general: {hosts: [localhost]}\n"
      "outgoing_pools:\n"
      "  kafka:\n"
      "    event_pusher:\n"
      "      connection: {flush_timeout: -1, properties: {ssl: {ca: x}}}\n");
  REQUIRE(bad.size() == 2);
  CHECK(bad[0] == "aviary.yaml:5: outgoing_pools.kafka.event_pusher.connection.flush_timeout: expected an integer "
                  "from 0 to 600000, got '-1'");
  CHECK(bad[1] == "aviary.yaml:5: outgoing_pools.kafka.event_pusher.connection.properties.ssl: expected a string, "
                  "got a map");
}
