// aviaryctl: the admin CLI. Talks to the running server over its admin socket
// (protocol: host/src/ctl/protocol.hpp); shaped like mongooseimctl:
//   aviaryctl account registerUser --username alice --domain localhost --password secret
// Exit codes: 0 ok, 1 the command failed, 2 usage error, 3 server not reachable.
#include "ctl/protocol.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace {

using json = nlohmann::json;

constexpr int kOk = 0, kFailed = 1, kUsage = 2, kUnreachable = 3;
constexpr const char* kDefaultConfig = "/etc/aviary/aviary.yaml";

void usage(std::ostream& o) {
  o << "Usage: aviaryctl [--config PATH] [--socket PATH] [--json] CATEGORY COMMAND [--ARG VALUE ...]\n"
       "       aviaryctl CATEGORY --help          list the commands of a category\n"
       "       aviaryctl CATEGORY COMMAND --help  describe a command's arguments\n"
       "       aviaryctl status | stop            same as 'server status' / 'server stop'\n"
       "Options:\n"
       "  --config PATH   server config, used to find the admin socket (default /etc/aviary/aviary.yaml)\n"
       "  --socket PATH   admin socket (overrides the config)\n"
       "  --json          print the raw JSON result\n"
       "Example:\n"
       "  aviaryctl account registerUser --username alice --domain localhost --password secret\n";
}

// The socket path the config names (general.ctl_socket, else <data_dir>/aviary.sock).
std::string socket_from_config(const std::string& path, bool explicit_config, std::string* err) {
  std::string data_dir = "/var/lib/aviary";
  try {
    YAML::Node root = YAML::LoadFile(path);
    YAML::Node g = root["general"];
    if (g && g["ctl_socket"]) return g["ctl_socket"].as<std::string>();
    if (g && g["data_dir"]) data_dir = g["data_dir"].as<std::string>();
  } catch (const YAML::BadFile&) {
    if (explicit_config) *err = "cannot read config file " + path;
  } catch (const std::exception& e) {
    *err = path + ": " + e.what();
  }
  return data_dir + "/aviary.sock";
}

// Sends one request line, returns the reply or nullopt with *err.
std::optional<json> ask(const std::string& sock_path, const json& req, std::string* err) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *err = std::string("socket: ") + std::strerror(errno);
    return std::nullopt;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (sock_path.size() >= sizeof addr.sun_path) {
    ::close(fd);
    *err = "socket path too long: " + sock_path;
    return std::nullopt;
  }
  std::memcpy(addr.sun_path, sock_path.c_str(), sock_path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    int e = errno;
    ::close(fd);
    *err = "cannot reach the server at " + sock_path + " (" + std::strerror(e) + "): is aviary running?";
    return std::nullopt;
  }
  std::string line = req.dump() + "\n";
  for (size_t off = 0; off < line.size();) {
    ssize_t n = ::write(fd, line.data() + off, line.size() - off);
    if (n <= 0) {
      ::close(fd);
      *err = "lost the connection to the server while sending";
      return std::nullopt;
    }
    off += static_cast<size_t>(n);
  }
  std::string in;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  json reply = json::parse(in, nullptr, false);
  if (reply.is_discarded() || !reply.is_object()) {
    *err = "the server sent no valid reply";
    return std::nullopt;
  }
  return reply;
}

void print_result(const std::string& text, bool raw) {
  if (raw) {
    std::cout << text << "\n";
    return;
  }
  json r = json::parse(text, nullptr, false);
  if (r.is_discarded() || r.is_primitive()) {
    std::cout << text << "\n";
  } else if (r.is_object() && r.contains("message") && r["message"].is_string()) {
    std::cout << r["message"].get<std::string>() << "\n";
  } else if (r.is_array()) {
    for (auto& e : r) std::cout << (e.is_string() ? e.get<std::string>() : e.dump()) << "\n";
  } else {
    std::cout << r.dump(2) << "\n";
  }
}

