// Hook runner semantics (DESIGN.md B3), on the real HookRegistry.
#include "core/vhosts.hpp"
#include "hooks/hook_registry.hpp"

#include <aviary/cpp/hook.hpp>
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using aviary::HookRegistry;

namespace {

struct Trace {
  std::vector<std::string> calls;
};

struct H {
  std::string name;
  av_hook_action ret;
  Trace* t;
};

av_hook_action record(void* user, const av_hook_ctx*, const void*, void* acc) {
  auto* h = static_cast<H*>(user);
  h->t->calls.push_back(h->name);
  if (acc) *static_cast<int*>(acc) += 1;
  return h->ret;
}

struct Fixture {
  std::vector<std::string> logs;
  aviary::Vhosts vhosts{{"a.example", "b.example"}};
  av_module* m1 = reinterpret_cast<av_module*>(0x1);
  av_module* m2 = reinterpret_cast<av_module*>(0x2);
  HookRegistry reg{2, [this](const std::string& l) { logs.push_back(l); }, [this](av_module* m) {
                     if (m == m1) return HookRegistry::OwnerInfo{1, "mod_one"};
                     if (m == m2) return HookRegistry::OwnerInfo{2, "mod_two"};
                     return HookRegistry::OwnerInfo{};
                   }};
  av_hook_id id = -1;
  Fixture() { REQUIRE(reg.declare("test/fold", AV_HOOK_KIND_FOLD, &id) == AV_OK); }
  av_hook_reg add(av_module* m, H& h, int prio, av_vhost* scope = nullptr) {
    av_hook_reg r = 0;
    REQUIRE(reg.add(m, id, scope, prio, record, &h, &r) == AV_OK);
    return r;
  }
  av_hook_action run(av_vhost* vh = nullptr, int* acc = nullptr) {
    av_hook_action last = -7;
    REQUIRE(reg.run(id, vh, nullptr, acc, &last, 0) == AV_OK);
    return last;
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "hooks run by priority, lower first") {
  Trace t;
  H a{"a", AV_HOOK_CONTINUE, &t}, b{"b", AV_HOOK_CONTINUE, &t}, c{"c", AV_HOOK_CONTINUE, &t};
  add(m1, a, AV_PRIO_LATE);
  add(m1, b, AV_PRIO_FIRST);
  add(m1, c, AV_PRIO_NORMAL);
  int acc = 0;
  CHECK(run(nullptr, &acc) == AV_HOOK_CONTINUE);
  CHECK(t.calls == std::vector<std::string>{"b", "c", "a"});
  CHECK(acc == 3);
}

TEST_CASE_METHOD(Fixture, "ties run in module load order, then registration order") {
  Trace t;
  H a{"m2-first-registered", AV_HOOK_CONTINUE, &t}, b{"m1-second", AV_HOOK_CONTINUE, &t},
      c{"m1-third", AV_HOOK_CONTINUE, &t};
  add(m2, a, 0);
  add(m1, b, 0);
  add(m1, c, 0);
  run();
  CHECK(t.calls == std::vector<std::string>{"m1-second", "m1-third", "m2-first-registered"});
}

TEST_CASE_METHOD(Fixture, "STOP ends a fold run and is reported") {
  Trace t;
  H a{"a", AV_HOOK_STOP, &t}, b{"b", AV_HOOK_CONTINUE, &t};
  add(m1, a, 0);
  add(m1, b, 10);
  CHECK(run() == AV_HOOK_STOP);
  CHECK(t.calls == std::vector<std::string>{"a"});
}

TEST_CASE_METHOD(Fixture, "notify hooks call every handler even after STOP") {
  Trace t;
  av_hook_id n;
  REQUIRE(reg.declare("test/notify", AV_HOOK_KIND_NOTIFY, &n) == AV_OK);
  H a{"a", AV_HOOK_STOP, &t}, b{"b", AV_HOOK_CONTINUE, &t};
  REQUIRE(reg.add(m1, n, nullptr, 0, record, &a, nullptr) == AV_OK);
  REQUIRE(reg.add(m1, n, nullptr, 1, record, &b, nullptr) == AV_OK);
  av_hook_action last;
  reg.run(n, nullptr, nullptr, nullptr, &last, 0);
  CHECK(t.calls.size() == 2);
  CHECK(last == AV_HOOK_CONTINUE);
  CHECK(reg.declare("test/notify", AV_HOOK_KIND_FOLD, nullptr) == AV_E_INVALID_ARG);
}

TEST_CASE_METHOD(Fixture, "verdict: the first decisive handler wins") {
  av_hook_id v;
  REQUIRE(reg.declare("test/verdict", AV_HOOK_KIND_VERDICT, &v) == AV_OK);
  struct Acc { int verdict = 0; };
  auto pass = [](void*, const av_hook_ctx*, const void*, void*) -> av_hook_action { return AV_HOOK_CONTINUE; };
  auto deny = [](void*, const av_hook_ctx*, const void*, void* acc) -> av_hook_action {
    static_cast<Acc*>(acc)->verdict = -1;
    return AV_HOOK_STOP;
  };
  auto allow = [](void*, const av_hook_ctx*, const void*, void* acc) -> av_hook_action {
    static_cast<Acc*>(acc)->verdict = 1;
    return AV_HOOK_STOP;
  };
  REQUIRE(reg.add(m1, v, nullptr, 0, pass, nullptr, nullptr) == AV_OK);
  REQUIRE(reg.add(m1, v, nullptr, 5, deny, nullptr, nullptr) == AV_OK);
  REQUIRE(reg.add(m1, v, nullptr, 9, allow, nullptr, nullptr) == AV_OK);
  Acc acc;
  av_hook_action last;
  reg.run(v, nullptr, nullptr, &acc, &last, 0);
  CHECK(acc.verdict == -1);
  CHECK(last == AV_HOOK_STOP);
}

TEST_CASE_METHOD(Fixture, "a failing or misbehaving handler is logged and skipped") {
  Trace t;
  H bad{"bad", AV_HOOK_ERROR, &t}, garbage{"garbage", 42, &t}, susp{"susp", AV_HOOK_SUSPEND, &t},
      good{"good", AV_HOOK_CONTINUE, &t};
  add(m1, bad, 0);
  add(m2, garbage, 1);
  add(m2, susp, 2);
  add(m1, good, 3);
  CHECK(run() == AV_HOOK_CONTINUE);
  CHECK(t.calls == std::vector<std::string>{"bad", "garbage", "susp", "good"});
  REQUIRE(logs.size() == 3);
  CHECK(logs[0] == "hook test/fold: handler of mod_one failed (-1); continuing with the next handler");
  CHECK(logs[1] == "hook test/fold: handler of mod_two returned an invalid action (42); continuing with the next handler");
  CHECK(logs[2] == "hook test/fold: handler of mod_two returned SUSPEND on a non-suspendable hook (2); continuing with the next handler");
}

TEST_CASE_METHOD(Fixture, "duplicate registration is refused with a warning") {
  Trace t;
  H a{"a", AV_HOOK_CONTINUE, &t};
  add(m1, a, 0);
  CHECK(reg.add(m1, id, nullptr, 5, record, &a, nullptr) == AV_E_INVALID_ARG);
  CHECK(logs.back() == "hook test/fold: duplicate registration by mod_one refused");
  // Same fn and user in another scope is a different registration.
  CHECK(reg.add(m1, id, vhosts.at(0), 5, record, &a, nullptr) == AV_OK);
}

TEST_CASE_METHOD(Fixture, "per-vhost handlers merge with global ones by priority") {
  Trace t;
  H g1{"g1", AV_HOOK_CONTINUE, &t}, a{"a-only", AV_HOOK_CONTINUE, &t}, g2{"g2", AV_HOOK_CONTINUE, &t},
      b{"b-only", AV_HOOK_CONTINUE, &t};
  add(m1, g1, 0);
  add(m1, a, 5, vhosts.at(0));
  add(m1, g2, 10);
  add(m1, b, 1, vhosts.at(1));
  run(vhosts.at(0));
  CHECK(t.calls == std::vector<std::string>{"g1", "a-only", "g2"});
  t.calls.clear();
  run(vhosts.at(1));
  CHECK(t.calls == std::vector<std::string>{"g1", "b-only", "g2"});
  t.calls.clear();
  run(nullptr);
  CHECK(t.calls == std::vector<std::string>{"g1", "g2"});
}

TEST_CASE_METHOD(Fixture, "remove, remove by owner, and wrong owner") {
  Trace t;
  H a{"a", AV_HOOK_CONTINUE, &t}, b{"b", AV_HOOK_CONTINUE, &t}, c{"c", AV_HOOK_CONTINUE, &t};
  auto ra = add(m1, a, 0);
  add(m2, b, 1);
  add(m2, c, 2, vhosts.at(1));
  CHECK(reg.remove(m2, ra) == AV_E_NOT_FOUND);  // not m2's
  CHECK(reg.remove(m1, ra) == AV_OK);
  CHECK(reg.remove(m1, ra) == AV_E_NOT_FOUND);
  reg.remove_owner(m2);
  run(vhosts.at(1));
  CHECK(t.calls.empty());
  CHECK(reg.handler_count(id) == 0);
}

TEST_CASE_METHOD(Fixture, "a handler removed during a run does not disturb that run") {
  Trace t;
  struct Remover {
    HookRegistry* reg;
    av_module* m;
    av_hook_reg victim;
    Trace* t;
  } rm{&reg, m1, 0, &t};
  H victim{"victim", AV_HOOK_CONTINUE, &t};
  auto remover = [](void* user, const av_hook_ctx*, const void*, void*) -> av_hook_action {
    auto* r = static_cast<Remover*>(user);
    r->t->calls.push_back("remover");
    r->reg->remove(r->m, r->victim);
    return AV_HOOK_CONTINUE;
  };
  REQUIRE(reg.add(m1, id, nullptr, 0, remover, &rm, nullptr) == AV_OK);
  rm.victim = add(m1, victim, 1);
  run();  // the snapshot taken at the start still includes the victim
  CHECK(t.calls == std::vector<std::string>{"remover", "victim"});
  t.calls.clear();
  run();
  CHECK(t.calls == std::vector<std::string>{"remover"});
}

TEST_CASE_METHOD(Fixture, "remove_owner waits for runs in flight on other threads") {
  std::atomic<bool> entered{false}, release{false}, finished{false};
  struct Slow {
    std::atomic<bool>* entered;
    std::atomic<bool>* release;
    std::atomic<bool>* finished;
  } slow{&entered, &release, &finished};
  auto fn = [](void* user, const av_hook_ctx*, const void*, void*) -> av_hook_action {
    auto* s = static_cast<Slow*>(user);
    s->entered->store(true);
    while (!s->release->load()) std::this_thread::yield();
    s->finished->store(true);
    return AV_HOOK_CONTINUE;
  };
  REQUIRE(reg.add(m1, id, nullptr, 0, fn, &slow, nullptr) == AV_OK);
  std::thread runner([&] { reg.run(id, nullptr, nullptr, nullptr, nullptr, 0); });
  while (!entered.load()) std::this_thread::yield();
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    release.store(true);
  });
  reg.remove_owner(m1);  // must not return while the handler is still running
  CHECK(finished.load());
  runner.join();
  releaser.join();
}

