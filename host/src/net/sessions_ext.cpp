#include "net/sessions_ext.hpp"

#include "core/host.hpp"
#include "net/c2s_session.hpp"
#include "net/session_manager.hpp"

#include <string>
#include <vector>

namespace aviary {

namespace {

std::string_view sv(av_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }

void x_list(av_str bare, av_session_list_fn fn, void* user) {
  if (!fn) return;
  std::vector<SessionEntry> entries;
  std::vector<std::string> jids;
  try {
    auto j = parse_jid(sv(bare));
    if (j && !j->user.empty()) {
      std::string b = j->bare();
      entries = Host::get().sessions().find_bare(b);
      for (auto& e : entries) jids.push_back(b + "/" + e.resource);
    }
  } catch (...) {
    entries.clear();
    jids.clear();
  }
  std::vector<av_session_info> out;
  out.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    auto& e = entries[i];
    out.push_back(av_session_info{sizeof(av_session_info), av_strn(jids[i].data(), jids[i].size()),
                                  av_strn(e.resource.data(), e.resource.size()), e.priority, e.available,
                                  e.session->executor()});
  }
  fn(user, out.data(), out.size());
}

av_status x_kick(av_str full, av_str condition, av_str text) {
  try {
    auto j = parse_jid(sv(full));
    if (!j || j->user.empty() || j->resource.empty()) return AV_E_INVALID_ARG;
    auto s = Host::get().sessions().find(*j);
    if (!s) return AV_E_NOT_FOUND;
    s->kick(condition.ptr && condition.len ? std::string(sv(condition)) : std::string("policy-violation"),
            std::string(sv(text)));
    return AV_OK;
  } catch (...) {
    return AV_E_INTERNAL;
  }
}

uint64_t x_token(const av_session* s) { return s ? reinterpret_cast<const C2sSession*>(s)->token() : 0; }

av_status x_send_to(uint64_t token, const av_stanza* st) {
  if (!st) return AV_E_INVALID_ARG;
  try {
    auto s = Host::get().sessions().connection(token);
    if (!s) return AV_E_NOT_FOUND;
    s->send_raw(StanzaPtr::share(const_cast<av_stanza*>(st)));
    return AV_OK;
  } catch (...) {
    return AV_E_INTERNAL;
  }
}

av_str x_peer_ip(const av_session* s) {
  if (!s) return av_strn(nullptr, 0);
  const std::string& ip = reinterpret_cast<const C2sSession*>(s)->peer_ip();
  return av_strn(ip.data(), ip.size());
}

av_str x_end_reason(const av_session* s) {
  if (!s) return av_strn(nullptr, 0);
  const std::string& r = reinterpret_cast<const C2sSession*>(s)->end_reason();
  return r.empty() ? av_strn("", 0) : av_strn(r.data(), r.size());
}

av_status x_resume_bind(uint64_t token, av_str full_jid, const av_stanza* presence) {
  try {
    auto j = parse_jid(sv(full_jid));
    if (!j || j->user.empty() || j->resource.empty()) return AV_E_INVALID_ARG;
    auto s = Host::get().sessions().connection(token);
    if (!s) return AV_E_NOT_FOUND;
    return s->resume_bind(*j, presence);
  } catch (...) {
    return AV_E_INTERNAL;
  }
}

const av_ext_sessions_v1 kExt = {sizeof(av_ext_sessions_v1), x_list,       x_kick,        x_token,
                                 x_send_to,                  x_peer_ip,    x_end_reason, x_resume_bind};

}  // namespace

const av_ext_sessions_v1* sessions_ext() { return &kExt; }

}  // namespace aviary
