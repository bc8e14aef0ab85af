// Admin commands owned by the host: accounts (through the auth provider), sending
// stanzas, sessions and server status. Shaped like MongooseIM's GraphQL admin schema.
#include "core/auth.hpp"
#include "core/host.hpp"
#include "core/jid.hpp"
#include "net/c2s_session.hpp"
#include "net/router.hpp"
#include "net/session_manager.hpp"

#include <aviary/version.h>
#include <nlohmann/json.hpp>
#include <openssl/rand.h>

#include <functional>
#include <memory>

namespace aviary {

namespace {

using json = nlohmann::json;

struct Call {
  const av_ext_commands_v1* x;
  av_cmd_call* c;
  std::string arg(const char* n) const {
    av_str v = x->arg(c, n);
    return v.ptr ? std::string(v.ptr, v.len) : std::string();
  }
  bool has(const char* n) const { return x->arg(c, n).ptr != nullptr; }
  void ok(const std::string& r) const { x->reply(c, AV_OK, av_strn(r.data(), r.size())); }
  void fail(av_status st, const std::string& r) const { x->reply(c, st, av_strn(r.data(), r.size())); }
};

using Fn = std::function<void(const Call&)>;

struct Entry {
  std::vector<av_cmd_arg> args;
  Fn fn;
};

std::vector<std::unique_ptr<Entry>>& entries() {
  static std::vector<std::unique_ptr<Entry>> v;
  return v;
}

void add(CommandRegistry& reg, const char* cat, const char* name, const char* desc, std::vector<av_cmd_arg> args, Fn fn) {
  args.push_back(av_cmd_arg{nullptr, 0, false, nullptr});
  auto e = std::make_unique<Entry>(Entry{std::move(args), std::move(fn)});
  av_cmd_spec spec{sizeof(av_cmd_spec), cat, name, desc, e->args.data(),
                   [](void* user, av_cmd_call* c) {
                     auto* en = static_cast<Entry*>(user);
                     Call call{Host::get().commands().ext(), c};
                     try {
                       en->fn(call);
                     } catch (const std::exception& ex) {
                       call.fail(AV_E_INTERNAL, std::string("internal error: ") + ex.what());
                     }
                   },
                   e.get()};
  reg.add(nullptr, &spec);
  entries().push_back(std::move(e));
}

// Splits --user alice@localhost into a local user of a served domain, or replies an error.
bool local_user(const Call& c, const std::string& jid_text, Jid& out) {
  auto j = parse_jid(jid_text);
  if (!j || j->user.empty()) {
    c.fail(AV_E_INVALID_ARG, "Invalid JID '" + jid_text + "'");
    return false;
  }
  if (!Host::get().vhosts().find(j->server)) {
    c.fail(AV_E_NOT_FOUND, "Domain '" + j->server + "' is not served here");
    return false;
  }
  out = *j;
  return true;
}

void run_account_hook(av_hook_id h, const Jid& j) {
  std::string bare = j.bare();
  av_session_params p{sizeof(av_session_params), nullptr, {bare.data(), bare.size()}, {j.user.data(), j.user.size()},
                      {j.server.data(), j.server.size()}, {"", 0}, Host::get().runtime().current()};
  Host::get().run_hook(h, Host::get().vhosts().find(j.server), &p, nullptr);
}

const char* no_provider = "No authentication provider is enabled (enable mod_auth_internal)";

}  // namespace

void Host::register_host_commands() {
  auto& reg = *commands_;
  add(reg, "account", "registerUser", "Register a user (a UUID username is generated when none is given)",
      {{"domain", AV_ARG_STRING, true, "Domain served here"},
       {"username", AV_ARG_STRING, false, "Local part; generated when absent"},
       {"password", AV_ARG_STRING, true, "Password"}},
      [](const Call& c) {
        std::string domain = c.arg("domain");
        std::string user = c.has("username") ? c.arg("username") : "";
        if (user.empty()) {
          unsigned char b[16];
          RAND_bytes(b, sizeof b);
          static const char* hex = "0123456789abcdef";
          for (int i = 0; i < 16; ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10) user += '-';
            user += hex[b[i] >> 4];
            user += hex[b[i] & 15];
          }
        }
        Jid j;
        if (!local_user(c, user + "@" + domain, j)) return;
        if (c.arg("password").empty()) return c.fail(AV_E_INVALID_ARG, "Empty password");
        std::string bare = j.bare();
        if (!Host::get().auth().register_user(j.user, j.server, c.arg("password"), [c, bare, j](av_status st) {
              if (st == AV_OK) {
                run_account_hook(Host::get().core_hooks().account_registered, j);
                c.ok(json{{"message", "User " + bare + " successfully registered"}, {"jid", bare}}.dump());
              } else if (st == AV_E_EXISTS) {
                c.fail(st, "User " + bare + " already registered");
              } else {
                c.fail(st, "Cannot register user " + bare + " (error " + std::to_string(st) + ")");
              }
            }))
          c.fail(AV_E_UNSUPPORTED, no_provider);
      });
  add(reg, "account", "removeUser", "Remove a user and, through the account/removed hook, the user's data",
      {{"user", AV_ARG_JID, true, "Bare JID"}}, [](const Call& c) {
        Jid j;
        if (!local_user(c, c.arg("user"), j)) return;
        std::string bare = j.bare();
        if (!Host::get().auth().remove_user(j.user, j.server, [c, bare, j](av_status st) {
              if (st == AV_OK) {
                run_account_hook(Host::get().core_hooks().account_removed, j);
                for (auto& e : Host::get().sessions().find_bare(bare)) e.session->kick("not-authorized", "Account removed");
                c.ok(json{{"message", "User " + bare + " successfully unregistered"}, {"jid", bare}}.dump());
              } else if (st == AV_E_NOT_FOUND) {
                c.fail(st, "User " + bare + " does not exist");
              } else {
                c.fail(st, "Cannot remove user " + bare);
              }
            }))
          c.fail(AV_E_UNSUPPORTED, no_provider);
      });
  add(reg, "account", "checkPassword", "Check a user's password",
      {{"user", AV_ARG_JID, true, "Bare JID"}, {"password", AV_ARG_STRING, true, "Password"}}, [](const Call& c) {
        Jid j;
        if (!local_user(c, c.arg("user"), j)) return;
        std::string bare = j.bare();
        if (!Host::get().auth().check_password(j.user, j.server, c.arg("password"), [c, bare](av_status st, bool good) {
              if (st != AV_OK && st != AV_E_NOT_FOUND) return c.fail(st, "Cannot check the password of " + bare);
              c.ok(json{{"message", good ? "Password is correct" : "Password is incorrect"}, {"correct", good}}.dump());
            }))
          c.fail(AV_E_UNSUPPORTED, no_provider);
      });
  add(reg, "account", "checkUser", "Check whether a user exists", {{"user", AV_ARG_JID, true, "Bare JID"}},
      [](const Call& c) {
        Jid j;
        if (!local_user(c, c.arg("user"), j)) return;
        std::string bare = j.bare();
        if (!Host::get().auth().user_exists(j.user, j.server, [c, bare](av_status st, bool exists) {
              if (st != AV_OK) return c.fail(st, "Cannot check user " + bare);
              c.ok(json{{"message", exists ? "User " + bare + " exists" : "User " + bare + " does not exist"},
                        {"exist", exists}}.dump());
            }))
          c.fail(AV_E_UNSUPPORTED, no_provider);
      });
  add(reg, "account", "changeUserPassword", "Change a user's password",
      {{"user", AV_ARG_JID, true, "Bare JID"}, {"newPassword", AV_ARG_STRING, true, "New password"}}, [](const Call& c) {
        Jid j;
        if (!local_user(c, c.arg("user"), j)) return;
        if (c.arg("newPassword").empty()) return c.fail(AV_E_INVALID_ARG, "Empty password");
        std::string bare = j.bare();
        if (!Host::get().auth().set_password(j.user, j.server, c.arg("newPassword"), [c, bare](av_status st) {
              if (st == AV_OK) return c.ok(json{{"message", "Password changed"}, {"jid", bare}}.dump());
              if (st == AV_E_NOT_FOUND) return c.fail(st, "User " + bare + " does not exist");
              c.fail(st, "Cannot change the password of " + bare);
            }))
          c.fail(AV_E_UNSUPPORTED, no_provider);
      });
  add(reg, "account", "listUsers", "List the users of a domain", {{"domain", AV_ARG_STRING, true, "Domain"}},
      [](const Call& c) {
        std::string d = c.arg("domain");
        if (!Host::get().vhosts().find(d)) return c.fail(AV_E_NOT_FOUND, "Domain '" + d + "' is not served here");
        if (!Host::get().auth().list_users(ascii_lower(d), [c, d](av_status st, std::vector<std::string> users) {
              if (st != AV_OK) return c.fail(st, "Cannot list users of " + d);
              json a = json::array();
              for (auto& u : users) a.push_back(u + "@" + ascii_lower(d));
              c.ok(a.dump());
            }))
          c.fail(AV_E_UNSUPPORTED, no_provider);
      });
  add(reg, "account", "countUsers", "Count the users of a domain", {{"domain", AV_ARG_STRING, true, "Domain"}},
      [](const Call& c) {
        std::string d = c.arg("domain");
        if (!Host::get().vhosts().find(d)) return c.fail(AV_E_NOT_FOUND, "Domain '" + d + "' is not served here");
        if (!Host::get().auth().count_users(ascii_lower(d), [c, d](av_status st, int64_t n) {
              if (st != AV_OK) return c.fail(st, "Cannot count users of " + d);
              c.ok(std::to_string(n));
            }))
          c.fail(AV_E_UNSUPPORTED, no_provider);
      });
  add(reg, "stanza", "sendMessage", "Send a chat message from a local user, through the same hooks as a client's",
      {{"from", AV_ARG_JID, true, "Sender (local user)"}, {"to", AV_ARG_JID, true, "Recipient"},
       {"body", AV_ARG_STRING, true, "Message body"}},
      [](const Call& c) {
        xml::Element m("message");
        m.set_attr("type", "chat");
        m.set_attr("from", c.arg("from"));
        m.set_attr("to", c.arg("to"));
        m.set_attr("id", "aviaryctl-" + std::to_string(std::rand()));
        m.add_child("body").add_text(c.arg("body"));
        std::string err;
        av_status st = Host::get().router().route_as_user(StanzaPtr::make(std::move(m)), &err);
        if (st != AV_OK) return c.fail(st, err);
        c.ok(json{{"message", "Message sent"}, {"id", ""}}.dump());
      });
  add(reg, "stanza", "sendStanza", "Send a raw stanza as its 'from' user", {{"stanza", AV_ARG_STRING, true, "XML"}},
      [](const Call& c) {
        auto e = xml::parse_element(c.arg("stanza"), nullptr);
        if (!e) return c.fail(AV_E_INVALID_ARG, "Malformed stanza XML");
        std::string err;
        av_status st = Host::get().router().route_as_user(StanzaPtr::make(std::move(*e)), &err);
        if (st != AV_OK) return c.fail(st, err);
        c.ok(json{{"message", "Stanza sent"}}.dump());
      });
  add(reg, "session", "listSessions", "List bound sessions (full JIDs)", {{"domain", AV_ARG_STRING, false, "Domain"}},
      [](const Call& c) {
        json a = json::array();
        for (auto& j : Host::get().sessions().list(ascii_lower(c.arg("domain")))) a.push_back(j);
        c.ok(a.dump());
      });
  add(reg, "session", "countSessions", "Count bound sessions", {{"domain", AV_ARG_STRING, false, "Domain"}},
      [](const Call& c) {
        std::string d = c.arg("domain");
        av_vhost* vh = d.empty() ? nullptr : Host::get().vhosts().find(d);
        if (!d.empty() && !vh) return c.fail(AV_E_NOT_FOUND, "Domain '" + d + "' is not served here");
        c.ok(std::to_string(Host::get().sessions().count(vh ? static_cast<int>(vh->index) : -1)));
      });
  add(reg, "server", "status", "Server status", {}, [](const Call& c) {
    auto& h = Host::get();
    auto up = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - h.started_at()).count();
    std::string mods;
    for (av_module* m : h.modules().ordered()) mods += (mods.empty() ? "" : ", ") + m->id;
    c.ok(json{{"message", "Aviary " AVIARY_VERSION " is running (uptime " + std::to_string(up) + " s, " +
                              std::to_string(h.sessions().count()) + " sessions; modules: " + mods + ")"},
              {"statusCode", "RUNNING"}, {"version", AVIARY_VERSION}, {"uptimeSeconds", up}}.dump());
  });
  add(reg, "server", "stop", "Stop the server", {}, [](const Call& c) {
    c.ok(json{{"message", "Stopping"}}.dump());
    Host::get().runtime().post(AV_EXEC_MAIN, [] { Host::get().stop(); });
  });
}

}  // namespace aviary
