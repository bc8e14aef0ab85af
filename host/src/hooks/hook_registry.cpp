#include "hooks/hook_registry.hpp"

#include "core/vhosts.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

namespace aviary {

// One per thread that ever ran a hook; owned by a process-wide list so that a grace
// period can inspect every thread. `seq` is odd while the thread is inside a run.
struct HookRegistry::Reader {
  std::atomic<uint64_t> seq{0};
  uint32_t depth = 0;  // nesting (a handler running another hook); touched by its thread only
};

namespace {
std::mutex g_readers_mu;
std::vector<std::unique_ptr<HookRegistry::Reader>>& all_readers() {
  static std::vector<std::unique_ptr<HookRegistry::Reader>> v;
  return v;
}
}  // namespace

HookRegistry::Reader& HookRegistry::reader() {
  thread_local Reader* mine = [] {
    std::lock_guard<std::mutex> lk(g_readers_mu);
    all_readers().push_back(std::make_unique<Reader>());
    return all_readers().back().get();
  }();
  return *mine;
}

HookRegistry::HookRegistry(size_t vhost_count, ErrorSink sink, OwnerLookup owners, size_t capacity)
    : vhosts_(vhost_count), sink_(std::move(sink)), owners_(std::move(owners)), hooks_(capacity) {}

HookRegistry::~HookRegistry() {
  for (auto& h : hooks_) delete h.snap.load();
  for (auto* s : retired_) delete s;
}

av_status HookRegistry::resolve(const char* name, av_hook_id* out) {
  if (!name || !*name || !out) return AV_E_INVALID_ARG;
  std::lock_guard<std::mutex> lk(mu_);
  auto it = by_name_.find(name);
  if (it != by_name_.end()) {
    *out = it->second;
    return AV_OK;
  }
  int32_t id = count_.load(std::memory_order_relaxed);
  if (static_cast<size_t>(id) >= hooks_.size()) return AV_E_NOMEM;
  hooks_[id].name = name;
  by_name_.emplace(name, id);
  count_.store(id + 1, std::memory_order_release);
  *out = id;
  return AV_OK;
}

av_status HookRegistry::declare(const char* name, av_hook_kind kind, av_hook_id* out) {
  if (kind < AV_HOOK_KIND_NOTIFY || kind > AV_HOOK_KIND_VERDICT) return AV_E_INVALID_ARG;
  av_hook_id id;
  av_status st = resolve(name, &id);
  if (st != AV_OK) return st;
  std::lock_guard<std::mutex> lk(mu_);
  Hook& h = hooks_[id];
  if (h.declared && h.kind != kind) return AV_E_INVALID_ARG;
  h.declared = true;
  h.kind = kind;
  if (out) *out = id;
  return AV_OK;
}

av_status HookRegistry::add(av_module* m, av_hook_id id, av_vhost* scope, int32_t prio,
                            av_hook_fn fn, void* user, av_hook_reg* out) {
  if (!fn || id < 0 || id >= count_.load(std::memory_order_acquire)) return AV_E_INVALID_ARG;
  if (scope && scope->index >= vhosts_) return AV_E_INVALID_ARG;
  OwnerInfo info = owners_ ? owners_(m) : OwnerInfo{};
  std::lock_guard<std::mutex> lk(mu_);
  Hook& h = hooks_[id];
  for (auto& e : h.master) {
    if (e.owner == m && e.scope == scope && e.fn == fn && e.user == user) {
      if (sink_) sink_("hook " + h.name + ": duplicate registration by " + info.id + " refused");
      return AV_E_INVALID_ARG;
    }
  }
  Handler e{fn, user, prio, info.load_order, next_seq_++, m, scope, next_reg_++, info.id};
  h.master.push_back(e);
  reg_hook_[e.reg] = id;
  publish(h);
  if (out) *out = e.reg;
  return AV_OK;
}

av_status HookRegistry::remove(av_module* m, av_hook_reg reg) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = reg_hook_.find(reg);
  if (it == reg_hook_.end()) return AV_E_NOT_FOUND;
  Hook& h = hooks_[it->second];
  auto pos = std::find_if(h.master.begin(), h.master.end(), [&](const Handler& e) { return e.reg == reg; });
  if (pos == h.master.end() || pos->owner != m) return AV_E_NOT_FOUND;
  h.master.erase(pos);
  reg_hook_.erase(it);
  publish(h);
  return AV_OK;
}

