#include "core/config.hpp"

#include "core/schema.hpp"
#include "core/yaml_json.hpp"

#include <fstream>
#include <sstream>
#include <thread>

namespace aviary {

namespace {

Spec tls_spec() {
  return Spec::map({{"mode", Spec::enumeration({"none", "starttls", "starttls_required", "tls"})},
                    {"certfile", Spec::string()},
                    {"keyfile", Spec::string()},
                    {"ciphers", Spec::string()}});
}

Spec c2s_spec() {
  return Spec::map({{"port", Spec::integer(1, 65535).req()},
                    {"ip_address", Spec::string()},
                    {"backlog", Spec::integer(1, 65535)},
                    {"max_stanza_size", Spec::integer(1024, 16 * 1024 * 1024)},
                    {"max_depth", Spec::integer(4, 1000)},
                    {"max_attrs", Spec::integer(4, 10000)},
                    {"tls", tls_spec()},
                    {"allow_unencrypted_plain", Spec::boolean()},
                    {"backwards_compatible_session", Spec::boolean()},
                    {"state_timeout", Spec::integer(100, 3600000)}});
}

Spec rdbms_connection_fields(bool driver_required) {
  Spec d = Spec::enumeration({"sqlite", "pgsql", "mysql"});
  if (driver_required) d = d.req();
  return Spec::map({{"driver", d},
                    {"database", Spec::string()},
                    {"host", Spec::string()},
                    {"port", Spec::integer(1, 65535)},
                    {"username", Spec::string()},
                    {"password", Spec::string()},
                    {"connect_timeout", Spec::integer(1, 600)}});
}

// Client TLS settings of an outgoing pool (rabbit, http). No defaults here: the section's
// presence turns TLS on (verify_mode absent = peer).
Spec client_tls_spec() {
  return Spec::map({{"verify_mode", Spec::enumeration({"peer", "none"})},
                    {"cacertfile", Spec::string()},
                    {"certfile", Spec::string()},
                    {"keyfile", Spec::string()},
                    {"server_name_indication", Spec::string()}});
}

// outgoing_pools.<type>.<tag> for the pools modules open themselves (av.pools/1), shaped like
// mongooseim.toml's; the defaults are MongooseIM's.
Spec module_pool_spec(const std::string& type) {
  // scope: accepted as in mongooseim.toml; both values mean one pool for the whole server here.
  Spec common = Spec::map({{"scope", Spec::enumeration({"global", "host_type"}).def("global")}});
  if (type == "rabbit") {
    // Only the strategy the rabbit transport implements (events go to the shortest queue);
    // MongooseIM's others are refused rather than silently ignored.
    common.fields["strategy"] = Spec::enumeration({"best_worker"}).def("best_worker");
    common.fields["workers"] = Spec::integer(1, 1000).def("10");
    common.fields["connection"] = Spec::map({{"host", Spec::string().def("localhost")},
                                             {"port", Spec::integer(1, 65535).def("5672")},
                                             {"username", Spec::string().def("guest")},
                                             {"password", Spec::string().def("guest")},
                                             {"virtual_host", Spec::string().def("/")},
                                             {"confirms_enabled", Spec::boolean().def("false")},
                                             // 0 = no limit (MongooseIM's "infinity")
                                             {"max_worker_queue_len", Spec::integer(0, 100000000).def("1000")},
                                             {"tls", client_tls_spec()}});
  } else if (type == "kafka") {
    common.fields["connection"] =
        Spec::map({{"bootstrap_servers", Spec::string().def("localhost:9092")},
                   {"client_id", Spec::string().def("aviary")},
                   {"max_queue_len", Spec::integer(1, 100000000).def("100000")},
                   // ms a clean stop waits for queued events to be delivered
                   {"flush_timeout", Spec::integer(0, 600000).def("5000")},
                   // passed to librdkafka as they are (sasl.*, ssl.*, acks, linger.ms...)
                   {"properties", Spec::map_of(Spec::string())}});
  } else {  // http
    common.fields["workers"] = Spec::integer(1, 1000).def("50");
    common.fields["connection"] = Spec::map({{"host", Spec::string().req()},
                                             {"path_prefix", Spec::string().def("/")},
                                             {"request_timeout", Spec::integer(1, 3600000).def("2000")},
                                             {"max_queue_len", Spec::integer(1, 100000000).def("10000")},
                                             {"tls", client_tls_spec()}})
                                      .req();
  }
  return common;
}

const char* const kModulePoolTypes[] = {"rabbit", "kafka", "http"};

Spec root_spec() {
  Spec pool = rdbms_connection_fields(false);
  pool.fields["workers"] = Spec::integer(1, 256);
  pool.fields["max_queue"] = Spec::integer(1, 10000000);
  pool.fields["connection"] = rdbms_connection_fields(false);
  return Spec::map({
      {"general", Spec::map({{"hosts", Spec::string_list().req()},
                             {"loglevel", Spec::enumeration({"debug", "info", "warning", "error"})},
                             {"data_dir", Spec::string()},
                             {"threads", Spec::integer(0, 256)},
                             {"worker_threads", Spec::integer(1, 256)},
                             {"ctl_socket", Spec::string()},
                             {"module_path", Spec::string_list()}})
                      .req()},
      {"listen", Spec::map({{"c2s", Spec::list_of(c2s_spec())}})},
      {"auth", Spec::map({{"methods", Spec::string_list()},
                          {"sasl_mechanisms", Spec::string_list()},
                          {"max_users_per_domain", Spec::integer(0, 1000000000)},
                          {"password", Spec::map({{"format", Spec::enumeration({"scram"})},
                                                  {"scram_iterations", Spec::integer(1, 1000000)}})}})},
      {"outgoing_pools", Spec::map({{"rdbms", Spec::map_of(pool)},
                                    {"rabbit", Spec::map_of(module_pool_spec("rabbit"))},
                                    {"kafka", Spec::map_of(module_pool_spec("kafka"))},
                                    {"http", Spec::map_of(module_pool_spec("http"))}})},
      {"modules", Spec::map_of(Spec::any())},
  });
}

std::string str_or(const YAML::Node& n, const std::string& d) { return n && n.IsScalar() ? n.Scalar() : d; }
int64_t int_or(const YAML::Node& n, int64_t d) { return n && n.IsScalar() ? std::stoll(n.Scalar()) : d; }
bool bool_or(const YAML::Node& n, bool d) { return n && n.IsScalar() ? n.Scalar() == "true" : d; }
std::vector<std::string> list_or(const YAML::Node& n, std::vector<std::string> d) {
  if (!n || !n.IsSequence()) return d;
  std::vector<std::string> out;
  for (auto e : n) out.push_back(e.Scalar());
  return out;
}

void check_semantics(Config& c, std::vector<std::string>& errors) {
  const auto& f = c.file;
  auto at = [&](const YAML::Node& n) { return f + ":" + std::to_string(line_of(n)) + ": "; };
  YAML::Node g = c.root["general"];
  if (c.hosts.empty()) errors.push_back(at(g["hosts"]) + "general.hosts: expected at least one domain");
  for (auto& h : c.hosts)
    if (h.empty() || h.find_first_of("@/ \t") != std::string::npos)
      errors.push_back(at(g["hosts"]) + "general.hosts: '" + h + "' is not a valid domain name");
  for (auto& l : c.c2s) {
    std::string where = f + ":" + std::to_string(l.line) + ": listen.c2s (port " + std::to_string(l.port) + "): ";
    if (l.tls.mode != "none" && (l.tls.certfile.empty() || l.tls.keyfile.empty()))
      errors.push_back(where + "tls needs both certfile and keyfile");
  }
  for (auto& m : c.sasl_mechanisms)
    if (m != "SCRAM-SHA-256" && m != "SCRAM-SHA-1" && m != "PLAIN")
      errors.push_back(at(c.root["auth"]["sasl_mechanisms"]) + "auth.sasl_mechanisms: unknown mechanism '" + m +
                       "' (expected SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN)");
  for (auto it = c.root["modules"].begin(); c.root["modules"] && it != c.root["modules"].end(); ++it) {
    auto name = it->first.Scalar();
    bool ok = name.rfind("mod_", 0) == 0 && name.size() > 4;
    for (char ch : name) ok = ok && ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_');
    if (!ok) errors.push_back(at(it->first) + "modules." + name + ": module names look like mod_name ([a-z0-9_])");
  }
}

}  // namespace

bool parse_config_text(const std::string& text, const std::string& file, Config& c, std::vector<std::string>& errors) {
  c.file = file;
  try {
    c.root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    errors.push_back(file + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg);
    return false;
  }
  if (!c.root.IsMap()) {
    errors.push_back(file + ":1: expected a map with the sections general, listen, auth, outgoing_pools, modules");
    return false;
  }
  validate(c.root, root_spec(), file, "", errors);
  if (!errors.empty()) return false;

  YAML::Node g = c.root["general"];
  c.hosts = list_or(g["hosts"], {});
  for (auto& h : c.hosts)
    for (auto& ch : h)
      if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  c.loglevel = str_or(g["loglevel"], c.loglevel);
  c.data_dir = str_or(g["data_dir"], c.data_dir);
  c.threads = static_cast<int>(int_or(g["threads"], 0));
  if (c.threads == 0) c.threads = std::max(1u, std::thread::hardware_concurrency());
  c.worker_threads = static_cast<int>(int_or(g["worker_threads"], c.worker_threads));
  c.ctl_socket = str_or(g["ctl_socket"], c.data_dir + "/aviary.sock");
  c.module_path = list_or(g["module_path"], {});

  YAML::Node a = c.root["auth"];
  c.auth_methods = list_or(a["methods"], c.auth_methods);
  c.sasl_mechanisms = list_or(a["sasl_mechanisms"], c.sasl_mechanisms);
  for (auto& m : c.sasl_mechanisms)
    for (auto& ch : m) ch = (ch == '_') ? '-' : static_cast<char>(toupper(static_cast<unsigned char>(ch)));
  c.scram_iterations = static_cast<uint32_t>(int_or(a["password"]["scram_iterations"], c.scram_iterations));
  c.max_users_per_domain = static_cast<int>(int_or(a["max_users_per_domain"], 0));

  for (auto l : c.root["listen"]["c2s"]) {
    C2sListener x;
    x.line = line_of(l);
    x.port = static_cast<int>(int_or(l["port"], x.port));
    x.ip_address = str_or(l["ip_address"], x.ip_address);
    x.backlog = static_cast<int>(int_or(l["backlog"], x.backlog));
    x.max_stanza_size = static_cast<size_t>(int_or(l["max_stanza_size"], static_cast<int64_t>(x.max_stanza_size)));
    x.max_depth = static_cast<unsigned>(int_or(l["max_depth"], x.max_depth));
    x.max_attrs = static_cast<unsigned>(int_or(l["max_attrs"], x.max_attrs));
    x.allow_unencrypted_plain = bool_or(l["allow_unencrypted_plain"], false);
    x.backwards_compatible_session = bool_or(l["backwards_compatible_session"], true);
    x.state_timeout_ms = static_cast<int>(int_or(l["state_timeout"], x.state_timeout_ms));
    if (YAML::Node t = l["tls"]) {
      x.tls.mode = str_or(t["mode"], "starttls_required");
      x.tls.certfile = str_or(t["certfile"], "");
      x.tls.keyfile = str_or(t["keyfile"], "");
      x.tls.ciphers = str_or(t["ciphers"], "");
    }
    c.c2s.push_back(x);
  }

  for (auto it = c.root["outgoing_pools"]["rdbms"].begin(); c.root["outgoing_pools"]["rdbms"] && it != c.root["outgoing_pools"]["rdbms"].end(); ++it) {
    YAML::Node p = it->second;
    YAML::Node cn = p["connection"] ? p["connection"] : p;
    auto pick = [&](const char* k) { return cn[k] ? cn[k] : p[k]; };
    SqlPoolConfig s;
    s.tag = it->first.Scalar();
    s.driver = str_or(pick("driver"), "");
    if (s.driver.empty()) {
      errors.push_back(file + ":" + std::to_string(line_of(it->first)) + ": outgoing_pools.rdbms." + s.tag +
                       ": missing required key 'driver' (sqlite, pgsql or mysql)");
      continue;
    }
    s.database = str_or(pick("database"), s.driver == "sqlite" ? c.data_dir + "/aviary.db" : "aviary");
    s.host = str_or(pick("host"), s.host);
    s.port = static_cast<int>(int_or(pick("port"), s.driver == "mysql" ? 3306 : 5432));
    s.username = str_or(pick("username"), "");
    s.password = str_or(pick("password"), "");
    s.connect_timeout_s = static_cast<int>(int_or(pick("connect_timeout"), s.connect_timeout_s));
    s.workers = static_cast<int>(int_or(p["workers"], s.workers));
    s.max_queue = static_cast<size_t>(int_or(p["max_queue"], static_cast<int64_t>(s.max_queue)));
    c.rdbms.push_back(s);
  }

  for (const char* type : kModulePoolTypes) {
    YAML::Node pools = c.root["outgoing_pools"][type];
    for (auto it = pools.begin(); pools && it != pools.end(); ++it)
      c.module_pools[type][it->first.Scalar()] = json_with_defaults(it->second, module_pool_spec(type)).dump();
  }

  for (auto it = c.root["modules"].begin(); c.root["modules"] && it != c.root["modules"].end(); ++it)
    c.modules.push_back(ModuleSection{it->first.Scalar(), it->second, line_of(it->first)});

  check_semantics(c, errors);
  return errors.empty();
}

bool load_config(const std::string& path, Config& out, std::vector<std::string>& errors) {
  std::ifstream in(path);
  if (!in) {
    errors.push_back(path + ": cannot read the config file");
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config_text(ss.str(), path, out, errors);
}

}  // namespace aviary