TEST_CASE_METHOD(Fixture, "unknown hook ids and vhosts are rejected") {
  CHECK(reg.run(9999, nullptr, nullptr, nullptr, nullptr, 0) == AV_E_INVALID_ARG);
  av_vhost bogus{7, "x"};
  CHECK(reg.run(id, &bogus, nullptr, nullptr, nullptr, 0) == AV_E_INVALID_ARG);
  CHECK(reg.add(m1, id, nullptr, 0, nullptr, nullptr, nullptr) == AV_E_INVALID_ARG);
  av_hook_id again;
  REQUIRE(reg.resolve("test/fold", &again) == AV_OK);
  CHECK(again == id);
  CHECK(reg.resolve("", &again) == AV_E_INVALID_ARG);
}

// ---- further cases (DESIGN.md B5.3): ties across scopes, additions during a run,
// ---- auto-removal on module stop, and exceptions through the C++ layer (av::HookSet)

TEST_CASE_METHOD(Fixture, "ties merge global and per-vhost handlers by load order, then registration order") {
  Trace t;
  H g2{"m2-global", AV_HOOK_CONTINUE, &t}, v2{"m2-vhost", AV_HOOK_CONTINUE, &t}, v1{"m1-vhost", AV_HOOK_CONTINUE, &t},
      g1{"m1-global", AV_HOOK_CONTINUE, &t}, early{"m2-early", AV_HOOK_CONTINUE, &t};
  add(m2, g2, 0);
  add(m2, v2, 0, vhosts.at(0));
  add(m1, v1, 0, vhosts.at(0));
  add(m1, g1, 0);
  add(m2, early, -1, vhosts.at(0));
  for (int i = 0; i < 3; ++i) {  // the same order on every run
    t.calls.clear();
    run(vhosts.at(0));
    CHECK(t.calls == std::vector<std::string>{"m2-early", "m1-vhost", "m1-global", "m2-global", "m2-vhost"});
  }
  t.calls.clear();
  run(vhosts.at(1));
  CHECK(t.calls == std::vector<std::string>{"m1-global", "m2-global"});
}

