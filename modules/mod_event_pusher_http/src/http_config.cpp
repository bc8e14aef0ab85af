#include "http_config.hpp"

#include <aviary/cpp/event_pusher_json.hpp>
#include <aviary/cpp/json_options.hpp>
#include <aviary/cpp/jid.hpp>

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace ephttp {

using nlohmann::json;

namespace {

// A scalar as text. AV_OPT_ANY values come from YAML untyped, so `path: 2024` arrives as a
// number; it is still the string "2024" to us.
std::string text_of(const json& v, const std::string& what) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer() || v.is_number_unsigned() || v.is_number_float()) return v.dump();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  throw std::runtime_error(what + " must be a string");
}

bool authority_ok(std::string_view a) {
  if (a.empty()) return false;
  for (char c : a)
    if (c == '/' || c == '?' || c == '#' || c == '@' || static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return false;
  return true;
}

}  // namespace

PoolConfig parse_pool(const std::string& name, const std::string& text) {
  const std::string where = "outgoing_pools.http." + name;
  json j = av::json_parse(text, where);
  PoolConfig p;
  p.name = name;
  p.workers = av::json_get_or<int>(j, "workers", p.workers, where);
  json cn = j.is_object() && j.contains("connection") ? j["connection"] : json::object();
  const std::string cwhere = where + ".connection";
  p.host = av::json_get_or<std::string>(cn, "host", "", cwhere);
  p.path_prefix = av::json_get_or<std::string>(cn, "path_prefix", p.path_prefix, cwhere);
  p.request_timeout_ms = av::json_get_or<long>(cn, "request_timeout", p.request_timeout_ms, cwhere);
  p.max_queue_len = av::json_get_or<size_t>(cn, "max_queue_len", p.max_queue_len, cwhere);
  if (cn.contains("tls") && cn["tls"].is_object()) {
    const json& t = cn["tls"];
    const std::string twhere = cwhere + ".tls";
    p.tls.enabled = true;
    const std::string mode = av::json_get_or<std::string>(t, "verify_mode", "peer", twhere);
    if (mode != "peer" && mode != "none")
      throw std::runtime_error(twhere + ".verify_mode must be peer or none, not '" + mode + "'");
    p.tls.verify_peer = mode == "peer";
    p.tls.cacertfile = av::json_get_or<std::string>(t, "cacertfile", "", twhere);
    p.tls.certfile = av::json_get_or<std::string>(t, "certfile", "", twhere);
    p.tls.keyfile = av::json_get_or<std::string>(t, "keyfile", "", twhere);
    if (!av::json_get_or<std::string>(t, "server_name_indication", "", twhere).empty())
      throw std::runtime_error(twhere + ".server_name_indication is not supported by mod_event_pusher_http: the "
                               "name in host is the one sent and verified");
  }

  // host: "http[s]://host[:port]"; one trailing '/' is tolerated and dropped.
  std::string_view h = p.host;
  if (!h.empty() && h.back() == '/') h.remove_suffix(1);
  std::string_view rest;
  if (h.rfind("http://", 0) == 0)
    rest = h.substr(7);
  else if (h.rfind("https://", 0) == 0)
    rest = h.substr(8);
  if (!authority_ok(rest))
    throw std::runtime_error(cwhere + ".host must look like http://host[:port] or https://host[:port] (the path "
                             "goes in path_prefix), not '" + p.host + "'");
  p.host = std::string(h);
  if (p.path_prefix.empty() || p.path_prefix[0] != '/')
    throw std::runtime_error(cwhere + ".path_prefix must start with '/', not '" + p.path_prefix + "'");
  for (char c : p.path_prefix)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#')
      throw std::runtime_error(cwhere + ".path_prefix has a character not allowed in a URL path");
  if (p.workers < 1) throw std::runtime_error(where + ".workers must be at least 1");
  if (p.request_timeout_ms < 1) throw std::runtime_error(cwhere + ".request_timeout must be at least 1 ms");
  if (p.max_queue_len < 1) throw std::runtime_error(cwhere + ".max_queue_len must be at least 1");
  return p;
}

std::string fix_path(std::string_view path) {
  if (!path.empty() && path[0] == '/') path.remove_prefix(1);
  return std::string(path);
}

std::vector<Handler> parse_handlers(const std::string& text) {
  std::vector<Handler> out;
  if (text.empty()) return out;
  json j = av::json_parse(text, "handlers");
  if (j.is_null()) return out;
  if (!j.is_array()) throw std::runtime_error("handlers must be a list of maps {pool_name, path, callback_module}");
  for (size_t i = 0; i < j.size(); ++i) {
    const json& e = j[i];
    const std::string where = "handlers[" + std::to_string(i) + "]";
    Handler h;
    if (e.is_null()) {  // `- ` with nothing: all defaults
      out.push_back(h);
      continue;
    }
    if (!e.is_object()) throw std::runtime_error(where + " must be a map {pool_name, path, callback_module}");
    for (auto it = e.begin(); it != e.end(); ++it) {
      const std::string& k = it.key();
      if (k != "pool_name" && k != "path" && k != "callback_module")
        throw std::runtime_error(where + ": unknown key '" + k + "' (expected pool_name, path, callback_module)");
    }
    if (e.contains("pool_name") && !e["pool_name"].is_null()) h.pool_name = text_of(e["pool_name"], where + ".pool_name");
    if (h.pool_name.empty()) throw std::runtime_error(where + ".pool_name must not be empty");
    if (e.contains("path") && !e["path"].is_null()) h.path = fix_path(text_of(e["path"], where + ".path"));
    for (char c : h.path)
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#')
        throw std::runtime_error(where + ".path has a character not allowed in a URL path");
    if (e.contains("callback_module") && !e["callback_module"].is_null()) {
      std::string cb = text_of(e["callback_module"], where + ".callback_module");
      if (cb != kDefaultCallback)
        throw std::runtime_error(where + ".callback_module: only " + std::string(kDefaultCallback) +
                                 " is available, not '" + cb + "'");
    }
    for (const Handler& other : out)
      if (other.pool_name == h.pool_name && other.path == h.path)
        throw std::runtime_error(where + " repeats an earlier handler (pool " + h.pool_name + ", path '" + h.path +
                                 "'): every event would be sent twice");
    out.push_back(std::move(h));
  }
  return out;
}

std::string request_url(const PoolConfig& pool, const Handler& h) { return pool.host + pool.path_prefix + h.path; }

std::string form_urlencode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_') {
      out.push_back(ch);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0F]);
    }
  }
  return out;
}

std::string form_body(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out.push_back('&');
    out += form_urlencode(k);
    out.push_back('=');
    out += form_urlencode(v);
  }
  return out;
}

std::optional<Notification> notification_for(const av::PushEvent& e) {
  if (e.kind != AV_PUSH_CHAT || e.direction != AV_PUSH_DIR_SENT || e.chat_type != AV_PUSH_TYPE_CHAT ||
      e.body.empty())
    return std::nullopt;
  const std::string from = av::lower_jid(av::jid_bare_part(e.from));
  const std::string to = av::lower_jid(av::jid_bare_part(e.to));
  Notification n;
  n.author = std::string(av::jid_local_part(from));
  n.server = std::string(av::jid_domain_part(from));
  n.receiver = std::string(av::jid_local_part(to));
  n.message = e.body;
  return n;
}

std::string prepare_body(const Notification& n) {
  return form_body({{"author", n.author}, {"server", n.server}, {"receiver", n.receiver}, {"message", n.message}});
}

}  // namespace ephttp
