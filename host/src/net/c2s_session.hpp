// One client-to-server XMPP stream (RFC 6120): STARTTLS or direct TLS, SASL, resource
// binding, then stanzas to and from the router. Pinned to one network thread for life;
// every member below runs on that thread unless marked [any-thread].
#pragma once

#include "core/config.hpp"
#include "core/jid.hpp"
#include "ext/stanza_ext.hpp"
#include "sasl/scram.hpp"
#include "xml/framer.hpp"

#include <aviary/host.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <openssl/ssl.h>

#include <memory>
#include <string>

namespace aviary {

class Host;

class C2sSession final : public std::enable_shared_from_this<C2sSession>, private xml::Framer::Handler {
 public:
  C2sSession(Host& host, boost::asio::io_context& io, av_executor ex, boost::asio::ip::tcp::socket sock,
             const C2sListener& cfg, SSL_CTX* tls);
  ~C2sSession() override;
  void start();

  // [any-thread] Deliver a routed stanza to this client.
  void deliver(StanzaPtr s);
  // [any-thread] End the stream with a stream error (e.g. "conflict" when replaced).
  void kick(std::string condition, std::string text);

  const Jid& jid() const { return jid_; }
  av_executor executor() const { return ex_; }
  uint64_t token() const { return token_; }
  const std::string& peer_ip() const { return peer_ip_; }
  // [any-thread] Write an element as it is, no hooks (av.sessions/1 send_to). On the
  // session's own thread it is written at once (in order with deliveries made in the same
  // handler); from another thread it is posted.
  void send_raw(StanzaPtr s);
  // Why the connection ended (av.sessions/1 end_reason): "" while open, "client" after the
  // client's </stream:stream>, "transport" when the connection was lost without one, else the
  // condition of the stream error the server sent ("conflict", "connection-timeout", ...).
  const std::string& end_reason() const { return end_reason_; }
  // [own thread] av.sessions/1 resume_bind: bind this authenticated, not yet bound connection
  // as `full` (same account), run session/opened, then handle `presence` (may be null) as if
  // the client had sent it. AV_E_INVALID_ARG when the state, thread or JID does not allow it.
  av_status resume_bind(const Jid& full, const av_stanza* presence);

 private:
  enum class State { header, auth, bind, established, closed };
  enum class Io { ok, would_block_read, would_block_write, eof, error };

  // xml::Framer::Handler
  void on_stream_open(xml::Element&& header) override;
  void on_element(std::unique_ptr<xml::Element> el) override;
  void on_stream_close() override;

  // transport
  void wait_readable();
  void on_readable();
  Io read_some(char* buf, size_t cap, size_t* n);
  Io write_some(const char* buf, size_t len, size_t* n);
  void send(std::string_view data);
  void schedule_flush();
  void flush();
  void start_tls();
  void close_now();

  // protocol
  void send_header();
  void send_features();
  void stream_error(const char* condition, std::string_view text = {});
  void handle_starttls(const xml::Element& el);
  void handle_auth(const xml::Element& el);
  void handle_sasl_response(const xml::Element& el);
  void sasl_fail(const char* condition, std::string_view text = {});
  void sasl_success(const std::string& user, std::string_view additional);
  void handle_bind(std::unique_ptr<xml::Element> el);
  void handle_stanza(std::unique_ptr<xml::Element> el);
  bool handle_nonza(std::unique_ptr<xml::Element>& el);  // true when a module took it
  void handle_pre_auth_iq(std::unique_ptr<xml::Element> el);
  void deliver_here(StanzaPtr s);
  void send_stanza(const xml::Element& e);
  void terminate();
  void run_session_hook(av_hook_id h);  // session/* notify hooks with this session's params
  bool tls_active() const { return ssl_ != nullptr; }
  bool plain_allowed() const;

  Host& host_;
  boost::asio::io_context& io_;
  av_executor ex_;
  boost::asio::ip::tcp::socket sock_;
  const C2sListener& cfg_;
  SSL_CTX* tls_ctx_;
  SSL* ssl_ = nullptr;
  xml::Framer framer_;
  State state_ = State::header;
  std::string out_;          // pending output; empty (no capacity) when idle
  size_t out_pos_ = 0;
  bool flush_scheduled_ = false;
  bool writing_ = false;
  bool reading_ = false;
  bool close_after_flush_ = false;
  bool tls_after_flush_ = false;
  bool header_sent_ = false;
  bool authenticated_ = false;
  bool bound_ = false;
  bool available_ = false;  // sent available presence, not unavailable since
  uint64_t token_ = 0;      // av.sessions/1 connection token (0 until start())
  std::string peer_ip_;
  int sasl_failures_ = 0;
  std::string stream_id_;
  av_vhost* vhost_ = nullptr;
  std::unique_ptr<sasl::ScramServer> scram_;
  std::string sasl_mech_;
  Jid jid_;
  std::string jid_full_;
  std::string end_reason_;
  std::unique_ptr<boost::asio::steady_timer> timer_;  // pre-session timeout only
};

}  // namespace aviary
