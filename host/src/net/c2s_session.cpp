#include "net/c2s_session.hpp"

#include "core/auth.hpp"
#include "core/host.hpp"
#include "core/log.hpp"
#include "net/router.hpp"
#include "net/session_manager.hpp"
#include "sasl/base64.hpp"
#include "sasl/plain.hpp"

#include <boost/asio/post.hpp>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <array>
#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace aviary {

namespace {

constexpr const char* kNsSasl = "urn:ietf:params:xml:ns:xmpp-sasl";
constexpr const char* kNsTls = "urn:ietf:params:xml:ns:xmpp-tls";
constexpr const char* kNsBind = "urn:ietf:params:xml:ns:xmpp-bind";
constexpr const char* kNsSession = "urn:ietf:params:xml:ns:xmpp-session";
constexpr const char* kNsStreams = "urn:ietf:params:xml:ns:xmpp-streams";
constexpr int kMaxSaslFailures = 5;

std::string random_id() {
  unsigned char b[8];
  RAND_bytes(b, sizeof b);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

// One read buffer per network thread: an idle connection holds none.
char* thread_buffer() {
  thread_local std::array<char, 65536> buf;
  return buf.data();
}

std::string escape(std::string_view t) {
  std::string out;
  xml::escape_text(t, out);
  return out;
}

}  // namespace

C2sSession::C2sSession(Host& host, boost::asio::io_context& io, av_executor ex, boost::asio::ip::tcp::socket sock,
                       const C2sListener& cfg, SSL_CTX* tls)
    : host_(host), io_(io), ex_(ex), sock_(std::move(sock)), cfg_(cfg), tls_ctx_(tls),
      framer_(xml::Limits{cfg.max_stanza_size, cfg.max_depth, cfg.max_attrs}) {
  // Our own reference: at shutdown the listener frees its SSL_CTX (Listeners::close, main
  // thread) while this session's io thread may still call SSL_new() on it (ASan: use-after-
  // free in SSL_new, then a double free in SSL_free).
  if (tls_ctx_) SSL_CTX_up_ref(tls_ctx_);
}

C2sSession::~C2sSession() {
  if (ssl_) SSL_free(ssl_);
  if (tls_ctx_) SSL_CTX_free(tls_ctx_);
}

void C2sSession::start() {
  boost::system::error_code ec;
  auto ep = sock_.remote_endpoint(ec);
  if (!ec) peer_ip_ = ep.address().to_string();
  token_ = host_.sessions().add_connection(weak_from_this());
  sock_.non_blocking(true, ec);
  sock_.set_option(boost::asio::ip::tcp::no_delay(true), ec);
  timer_ = std::make_unique<boost::asio::steady_timer>(io_, std::chrono::milliseconds(cfg_.state_timeout_ms));
  timer_->async_wait([w = weak_from_this()](const boost::system::error_code& e) {
    if (e) return;
    if (auto self = w.lock())
      if (!self->bound_) self->stream_error("connection-timeout", "Session not established in time");
  });
  if (cfg_.tls.mode == "tls") start_tls();
  wait_readable();
}

// ---------------------------------------------------------------- transport

void C2sSession::wait_readable() {
  if (reading_ || state_ == State::closed) return;
  reading_ = true;
  sock_.async_wait(boost::asio::ip::tcp::socket::wait_read,
                   [self = shared_from_this()](const boost::system::error_code& ec) {
                     self->reading_ = false;
                     if (ec) return self->close_now();
                     self->on_readable();
                   });
}

C2sSession::Io C2sSession::read_some(char* buf, size_t cap, size_t* n) {
  if (ssl_) {
    ERR_clear_error();
    int r = SSL_read(ssl_, buf, static_cast<int>(cap));
    if (r > 0) {
      *n = static_cast<size_t>(r);
      return Io::ok;
    }
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ: return Io::would_block_read;
      case SSL_ERROR_WANT_WRITE: return Io::would_block_write;
      case SSL_ERROR_ZERO_RETURN: return Io::eof;
      default: return Io::error;
    }
  }
  ssize_t r = ::recv(sock_.native_handle(), buf, cap, 0);
  if (r > 0) {
    *n = static_cast<size_t>(r);
    return Io::ok;
  }
  if (r == 0) return Io::eof;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Io::would_block_read;
  return Io::error;
}

