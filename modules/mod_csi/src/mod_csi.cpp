// mod_csi: XEP-0352 Client State Indication (urn:xmpp:csi:0).
//
// - c2s/stream-features: <csi xmlns='urn:xmpp:csi:0'/>.
// - c2s/nonza (host hook, see ext/draft/c2s_nonza.h): <inactive/> and <active/>.
// - c2s/user-receive-packet (LAST, after every other receive filter): while the session is
//   inactive, stanzas that can wait (csi_policy.cpp) are held (drop = true, a retained
//   reference kept), up to buffer_max. They are written, in order and without running any
//   hook again, with av.sessions/1 send_to when the client sends <active/>, when an urgent
//   stanza arrives (held ones first, then it), or when the buffer is full.
// - session/closed: the session's state is forgotten.
// Without c2s/nonza in the host (hooks.h) or send_to in av.sessions/1, the module loads,
// logs a warning and does nothing (and does not advertise the feature).
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/c2s_nonza.h>

#include "csi_policy.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace {

#if defined(AV_HOOK_C2S_NONZA)
constexpr bool kHostRunsNonza = true;
#else
constexpr bool kHostRunsNonza = false;
#endif

// av.sessions/1 token()/send_to() arrived with the same host change as c2s/nonza; detect
// them in the SDK at compile time and in the host table at run time.
template <class E, class = void>
struct has_send_to : std::false_type {};
template <class E>
struct has_send_to<E, std::void_t<decltype(&E::send_to), decltype(&E::token)>> : std::true_type {};

template <class E>
bool can_send_to(const E* e) {
  if constexpr (has_send_to<E>::value) {
    return e && e->struct_size >= offsetof(E, send_to) + sizeof(e->send_to) && e->token && e->send_to;
  } else {
    (void)e;
    return false;
  }
}
template <class E>
uint64_t token_of(const E* e, const av_session* s) {
  if constexpr (has_send_to<E>::value) {
    return s ? e->token(s) : 0;
  } else {
    (void)e, (void)s;
    return 0;
  }
}
template <class E>
av_status send_to(const E* e, uint64_t tok, const av_stanza* st) {
  if constexpr (has_send_to<E>::value) {
    return e->send_to(tok, st);
  } else {
    (void)e, (void)tok, (void)st;
    return AV_E_UNSUPPORTED;
  }
}

constexpr size_t kMaxDepth = 4;  // message > received > forwarded > message > body
constexpr size_t kMaxKids = 64;

csi::El summarize(const av_xml_el* e, std::string_view parent_ns, size_t depth) {
  const auto& api = av::stanza_api();
  csi::El out;
  out.name = std::string(av::sv(api.name(e)));
  av_str ns = api.attr(e, av_cstr("xmlns"));
  out.ns = ns.ptr ? std::string(av::sv(ns)) : std::string(parent_ns);
  out.type = std::string(av::sv(api.attr(e, av_cstr("type"))));
  if (depth >= kMaxDepth) return out;
  size_t n = std::min(api.child_count(e), kMaxKids);
  out.kids.reserve(n);
  for (size_t i = 0; i < n; ++i)
    if (const av_xml_el* c = api.child_at(e, i)) out.kids.push_back(summarize(c, out.ns, depth + 1));
  return out;
}

using Session = csi::Session<av::StanzaRef>;

// Shared with the markers posted behind each batch of writes, so a marker that runs after
// the module stopped touches nothing freed.
struct State {
  std::mutex mu;
  std::unordered_map<uint64_t, Session> by_token;
  std::atomic<size_t> entries{0};  // by_token.size(), readable without the lock (hot path)
  void publish() { entries.store(by_token.size(), std::memory_order_relaxed); }  // under mu
};

struct Marker {
  std::shared_ptr<State> state;
  uint64_t token;
};

