#include "net/listeners.hpp"

#include "core/host.hpp"
#include "core/log.hpp"
#include "net/c2s_session.hpp"

#include <openssl/err.h>

namespace aviary {

namespace asio = boost::asio;

SSL_CTX* make_server_tls(const TlsConfig& cfg, std::string* err) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  auto fail = [&](const std::string& what) {
    unsigned long e = ERR_get_error();
    char buf[256] = {0};
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    if (err) *err = what + (e ? std::string(": ") + buf : std::string());
    SSL_CTX_free(ctx);
    return nullptr;
  };
  if (!ctx) return fail("cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx, cfg.certfile.c_str()) != 1)
    return fail("cannot load TLS certificate " + cfg.certfile);
  if (SSL_CTX_use_PrivateKey_file(ctx, cfg.keyfile.c_str(), SSL_FILETYPE_PEM) != 1)
    return fail("cannot load TLS key " + cfg.keyfile);
  if (SSL_CTX_check_private_key(ctx) != 1) return fail("TLS key " + cfg.keyfile + " does not match " + cfg.certfile);
  if (!cfg.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, cfg.ciphers.c_str()) != 1)
    return fail("bad TLS cipher list '" + cfg.ciphers + "'");
  return ctx;
}

Listeners::Listeners(Host& host) : host_(host) {}
Listeners::~Listeners() { close(); }

bool Listeners::open(std::string* err) {
  for (auto& cfg : host_.config().c2s) {
    auto l = std::make_unique<One>();
    l->cfg = &cfg;
    std::string where = "listen.c2s port " + std::to_string(cfg.port);
    if (cfg.tls.mode != "none") {
      std::string e;
      l->tls = make_server_tls(cfg.tls, &e);
      if (!l->tls) {
        if (err) *err = where + ": " + e;
        return false;
      }
    } else {
      log::warning(where + ": no tls section: clients connect without encryption");
    }
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(cfg.ip_address, ec);
    if (ec) {
      if (err) *err = where + ": bad ip_address '" + cfg.ip_address + "'";
      return false;
    }
    asio::ip::tcp::endpoint ep(addr, static_cast<unsigned short>(cfg.port));
    l->acceptor = std::make_unique<asio::ip::tcp::acceptor>(host_.runtime().main());
    l->acceptor->open(ep.protocol(), ec);
    if (!ec) l->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) l->acceptor->bind(ep, ec);
    if (!ec) l->acceptor->listen(cfg.backlog, ec);
    if (ec) {
      if (err) *err = where + ": cannot listen on " + cfg.ip_address + ":" + std::to_string(cfg.port) + ": " + ec.message();
      return false;
    }
    log::info("c2s listening on " + cfg.ip_address + ":" + std::to_string(cfg.port) + " (tls: " + cfg.tls.mode + ")");
    accept(*l);
    list_.push_back(std::move(l));
  }
  return true;
}

void Listeners::accept(One& l) {
  size_t idx = host_.runtime().next_io();
  auto& io = host_.runtime().io(idx);
  l.acceptor->async_accept(io, [this, &l, idx, &io](const boost::system::error_code& ec, asio::ip::tcp::socket sock) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) {
      auto s = std::make_shared<C2sSession>(host_, io, AV_EXEC_IO_BASE + idx, std::move(sock), *l.cfg, l.tls);
      asio::post(io, [s] { s->start(); });
    } else {
      log::warning("c2s accept: " + ec.message());
    }
    accept(l);
  });
}

void Listeners::close() {
  for (auto& l : list_) {
    boost::system::error_code ec;
    if (l->acceptor) l->acceptor->close(ec);
    if (l->tls) SSL_CTX_free(l->tls);
    l->tls = nullptr;
  }
  list_.clear();
}

}  // namespace aviary
