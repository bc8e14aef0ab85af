#include "mam_core.hpp"

#include "mam_text.hpp"

#include <chrono>

namespace mod_mam {

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Node to_node(av::ElementView e, int depth) {
  Node n;
  if (!e) return n;
  n.name = std::string(e.name());
  n.ns = std::string(e.attr("xmlns"));
  n.text = std::string(e.text());
  for (const char* a : {"var", "type", "queryid", "default", "id", "by"})
    if (e.has_attr(a)) n.attrs.emplace_back(a, std::string(e.attr(a)));
  if (depth < 8)
    for (size_t i = 0; i < e.child_count(); ++i) n.kids.push_back(to_node(e.child_at(i), depth + 1));
  return n;
}

av_mam_lookup whole_archive(av_mam_kind kind, const std::string& user, const std::string& server) {
  av_mam_lookup l{};
  l.struct_size = sizeof l;
  l.filter.struct_size = sizeof l.filter;
  l.filter.kind = kind;
  l.filter.owner_user = av::str(user);
  l.filter.owner_server = av::str(server);
  l.filter.max_id = INT64_MAX;
  l.count_max_id = INT64_MAX;
  return l;
}

// ---------------------------------------------------------------- timers

bool Timers::after(uint64_t ms, std::function<void()> fn) {
  std::lock_guard<std::mutex> lk(mu_);
  if (stopped_ || !t_) return false;
  auto* p = new Pending{shared_from_this(), next_++, std::move(fn)};
  av_timer_id id = t_->start(AV_EXEC_IO_ANY, ms, &Timers::fire, p);
  if (!id) {
    delete p;
    return false;
  }
  pending_[p->key] = {id, p};
  return true;
}

void Timers::fire(void* arg) {
  std::unique_ptr<Pending> p(static_cast<Pending*>(arg));
  {
    std::lock_guard<std::mutex> lk(p->owner->mu_);
    p->owner->pending_.erase(p->key);
  }
  av::detail::guard<int>("mam timer", 0, [&] {
    p->fn();
    return 0;
  });
}

void Timers::cancel_all() {
  std::lock_guard<std::mutex> lk(mu_);
  stopped_ = true;
  for (auto& [k, v] : pending_)
    if (t_->cancel(v.first)) delete v.second;  // else it is running and frees itself
  pending_.clear();
}

// ---------------------------------------------------------------- preferences

Prefs Core::prefs_of(const std::string& owner_bare) const {
  if (has_custom_prefs()) {
    std::shared_lock<std::shared_mutex> lk(prefs_mu_);
    auto it = prefs_.find(owner_bare);
    if (it != prefs_.end()) return it->second;
  }
  Prefs p;
  p.def = cfg.default_mode;
  return p;
}

void Core::set_cached_prefs(const std::string& owner_bare, Prefs p) {
  std::unique_lock<std::shared_mutex> lk(prefs_mu_);
  prefs_[owner_bare] = std::move(p);
  prefs_count_.store(prefs_.size(), std::memory_order_relaxed);
}

void Core::forget_prefs(const std::string& owner_bare) {
  std::unique_lock<std::shared_mutex> lk(prefs_mu_);
  prefs_.erase(owner_bare);
  prefs_count_.store(prefs_.size(), std::memory_order_relaxed);
}

// ---------------------------------------------------------------- archiving

namespace {
struct RosterAsk {
  std::shared_ptr<Core> core;
  Record rec;
};
void on_roster_answer(void* arg, av_status st, av_roster_sub, bool, bool) {
  std::unique_ptr<RosterAsk> a(static_cast<RosterAsk*>(arg));
  av::detail::guard<int>("mam roster answer", 0, [&] {
    if (st == AV_OK) a->core->writer(static_cast<av_mam_kind>(a->rec.kind)).push(std::move(a->rec));
    return 0;
  });
}
}  // namespace

bool Core::archive(Record r, const std::string& owner_bare) {
  if (r.kind == AV_MAM_MUC) return muc_writer->push(std::move(r)), true;
  Verdict v = decide(prefs_of(owner_bare), r.remote_bare);
  if (v == Verdict::skip) return false;
  if (v == Verdict::ask_roster) {
    av_status st = AV_E_UNSUPPORTED;
    if (roster) st = roster->get_contact(av::str(owner_bare), av::str(r.remote_bare), nullptr, nullptr, nullptr);
    if (st == AV_E_NOT_FOUND) return false;
    if (st == AV_E_BUSY && roster_lookup) {
      // Not in memory (the owner has no session): ask storage, archive when it answers.
      auto* ask = new RosterAsk{shared_from_this(), std::move(r)};
      if (roster_lookup->get_contact(av::str(owner_bare), av::str(ask->rec.remote_bare), AV_EXEC_IO_ANY,
                                     &on_roster_answer, ask) != AV_OK) {
        r = std::move(ask->rec);
        delete ask;
        pm_writer->push(std::move(r));  // cannot tell: archiving is the safe side
      }
      return true;
    }
    if (st != AV_OK && st != AV_E_BUSY && st != AV_E_UNSUPPORTED) return false;
  }
  pm_writer->push(std::move(r));
  return true;
}

namespace {
struct RetractJob {
  std::shared_ptr<Core> core;
  Archive a;
  Retraction r;
  std::string peer;
};

void on_retract_rows(void* cx, av_status st, const av_mam_row* rows, size_t n, int64_t, int64_t, av_str err) {
  std::unique_ptr<RetractJob> j(static_cast<RetractJob*>(cx));
  av::detail::guard<int>("mam retraction", 0, [&] {
    if (st != AV_OK) {
      av::log_warning("mam: retraction lookup failed: " + std::string(av::sv(err)));
      return 0;
    }
    for (size_t i = 0; i < n; ++i) {
      const char* perr = nullptr;
      av_stanza* s = av::stanza_api().parse(rows[i].xml, &perr);
      if (!s) continue;
      auto ref = av::StanzaRef::adopt(s);
      auto root = ref.root();
      if (root.child("retracted", j->r.ns)) continue;  // already a tombstone
      std::vector<std::pair<std::string, std::string>> attrs;
      for (const char* k : {"from", "to", "type", "id", "xml:lang"})
        if (root.has_attr(k)) attrs.emplace_back(k, std::string(root.attr(k)));
      std::string origin;
      if (auto o = root.child("origin-id", kNsSid)) origin = std::string(o.attr("id"));
      std::string tomb = tombstone_xml(attrs, origin, j->r, now_us());
      j->core->store->update_message(
          j->core->store->self, j->a.kind, av::str(j->a.user), av::str(j->a.server), rows[i].id, av::str(tomb),
          av::str_absent(), AV_EXEC_IO_ANY,
          [](void*, av_status st, av_str e) {
            if (st != AV_OK) av::log_warning("mam: writing a retraction tombstone failed: " + std::string(av::sv(e)));
          },
          nullptr);
    }
    return 0;
  });
}
}  // namespace

void Core::retract(const Archive& a, const std::string& peer_bare, const Retraction& r) {
  auto self = shared_from_this();
  writer(a.kind).sync([self, a, peer_bare, r] {
    auto* j = new RetractJob{self, a, r, peer_bare};
    av_mam_lookup q = whole_archive(a.kind, j->a.user, j->a.server);
    q.filter.with_bare = av::str(j->peer);
    q.filter.origin_id = av::str(j->r.id);
    q.backward = true;  // the retracted message is usually a recent one
    q.limit = 20;
    if (self->store->lookup(self->store->self, &q, AV_EXEC_IO_ANY, &on_retract_rows, j) != AV_OK) {
      av::log_warning("mam: retraction lookup could not be submitted");
      delete j;
    }
  });
}

// ---------------------------------------------------------------- replies

void Core::route_xml(const std::string& xml) const {
  const char* err = nullptr;
  av_stanza* s = av::stanza_api().parse(av::str(xml), &err);
  if (!s) {
    av::log_error(std::string("mam: built malformed XML (") + (err ? err : "?") + ")");
    return;
  }
  auto ref = av::StanzaRef::adopt(s);
  router->route(ref.get());
}

void Core::reply_error(const av::StanzaRef& iq, const std::string& from_jid, const StanzaError& e) const {
  av_stanza* r = av::stanza_api().make_error(iq.get(), av::str(e.type), av::str(e.condition), av::str(e.text));
  if (!r) return;
  auto ref = av::StanzaRef::adopt(r);
  if (av_xml_el* root = av::stanza_api().mut_root(r))
    if (!av::stanza_api().attr(root, av_cstr("from")).ptr) av::stanza_api().set_attr(root, av_cstr("from"), av::str(from_jid));
  router->route(r);
}

void Core::reply_result(const av::StanzaRef& iq, const std::string& from_jid, const std::string& payload) const {
  av_stanza* r = av::stanza_api().make_result(iq.get());
  if (!r) return;
  auto ref = av::StanzaRef::adopt(r);
  av_xml_el* root = av::stanza_api().mut_root(r);
  if (!root) return;
  if (!av::stanza_api().attr(root, av_cstr("from")).ptr) av::stanza_api().set_attr(root, av_cstr("from"), av::str(from_jid));
  if (!payload.empty()) av::stanza_api().add_xml(root, av::str(payload));
  router->route(r);
}

}  // namespace mod_mam
