// A tiny HTTP/1.1 server on 127.0.0.1 for the transport tests: records each raw request
// (head and body, exactly as received), answers with a scripted status (keep-alive), or
// stays silent. One connection at a time is enough for one CURL handle.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace testsrv {

class MiniServer {
 public:
  MiniServer() {
    lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(lfd_, 8);
    socklen_t len = sizeof a;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~MiniServer() {
    stop_ = true;
    thread_.join();
    ::close(lfd_);
  }

  int port() const { return port_; }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }

  // The next requests get these answers ("" = no answer at all: the client times out).
  void script(std::vector<std::string> statuses_and_bodies) {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& s : statuses_and_bodies) answers_.push_back(std::move(s));
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lk(mu_);
    return requests_;
  }
  int connections() const { return connections_; }

 private:
  // An answer "500" or "200 <body>".
  static std::string response(const std::string& a) {
    const auto sp = a.find(' ');
    const std::string status = a.substr(0, sp), body = sp == std::string::npos ? "" : a.substr(sp + 1);
    return "HTTP/1.1 " + status + " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }

  bool readable(int fd, int ms) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, ms) > 0;
  }

  void loop() {
    while (!stop_) {
      if (!readable(lfd_, 20)) continue;
      int fd = ::accept(lfd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      serve(fd);
      ::close(fd);
    }
  }

  void serve(int fd) {
    std::string buf;
    while (!stop_) {
      size_t head_end = buf.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        size_t cl = 0;
        auto p = buf.find("Content-Length: ");
        if (p != std::string::npos && p < head_end) cl = std::stoul(buf.substr(p + 16));
        if (buf.size() >= head_end + 4 + cl) {
          std::string req = buf.substr(0, head_end + 4 + cl);
          buf.erase(0, req.size());
          std::string answer = "200";
          {
            std::lock_guard<std::mutex> lk(mu_);
            requests_.push_back(req);
            if (!answers_.empty()) {
              answer = answers_.front();
              answers_.pop_front();
            }
          }
          if (answer.empty()) {  // silent: wait until the client goes away
            while (!stop_) {
              if (readable(fd, 20)) {
                char c[256];
                if (::recv(fd, c, sizeof c, 0) <= 0) return;
              }
            }
            return;
          }
          std::string r = response(answer);
          if (::send(fd, r.data(), r.size(), MSG_NOSIGNAL) < 0) return;
          continue;
        }
      }
      if (!readable(fd, 20)) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
    }
  }

  int lfd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::mutex mu_;
  std::deque<std::string> answers_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

}  // namespace testsrv
