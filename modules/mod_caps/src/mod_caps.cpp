// mod_caps: XEP-0115 entity capabilities of local clients, verified. Reads the caps of every
// available presence a client broadcasts; for a ver not verified yet it sends disco#info
// (node 'node#ver') from the server to the client's full JID, checks the answer against the
// ver (XEP-0115 section 5), and caches ver -> features in memory. A ver that does not
// verify is not cached (logged) and the next JID advertising it is asked. Offers
// "av.caps/1" (features of a full JID) and runs "caps/features-known"; advertises nothing.
#include <aviary/aviary.hpp>
#include <aviary/ext/commands.h>
#include <aviary/ext/draft/caps.h>
#include <aviary/ext/router.h>

#include "caps_tracker.hpp"
#include "caps_ver.hpp"

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace {

using caps::State;

// Bound of the shared ver -> features cache (oldest entries are evicted first).
constexpr size_t kMaxCached = 4096;

struct Core {
  const av_ext_router_v1* router = nullptr;
  av_hook_id known_hook = -1;
  std::mutex mu;
  caps::Tracker tracker{kMaxCached};

  // Sends the queries and announces the JIDs whose features became known (outside mu).
  void apply(const caps::Tracker::Update& u) {
    for (const auto& q : u.queries) {
      try {
        auto s = av::StanzaRef::parse(caps::disco_query_xml(av::jid_domain_part(q.to), q.to, q.id, q.node, q.ver));
        if (router->route(s.get()) != AV_OK) av::log_warning("mod_caps: cannot route a disco#info query to " + q.to);
      } catch (const std::exception& e) {
        av::log_error(std::string("mod_caps: ") + e.what());
      }
    }
    for (const auto& jid : u.known) {
      std::string node, ver;
      bool verified = false;
      {
        std::lock_guard<std::mutex> g(mu);
        const caps::JidCaps* c = tracker.find(jid);
        if (!c || c->state != State::known) continue;
        node = c->node;
        ver = c->ver;
        verified = c->features && c->features->verified;
      }
      av_caps_known_params p{sizeof(av_caps_known_params), av::str(jid), av::str(node), av::str(ver), verified};
      av_hook_action last = AV_HOOK_CONTINUE;
      (void)av::host().hook_run(known_hook, nullptr, &p, nullptr, &last);
    }
  }

  void presence(const av_stanza_params& p) {
    av::StanzaView v(p.stanza);
    if (v.root().has_attr("to")) return;  // directed presence: not the client's broadcast
    std::string jid(av::sv(p.from)), type(v.type());
    if (av::jid_resource_part(jid).empty()) return;
    caps::Tracker::Update u;
    if (type == "unavailable") {
      std::lock_guard<std::mutex> g(mu);
      u = tracker.forget(jid);
    } else if (type.empty()) {
      auto c = v.child("c", caps::kNsCaps);
      std::lock_guard<std::mutex> g(mu);
      u = c ? tracker.presence(jid, std::string(c.attr("node")), std::string(c.attr("ver")), std::string(c.attr("hash")))
            : tracker.forget(jid);
    } else {
      return;
    }
    apply(u);
  }

  void gone(const std::string& jid) {
    caps::Tracker::Update u;
    {
      std::lock_guard<std::mutex> g(mu);
      u = tracker.forget(jid);
    }
    apply(u);
  }

  static caps::DiscoInfo parse(const av::ElementView& q) {
    caps::DiscoInfo info;
    for (size_t i = 0; i < q.child_count(); ++i) {
      auto e = q.child_at(i);
      if (e.name() == "identity") {
        info.identities.push_back(caps::Identity{std::string(e.attr("category")), std::string(e.attr("type")),
                                                 std::string(e.attr("xml:lang")), std::string(e.attr("name"))});
      } else if (e.name() == "feature") {
        info.features.emplace_back(e.attr("var"));
      } else if (e.name() == "x" && e.attr("xmlns") == caps::kNsData) {
        caps::Form form;
        for (size_t k = 0; k < e.child_count(); ++k) {
          auto f = e.child_at(k);
          if (f.name() != "field") continue;
          caps::Field field{std::string(f.attr("var")), std::string(f.attr("type")), {}};
          for (size_t m = 0; m < f.child_count(); ++m)
            if (f.child_at(m).name() == "value") field.values.emplace_back(f.child_at(m).text());
          form.fields.push_back(std::move(field));
        }
        info.forms.push_back(std::move(form));
      }
    }
    return info;
  }

  // iq/response: the client's answer to one of our queries.
  av::Next response(const av_stanza_params& p, av_iq_acc& acc) {
    if (acc.handled) return av::next;
    av::StanzaView v(p.stanza);
    std::string id(v.id());
    if (id.compare(0, 5, "caps-") != 0) return av::next;
    caps::DiscoInfo info;
    bool have = false;
    if (v.type() == "result")
      if (auto q = v.child("query", caps::kNsDiscoInfo)) {
        info = parse(q);
        have = true;
      }
    caps::Tracker::Answer a;
    {
      std::lock_guard<std::mutex> g(mu);
      a = tracker.answer(id, std::string(av::sv(p.from)), have ? &info : nullptr);
    }
    if (!a.ours) return av::next;
    acc.handled = true;
    std::string what = a.node + "#" + a.ver + " (hash '" + a.hash + "') of " + a.jid;
    if (a.error)
      av::log_info("mod_caps: no disco#info for " + what + " (error or no query in the answer)");
    else if (a.cached)
      av::log_info("mod_caps: verified " + what + ": cached");
    else if (a.check == caps::Check::unsupported_hash)
      av::log_info("mod_caps: hash not verifiable for " + what + ": features kept for that JID only");
    else
      av::log_warning(std::string("mod_caps: disco#info of ") + what + " does not verify (" +
                      caps::check_name(a.check) + "): not cached");
    apply(a.update);
    return av::stop;
  }
};

std::shared_ptr<Core> g_core;

// --- av.caps/1 ---------------------------------------------------------------------------
struct Snapshot {
  std::string node, ver, hash;
  State state;
  caps::FeaturesPtr features;
};

std::optional<Snapshot> snapshot(Core& core, const std::string& jid) {
  std::lock_guard<std::mutex> g(core.mu);
  const caps::JidCaps* c = core.tracker.find(jid);
  if (!c) return std::nullopt;
  return Snapshot{c->node, c->ver, c->hash, c->state, c->features};
}

av_status x_info(av_str full, av_caps_info_fn fn, void* user) {
  return av::detail::guard<av_status>("av.caps/1 info", AV_E_EXCEPTION, [&]() -> av_status {
    auto core = g_core;
    auto j = av::parse_jid(av::sv(full));
    if (!core || !j || j->resource.empty() || !fn) return AV_E_INVALID_ARG;
    std::string jid = j->full();
    auto s = snapshot(*core, jid);
    if (!s) return AV_E_NOT_FOUND;
    std::vector<av_str> fs;
    bool known = s->state == State::known && s->features;
    if (known)
      for (const auto& f : s->features->features) fs.push_back(av::str(f));
    av_caps_state st = s->state == State::known ? AV_CAPS_KNOWN : s->state == State::pending ? AV_CAPS_PENDING : AV_CAPS_INVALID;
    av_caps_info info{sizeof(av_caps_info), av::str(jid), av::str(s->node), av::str(s->ver), av::str(s->hash), st,
                      known && s->features->verified, fs.data(), fs.size()};
    fn(user, &info);
    return AV_OK;
  });
}

av_status x_has_feature(av_str full, av_str feature, bool* out) {
  return av::detail::guard<av_status>("av.caps/1 has_feature", AV_E_EXCEPTION, [&]() -> av_status {
    auto core = g_core;
    auto j = av::parse_jid(av::sv(full));
    if (!core || !j || j->resource.empty()) return AV_E_INVALID_ARG;
    auto s = snapshot(*core, j->full());
    if (!s || s->state == State::invalid) return AV_E_NOT_FOUND;
    if (s->state == State::pending || !s->features) return AV_E_BUSY;
    const auto& v = s->features->features;
    if (out) *out = std::binary_search(v.begin(), v.end(), std::string(av::sv(feature)));
    return AV_OK;
  });
}

const av_ext_caps_v1 kCapsExt = {sizeof(av_ext_caps_v1), x_info, x_has_feature};

const char* state_name(State s) {
  switch (s) {
    case State::pending: return "pending";
    case State::known: return "known";
    case State::invalid: return "invalid";
  }
  return "?";
}

class CapsModule final : public av::Module {
 public:
  av_status start(av::Context& cx) override {
    core_ = std::make_shared<Core>();
    core_->router = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    if (av::host().hook_resolve(AV_HOOK_CAPS_FEATURES_KNOWN, &core_->known_hook) != AV_OK)
      throw av::Error(AV_E_INTERNAL, "cannot declare hook " AV_HOOK_CAPS_FEATURES_KNOWN);
    g_core = core_;
    auto core = core_;
    // Observes only (never drops); after mod_roster and mod_presence have seen it.
    hooks_.add(av::hooks::user_send_presence, AV_PRIO_LATE, [core](const av_stanza_params& p, av_stanza_acc&) {
      core->presence(p);
      return av::next;
    });
    hooks_.add_named<av_stanza_params, av_iq_acc>(
        AV_HOOK_IQ_RESPONSE, AV_PRIO_NORMAL, [core](const av_stanza_params& p, av_iq_acc& acc) { return core->response(p, acc); });
    hooks_.add(av::hooks::session_unavailable, AV_PRIO_NORMAL,
               [core](const av_session_params& p) { core->gone(std::string(av::sv(p.jid))); });
    hooks_.add(av::hooks::session_closed, AV_PRIO_NORMAL,
               [core](const av_session_params& p) { core->gone(std::string(av::sv(p.jid))); });
    if (cx.extension<av_ext_commands_v1>(AV_EXT_COMMANDS))
      commands_.add("caps", "getCaps",
                    "The XEP-0115 caps of a connected client (full JID): node, ver, hash, state, features",
                    {{"jid", AV_ARG_JID, true, "full JID of an available session"}},
                    [core](const av::CommandCall& c) { get_caps(*core, c); });
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    g_core.reset();
    core_.reset();
  }

  const void* extension(const char* id) override { return std::string(id) == AV_EXT_CAPS ? &kCapsExt : nullptr; }

 private:
  static void get_caps(Core& core, const av::CommandCall& c) {
    auto j = av::parse_jid(c.arg("jid"));
    if (!j || j->resource.empty()) return c.fail(AV_E_INVALID_ARG, "jid must be a full JID");
    std::string jid = j->full();
    auto s = snapshot(core, jid);
    if (!s) return c.fail(AV_E_NOT_FOUND, "No caps known for " + jid);
    std::string out = "{\"jid\":" + caps::json_string(jid) + ",\"node\":" + caps::json_string(s->node) +
                      ",\"ver\":" + caps::json_string(s->ver) + ",\"hash\":" + caps::json_string(s->hash) +
                      ",\"state\":\"" + state_name(s->state) + "\"";
    if (s->state == State::known && s->features) {
      out += std::string(",\"verified\":") + (s->features->verified ? "true" : "false") + ",\"features\":[";
      for (size_t i = 0; i < s->features->features.size(); ++i)
        out += (i ? "," : "") + caps::json_string(s->features->features[i]);
      out += "],\"identities\":[";
      for (size_t i = 0; i < s->features->identities.size(); ++i) {
        const auto& id = s->features->identities[i];
        out += std::string(i ? "," : "") + "{\"category\":" + caps::json_string(id.category) +
               ",\"type\":" + caps::json_string(id.type) + ",\"lang\":" + caps::json_string(id.lang) +
               ",\"name\":" + caps::json_string(id.name) + "}";
      }
      out += "]";
    }
    c.ok(out + "}");
  }

  std::shared_ptr<Core> core_;
  av::HookSet hooks_;
  av::Commands commands_;
};

}  // namespace

AV_MODULE(CapsModule, "mod_caps", "0.1.0", "XEP-0115 entity capabilities: verified client features for PEP")