class Csi final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"buffer_max", AV_OPT_INT, "100", 1, 100000, nullptr, false,
         "stanzas held per inactive session before they are all written"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    buffer_max_ = static_cast<size_t>(cx.option_int("buffer_max"));
    sessions_ = cx.require<av_ext_sessions_v1>(AV_EXT_SESSIONS);
    if (!kHostRunsNonza || !can_send_to(sessions_)) {
      av::log_warning(
          "the host does not run c2s/nonza or lacks av.sessions/1 send_to: CSI is not offered "
          "(see sdk/include/aviary/ext/draft/c2s_nonza.h)");
      return AV_OK;
    }
    hooks_.add(av::hooks::stream_features, AV_PRIO_NORMAL, [](const av_session_params&, av_features_acc& acc) {
      const auto& api = av::stanza_api();
      if (av_xml_el* f = acc.features ? api.mut_root(acc.features) : nullptr)
        api.add_child(f, av_cstr("csi"), av::str(csi::kNs));
      return av::next;
    });
    hooks_.add_named<av_stanza_params, av_stanza_acc>(
        AV_DRAFT_HOOK_C2S_NONZA, AV_PRIO_NORMAL,
        [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_nonza(p, acc); });
    hooks_.add(av::hooks::user_receive_packet, AV_PRIO_LAST,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_receive(p, acc); });
    hooks_.add(av::hooks::session_closed, AV_PRIO_NORMAL, [this](const av_session_params& p) {
      uint64_t tok = token_of(sessions_, p.session);
      if (!tok) return;
      std::lock_guard<std::mutex> lk(state_->mu);
      state_->by_token.erase(tok);
      state_->publish();
    });
    return AV_OK;
  }

 private:
  // [session] <inactive/> / <active/>
  av::Next on_nonza(const av_stanza_params& p, av_stanza_acc& acc) {
    av::ElementView e(av::stanza_api().root(p.stanza));
    if (e.attr("xmlns") != csi::kNs) return av::next;
    const bool inactive = e.name() == "inactive";
    if (!inactive && e.name() != "active") return av::next;
    uint64_t tok = token_of(sessions_, p.session);
    if (!tok) return av::next;
    acc.drop = true;
    std::vector<av::StanzaRef> out;
    {
      std::lock_guard<std::mutex> lk(state_->mu);
      if (inactive) {
        state_->by_token.try_emplace(tok, buffer_max_).first->second.set_inactive();
        state_->publish();
        return av::stop;
      }
      auto it = state_->by_token.find(tok);
      if (it == state_->by_token.end()) return av::stop;
      out = it->second.set_active();
      if (out.empty()) {
        if (!it->second.draining()) {
          state_->by_token.erase(it);
          state_->publish();
        }
        return av::stop;
      }
      it->second.batch_issued();
    }
    write(tok, out, p.executor);
    return av::stop;
  }

  // [session of the recipient] hold, write behind, or let pass.
  av::Next on_receive(const av_stanza_params& p, av_stanza_acc& acc) {
    if (acc.drop || state_->entries.load(std::memory_order_relaxed) == 0) return av::next;
    uint64_t tok = token_of(sessions_, p.session);
    if (!tok) return av::next;
    std::vector<av::StanzaRef> out;
    {
      std::lock_guard<std::mutex> lk(state_->mu);
      auto it = state_->by_token.find(tok);
      if (it == state_->by_token.end()) return av::next;
      Session& s = it->second;
      if (!s.inactive() && !s.draining()) return av::next;
      bool urgent = s.inactive() && csi::urgent(summarize(av::stanza_api().root(p.stanza), "jabber:client", 0));
      switch (s.offer(av::StanzaRef::share(p.stanza), urgent, out)) {
        case Session::Action::pass:
          return av::next;
        case Session::Action::hold:
          acc.drop = true;
          return av::next;
        case Session::Action::write:
          acc.drop = true;
          s.batch_issued();
          break;
      }
    }
    write(tok, out, p.executor);
    return av::next;
  }

  // Writes `out` in order, then posts a marker on the session's thread that runs after
  // those writes (same io_context, FIFO) and ends the batch.
  void write(uint64_t tok, const std::vector<av::StanzaRef>& out, av_executor ex) {
    for (const auto& s : out)
      if (send_to(sessions_, tok, s.get()) != AV_OK) break;  // connection gone
    auto* m = new Marker{state_, tok};
    av_status st = av::host().post(ex, &Csi::on_marker, m);
    if (st != AV_OK) {
      on_marker(m);  // cannot post (shutting down): end the batch now
    }
  }

  static void on_marker(void* arg) noexcept {
    av::detail::guard<int>("mod_csi marker", 0, [&] {
      end_batch(std::unique_ptr<Marker>(static_cast<Marker*>(arg)));
      return 0;
    });
  }

  static void end_batch(std::unique_ptr<Marker> m) {
    std::lock_guard<std::mutex> lk(m->state->mu);
    auto it = m->state->by_token.find(m->token);
    if (it == m->state->by_token.end()) return;
    it->second.batch_done();
    if (!it->second.inactive() && !it->second.draining() && it->second.held() == 0) {
      m->state->by_token.erase(it);
      m->state->publish();
    }
  }

  size_t buffer_max_ = 100;
  const av_ext_sessions_v1* sessions_ = nullptr;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(Csi, "mod_csi", "0.1.0", "XEP-0352 Client State Indication")