C2sSession::Io C2sSession::write_some(const char* buf, size_t len, size_t* n) {
  if (ssl_) {
    ERR_clear_error();
    int r = SSL_write(ssl_, buf, static_cast<int>(std::min<size_t>(len, 1 << 30)));
    if (r > 0) {
      *n = static_cast<size_t>(r);
      return Io::ok;
    }
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ: return Io::would_block_read;
      case SSL_ERROR_WANT_WRITE: return Io::would_block_write;
      default: return Io::error;
    }
  }
  ssize_t r = ::send(sock_.native_handle(), buf, len, MSG_NOSIGNAL);
  if (r >= 0) {
    *n = static_cast<size_t>(r);
    return Io::ok;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Io::would_block_write;
  return Io::error;
}

void C2sSession::on_readable() {
  char* buf = thread_buffer();
  for (int rounds = 0; rounds < 16 && state_ != State::closed; ++rounds) {
    size_t n = 0;
    Io r = read_some(buf, 65536, &n);
    if (r == Io::would_block_read) break;
    if (r == Io::would_block_write) {
      // TLS needs to write before it can read (handshake): wait for writability.
      sock_.async_wait(boost::asio::ip::tcp::socket::wait_write,
                       [self = shared_from_this()](const boost::system::error_code& ec) {
                         if (ec) return self->close_now();
                         self->on_readable();
                       });
      return;
    }
    if (r != Io::ok) return close_now();
    auto err = framer_.feed(buf, n, *this);
    if (err != xml::StreamError::none) return stream_error(xml::stream_error_name(err));
    if (tls_after_flush_ || state_ == State::closed) break;
  }
  if (ssl_ && SSL_pending(ssl_) > 0 && state_ != State::closed) {
    boost::asio::post(io_, [self = shared_from_this()] { self->on_readable(); });
    return;
  }
  if (!tls_after_flush_) wait_readable();
}

void C2sSession::send(std::string_view data) {
  if (state_ == State::closed) return;
  out_.append(data);
  schedule_flush();
}

void C2sSession::schedule_flush() {
  if (flush_scheduled_ || writing_) return;
  flush_scheduled_ = true;
  // Deferred so that everything produced in this wakeup leaves in one write.
  boost::asio::post(io_, [self = shared_from_this()] {
    self->flush_scheduled_ = false;
    self->flush();
  });
}

void C2sSession::flush() {
  if (state_ == State::closed) return;
  while (out_pos_ < out_.size()) {
    size_t n = 0;
    Io r = write_some(out_.data() + out_pos_, out_.size() - out_pos_, &n);
    if (r == Io::ok) {
      out_pos_ += n;
      continue;
    }
    if (r == Io::would_block_write || r == Io::would_block_read) {
      writing_ = true;
      auto dir = r == Io::would_block_write ? boost::asio::ip::tcp::socket::wait_write
                                            : boost::asio::ip::tcp::socket::wait_read;
      sock_.async_wait(dir, [self = shared_from_this()](const boost::system::error_code& ec) {
        self->writing_ = false;
        if (ec) return self->close_now();
        self->flush();
      });
      return;
    }
    return close_now();
  }
  std::string().swap(out_);  // release the buffer while idle
  out_pos_ = 0;
  if (close_after_flush_) return close_now();
  if (tls_after_flush_) {
    tls_after_flush_ = false;
    start_tls();
    on_readable();
  }
}

void C2sSession::start_tls() {
  ssl_ = SSL_new(tls_ctx_);
  SSL_set_fd(ssl_, sock_.native_handle());
  SSL_set_accept_state(ssl_);
}

void C2sSession::close_now() {
  if (state_ == State::closed) return;
  if (end_reason_.empty()) end_reason_ = "transport";
  terminate();
  host_.sessions().remove_connection(token_);
  state_ = State::closed;
  if (timer_) timer_->cancel();
  boost::system::error_code ec;
  if (ssl_) SSL_shutdown(ssl_);
  sock_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  sock_.close(ec);
}