TEST_CASE_METHOD(Fixture, "a handler added during a run is not called by that run") {
  Trace t;
  struct Adder {
    Fixture* fx;
    H* late;
    Trace* t;
  };
  H late{"late", AV_HOOK_CONTINUE, &t};
  Adder ad{this, &late, &t};
  auto adder = [](void* user, const av_hook_ctx*, const void*, void*) -> av_hook_action {
    auto* a = static_cast<Adder*>(user);
    a->t->calls.push_back("adder");
    if (a->fx->reg.handler_count(a->fx->id) == 1) a->fx->reg.add(a->fx->m1, a->fx->id, nullptr, 5, record, a->late, nullptr);
    return AV_HOOK_CONTINUE;
  };
  REQUIRE(reg.add(m1, id, nullptr, 0, adder, &ad, nullptr) == AV_OK);
  run();
  CHECK(t.calls == std::vector<std::string>{"adder"});
  t.calls.clear();
  run();
  CHECK(t.calls == std::vector<std::string>{"adder", "late"});
}

TEST_CASE_METHOD(Fixture, "verdict: with no decisive handler the caller's default stands") {
  av_hook_id v;
  REQUIRE(reg.declare("test/verdict", AV_HOOK_KIND_VERDICT, &v) == AV_OK);
  struct Acc { int verdict = 7; };  // 7 = "the caller's default"
  auto pass = [](void*, const av_hook_ctx*, const void*, void*) -> av_hook_action { return AV_HOOK_CONTINUE; };
  auto fail = [](void*, const av_hook_ctx*, const void*, void*) -> av_hook_action { return AV_HOOK_ERROR; };
  REQUIRE(reg.add(m1, v, nullptr, 0, pass, nullptr, nullptr) == AV_OK);
  REQUIRE(reg.add(m2, v, nullptr, 1, fail, nullptr, nullptr) == AV_OK);
  Acc acc;
  av_hook_action last = -7;
  REQUIRE(reg.run(v, nullptr, nullptr, &acc, &last, 0) == AV_OK);
  CHECK(last == AV_HOOK_CONTINUE);
  CHECK(acc.verdict == 7);
  CHECK(logs == std::vector<std::string>{"hook test/verdict: handler of mod_two failed (-1); continuing with the next handler"});
}

