#include <catch2/catch.hpp>

#include "amqp_frames.hpp"

using rabbit::append_publish;

namespace {
std::string bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s.push_back(static_cast<char>(b));
  return s;
}
}  // namespace

TEST_CASE("amqp frames: basic.publish, content header and body, byte for byte (AMQP 0-9-1 4.2.3, 4.2.6)") {
  std::string out;
  REQUIRE(append_publish(out, 1, 131072, "x", "k", "hi"));
  const std::string want =
      // method frame: type 1, channel 1, size 11; basic(60).publish(40), reserved 0, "x", "k", bits 0
      bytes({1, 0, 1, 0, 0, 0, 11, 0, 60, 0, 40, 0, 0, 1, 'x', 1, 'k', 0, 0xCE}) +
      // header frame: type 2, size 14; class 60, weight 0, body size 2, no property flags
      bytes({2, 0, 1, 0, 0, 0, 14, 0, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0xCE}) +
      // body frame: type 3, size 2, "hi"
      bytes({3, 0, 1, 0, 0, 0, 2, 'h', 'i', 0xCE});
  CHECK(out == want);
}

TEST_CASE("amqp frames: a body larger than a frame is split at frame_max - 8; an empty body has no body frame") {
  std::string out;
  REQUIRE(append_publish(out, 7, 18, "", "", std::string(25, 'a')));  // chunks of 10: 10 + 10 + 5
  // method (8 + 9) + header (8 + 14) = 39 bytes, then body frames of 18, 18 and 13 bytes
  REQUIRE(out.size() == 39 + 18 + 18 + 13);
  CHECK(out.substr(39, 7) == bytes({3, 0, 7, 0, 0, 0, 10}));
  CHECK(out.substr(39 + 36, 7) == bytes({3, 0, 7, 0, 0, 0, 5}));
  CHECK(static_cast<unsigned char>(out.back()) == 0xCE);
  std::string empty;
  REQUIRE(append_publish(empty, 1, 131072, "x", "k", ""));
  CHECK(empty.size() == 19 + 22);
}

TEST_CASE("amqp frames: names over 255 bytes cannot be encoded and leave the buffer as it was") {
  std::string out = "keep";
  CHECK_FALSE(append_publish(out, 1, 131072, std::string(256, 'x'), "k", "b"));
  CHECK_FALSE(append_publish(out, 1, 131072, "x", std::string(300, 'k'), "b"));
  CHECK(out == "keep");
}
