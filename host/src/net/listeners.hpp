// c2s listeners: accept on the main thread, hand each connection to a network thread.
#pragma once

#include "core/config.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

namespace aviary {

class Host;

class Listeners {
 public:
  explicit Listeners(Host& host);
  ~Listeners();
  bool open(std::string* err);  // [main] bind every listen.c2s entry
  void close();

 private:
  struct One {
    const C2sListener* cfg;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    SSL_CTX* tls = nullptr;
  };
  void accept(One& l);
  Host& host_;
  std::vector<std::unique_ptr<One>> list_;
};

// Shared TLS context for a listener; SSL_MODE_RELEASE_BUFFERS keeps idle TLS sessions small.
SSL_CTX* make_server_tls(const TlsConfig& cfg, std::string* err);

}  // namespace aviary