TEST_CASE_METHOD(Fixture, "module stop: remove_owner drops every handler of that module only") {
  Trace t;
  av_hook_id other;
  REQUIRE(reg.resolve("test/other", &other) == AV_OK);
  H a{"m1-a", AV_HOOK_CONTINUE, &t}, b{"m1-b", AV_HOOK_CONTINUE, &t}, keep{"m2-keep", AV_HOOK_CONTINUE, &t},
      o{"m1-other", AV_HOOK_CONTINUE, &t};
  add(m1, a, 0);
  add(m1, b, 0, vhosts.at(1));
  add(m2, keep, 0, vhosts.at(1));
  REQUIRE(reg.add(m1, other, vhosts.at(0), 0, record, &o, nullptr) == AV_OK);
  reg.remove_owner(m1);  // what the host does before calling m1's stop()
  CHECK(reg.handler_count(id) == 1);
  CHECK(reg.handler_count(other) == 0);
  run(vhosts.at(1));
  reg.run(other, vhosts.at(0), nullptr, nullptr, nullptr, 0);
  CHECK(t.calls == std::vector<std::string>{"m2-keep"});
  // The module's own registrations are gone: removing them again is harmless.
  reg.remove_owner(m1);
  CHECK(reg.handler_count(id) == 1);
}