// ---------------------------------------------------------------- stream

void C2sSession::send_header() {
  if (header_sent_) return;
  header_sent_ = true;
  stream_id_ = random_id();
  std::string from = vhost_ ? vhost_->name : (host_.vhosts().size() ? host_.vhosts().at(0)->name : "localhost");
  send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='" +
       stream_id_ + "' from='" + from + "' version='1.0' xml:lang='en'>");
}

void C2sSession::stream_error(const char* condition, std::string_view text) {
  if (state_ == State::closed || close_after_flush_) return;
  if (end_reason_.empty()) end_reason_ = condition;
  send_header();
  std::string e = "<stream:error><" + std::string(condition) + " xmlns='" + kNsStreams + "'/>";
  if (!text.empty()) e += "<text xmlns='" + std::string(kNsStreams) + "'>" + escape(text) + "</text>";
  e += "</stream:error></stream:stream>";
  send(e);
  close_after_flush_ = true;
  log::debug("c2s " + (jid_full_.empty() ? stream_id_ : jid_full_) + ": stream error " + condition);
}

void C2sSession::kick(std::string condition, std::string text) {
  boost::asio::post(io_, [self = shared_from_this(), condition = std::move(condition), text = std::move(text)] {
    self->stream_error(condition.c_str(), text);
  });
}

bool C2sSession::plain_allowed() const { return tls_active() || cfg_.allow_unencrypted_plain; }

void C2sSession::send_features() {
  std::string f = "<stream:features>";
  bool tls_required = cfg_.tls.mode == "starttls_required" && !tls_active();
  if (!tls_active() && (cfg_.tls.mode == "starttls" || cfg_.tls.mode == "starttls_required")) {
    f += std::string("<starttls xmlns='") + kNsTls + "'>" + (tls_required ? "<required/>" : "") + "</starttls>";
  }
  if (!authenticated_) {
    if (!tls_required) {
      f += std::string("<mechanisms xmlns='") + kNsSasl + "'>";
      for (auto& m : host_.config().sasl_mechanisms) {
        if (m == "PLAIN" && !plain_allowed()) continue;
        f += "<mechanism>" + m + "</mechanism>";
      }
      f += "</mechanisms>";
      // Modules add pre-authentication features (in-band registration, ...).
      StanzaPtr feats = StanzaPtr::make(xml::Element("stream:features"));
      av_session_params p{sizeof(av_session_params), reinterpret_cast<av_session*>(this), {"", 0}, {"", 0},
                          {vhost_->name.data(), vhost_->name.size()}, {"", 0}, ex_};
      av_features_acc acc{sizeof(av_features_acc), feats.get()};
      host_.run_hook(host_.core_hooks().pre_auth_features, vhost_, &p, &acc);
      for (auto& c : feats.root().children)
        if (!c.is_text()) c.el->serialize(f);
    }
  } else {
    f += std::string("<bind xmlns='") + kNsBind + "'/>";
    if (cfg_.backwards_compatible_session) f += std::string("<session xmlns='") + kNsSession + "'><optional/></session>";
    // Modules add their own features (stream management, CSI, ...).
    StanzaPtr feats = StanzaPtr::make(xml::Element("stream:features"));
    av_session_params p{sizeof(av_session_params), reinterpret_cast<av_session*>(this), {nullptr, 0}, {nullptr, 0},
                        {vhost_->name.data(), vhost_->name.size()}, {nullptr, 0}, ex_};
    av_features_acc acc{sizeof(av_features_acc), feats.get()};
    host_.run_hook(host_.core_hooks().stream_features, vhost_, &p, &acc);
    for (auto& c : feats.root().children)
      if (!c.is_text()) c.el->serialize(f);
  }
  f += "</stream:features>";
  send(f);
}

void C2sSession::on_stream_open(xml::Element&& h) {
  if (state_ == State::closed) return;
  auto to = h.attr_or("to");
  av_vhost* vh = host_.vhosts().find(to);
  if (vh) vhost_ = vh;
  if (h.xmlns() != "jabber:client") return stream_error("invalid-namespace", "The default namespace must be jabber:client");
  if (!vh) return stream_error("host-unknown", "This server does not serve '" + std::string(to) + "'");
  if (h.attr_or("version") != "1.0") return stream_error("unsupported-version", "Only XMPP 1.0 streams are supported");
  header_sent_ = false;
  send_header();
  state_ = authenticated_ ? State::bind : State::auth;
  send_features();
}