void HookRegistry::remove_owner(av_module* m) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    int32_t n = count_.load(std::memory_order_acquire);
    for (int32_t i = 0; i < n; ++i) {
      Hook& h = hooks_[i];
      auto before = h.master.size();
      h.master.erase(std::remove_if(h.master.begin(), h.master.end(),
                                    [&](const Handler& e) {
                                      if (e.owner != m) return false;
                                      reg_hook_.erase(e.reg);
                                      return true;
                                    }),
                     h.master.end());
      if (h.master.size() != before) publish(h);
    }
  }
  synchronize();
}

void HookRegistry::publish(Hook& h) {
  auto* s = new Snapshot;
  s->lists.resize(vhosts_ + 1);
  for (auto& e : h.master) {
    if (!e.scope) {
      for (auto& l : s->lists) l.push_back(e);
    } else {
      s->lists[1 + e.scope->index].push_back(e);
    }
  }
  for (auto& l : s->lists)
    std::sort(l.begin(), l.end(), [](const Handler& a, const Handler& b) {
      if (a.prio != b.prio) return a.prio < b.prio;
      if (a.load_order != b.load_order) return a.load_order < b.load_order;
      return a.seq < b.seq;
    });
  const Snapshot* old = h.snap.exchange(s, std::memory_order_seq_cst);
  if (old) retired_.push_back(old);
}

void HookRegistry::wait_for_readers() const {
  Reader* me = &reader();
  std::vector<std::pair<Reader*, uint64_t>> busy;
  {
    std::lock_guard<std::mutex> lk(g_readers_mu);
    for (auto& r : all_readers()) {
      if (r.get() == me) continue;  // a handler stopping a module from inside a run: not waited on
      uint64_t s = r->seq.load(std::memory_order_seq_cst);
      if (s & 1) busy.emplace_back(r.get(), s);
    }
  }
  for (auto& [r, s] : busy)
    while (r->seq.load(std::memory_order_seq_cst) == s) std::this_thread::sleep_for(std::chrono::microseconds(50));
}

void HookRegistry::synchronize() {
  std::vector<const Snapshot*> old;
  {
    std::lock_guard<std::mutex> lk(mu_);
    old.swap(retired_);
  }
  wait_for_readers();
  if (reader().depth > 0) {
    // Called from inside a run on this thread (a handler stopping a module): that run may
    // still iterate one of these snapshots, so keep them for a later grace period.
    std::lock_guard<std::mutex> lk(mu_);
    retired_.insert(retired_.end(), old.begin(), old.end());
    return;
  }
  for (auto* s : old) delete s;
}

av_status HookRegistry::run(av_hook_id id, av_vhost* vh, const void* params, void* acc,
                            av_hook_action* out_last, av_executor current, AfterEach after_each,
                            void* after_ctx) const {
  if (out_last) *out_last = AV_HOOK_CONTINUE;
  if (id < 0 || id >= count_.load(std::memory_order_acquire)) return AV_E_INVALID_ARG;
  if (vh && vh->index >= vhosts_) return AV_E_INVALID_ARG;
  const Hook& h = hooks_[id];
  Reader& rd = reader();
  if (rd.depth++ == 0) rd.seq.fetch_add(1, std::memory_order_seq_cst);
  const Snapshot* s = h.snap.load(std::memory_order_seq_cst);
  if (s) {
    av_hook_ctx cx{sizeof(av_hook_ctx), id, vh, current};
    for (const Handler& e : s->lists[vh ? 1 + vh->index : 0]) {
      av_hook_action a = e.fn(e.user, &cx, params, acc);
      if (after_each) after_each(after_ctx);
      if (a == AV_HOOK_CONTINUE) continue;
      if (a == AV_HOOK_STOP) {
        if (h.kind == AV_HOOK_KIND_NOTIFY) continue;  // notify hooks call everyone
        if (out_last) *out_last = AV_HOOK_STOP;
        break;
      }
      if (sink_) {
        const char* what = a == AV_HOOK_ERROR ? "failed" : a == AV_HOOK_SUSPEND ? "returned SUSPEND on a non-suspendable hook" : "returned an invalid action";
        sink_("hook " + h.name + ": handler of " + e.owner_id + " " + what + " (" + std::to_string(a) + "); continuing with the next handler");
      }
    }
  }
  if (--rd.depth == 0) rd.seq.fetch_add(1, std::memory_order_seq_cst);
  return AV_OK;
}

std::string HookRegistry::name(av_hook_id id) const {
  std::lock_guard<std::mutex> lk(mu_);
  if (id < 0 || id >= count_.load()) return {};
  return hooks_[id].name;
}

size_t HookRegistry::handler_count(av_hook_id id) const {
  std::lock_guard<std::mutex> lk(mu_);
  if (id < 0 || id >= count_.load()) return 0;
  return hooks_[id].master.size();
}

}  // namespace aviary
