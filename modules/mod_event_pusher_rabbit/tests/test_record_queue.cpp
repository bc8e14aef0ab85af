#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include "record.hpp"
#include "record_queue.hpp"

using namespace rabbit;
using namespace std::chrono;

namespace {
std::string record(std::string_view x, std::string_view key, std::string_view body) {
  std::string out;
  REQUIRE(append_record(out, x, [&](std::string& o) { o.append(key); }, [&](std::string& o) { o.append(body); }));
  return out;
}
bool push(RecordQueue& q, std::string_view rec) {
  return q.try_append([&](std::string& b) {
    b.append(rec);
    return true;
  }) == RecordQueue::Push::ok;
}
}  // namespace

TEST_CASE("rabbit records: encoded back to back, read back whole") {
  std::string buf = record("chat_msg", "bob@localhost.chat_msg_recv", "{\"message\":\"hi\"}");
  buf += record("presence", "alice@localhost", std::string(70000, 'x'));  // a body over 64 KiB
  buf += record("", "", "");
  size_t pos = 0;
  RecordView r;
  REQUIRE(next_record(buf, pos, r));
  CHECK(r.exchange == "chat_msg");
  CHECK(r.routing_key == "bob@localhost.chat_msg_recv");
  CHECK(r.body == "{\"message\":\"hi\"}");
  REQUIRE(next_record(buf, pos, r));
  CHECK(r.exchange == "presence");
  CHECK(r.body.size() == 70000);
  REQUIRE(next_record(buf, pos, r));
  CHECK(r.routing_key.empty());
  CHECK(r.body.empty());
  CHECK_FALSE(next_record(buf, pos, r));
  CHECK(pos == buf.size());
  // A cut record is not read.
  std::string cut = record("x", "k", "body").substr(0, 8);
  pos = 0;
  CHECK_FALSE(next_record(cut, pos, r));
  CHECK(pos == 0);
}

TEST_CASE("rabbit records: a routing key over 255 bytes is refused and leaves the buffer as it was") {
  std::string out = "prefix";
  CHECK_FALSE(append_record(out, "x", [](std::string& o) { o.append(256, 'k'); }, [](std::string& o) { o += "b"; }));
  CHECK(out == "prefix");
  CHECK_FALSE(append_record(out, std::string(256, 'x'), [](std::string&) {}, [](std::string&) {}));
  CHECK(out == "prefix");
  CHECK(append_record(out, "x", [](std::string& o) { o.append(255, 'k'); }, [](std::string&) {}));
}

TEST_CASE("rabbit record queue: bounded, chunked, refusals leave nothing behind") {
  RecordQueue q(5, /*chunk_records=*/2);
  const std::string rec = record("x", "k", "v");
  for (int i = 0; i < 5; ++i) CHECK(push(q, rec));
  CHECK_FALSE(push(q, rec));  // full
  CHECK(q.try_append([](std::string&) { return true; }) == RecordQueue::Push::full);
  CHECK(q.size() == 5);
  Chunk c;
  CHECK(q.take(c) == 2);  // chunks of two records
  CHECK(c.bytes == rec + rec);
  CHECK(q.approx_size() == 3);
  // A refused record: nothing appended, nothing counted, no empty chunk left to take.
  CHECK(q.try_append([](std::string& b) {
          b += "half";
          return false;
        }) == RecordQueue::Push::refused);
  CHECK(q.size() == 3);
  CHECK(q.take(c) == 2);
  CHECK(q.take(c) == 1);
  CHECK(c.bytes == rec);
  CHECK(q.take(c) == 0);
  CHECK(q.try_append([](std::string&) { return false; }) == RecordQueue::Push::refused);
  CHECK(q.take(c) == 0);
  CHECK(push(q, rec));
  CHECK(q.take(c) == 1);
}

TEST_CASE("rabbit record queue: a chunk closes at its byte limit") {
  RecordQueue q(0, 1000, /*chunk_bytes=*/100);
  const std::string rec = record("x", "k", std::string(60, 'b'));
  for (int i = 0; i < 3; ++i) CHECK(push(q, rec));
  Chunk c;
  CHECK(q.take(c) == 2);  // the second record went over 100 bytes: the chunk closed after it
  CHECK(q.take(c) == 1);
}

TEST_CASE("rabbit record queue: the consumer waits for the first record; close ends the wait") {
  RecordQueue q(0);
  CHECK_FALSE(q.wait(milliseconds(1)));
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    push(q, record("x", "k", "v"));
  });
  const auto t0 = steady_clock::now();
  CHECK(q.wait(seconds(5)));
  CHECK(steady_clock::now() - t0 < seconds(4));
  producer.join();
  Chunk c;
  CHECK(q.take(c) == 1);
  std::thread closer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    q.close();
  });
  CHECK_FALSE(q.wait(seconds(5)));
  closer.join();
  CHECK(q.closed());
  CHECK_FALSE(push(q, record("x", "k", "v")));
}
