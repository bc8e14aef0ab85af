#include "ctl/admin_server.hpp"

#include "core/log.hpp"
#include "ctl/protocol.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace aviary {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using json = nlohmann::json;

namespace {

const char* type_name(av_cmd_arg_type t) {
  switch (t) {
    case AV_ARG_INT: return "int";
    case AV_ARG_BOOL: return "bool";
    case AV_ARG_JID: return "jid";
    case AV_ARG_JSON: return "json";
    default: return "string";
  }
}

// One client connection: read a line, run it, write the reply, close.
class Conn : public std::enable_shared_from_this<Conn> {
 public:
  Conn(asio::io_context& io, local::socket s, CommandRegistry& cmds) : io_(io), sock_(std::move(s)), cmds_(cmds), buf_(ctl::kMaxRequest) {}

  void start() {
    asio::async_read_until(sock_, buf_, '\n', [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (ec) {
        if (ec == asio::error::not_found) self->send(json{{"status", AV_E_INVALID_ARG}, {"result", "request too long"}});
        return;
      }
      std::string line(asio::buffers_begin(self->buf_.data()), asio::buffers_begin(self->buf_.data()) + static_cast<long>(n));
      self->handle(line);
    });
  }

 private:
  void handle(const std::string& line) {
    json req = json::parse(line, nullptr, false);
    if (req.is_discarded() || !req.is_object())
      return send(json{{"status", AV_E_INVALID_ARG}, {"result", "malformed request (expected one JSON object)"}});
    std::string op = req.value("op", "");
    if (op == "list") {
      json a = json::array();
      for (auto& c : cmds_.list()) {
        json args = json::array();
        for (auto& x : c.args)
          args.push_back({{"name", x.name}, {"type", type_name(x.type)}, {"required", x.required}, {"description", x.description}});
        a.push_back({{"category", c.category}, {"name", c.name}, {"description", c.description}, {"args", args}});
      }
      return send(json{{"status", AV_OK}, {"commands", a}});
    }
    if (op != "call" || !req["category"].is_string() || !req["command"].is_string())
      return send(json{{"status", AV_E_INVALID_ARG}, {"result", "unknown request"}});
    std::map<std::string, std::string> args;
    if (req.contains("args") && req["args"].is_object())
      for (auto& [k, v] : req["args"].items()) args[k] = v.is_string() ? v.get<std::string>() : v.dump();
    auto self = shared_from_this();
    // The reply is written from the main loop (handlers may answer from any thread), so after
    // invoke() has returned and usage_ is known.
    bool accepted = cmds_.invoke(req["category"].get<std::string>(), req["command"].get<std::string>(), args,
                                 [self](av_status st, std::string result) {
                                   asio::post(self->io_, [self, st, result = std::move(result)] {
                                     self->send(json{{"status", st}, {"result", result}, {"usage", self->usage_}});
                                   });
                                 });
    usage_ = !accepted;
  }

  void send(const json& reply) {
    out_ = reply.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
    asio::async_write(sock_, asio::buffer(out_), [self = shared_from_this()](boost::system::error_code, size_t) {
      boost::system::error_code ec;
      self->sock_.close(ec);
    });
  }

  asio::io_context& io_;
  local::socket sock_;
  CommandRegistry& cmds_;
  asio::streambuf buf_;
  std::string out_;
  bool usage_ = false;  // the registry refused the call itself (a usage error)
};

}  // namespace

AdminServer::AdminServer(asio::io_context& main, CommandRegistry& commands) : io_(main), commands_(commands) {}
AdminServer::~AdminServer() { stop(); }

bool AdminServer::listen(const std::string& path, std::string* err) {
  std::error_code fec;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, fec);
  if (std::filesystem::exists(path, fec)) {
    // A live server answers a connect; a stale file from a crash does not.
    local::socket probe(io_);
    boost::system::error_code ec;
    probe.connect(local::endpoint(path), ec);
    if (!ec) {
      if (err) *err = "admin socket " + path + " is in use: is another aviary running?";
      return false;
    }
    ::unlink(path.c_str());
  }
  boost::system::error_code ec;
  acceptor_ = std::make_unique<local::acceptor>(io_);
  acceptor_->open(local(), ec);
  mode_t old = ::umask(0077);  // the socket is created 0600: only root/the server user may administer
  if (!ec) acceptor_->bind(local::endpoint(path), ec);
  ::umask(old);
  if (!ec) acceptor_->listen(64, ec);
  if (ec) {
    if (err) *err = "cannot open the admin socket " + path + ": " + ec.message();
    return false;
  }
  ::chmod(path.c_str(), 0600);
  path_ = path;
  log::info("admin socket " + path);
  accept();
  return true;
}

void AdminServer::accept() {
  acceptor_->async_accept([this](boost::system::error_code ec, local::socket s) {
    if (ec == asio::error::operation_aborted || !acceptor_ || !acceptor_->is_open()) return;
    if (!ec) std::make_shared<Conn>(io_, std::move(s), commands_)->start();
    accept();
  });
}

void AdminServer::stop() {
  if (acceptor_) {
    boost::system::error_code ec;
    acceptor_->close(ec);
  }
  if (!path_.empty()) {
    ::unlink(path_.c_str());
    path_.clear();
  }
}

}  // namespace aviary