namespace {

// A host table routed to one HookRegistry, for code using the C++ layer (av::HookSet).
struct CppHost {
  static HookRegistry*& reg() {
    static HookRegistry* r = nullptr;
    return r;
  }
  static std::vector<std::string>& module_logs() {
    static std::vector<std::string> v;
    return v;
  }
  av_host_api api{};
  CppHost(HookRegistry& r, av_module* self) {
    reg() = &r;
    module_logs().clear();
    api.struct_size = sizeof(av_host_api);
    api.abi_major = AV_ABI_MAJOR;
    api.abi_minor = AV_ABI_MINOR;
    api.log = [](av_module*, av_log_level, av_str m) { module_logs().emplace_back(m.ptr, m.len); };
    api.hook_resolve = [](const char* n, av_hook_id* out) { return reg()->resolve(n, out); };
    api.hook_add = [](av_module* m, av_hook_id h, av_vhost* s, int32_t p, av_hook_fn fn, void* u, av_hook_reg* out) {
      return reg()->add(m, h, s, p, fn, u, out);
    };
    api.hook_remove = [](av_module* m, av_hook_reg r) { return reg()->remove(m, r); };
    av::detail::globals().host = &api;
    av::detail::globals().self = self;
  }
  ~CppHost() {
    av::detail::globals().host = nullptr;
    av::detail::globals().self = nullptr;
    reg() = nullptr;
  }
};

struct P {
  int n;
};
struct A {
  int sum = 0;
};

}  // namespace

TEST_CASE_METHOD(Fixture, "an exception in a C++ handler becomes AV_HOOK_ERROR and the run continues") {
  CppHost cpp(reg, m1);
  {
    av::HookSet hooks;
    hooks.add_named<P, A>("test/fold", AV_PRIO_EARLY, [](const P&, A&) -> av::Next { throw std::runtime_error("boom"); });
    hooks.add_named<P, A>("test/fold", AV_PRIO_NORMAL, [](const P&, A&) -> av::Next { throw 42; });
    hooks.add_named<P, A>("test/fold", AV_PRIO_LATE, [](const P& p, A& a) {
      a.sum += p.n;
      return av::next;
    });
    P p{5};
    A a;
    av_hook_action last = -7;
    REQUIRE(reg.run(id, nullptr, &p, &a, &last, 0) == AV_OK);
    CHECK(last == AV_HOOK_CONTINUE);
    CHECK(a.sum == 5);  // the handler after the throwing ones ran
    // Logged by the module's guard (where and what), then by the runner (hook and module).
    CHECK(CppHost::module_logs() == std::vector<std::string>{"exception in test/fold: boom", "unknown exception in test/fold"});
    CHECK(logs == std::vector<std::string>{
                      "hook test/fold: handler of mod_one failed (-1); continuing with the next handler",
                      "hook test/fold: handler of mod_one failed (-1); continuing with the next handler"});
    CHECK(reg.handler_count(id) == 3);
  }
  CHECK(reg.handler_count(id) == 0);  // HookSet unregisters on destruction
}

TEST_CASE_METHOD(Fixture, "C++ notify handlers that throw are errors too; STOP from C++ ends a fold") {
  CppHost cpp(reg, m1);
  av_hook_id n;
  REQUIRE(reg.declare("test/notify", AV_HOOK_KIND_NOTIFY, &n) == AV_OK);
  av::HookSet hooks;
  int seen = 0;
  hooks.add_named<P, void>("test/notify", 0, [](const P&) { throw std::logic_error("bad state"); });
  hooks.add_named<P, void>("test/notify", 1, [&seen](const P& p) { seen += p.n; });
  P p{3};
  REQUIRE(reg.run(n, nullptr, &p, nullptr, nullptr, 0) == AV_OK);
  CHECK(seen == 3);
  CHECK(CppHost::module_logs() == std::vector<std::string>{"exception in test/notify: bad state"});
  CHECK(logs == std::vector<std::string>{"hook test/notify: handler of mod_one failed (-1); continuing with the next handler"});

  hooks.add_named<P, A>("test/fold", 0, [](const P&, A& a) {
    a.sum = 1;
    return av::stop;
  });
  hooks.add_named<P, A>("test/fold", 1, [](const P&, A& a) {
    a.sum = 2;
    return av::next;
  });
  A a;
  av_hook_action last = -7;
  REQUIRE(reg.run(id, nullptr, &p, &a, &last, 0) == AV_OK);
  CHECK(last == AV_HOOK_STOP);
  CHECK(a.sum == 1);
}

