// The admin socket: a Unix stream socket (mode 0600) on which aviaryctl sends one JSON
// request per connection and reads one JSON reply (protocol in ctl/protocol.hpp).
#pragma once

#include "ext/commands.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <memory>
#include <string>

namespace aviary {

class AdminServer {
 public:
  AdminServer(boost::asio::io_context& main, CommandRegistry& commands);
  ~AdminServer();
  // [main] Bind the socket. Refuses when another server answers on it; removes a stale file.
  bool listen(const std::string& path, std::string* err);
  void stop();

 private:
  void accept();
  boost::asio::io_context& io_;
  CommandRegistry& commands_;
  std::unique_ptr<boost::asio::local::stream_protocol::acceptor> acceptor_;
  std::string path_;
};

}  // namespace aviary
