#include "mongoosepush.hpp"

#include <aviary/cpp/json_options.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace mpush {

using nlohmann::json;
using ojson = nlohmann::ordered_json;

namespace {

bool parse_int(const std::string& s, long long* out) {
  if (s.empty() || s.size() > 19) return false;
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size()) return false;
  for (size_t k = i; k < s.size(); ++k)
    if (s[k] < '0' || s[k] > '9') return false;
  errno = 0;
  long long v = std::strtoll(s.c_str(), nullptr, 10);
  if (errno == ERANGE) return false;
  *out = v;
  return true;
}

}  // namespace

Pool parse_pool(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::runtime_error("the pool settings are not a JSON object");
  Pool p;
  p.workers = av::json_get_or<int>(j, "workers", p.workers);
  json cn = j.contains("connection") ? j["connection"] : json::object();
  std::string host = av::json_get_or<std::string>(cn, "host", "");
  if (host.empty()) throw std::runtime_error("connection.host is required");
  const bool has_tls = cn.contains("tls") && cn["tls"].is_object();
  if (host.find("://") == std::string::npos) host = (has_tls ? "https://" : "http://") + host;
  const std::string scheme = host.substr(0, host.find("://"));
  if (scheme != "http" && scheme != "https")
    throw std::runtime_error("connection.host must be http://... or https://..., got '" + host + "'");
  if (host.size() == scheme.size() + 3) throw std::runtime_error("connection.host has no host name");
  while (!host.empty() && host.back() == '/') host.pop_back();
  p.base = host;
  p.path_prefix = av::json_get_or<std::string>(cn, "path_prefix", p.path_prefix);
  p.request_timeout_ms = av::json_get_or<int64_t>(cn, "request_timeout", p.request_timeout_ms);
  p.max_queue_len = av::json_get_or<size_t>(cn, "max_queue_len", p.max_queue_len);
  if (has_tls) {
    const json& t = cn["tls"];
    p.tls.enabled = true;
    p.tls.verify_peer = av::json_get_or<std::string>(t, "verify_mode", "peer") != "none";
    p.tls.cacertfile = av::json_get_or<std::string>(t, "cacertfile", "");
    p.tls.certfile = av::json_get_or<std::string>(t, "certfile", "");
    p.tls.keyfile = av::json_get_or<std::string>(t, "keyfile", "");
    p.tls.server_name_indication = av::json_get_or<std::string>(t, "server_name_indication", "");
  }
  if (p.workers < 1) throw std::runtime_error("'workers' must be at least 1");
  if (p.request_timeout_ms < 1) throw std::runtime_error("connection.request_timeout must be at least 1");
  if (p.max_queue_len < 1) throw std::runtime_error("connection.max_queue_len must be at least 1");
  return p;
}

std::string escape_path_segment(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    // RFC 3986 pchar: unreserved / sub-delims / ':' / '@'
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      std::string_view("-._~!$&'()*+,;=:@").find(static_cast<char>(c)) != std::string_view::npos;
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string notification_url(const Pool& pool, std::string_view api_version, std::string_view device_id) {
  std::string url = pool.base;
  url += pool.path_prefix;
  url += api_version;
  url += "/notification/";
  url += escape_path_segment(device_id);
  return url;
}

const std::string* find(const KeyValues& kvs, std::string_view key) {
  for (const auto& [k, v] : kvs)
    if (k == key) return &v;
  return nullptr;
}

Body make_body(const KeyValues& fields, const KeyValues& options) {
  Body b;
  const std::string* service = find(options, "service");
  if (!service) {
    b.error = "the publish-options have no 'service' (apns or fcm)";
    return b;
  }
  const std::string* count_text = find(fields, "message-count");
  long long count = 0;
  if (!count_text || !parse_int(*count_text, &count)) {
    b.error = "the notification's message-count is not an integer";
    return b;
  }
  const bool silent = [&] {
    const std::string* s = find(options, "silent");
    return s && *s == "true";
  }();
  // jiffy writes an Erlang map in key order: atoms (alert/data, service) before binaries
  // (the optional keys), each sorted.
  ojson o = ojson::object();
  if (silent) {
    KeyValues sorted = fields;
    std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    ojson data = ojson::object();
    for (const auto& [k, v] : sorted) {
      if (k == "message-count")
        data[k] = count;
      else
        data[k] = v;
    }
    o["data"] = std::move(data);
  } else {
    const std::string* body = find(fields, "last-message-body");
    const std::string* sender = find(fields, "last-message-sender");
    if (!body || !sender) {
      b.error = "the notification has no last-message-body or last-message-sender";
      return b;
    }
    ojson alert = ojson::object();
    alert["badge"] = count;
    alert["body"] = *body;
    alert["tag"] = *sender;
    alert["title"] = *sender;
    for (const char* k : {"click_action", "sound"})
      if (const std::string* v = find(options, k)) alert[k] = *v;
    o["alert"] = std::move(alert);
  }
  o["service"] = *service;
  for (const char* k : {"mode", "mutable_content", "priority", "time_to_live", "topic"})
    if (const std::string* v = find(options, k)) o[k] = *v;
  b.json = o.dump(-1, ' ', false, ojson::error_handler_t::replace);
  b.ok = true;
  return b;
}

av_push_result result_of(long http_status) {
  if (http_status >= 200 && http_status < 300) return AV_PUSH_RESULT_OK;
  if (http_status == 410) return AV_PUSH_RESULT_DEVICE_NOT_REGISTERED;
  return AV_PUSH_RESULT_ERROR;
}

}  // namespace mpush