TEST_CASE_METHOD(Fixture, "module stop with a HookSet still alive: the host removes, the wrapper's cleanup is harmless") {
  CppHost cpp(reg, m1);
  av::HookSet hooks;
  hooks.add_named<P, A>("test/fold", 0, [](const P&, A& a) {
    ++a.sum;
    return av::next;
  });
  reg.remove_owner(m1);
  CHECK(reg.handler_count(id) == 0);
  A a;
  P p{0};
  reg.run(id, nullptr, &p, &a, nullptr, 0);
  CHECK(a.sum == 0);
  hooks.clear();  // hook_remove of registrations already gone: AV_E_NOT_FOUND, ignored
  CHECK(reg.handler_count(id) == 0);
}

// A handler that stops a module (remove_owner) from inside a run on the same thread: the
// snapshot this run iterates must survive until the run ends (it used to be freed at once:
// heap-use-after-free, seen with ASan).
TEST_CASE_METHOD(Fixture, "remove_owner from inside a handler finishes the current run safely", "[hooks]") {
  Trace t;
  struct Stopper {
    Fixture* fx;
    Trace* t;
  } st{this, &t};
  auto stopper = [](void* user, const av_hook_ctx*, const void*, void*) -> av_hook_action {
    auto* s = static_cast<Stopper*>(user);
    s->t->calls.push_back("stopper");
    s->fx->reg.remove_owner(s->fx->m1);
    return AV_HOOK_CONTINUE;
  };
  H later{"later", AV_HOOK_CONTINUE, &t};
  REQUIRE(reg.add(m1, id, nullptr, 0, stopper, &st, nullptr) == AV_OK);
  add(m1, later, 1);
  run();
  CHECK(t.calls == std::vector<std::string>{"stopper", "later"});  // from the run's snapshot
  CHECK(reg.handler_count(id) == 0);
}

TEST_CASE_METHOD(Fixture, "C++ handlers may take the run's context: the vhost the hook runs for") {
  CppHost cpp(reg, m1);
  av_hook_id n;
  REQUIRE(reg.declare("test/notify-ctx", AV_HOOK_KIND_NOTIFY, &n) == AV_OK);
  av::HookSet hooks;
  av_vhost* fold_seen = nullptr;
  av_vhost* notify_seen = nullptr;
  hooks.add_named<P, A>("test/fold", 0, [&](const av_hook_ctx& cx, const P& p, A& a) {
    fold_seen = cx.vhost;
    a.sum += p.n;
    return av::next;
  });
  hooks.add_named<P, void>("test/notify-ctx", 0, [&](const av_hook_ctx& cx, const P&) { notify_seen = cx.vhost; });
  P p{4};
  A a;
  REQUIRE(reg.run(id, vhosts.at(1), &p, &a, nullptr, 0) == AV_OK);
  CHECK(fold_seen == vhosts.at(1));
  CHECK(a.sum == 4);
  REQUIRE(reg.run(n, vhosts.at(0), &p, nullptr, nullptr, 0) == AV_OK);
  CHECK(notify_seen == vhosts.at(0));
  REQUIRE(reg.run(n, nullptr, &p, nullptr, nullptr, 0) == AV_OK);  // a global run: no vhost
  CHECK(notify_seen == nullptr);
}