void C2sSession::on_stream_close() {
  if (end_reason_.empty()) end_reason_ = "client";
  send("</stream:stream>");
  close_after_flush_ = true;
}

void C2sSession::on_element(std::unique_ptr<xml::Element> el) {
  if (state_ == State::closed || close_after_flush_) return;
  const std::string& name = el->name;
  if (state_ == State::established) return handle_stanza(std::move(el));
  bool tls_required = cfg_.tls.mode == "starttls_required" && !tls_active();
  if (name == "starttls") return handle_starttls(*el);
  if (state_ == State::auth) {
    if (tls_required) return stream_error("policy-violation", "Use STARTTLS first");
    if (name == "auth" && el->xmlns() == kNsSasl) return handle_auth(*el);
    if (name == "response" && el->xmlns() == kNsSasl) return handle_sasl_response(*el);
    if (name == "abort" && el->xmlns() == kNsSasl) {
      scram_.reset();
      return sasl_fail("aborted");
    }
    if (name == "iq") return handle_pre_auth_iq(std::move(el));
    return stream_error("not-authorized");
  }
  if (state_ == State::bind) {
    if (name == "iq") return handle_bind(std::move(el));
    if (name != "message" && name != "presence" && handle_nonza(el)) return;  // e.g. XEP-0198 <resume/>
    return stream_error("not-authorized", "Bind a resource first");
  }
}

// ---------------------------------------------------------------- STARTTLS / SASL

void C2sSession::handle_starttls(const xml::Element& el) {
  if (el.xmlns() != kNsTls || tls_active() || cfg_.tls.mode == "tls" || !tls_ctx_ || state_ != State::auth) {
    send(std::string("<failure xmlns='") + kNsTls + "'/></stream:stream>");
    close_after_flush_ = true;
    return;
  }
  send(std::string("<proceed xmlns='") + kNsTls + "'/>");
  framer_.stop();   // bytes after <starttls/> belong to the TLS layer
  framer_.reset();  // a new stream follows the handshake
  header_sent_ = false;
  state_ = State::header;
  tls_after_flush_ = true;
}

void C2sSession::sasl_fail(const char* condition, std::string_view text) {
  std::string f = std::string("<failure xmlns='") + kNsSasl + "'><" + condition + "/>";
  if (!text.empty()) f += "<text>" + escape(text) + "</text>";
  send(f + "</failure>");
  scram_.reset();
  if (++sasl_failures_ >= kMaxSaslFailures) stream_error("policy-violation", "Too many authentication failures");
}

void C2sSession::sasl_success(const std::string& user, std::string_view additional) {
  jid_ = Jid{user, vhost_->name, ""};
  authenticated_ = true;
  scram_.reset();
  std::string s = std::string("<success xmlns='") + kNsSasl + "'>";
  if (!additional.empty()) s += sasl::base64_encode(additional);
  send(s + "</success>");
  framer_.reset();  // stream restart (RFC 6120 6.4.6)
  state_ = State::header;
}

