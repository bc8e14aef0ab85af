#include "time_format.hpp"

#include <aviary/cpp/datetime.hpp>

namespace mod_time {

std::string xep82_utc(int64_t unix_us) { return av::xep82_datetime(unix_us); }

std::string time_payload(int64_t unix_us) {
  return "<time xmlns='urn:xmpp:time'><tzo>+00:00</tzo><utc>" + xep82_utc(unix_us) + "</utc></time>";
}

}  // namespace mod_time
