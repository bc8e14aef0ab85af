// mod_register: XEP-0077 in-band registration. Before authentication a client may ask for the
// registration form and create an account (subject to `access`, `ip_access`,
// `registration_timeout` per IP and `password_strength`); an authenticated user may change
// their password or remove their account, which runs account/removed so every module
// deletes that user's data. The accounts themselves live in the auth provider
// ("av.auth.provider/1", e.g. mod_auth_internal).
#include "register_policy.hpp"

#include <aviary/aviary.hpp>
#include <aviary/ext/draft/disco.h>

#include <memory>
#include <string>
#include <vector>

namespace {

constexpr const char* kNs = "jabber:iq:register";
constexpr const char* kFeatureNs = "http://jabber.org/features/iq-register";

using mod_register::IpRule;
using mod_register::RateLimiter;

// Context of one asynchronous provider call: the request and where to answer it.
struct Pending {
  av::StanzaRef req;
  uint64_t token = 0;     // pre-auth: the connection to answer on (av.sessions/1 send_to)
  std::string ip;         // pre-auth: the rate-limit slot to give back on failure
  std::string user, server;
  class Register* mod = nullptr;
};

class Register final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"access", AV_OPT_ENUM, "allow", 1, 0, "allow|deny", false, "whether anyone may register in band"},
        {"ip_access", AV_OPT_STRING_LIST, nullptr, 1, 0, nullptr, false,
         "rules 'allow:ADDR[/LEN]' or 'deny:ADDR[/LEN]', first match wins; none = everyone"},
        {"registration_timeout", AV_OPT_INT, "600", 0, 86400 * 365, nullptr, false,
         "seconds between two registrations from one IP address (0 = no limit)"},
        {"password_strength", AV_OPT_INT, "0", 0, 1000, nullptr, false, "minimum password entropy in bits (0 = any)"},
        {"welcome_message.subject", AV_OPT_STRING, "", 1, 0, nullptr, false, "subject of the message sent to new users"},
        {"welcome_message.body", AV_OPT_STRING, "", 1, 0, nullptr, false, "body of that message (empty = none sent)"},
        {"registration_watchers", AV_OPT_STRING_LIST, nullptr, 1, 0, nullptr, false,
         "JIDs told about every new account"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    allow_ = cx.option_enum("access") == "allow";
    for (auto& t : cx.option_list("ip_access")) {
      std::string err;
      auto r = mod_register::parse_ip_rule(t, &err);
      if (!r) throw av::Error(AV_E_INVALID_ARG, "modules.mod_register.ip_access: " + err);
      rules_.push_back(*r);
    }
    limiter_ = std::make_unique<RateLimiter>(std::chrono::seconds(cx.option_int("registration_timeout")));
    strength_ = static_cast<double>(cx.option_int("password_strength"));
    welcome_subject_ = cx.option_string("welcome_message.subject");
    welcome_body_ = cx.option_string("welcome_message.body");
    watchers_ = cx.option_list("registration_watchers");
    sessions_ = cx.require<av_ext_sessions_v1>(AV_EXT_SESSIONS);
    router_ = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    auth_ = cx.require<av_ext_auth_v1>(AV_EXT_AUTH);

    hooks_.add(av::hooks::pre_auth_features, AV_PRIO_NORMAL, [](const av_session_params&, av_features_acc& acc) {
      auto& api = av::stanza_api();
      if (av_xml_el* root = api.mut_root(acc.features)) api.add_child(root, av::str("register"), av::str(kFeatureNs));
      return av::next;
    });
    hooks_.add(av::hooks::pre_auth_iq, AV_PRIO_NORMAL,
               [this](const av_stanza_params& p, av_iq_acc& acc) { return pre_auth(p, acc); });
    for (const char* prefix : {AV_HOOK_IQ_SERVER_PREFIX, AV_HOOK_IQ_BARE_PREFIX})
      hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(prefix) + kNs, AV_PRIO_NORMAL,
                                                    [this](const av_stanza_params& p, av_iq_acc& acc) { return own_account(p, acc); });
    hooks_.add_named<av_disco_params, av_disco_acc>(AV_HOOK_DISCO_SERVER_INFO, AV_PRIO_NORMAL,
                                                    [](const av_disco_params& p, av_disco_acc& acc) {
                                                      if (p.node.ptr) return av::next;
                                                      auto& api = av::stanza_api();
                                                      if (av_xml_el* q = api.mut_root(acc.query)) {
                                                        if (av_xml_el* f = api.add_child(q, av::str("feature"), av::str_absent()))
                                                          api.set_attr(f, av::str("var"), av::str(kNs));
                                                      }
                                                      return av::next;
                                                    });
    return AV_OK;
  }

 private:
  const av_auth_provider_v1* provider() const {
    return static_cast<const av_auth_provider_v1*>(av::host().get_extension(av::self(), AV_EXT_AUTH_PROVIDER));
  }

  static av::StanzaRef error(const av_stanza* req, const char* type, const char* cond, std::string_view text = {}) {
    return av::StanzaRef::adopt(av::stanza_api().make_error(req, av::str(type), av::str(cond), av::str(text)));
  }
  static av::StanzaRef result(const av_stanza* req, std::string_view payload_xml = {}) {
    auto& api = av::stanza_api();
    auto r = av::StanzaRef::adopt(api.make_result(req));
    if (r && !payload_xml.empty()) api.add_xml(api.mut_root(r.get()), av::str(payload_xml));
    return r;
  }
  static av::Next answer(av_iq_acc& acc, av::StanzaRef r) {
    acc.handled = true;
    acc.reply = r.release();
    return av::stop;
  }

  // ---------------------------------------------------------------- before authentication

  av::Next pre_auth(const av_stanza_params& p, av_iq_acc& acc) {
    av::StanzaView req(p.stanza);
    auto q = req.child("query", kNs);
    if (!q) return av::next;
    if (req.type() == "get")
      return answer(acc, result(p.stanza, "<query xmlns='jabber:iq:register'><instructions>Choose a username and "
                                          "password to register with this server</instructions><username/><password/></query>"));
    if (q.child("remove")) return answer(acc, error(p.stanza, "auth", "not-authorized", "Log in to remove an account"));
    auto user_el = q.child("username"), pw_el = q.child("password");
    std::string password(pw_el.text());
    if (!user_el || !pw_el || user_el.text().empty() || password.empty())
      return answer(acc, error(p.stanza, "modify", "not-acceptable", "A username and a password are required"));
    std::string ip(av::sv(sessions_->peer_ip(p.session)));
    if (!allow_ || !mod_register::ip_allowed(rules_, ip))
      return answer(acc, error(p.stanza, "cancel", "not-allowed", "In-band registration is not allowed"));
    if (strength_ > 0 && mod_register::password_entropy(password) < strength_)
      return answer(acc, error(p.stanza, "modify", "not-acceptable", "The password is too weak"));
    char buf[1024];
    size_t n = auth_->nodeprep(av::str(user_el.text()), buf, sizeof buf);
    if (n == 0 || n >= sizeof buf) return answer(acc, error(p.stanza, "modify", "jid-malformed", "Invalid username"));
    const av_auth_provider_v1* prov = provider();
    if (!prov || !prov->register_user)
      return answer(acc, error(p.stanza, "cancel", "service-unavailable", "No account storage is enabled"));
    if (!limiter_->try_acquire(ip))
      return answer(acc, error(p.stanza, "wait", "resource-constraint", "Too many registrations from this address; try later"));

    auto* cx = new Pending{av::StanzaRef::share(p.stanza), sessions_->token(p.session), ip, std::string(buf, n),
                           std::string(av::sv(p.to)), this};
    av_status st = prov->register_user(prov->self, av::str(cx->user), av::str(cx->server), av::str(password),
                                       &Register::registered, cx);
    if (st != AV_OK) {
      limiter_->release(ip);
      delete cx;
      return answer(acc, error(p.stanza, "wait", "internal-server-error"));
    }
    acc.handled = true;  // answered from registered()
    return av::stop;
  }

  static void registered(void* arg, av_status st) {
    std::unique_ptr<Pending> cx(static_cast<Pending*>(arg));
    av::detail::guard<int>("mod_register registered()", 0, [&] {
      Register* m = cx->mod;
      if (st == AV_OK) {
        m->sessions_->send_to(cx->token, result(cx->req.get()).get());
        m->after_registration(cx->user, cx->server);
      } else {
        m->limiter_->release(cx->ip);
        auto e = st == AV_E_EXISTS ? error(cx->req.get(), "cancel", "conflict", "The username is taken")
                                   : error(cx->req.get(), "wait", "internal-server-error");
        m->sessions_->send_to(cx->token, e.get());
      }
      return 0;
    });
  }

  void after_registration(const std::string& user, const std::string& server) {
    run_account_hook(AV_HOOK_ACCOUNT_REGISTERED, user, server);
    std::string bare = user + "@" + server;
    av::log_info("registered " + bare + " in band");
    if (!welcome_body_.empty()) {
      std::string xml = "<message type='normal'/>";
      auto m = av::StanzaRef::parse(xml);
      auto& api = av::stanza_api();
      av_xml_el* root = api.mut_root(m.get());
      api.set_attr(root, av::str("from"), av::str(server));
      api.set_attr(root, av::str("to"), av::str(bare));
      if (!welcome_subject_.empty()) api.add_text(api.add_child(root, av::str("subject"), av::str_absent()), av::str(welcome_subject_));
      api.add_text(api.add_child(root, av::str("body"), av::str_absent()), av::str(welcome_body_));
      router_->route(m.get());
    }
    for (auto& w : watchers_) {
      auto m = av::StanzaRef::parse("<message type='chat'/>");
      auto& api = av::stanza_api();
      av_xml_el* root = api.mut_root(m.get());
      api.set_attr(root, av::str("from"), av::str(server));
      api.set_attr(root, av::str("to"), av::str(w));
      api.add_text(api.add_child(root, av::str("body"), av::str_absent()),
                   av::str("The account " + bare + " was registered in band."));
      router_->route(m.get());
    }
  }

  static void run_account_hook(const char* name, const std::string& user, const std::string& server) {
    av_hook_id id = -1;
    if (av::host().hook_resolve(name, &id) != AV_OK) return;
    std::string bare = user + "@" + server;
    av_session_params p{sizeof(av_session_params), nullptr, av::str(bare), av::str(user), av::str(server),
                        av::str(""), av::host().current_executor()};
    av::host().hook_run(id, av::host().vhost_find(av::str(server)), &p, nullptr, nullptr);
  }

  // ---------------------------------------------------------------- an authenticated user

  av::Next own_account(const av_stanza_params& p, av_iq_acc& acc) {
    av::StanzaView req(p.stanza);
    auto q = req.child("query", kNs);
    if (!q) return av::next;
    std::string from(av::sv(p.from)), to(av::sv(p.to));
    std::string bare = from.substr(0, from.find('/'));
    auto at = bare.find('@');
    if (at == std::string::npos) return answer(acc, error(p.stanza, "cancel", "not-allowed"));
    std::string user = bare.substr(0, at), server = bare.substr(at + 1);
    if (to != server && to != bare)
      return answer(acc, error(p.stanza, "auth", "forbidden", "You can only manage your own account"));
    if (req.type() == "get")
      return answer(acc, result(p.stanza, "<query xmlns='jabber:iq:register'><registered/><username>" + av::xml_escape(user) +
                                              "</username></query>"));
    const av_auth_provider_v1* prov = provider();
    if (!prov) return answer(acc, error(p.stanza, "cancel", "service-unavailable"));
    if (q.child("remove")) {
      auto* cx = new Pending{av::StanzaRef::share(p.stanza), 0, {}, user, server, this};
      if (prov->remove_user(prov->self, av::str(user), av::str(server), &Register::removed, cx) != AV_OK) {
        delete cx;
        return answer(acc, error(p.stanza, "wait", "internal-server-error"));
      }
      acc.handled = true;
      return av::stop;
    }
    auto user_el = q.child("username"), pw_el = q.child("password");
    if (!pw_el || pw_el.text().empty())
      return answer(acc, error(p.stanza, "modify", "bad-request", "A new password is required"));
    char buf[1024];
    size_t n = user_el ? auth_->nodeprep(av::str(user_el.text()), buf, sizeof buf) : 0;
    if (user_el && (n == 0 || std::string(buf, n) != user))
      return answer(acc, error(p.stanza, "modify", "bad-request", "The username is not yours"));
    if (strength_ > 0 && mod_register::password_entropy(pw_el.text()) < strength_)
      return answer(acc, error(p.stanza, "modify", "not-acceptable", "The password is too weak"));
    auto* cx = new Pending{av::StanzaRef::share(p.stanza), 0, {}, user, server, this};
    if (prov->set_password(prov->self, av::str(user), av::str(server), av::str(pw_el.text()), &Register::changed, cx) != AV_OK) {
      delete cx;
      return answer(acc, error(p.stanza, "wait", "internal-server-error"));
    }
    acc.handled = true;
    return av::stop;
  }

  static void changed(void* arg, av_status st) {
    std::unique_ptr<Pending> cx(static_cast<Pending*>(arg));
    av::detail::guard<int>("mod_register changed()", 0, [&] {
      auto r = st == AV_OK ? result(cx->req.get()) : error(cx->req.get(), "wait", "internal-server-error");
      cx->mod->router_->route(r.get());
      return 0;
    });
  }

  static void removed(void* arg, av_status st) {
    std::unique_ptr<Pending> cx(static_cast<Pending*>(arg));
    av::detail::guard<int>("mod_register removed()", 0, [&] {
      Register* m = cx->mod;
      if (st != AV_OK) {
        m->router_->route(error(cx->req.get(), "wait", "internal-server-error").get());
        return 0;
      }
      // The answer first, then the stream end: both go through the session's queue in order.
      m->router_->route(result(cx->req.get()).get());
      run_account_hook(AV_HOOK_ACCOUNT_REMOVED, cx->user, cx->server);
      std::string bare = cx->user + "@" + cx->server;
      std::vector<std::string> jids;
      m->sessions_->list(av::str(bare), [](void* u, const av_session_info* items, size_t n) {
        auto* out = static_cast<std::vector<std::string>*>(u);
        for (size_t i = 0; i < n; ++i) out->emplace_back(av::sv(items[i].jid));
      }, &jids);
      for (auto& j : jids) m->sessions_->kick(av::str(j), av::str("not-authorized"), av::str("Account removed"));
      av::log_info("removed " + bare + " in band");
      return 0;
    });
  }

  bool allow_ = true;
  std::vector<IpRule> rules_;
  std::unique_ptr<RateLimiter> limiter_;
  double strength_ = 0;
  std::string welcome_subject_, welcome_body_;
  std::vector<std::string> watchers_;
  const av_ext_sessions_v1* sessions_ = nullptr;
  const av_ext_router_v1* router_ = nullptr;
  const av_ext_auth_v1* auth_ = nullptr;
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(Register, "mod_register", "0.1.0", "XEP-0077 in-band registration, password change and account removal")
