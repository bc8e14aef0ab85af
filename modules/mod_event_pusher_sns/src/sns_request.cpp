#include "sns_request.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace sns {

std::string topic_arn(std::string_view region, std::string_view account_id,
                      std::string_view topic) {
  std::string arn = "arn:aws:sns:";
  arn.append(region).append(":").append(account_id).append(":").append(topic);
  return arn;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out += uri_encode(k, true);
    out.push_back('=');
    out += uri_encode(v, true);
  }
  return out;
}

std::string publish_body(std::string_view topic_arn, std::string_view event_json) {
  nlohmann::json message = {{"default", std::string(event_json)}};
  std::string message_text =
      message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return form_encode({{"Action", "Publish"},
                      {"Message", message_text},
                      {"MessageStructure", "json"},
                      {"TopicArn", std::string(topic_arn)},
                      {"Version", "2010-03-31"}});
}

Request publish_request(std::string_view sns_host, std::string body, std::string_view amz_date) {
  Request req;
  req.method = "POST";
  req.host = std::string(sns_host);
  req.path = "/";
  req.headers = {{"host", std::string(sns_host)},
                 {"content-type", "application/x-www-form-urlencoded; charset=utf-8"},
                 {"x-amz-date", std::string(amz_date)}};
  req.body = std::move(body);
  return req;
}

Signed sign_publish(Request& req, const Credentials& creds, std::string_view region) {
  std::string amz_date;
  auto is_amz_date = [](std::string_view name) {
    constexpr std::string_view kName = "x-amz-date";
    if (name.size() != kName.size()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
      char c = name[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      if (c != kName[i]) return false;
    }
    return true;
  };
  for (const auto& [name, value] : req.headers)
    if (is_amz_date(name)) amz_date = value;
  if (amz_date.empty()) throw std::invalid_argument("sns: request has no x-amz-date header");
  return sign_in_place(req, creds, region, "sns", amz_date);
}

}  // namespace sns