void C2sSession::handle_auth(const xml::Element& el) {
  std::string mech(el.attr_or("mechanism"));
  auto& mechs = host_.config().sasl_mechanisms;
  bool offered = std::find(mechs.begin(), mechs.end(), mech) != mechs.end() && (mech != "PLAIN" || plain_allowed());
  if (!offered) return sasl_fail("invalid-mechanism");
  std::string b64 = el.text();
  std::optional<std::string> data = (b64 == "=" || b64.empty()) ? std::optional<std::string>("") : sasl::base64_decode(b64);
  if (!data) return sasl_fail("incorrect-encoding");
  auto self = shared_from_this();
  auto on_thread = [this, self](std::function<void()> f) { host_.runtime().post(ex_, std::move(f)); };
  sasl_mech_ = mech;
  if (mech == "PLAIN") {
    auto creds = sasl::parse_plain(*data);
    if (!creds) return sasl_fail("malformed-request");
    std::string user = normalize_user(creds->authcid);
    if (user.empty()) return sasl_fail("not-authorized");
    if (!creds->authzid.empty() && creds->authzid != user + "@" + vhost_->name) return sasl_fail("invalid-authzid");
    std::string password = creds->password;
    bool ok = host_.auth().check_password(user, vhost_->name, password, [on_thread, self, user](av_status st, bool good) {
      on_thread([self, st, good, user] {
        if (st == AV_OK && good)
          self->sasl_success(user, {});
        else
          self->sasl_fail("not-authorized");
      });
    });
    if (!ok) sasl_fail("temporary-auth-failure");
    return;
  }
  sasl::Hash h = mech == "SCRAM-SHA-1" ? sasl::Hash::sha1 : sasl::Hash::sha256;
  scram_ = std::make_unique<sasl::ScramServer>(h);
  auto first = scram_->client_first(*data);
  if (!first.ok) return sasl_fail(first.malformed ? "malformed-request" : "not-authorized");
  std::string user = normalize_user(first.username);
  if (user.empty()) return sasl_fail("not-authorized");
  if (!first.authzid.empty() && first.authzid != user + "@" + vhost_->name) return sasl_fail("invalid-authzid");
  bool ok = host_.auth().get_secret(user, vhost_->name, [on_thread, self, user, h](av_status st, std::string secret) {
    on_thread([self, st, secret = std::move(secret), user, h] {
      if (!self->scram_ || self->state_ != State::auth) return;
      std::optional<sasl::ScramCreds> creds;
      if (st == AV_OK) {
        if (auto all = sasl::parse_creds(secret))
          for (auto& c : *all)
            if (c.hash == h) creds = c;
      } else if (st != AV_E_NOT_FOUND) {
        return self->sasl_fail("temporary-auth-failure");
      }
      self->jid_.user = user;
      std::string challenge = self->scram_->server_first(creds);
      self->send(std::string("<challenge xmlns='") + kNsSasl + "'>" + sasl::base64_encode(challenge) + "</challenge>");
    });
  });
  if (!ok) sasl_fail("temporary-auth-failure");
}

void C2sSession::handle_sasl_response(const xml::Element& el) {
  if (!scram_) return sasl_fail("malformed-request");
  auto data = sasl::base64_decode(el.text());
  if (!data) return sasl_fail("incorrect-encoding");
  auto fin = scram_->client_final(*data);
  if (!fin.ok) return sasl_fail("not-authorized");
  sasl_success(jid_.user, fin.server_final);
}

// ---------------------------------------------------------------- bind and stanzas

void C2sSession::handle_bind(std::unique_ptr<xml::Element> el) {
  const std::string* id = el->attr("id");
  const xml::Element* bind = el->child("bind", kNsBind);
  std::string idattr = id ? " id='" + escape(*id) + "'" : "";
  auto iq_error = [&](const char* type, const char* cond) {
    send("<iq type='error'" + idattr + "><error type='" + type + "'><" + cond +
         " xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>");
  };
  if (el->child("session", kNsSession)) {  // legacy session before bind: harmless
    send("<iq type='result'" + idattr + "/>");
    return;
  }
  if (el->attr_or("type") != "set" || !bind) return iq_error("cancel", "not-allowed");
  std::string resource = bind->child_text("resource");
  if (resource.empty()) resource = "aviary-" + random_id();
  auto full = parse_jid(jid_.user + "@" + jid_.server + "/" + resource);
  if (!full) return iq_error("modify", "bad-request");
  jid_ = *full;
  jid_full_ = jid_.full();
  auto old = host_.sessions().add(jid_, vhost_->index, shared_from_this());
  if (old) old->kick("conflict", "Replaced by a new session with the same resource");
  bound_ = true;
  state_ = State::established;
  timer_.reset();
  send("<iq type='result'" + idattr + "><bind xmlns='" + kNsBind + "'><jid>" + escape(jid_full_) + "</jid></bind></iq>");
  run_session_hook(host_.core_hooks().session_opened);
}

