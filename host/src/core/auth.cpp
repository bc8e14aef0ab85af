#include "core/auth.hpp"

#include "core/host.hpp"
#include "core/jid.hpp"
#include "core/login_cache.hpp"
#include "sasl/scram.hpp"

#include <cstring>
#include <memory>

namespace aviary {

namespace {

av_str s(const std::string& x) { return av_strn(x.data(), x.size()); }
std::string_view sv(av_str x) { return x.ptr ? std::string_view(x.ptr, x.len) : std::string_view(); }

uint32_t g_iterations = 10000;

size_t copy_out(const std::string& v, char* buf, size_t cap) {
  if (buf && cap) {
    size_t n = std::min(v.size(), cap - 1);
    std::memcpy(buf, v.data(), n);
    buf[n] = '\0';
  }
  return v.size();
}

size_t x_make_secret(av_str password, uint32_t iterations, char* buf, size_t cap) {
  try {
    uint32_t it = iterations ? iterations : g_iterations;
    std::vector<sasl::ScramCreds> creds;
    for (auto h : {sasl::Hash::sha1, sasl::Hash::sha256})
      creds.push_back(sasl::make_scram_creds(h, sv(password), sasl::random_bytes(16), it));
    return copy_out(sasl::serialize_creds(creds), buf, cap);
  } catch (...) {
    return 0;
  }
}

LoginCache& login_cache() {
  static LoginCache c;
  return c;
}

bool x_verify_secret(av_str secret, av_str password) {
  try {
    if (login_cache().known_good(sv(secret), sv(password))) return true;
    auto creds = sasl::parse_creds(sv(secret));
    if (!creds || creds->empty()) return false;
    // Prefer SHA-256; every stored hash was made from the same password.
    const sasl::ScramCreds* best = &creds->front();
    for (auto& c : *creds)
      if (c.hash == sasl::Hash::sha256) best = &c;
    bool ok = sasl::verify_password(*best, sv(password));
    if (ok) login_cache().remember(sv(secret), sv(password));
    return ok;
  } catch (...) {
    return false;
  }
}

size_t x_nodeprep(av_str in, char* buf, size_t cap) {
  std::string n = normalize_user(sv(in));
  if (n.empty()) return 0;
  return copy_out(n, buf, cap);
}

const av_ext_auth_v1 kAuthExt = {sizeof(av_ext_auth_v1), x_make_secret, x_verify_secret, x_nodeprep};

// Heap-held std::function passed through the providers' void* cx.
template <class F>
struct Holder {
  F fn;
};

}  // namespace

AuthService::AuthService(uint32_t iterations) : iterations_(iterations) { g_iterations = iterations; }

const av_ext_auth_v1* AuthService::ext() const { return &kAuthExt; }

bool AuthService::bind_providers(const std::vector<std::string>& methods, std::string* err) {
  providers_.clear();
  auto& host = Host::get();
  for (auto& name : methods) {
    const av_auth_provider_v1* found = nullptr;
    for (av_module* m : host.modules().ordered()) {
      if (!m->started || !m->desc.get_extension) continue;
      auto* p = static_cast<const av_auth_provider_v1*>(m->desc.get_extension(m->state, AV_EXT_AUTH_PROVIDER));
      if (p && p->name && name == p->name) found = p;
    }
    if (!found) {
      if (err)
        *err = "auth.methods: no enabled module provides the auth method '" + name + "' (for 'internal' enable mod_auth_internal under modules)";
      return false;
    }
    providers_.push_back(found);
  }
  return true;
}

bool AuthService::get_secret(const std::string& user, const std::string& server, SecretCb cb) {
  auto* p = primary();
  if (!p || !p->get_secret) return false;
  auto* h = new Holder<SecretCb>{std::move(cb)};
  av_status st = p->get_secret(p->self, s(user), s(server), [](void* cx, av_status st, av_str secret) {
    std::unique_ptr<Holder<SecretCb>> h(static_cast<Holder<SecretCb>*>(cx));
    h->fn(st, std::string(sv(secret)));
  }, h);
  if (st != AV_OK) {
    delete h;
    return false;
  }
  return true;
}

#define AV_AUTH_CALL(member, CbT, lambda_sig, invoke, ...)                          \
  auto* p = primary();                                                              \
  if (!p || !p->member) return false;                                               \
  auto* h = new Holder<CbT>{std::move(cb)};                                         \
  av_status st = p->member(p->self, __VA_ARGS__, [] lambda_sig {                    \
    std::unique_ptr<Holder<CbT>> h(static_cast<Holder<CbT>*>(cx));                  \
    invoke;                                                                         \
  }, h);                                                                            \
  if (st != AV_OK) {                                                                \
    delete h;                                                                       \
    return false;                                                                   \
  }                                                                                 \
  return true;

bool AuthService::check_password(const std::string& user, const std::string& server, const std::string& password, BoolCb cb) {
  AV_AUTH_CALL(check_password, BoolCb, (void* cx, av_status st, bool r), h->fn(st, r), s(user), s(server), s(password))
}
bool AuthService::user_exists(const std::string& user, const std::string& server, BoolCb cb) {
  AV_AUTH_CALL(user_exists, BoolCb, (void* cx, av_status st, bool r), h->fn(st, r), s(user), s(server))
}
bool AuthService::register_user(const std::string& user, const std::string& server, const std::string& password, DoneCb cb) {
  AV_AUTH_CALL(register_user, DoneCb, (void* cx, av_status st), h->fn(st), s(user), s(server), s(password))
}
bool AuthService::remove_user(const std::string& user, const std::string& server, DoneCb cb) {
  AV_AUTH_CALL(remove_user, DoneCb, (void* cx, av_status st), h->fn(st), s(user), s(server))
}
bool AuthService::set_password(const std::string& user, const std::string& server, const std::string& password, DoneCb cb) {
  AV_AUTH_CALL(set_password, DoneCb, (void* cx, av_status st), h->fn(st), s(user), s(server), s(password))
}
bool AuthService::list_users(const std::string& server, ListCb cb) {
  AV_AUTH_CALL(list_users, ListCb, (void* cx, av_status st, const av_str* u, size_t n),
               std::vector<std::string> v; for (size_t i = 0; i < n; ++i) v.emplace_back(sv(u[i])); h->fn(st, std::move(v)),
               s(server))
}
bool AuthService::count_users(const std::string& server, CountCb cb) {
  AV_AUTH_CALL(count_users, CountCb, (void* cx, av_status st, int64_t n), h->fn(st, n), s(server))
}

#undef AV_AUTH_CALL

}  // namespace aviary
