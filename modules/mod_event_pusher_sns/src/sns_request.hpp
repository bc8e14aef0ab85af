// The SNS Query API Publish call (Version 2010-03-31), built as a SigV4-signed HTTP request.
// Pure functions; the module sends the result with libcurl to https://{sns_host}/.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sigv4.hpp"

namespace sns {

// "arn:aws:sns:{region}:{account_id}:{topic}"
std::string topic_arn(std::string_view region, std::string_view account_id,
                      std::string_view topic);

// application/x-www-form-urlencoded body "k1=v1&k2=v2" in the given order, names and values
// uri_encode'd with '/' encoded (space as %20, '+' as %2B).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& params);

// Body of Action=Publish with MessageStructure=json. SNS then requires Message to be a JSON
// object with a string "default" member, so the event JSON text is wrapped as
// {"default":"<event_json as a JSON string>"}; subscribers of every protocol receive the event
// JSON text itself. Invalid UTF-8 in event_json is replaced by U+FFFD rather than throwing.
std::string publish_body(std::string_view topic_arn, std::string_view event_json);

// POST / to sns_host (e.g. "sns.eu-west-1.amazonaws.com", or "localhost:4566" with a port as
// the HTTP client will send it in Host) with headers host, content-type, x-amz-date. Unsigned.
Request publish_request(std::string_view sns_host, std::string body, std::string_view amz_date);

// Signs a publish_request() for service "sns" in `region` using its x-amz-date header, adding
// x-amz-security-token (when creds has a session token) and Authorization to req.headers.
// Throws std::invalid_argument when req has no valid x-amz-date header.
Signed sign_publish(Request& req, const Credentials& creds, std::string_view region);

}  // namespace sns