namespace {
// The after-each callback in miniature: handlers leave a new value in acc.pending (as a
// stanza handler leaves av_stanza_acc.replace); the callback moves it into the params
// between handlers (as the router refreshes params.stanza).
struct RefreshParams {
  int value;
};
struct RefreshAcc {
  int pending = 0;  // 0 = nothing to take over
  std::vector<int> seen;
};
struct Refresher {
  RefreshParams* p;
  RefreshAcc* acc;
  std::vector<std::string>* calls;
  static void after(void* self) {
    auto* r = static_cast<Refresher*>(self);
    r->calls->push_back("after");
    if (r->acc->pending) r->p->value = std::exchange(r->acc->pending, 0);
  }
};
av_hook_action add_ten(void*, const av_hook_ctx*, const void* params, void* acc) {
  auto* a = static_cast<RefreshAcc*>(acc);
  int v = static_cast<const RefreshParams*>(params)->value;
  a->seen.push_back(v);
  a->pending = v + 10;
  return AV_HOOK_CONTINUE;
}
av_hook_action only_look(void*, const av_hook_ctx*, const void* params, void* acc) {
  static_cast<RefreshAcc*>(acc)->seen.push_back(static_cast<const RefreshParams*>(params)->value);
  return AV_HOOK_CONTINUE;
}
}  // namespace

TEST_CASE_METHOD(Fixture, "after_each runs after every handler, whatever it returned, and not after the run stops") {
  Trace t;
  H a{"a", AV_HOOK_CONTINUE, &t}, b{"b-fails", AV_HOOK_ERROR, &t}, c{"c-stops", AV_HOOK_STOP, &t},
      d{"d-never", AV_HOOK_CONTINUE, &t};
  add(m1, a, 0);
  add(m1, b, 1);
  add(m1, c, 2);
  add(m1, d, 3);
  auto after = [](void* ctx) { static_cast<Trace*>(ctx)->calls.push_back("after"); };
  int acc = 0;
  av_hook_action last = -7;
  REQUIRE(reg.run(id, nullptr, nullptr, &acc, &last, 0, after, &t) == AV_OK);
  CHECK(last == AV_HOOK_STOP);
  CHECK(t.calls == std::vector<std::string>{"a", "after", "b-fails", "after", "c-stops", "after"});
  CHECK(acc == 3);

  // No handler: no call. Without a callback (the default) nothing changes.
  t.calls.clear();
  av_hook_id empty;
  REQUIRE(reg.declare("test/empty", AV_HOOK_KIND_FOLD, &empty) == AV_OK);
  REQUIRE(reg.run(empty, nullptr, nullptr, &acc, nullptr, 0, after, &t) == AV_OK);
  CHECK(t.calls.empty());
  REQUIRE(reg.run(id, nullptr, nullptr, &acc, nullptr, 0) == AV_OK);
  CHECK(t.calls == std::vector<std::string>{"a", "b-fails", "c-stops"});
}

TEST_CASE_METHOD(Fixture, "after_each lets the caller refresh the params between handlers") {
  REQUIRE(reg.add(m1, id, nullptr, 0, add_ten, nullptr, nullptr) == AV_OK);
  REQUIRE(reg.add(m1, id, nullptr, 1, only_look, nullptr, nullptr) == AV_OK);
  REQUIRE(reg.add(m2, id, vhosts.at(0), 2, add_ten, nullptr, nullptr) == AV_OK);
  REQUIRE(reg.add(m2, id, nullptr, 3, only_look, nullptr, nullptr) == AV_OK);
  std::vector<std::string> calls;
  RefreshParams p{1};
  RefreshAcc acc;
  Refresher r{&p, &acc, &calls};
  REQUIRE(reg.run(id, vhosts.at(0), &p, &acc, nullptr, 0, Refresher::after, &r) == AV_OK);
  CHECK(acc.seen == std::vector<int>{1, 11, 11, 21});  // each handler sees the previous one's value
  CHECK(p.value == 21);                                // and the caller the last one
  CHECK(acc.pending == 0);
  CHECK(calls.size() == 4);

  // The same run without the callback: every handler sees the original params.
  RefreshParams q{1};
  RefreshAcc acc2;
  REQUIRE(reg.run(id, vhosts.at(0), &q, &acc2, nullptr, 0) == AV_OK);
  CHECK(acc2.seen == std::vector<int>{1, 1, 1, 1});
  CHECK(q.value == 1);
}