av_status C2sSession::resume_bind(const Jid& full, const av_stanza* presence) {
  if (host_.runtime().current() != ex_) return AV_E_INVALID_ARG;
  if (state_ != State::bind || bound_ || !authenticated_ || close_after_flush_) return AV_E_INVALID_ARG;
  if (full.user != jid_.user || full.server != jid_.server || full.resource.empty()) return AV_E_INVALID_ARG;
  jid_ = full;
  jid_full_ = jid_.full();
  auto old = host_.sessions().add(jid_, vhost_->index, shared_from_this());
  if (old && old.get() != this) old->kick("conflict", "Replaced by a resumed session");
  bound_ = true;
  state_ = State::established;
  timer_.reset();
  run_session_hook(host_.core_hooks().session_opened);
  // The former presence, restored as if the client had sent it again (XEP-0198: a resumed
  // client does not resend it).
  if (presence && state_ == State::established && !close_after_flush_ && presence->root.name == "presence")
    handle_stanza(presence->root.clone());
  return AV_OK;
}

void C2sSession::handle_stanza(std::unique_ptr<xml::Element> el) {
  const std::string name = el->name;  // a copy: *el is moved into the stanza below
  if (name != "message" && name != "presence" && name != "iq") {
    if (handle_nonza(el)) return;
    return stream_error("unsupported-stanza-type", "Unknown top-level element <" + name + "/>");
  }
  auto ns = el->xmlns();
  if (!ns.empty() && ns != "jabber:client") return stream_error("invalid-namespace");
  if (const std::string* from = el->attr("from")) {
    auto f = parse_jid(*from);
    if (!f || f->bare() != jid_.bare() || (!f->resource.empty() && f->resource != jid_.resource))
      return stream_error("invalid-from", "The 'from' address does not match this session");
  }
  el->set_attr("from", jid_full_);
  StanzaPtr s = StanzaPtr::make(std::move(*el));
  if (name == "iq") {
    const xml::Element& e = s.root();
    if (e.child("session", kNsSession) && !e.attr("to")) {
      send("<iq type='result' id='" + escape(e.attr_or("id")) + "'/>");
      return;
    }
    // No 'to': the server answers on behalf of the account (RFC 6120 10.3.3). Making that
    // explicit gives every reply, error or module answer a 'from' (the bare JID).
    if (!e.attr("to")) s.mut().set_attr("to", jid_.bare());
    auto type = e.attr_or("type");
    if (!e.attr("id") || (type != "get" && type != "set" && type != "result" && type != "error"))
      return host_.router().bounce(s, "modify", "bad-request", "An IQ needs an id and a type");
    if ((type == "get" || type == "set") && !e.first_child_element())
      return host_.router().bounce(s, "modify", "bad-request", "An IQ get/set needs one payload element");
  }
  // A handler may have replaced the stanza (av_stanza_acc.replace): read it from s again.
  if (!host_.router().run_send_hooks(s, jid_, reinterpret_cast<av_session*>(this))) return;
  const xml::Element& sent = s.root();
  if (sent.name == "presence" && !sent.attr("to")) {
    auto type = sent.attr_or("type");
    if (type.empty() || type == "unavailable") {
      int prio = 0;
      try {
        prio = std::stoi(sent.child_text("priority"));
      } catch (...) {
      }
      bool available = type.empty();
      host_.sessions().set_presence(jid_, this, available, prio);
      if (available != available_) {
        available_ = available;
        run_session_hook(available ? host_.core_hooks().session_available : host_.core_hooks().session_unavailable);
      }
    }
    return;  // broadcast to contacts belongs to the presence module
  }
  host_.router().route(std::move(s));
}

bool C2sSession::handle_nonza(std::unique_ptr<xml::Element>& el) {
  StanzaPtr s = StanzaPtr::make(std::move(*el));
  std::string from = bound_ ? jid_full_ : jid_.bare();
  av_stanza_params p{sizeof(av_stanza_params), s.get(), {from.data(), from.size()}, {nullptr, 0},
                     reinterpret_cast<av_session*>(this), ex_};
  av_stanza_acc acc{sizeof(av_stanza_acc), false, nullptr};
  StanzaReplace r{s, p, acc};  // c2s/nonza does not honour acc.replace: released, ignored
  host_.run_hook(host_.core_hooks().c2s_nonza, vhost_, &p, &acc, StanzaReplace::discard, &r);
  return acc.drop;  // *el is moved-from either way
}

