#include "sns_config.hpp"

#include <aviary/cpp/event_pusher_json.hpp>

#include <nlohmann/json.hpp>

#include <stdexcept>

#include "sns_request.hpp"

namespace sns {

namespace {

std::string dump(const nlohmann::ordered_json& o) {
  return o.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void check_text(const std::string& value, const char* option, bool allow_colon = true) {
  if (value.empty()) throw std::runtime_error(std::string(option) + " must not be empty");
  for (char c : value)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || (!allow_colon && c == ':'))
      throw std::runtime_error(std::string(option) + " has a character it cannot contain: '" + value + "'");
}

}  // namespace

std::string parse_endpoint(const std::string& url) {
  std::string_view u = url;
  if (!u.empty() && u.back() == '/') u.remove_suffix(1);
  std::string_view rest;
  if (u.rfind("http://", 0) == 0)
    rest = u.substr(7);
  else if (u.rfind("https://", 0) == 0)
    rest = u.substr(8);
  bool ok = !rest.empty();
  for (char c : rest)
    if (c == '/' || c == '?' || c == '#' || c == '@' || static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) ok = false;
  if (!ok)
    throw std::runtime_error("sns_endpoint must look like https://host[:port] or http://host[:port], not '" + url +
                             "'");
  return std::string(u);
}

void validate(Settings& s) {
  // A topic or the region/account end up between the ':' of the ARN.
  if (s.presence_topic) check_text(*s.presence_topic, "presence_updates_topic", false);
  if (s.pm_topic) check_text(*s.pm_topic, "pm_messages_topic", false);
  if (s.muc_topic) check_text(*s.muc_topic, "muc_messages_topic", false);
  check_text(s.sns_host, "sns_host");
  for (char c : s.sns_host)
    if (c == '/' || c == ' ' || c == '@')
      throw std::runtime_error("sns_host is a host name (e.g. sns.eu-west-1.amazonaws.com), not '" + s.sns_host + "'");
  check_text(s.region, "region", false);
  check_text(s.account_id, "account_id", false);
  check_text(s.creds.access_key_id, "access_key_id");
  check_text(s.creds.secret_access_key, "secret_access_key");
  if (s.pool_size < 1) throw std::runtime_error("pool_size must be at least 1");
  if (s.retry_count < 0 || s.retry_count > 30) throw std::runtime_error("publish_retry_count must be in 0..30");
  if (s.retry_time_ms < 0) throw std::runtime_error("publish_retry_time_ms must not be negative");
  if (s.request_timeout_ms < 1) throw std::runtime_error("request_timeout must be at least 1 ms");
  if (s.max_queue_len < 1) throw std::runtime_error("max_queue_len must be at least 1");
  s.endpoint = s.endpoint.empty() ? "https://" + s.sns_host : parse_endpoint(s.endpoint);
}

std::string user_guid(std::string_view jid) { return av::lower_jid(av::jid_bare_part(jid)); }

std::string presence_json(std::string_view user_jid, bool online) {
  nlohmann::ordered_json o;
  o["user_id"] = user_guid(user_jid);
  o["present"] = online;
  return dump(o);
}

std::string message_json(std::string_view from, std::string_view to, std::string_view body) {
  nlohmann::ordered_json o;
  o["from_user_id"] = user_guid(from);
  o["to_user_id"] = user_guid(to);
  o["message"] = std::string(body);
  return dump(o);
}

std::optional<Publication> publication_for(const Settings& s, const av::PushEvent& e) {
  if (e.kind == AV_PUSH_USER_STATUS) {
    if (!s.presence_topic) return std::nullopt;
    return Publication{topic_arn(s.region, s.account_id, *s.presence_topic), presence_json(e.user_jid, e.online)};
  }
  if (e.kind != AV_PUSH_CHAT || e.direction != AV_PUSH_DIR_SENT) return std::nullopt;
  const std::optional<std::string>& topic = e.chat_type == AV_PUSH_TYPE_GROUPCHAT ? s.muc_topic : s.pm_topic;
  if (!topic) return std::nullopt;
  return Publication{topic_arn(s.region, s.account_id, *topic), message_json(e.from, e.to, e.body)};
}

int64_t backoff_ms(int retry_count, int retry_left, int base_ms, int r) {
  if (base_ms <= 0) return 0;
  int exp = retry_count - retry_left;
  if (exp < 0) exp = 0;
  if (exp > 30) exp = 30;
  const int64_t max = (int64_t{1} << exp) * base_ms;
  if (r < 1) r = 1;
  if (r > base_ms) r = base_ms;
  return max - r;
}

av::PostRequest signed_publish(const Settings& s, const Publication& p, std::string_view amz_date) {
  Request req = publish_request(s.sns_host, publish_body(p.topic_arn, p.json), amz_date);
  sign_publish(req, s.creds, s.region);
  av::PostRequest out;
  out.url = s.endpoint + "/";
  for (const auto& [name, value] : req.headers) out.headers.push_back(name + ": " + value);
  out.body = std::move(req.body);
  return out;
}

}  // namespace sns
