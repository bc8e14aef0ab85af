// rabbit_flood PORT CONNECTIONS SECONDS [CONFIRMS]: publishes chat events (MongooseIM's JSON,
// alternating sent/recv routing keys) to the topic exchange chat_msg on 127.0.0.1:PORT over
// CONNECTIONS connections, in chunks of 256 as the transport's workers do, for SECONDS;
// prints the messages per second the broker accepted (acknowledged, with CONFIRMS=1).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "amqp_conn.hpp"
#include "record.hpp"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: rabbit_flood PORT CONNECTIONS SECONDS [CONFIRMS]\n");
    return 2;
  }
  rabbit::Connection c;
  c.host = "127.0.0.1";
  c.port = std::atoi(argv[1]);
  const int conns = std::atoi(argv[2]);
  const double seconds = std::atof(argv[3]);
  c.confirms_enabled = argc > 4 && std::atoi(argv[4]) != 0;
  rabbit::Exchange x;
  x.enabled = true;
  x.name = "chat_msg";
  std::atomic<uint64_t> accepted{0};
  std::atomic<bool> stop{false}, failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < conns; ++t)
    threads.emplace_back([&] {
      rabbit::AmqpConn a;
      std::string err = a.open(c, std::chrono::seconds(5));
      if (err.empty()) err = a.declare(x);
      if (!err.empty()) {
        std::fprintf(stderr, "rabbit_flood: %s\n", err.c_str());
        failed = true;
        return;
      }
      rabbit::Chunk chunk;
      const std::string body = "{\"to_user_id\":\"user2@localhost\",\"from_user_id\":\"user1@localhost/res\","
                               "\"message\":\"" + std::string(64, 'x') + "\"}";
      for (int i = 0; i < 256; ++i, ++chunk.count)
        rabbit::append_record(
            chunk.bytes, x.name,
            [&](std::string& o) { o += "user" + std::to_string(i) + (i % 2 ? "@localhost.chat_msg_recv" : "@localhost.chat_msg_sent"); },
            [&](std::string& o) { o += body; });
      while (!stop) {
        rabbit::BatchResult r = a.publish_batch(chunk, std::chrono::seconds(5));
        accepted += r.ok;
        if (r.broken) {
          std::fprintf(stderr, "rabbit_flood: %s\n", r.err.c_str());
          failed = true;
          return;
        }
      }
    });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t n = accepted;
  stop = true;
  for (auto& t : threads) t.join();
  std::printf("%.0f msg/s accepted (%d connections, confirms %s)\n", n / seconds, conns,
              c.confirms_enabled ? "on" : "off");
  return failed ? 1 : 0;
}