int help(const std::string& sock, const std::string& category, const std::string& command) {
  std::string err;
  auto reply = ask(sock, json{{"op", "list"}}, &err);
  if (!reply) {
    if (category.empty()) {
      usage(std::cout);
      std::cout << "\n(the command list comes from the running server: " << err << ")\n";
      return kOk;
    }
    std::cerr << "aviaryctl: " << err << "\n";
    return kUnreachable;
  }
  const json& cmds = (*reply)["commands"];
  if (category.empty()) {
    usage(std::cout);
    std::set<std::string> cats;
    for (auto& c : cmds) cats.insert(c.value("category", ""));
    std::cout << "\nCategories:";
    for (auto& c : cats) std::cout << " " << c;
    std::cout << "\nRun 'aviaryctl CATEGORY --help' for the commands of a category.\n";
    return kOk;
  }
  bool any = false;
  for (auto& c : cmds) {
    if (c.value("category", "") != category) continue;
    if (!command.empty() && c.value("name", "") != command) continue;
    if (!any && command.empty()) std::cout << "Commands in category " << category << ":\n";
    any = true;
    std::cout << "  " << c.value("name", "") << " - " << c.value("description", "") << "\n";
    for (auto& a : c["args"])
      std::cout << "      --" << a.value("name", "") << " <" << a.value("type", "") << ">"
                << (a.value("required", false) ? " (required)" : "") << "  " << a.value("description", "") << "\n";
  }
  if (!any) {
    std::cerr << "aviaryctl: unknown " << (command.empty() ? "category '" + category + "'" : "command '" + category + " " + command + "'")
              << "; run 'aviaryctl --help'\n";
    return kUsage;
  }
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config = kDefaultConfig, sock;
  bool explicit_config = false, raw = false, want_help = false;
  std::vector<std::string> pos;
  std::map<std::string, std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const std::string& opt) -> std::optional<std::string> {
      if (i + 1 >= argc) {
        std::cerr << "aviaryctl: " << opt << " needs a value\n";
        return std::nullopt;
      }
      return std::string(argv[++i]);
    };
    if (a == "--help" || a == "-h" || (a == "help" && pos.empty())) {
      want_help = true;
    } else if (a == "--json") {
      raw = true;
    } else if ((a == "--config" || a == "--socket") && pos.size() < 2) {
      auto v = value(a);
      if (!v) return kUsage;
      if (a == "--config") {
        config = *v;
        explicit_config = true;
      } else {
        sock = *v;
      }
    } else if (a.rfind("--", 0) == 0 && a.size() > 2) {
      if (pos.size() < 2) {
        std::cerr << "aviaryctl: option " << a << " before CATEGORY COMMAND\n";
        usage(std::cerr);
        return kUsage;
      }
      std::string name = a.substr(2), v;
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        v = name.substr(eq + 1);
        name = name.substr(0, eq);
      } else {
        auto got = value(a);
        if (!got) return kUsage;
        v = *got;
      }
      if (args.count(name)) {
        std::cerr << "aviaryctl: argument --" << name << " given twice\n";
        return kUsage;
      }
      args[name] = v;
    } else {
      pos.push_back(a);
    }
  }
  if (pos.size() == 1 && (pos[0] == "status" || pos[0] == "stop")) pos = {"server", pos[0]};
  if (sock.empty()) {
    std::string err;
    sock = socket_from_config(config, explicit_config, &err);
    if (!err.empty()) {
      std::cerr << "aviaryctl: " << err << "\n";
      return kUsage;
    }
  }
  if (want_help) return help(sock, pos.size() > 0 ? pos[0] : "", pos.size() > 1 ? pos[1] : "");
  if (pos.size() != 2) {
    if (pos.size() == 1) {
      std::cerr << "aviaryctl: missing COMMAND after '" << pos[0] << "'; run 'aviaryctl " << pos[0] << " --help'\n";
    } else if (pos.empty()) {
      usage(std::cerr);
    } else {
      std::cerr << "aviaryctl: unexpected argument '" << pos[2] << "' (arguments are --name value)\n";
    }
    return kUsage;
  }
  std::string err;
  auto reply = ask(sock, json{{"op", "call"}, {"category", pos[0]}, {"command", pos[1]}, {"args", args}}, &err);
  if (!reply) {
    std::cerr << "aviaryctl: " << err << "\n";
    return kUnreachable;
  }
  int status = reply->value("status", -10);
  std::string result = reply->value("result", "");
  if (status != 0) {
    std::cerr << "aviaryctl: " << result << "\n";
    return reply->value("usage", false) ? kUsage : kFailed;
  }
  print_result(result, raw);
  return kOk;
}