void C2sSession::handle_pre_auth_iq(std::unique_ptr<xml::Element> el) {
  StanzaPtr s = StanzaPtr::make(std::move(*el));
  const xml::Element& e = s.root();
  auto type = e.attr_or("type");
  if (!e.attr("id") || (type != "get" && type != "set")) {
    if (type == "result" || type == "error") return;  // never answered
    av_stanza* r = stanza_error_reply(e, "modify", "bad-request", "An IQ needs an id and type get or set");
    if (r) send_stanza(StanzaPtr::adopt(r).root());
    return;
  }
  av_stanza_params p{sizeof(av_stanza_params), s.get(), {nullptr, 0}, {vhost_->name.data(), vhost_->name.size()},
                     reinterpret_cast<av_session*>(this), ex_};
  av_iq_acc acc{sizeof(av_iq_acc), false, nullptr};
  host_.run_hook(host_.core_hooks().pre_auth_iq, vhost_, &p, &acc);
  if (acc.reply) {
    StanzaPtr r = StanzaPtr::adopt(acc.reply);
    send_stanza(r.root());
    return;
  }
  if (acc.handled) return;
  av_stanza* r = stanza_error_reply(e, "cancel", "service-unavailable");
  if (r) send_stanza(StanzaPtr::adopt(r).root());
}

void C2sSession::send_raw(StanzaPtr s) {
  if (host_.runtime().current() == ex_) {
    if (!close_after_flush_) send_stanza(s.root());
    return;
  }
  boost::asio::post(io_, [self = shared_from_this(), s = std::move(s)] {
    if (!self->close_after_flush_) self->send_stanza(s.root());
  });
}

void C2sSession::deliver(StanzaPtr s) {
  if (host_.runtime().current() == ex_) return deliver_here(std::move(s));
  boost::asio::post(io_, [self = shared_from_this(), s = std::move(s)]() mutable { self->deliver_here(std::move(s)); });
}

void C2sSession::deliver_here(StanzaPtr s) {
  if (state_ != State::established || close_after_flush_) {
    // Never lose an accepted message because its session just went away.
    if (auto to = parse_jid(s.root().attr_or("to"))) host_.router().to_offline(std::move(s), *to);
    return;
  }
  std::string to = jid_full_;
  std::string from(s.root().attr_or("from"));
  av_stanza_params p{sizeof(av_stanza_params), s.get(), {from.data(), from.size()}, {to.data(), to.size()},
                     reinterpret_cast<av_session*>(this), ex_};
  av_stanza_acc acc{sizeof(av_stanza_acc), false, nullptr};
  StanzaReplace r{s, p, acc};  // a handler's replacement becomes s: what is written
  host_.run_hook(host_.core_hooks().user_receive_packet, vhost_, &p, &acc, StanzaReplace::adopt, &r);
  if (acc.drop) return;
  send_stanza(s.root());
}

void C2sSession::send_stanza(const xml::Element& e) {
  if (state_ == State::closed) return;
  e.serialize(out_);
  schedule_flush();
}

void C2sSession::run_session_hook(av_hook_id h) {
  av_session_params p{sizeof(av_session_params), reinterpret_cast<av_session*>(this),
                      {jid_full_.data(), jid_full_.size()}, {jid_.user.data(), jid_.user.size()},
                      {jid_.server.data(), jid_.server.size()}, {jid_.resource.data(), jid_.resource.size()}, ex_};
  host_.run_hook(h, vhost_, &p, nullptr);
}

void C2sSession::terminate() {
  if (!bound_) return;
  bound_ = false;
  host_.sessions().remove(jid_, vhost_->index, this);
  if (available_) {
    available_ = false;
    run_session_hook(host_.core_hooks().session_unavailable);
  }
  run_session_hook(host_.core_hooks().session_closed);
}

}  // namespace aviary
