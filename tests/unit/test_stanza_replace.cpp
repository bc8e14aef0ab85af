// av_stanza_acc.replace (ABI 1.1) on the host side: StanzaReplace as the after-each callback of
// the real HookRegistry, with real refcounted stanzas ("av.stanza/1") and the C++ layer's
// av::replace_stanza. Reference counts are checked directly, so a leak or a double release
// fails here (and under AddressSanitizer).
#include "ext/stanza_ext.hpp"
#include "hooks/hook_registry.hpp"

#include <aviary/cpp/stanza.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

using aviary::HookRegistry;
using aviary::StanzaPtr;
using aviary::StanzaReplace;

namespace {

const av_ext_stanza_v1& api() { return *aviary::stanza_ext(); }

StanzaPtr parse(const std::string& xml) {
  av_stanza* s = api().parse(av_strn(xml.data(), xml.size()), nullptr);
  REQUIRE(s);
  return StanzaPtr::adopt(s);
}

std::string xml_of(const av_stanza* s) {
  char buf[1024];
  size_t n = api().serialize(api().root(s), buf, sizeof buf);
  REQUIRE(n < sizeof buf);
  return std::string(buf, n);
}

bool has(const av_stanza* s, const char* name) {
  return api().child(api().root(s), av_cstr(name), av_cstr("urn:aviary:test")) != nullptr;
}

uint32_t refs(const av_stanza* s) { return s->refs.load(); }

// What the handlers saw, and the stanzas they handed over (kept with an extra reference so
// that the test can look at their counts after the run).
struct Seen {
  std::vector<std::string> xml;
  std::vector<StanzaPtr> handed;
};

// A clone of params->stanza with <name xmlns='urn:aviary:test'/> added, as a new reference.
av_stanza* with_child(const av_stanza* s, const char* name) {
  av_stanza* c = api().clone(s);
  api().add_child(api().mut_root(c), av_cstr(name), av_cstr("urn:aviary:test"));
  return c;
}

template <const char* Name>
av_hook_action add_child_handler(void* user, const av_hook_ctx*, const void* params, void* acc) {
  auto* seen = static_cast<Seen*>(user);
  const auto* p = static_cast<const av_stanza_params*>(params);
  seen->xml.push_back(xml_of(p->stanza));
  av::StanzaRef c = av::StanzaRef::adopt(with_child(p->stanza, Name));
  seen->handed.push_back(StanzaPtr::share(c.get()));
  CHECK(av::replace_stanza(*static_cast<av_stanza_acc*>(acc), std::move(c)));
  return AV_HOOK_CONTINUE;
}
constexpr char kA[] = "a";
constexpr char kB[] = "b";

av_hook_action look(void* user, const av_hook_ctx*, const void* params, void*) {
  static_cast<Seen*>(user)->xml.push_back(xml_of(static_cast<const av_stanza_params*>(params)->stanza));
  return AV_HOOK_CONTINUE;
}

// Sets a replacement twice in one call: the helper releases the first one (never taken over).
av_hook_action twice(void* user, const av_hook_ctx*, const void* params, void* acc) {
  auto* seen = static_cast<Seen*>(user);
  const auto* p = static_cast<const av_stanza_params*>(params);
  auto& a = *static_cast<av_stanza_acc*>(acc);
  av::StanzaRef first = av::StanzaRef::adopt(with_child(p->stanza, "first"));
  seen->handed.push_back(StanzaPtr::share(first.get()));
  REQUIRE(av::replace_stanza(a, std::move(first)));
  av::StanzaRef second = av::StanzaRef::adopt(with_child(p->stanza, "second"));
  seen->handed.push_back(StanzaPtr::share(second.get()));
  REQUIRE(av::replace_stanza(a, std::move(second)));
  return AV_HOOK_STOP;  // taken over all the same
}

// Hands back params->stanza itself, as a new reference (retain): legal, changes nothing.
av_hook_action same(void*, const av_hook_ctx*, const void* params, void* acc) {
  const auto* p = static_cast<const av_stanza_params*>(params);
  api().retain(p->stanza);
  static_cast<av_stanza_acc*>(acc)->replace = p->stanza;
  return AV_HOOK_CONTINUE;
}

struct Fixture {
  std::vector<std::string> logs;
  HookRegistry reg{1, [this](const std::string& l) { logs.push_back(l); }, {}};
  av_hook_id id = -1;
  av_module* m = reinterpret_cast<av_module*>(0x1);
  av_module* m2 = reinterpret_cast<av_module*>(0x2);
  Seen seen;
  Fixture() {
    av::detail::stanza_ext_slot() = aviary::stanza_ext();  // what AV_MODULE's start does
    REQUIRE(reg.declare("test/stanza-fold", AV_HOOK_KIND_FOLD, &id) == AV_OK);
  }
  ~Fixture() { av::detail::stanza_ext_slot() = nullptr; }
  // (the same handler twice: from another "module", or the registry refuses the duplicate)
  void add(av_hook_fn fn, int prio, bool other_module = false) {
    REQUIRE(reg.add(other_module ? m2 : m, id, nullptr, prio, fn, &seen, nullptr) == AV_OK);
  }
  // Runs the hook over s the way the router does; returns the acc.
  av_stanza_acc run(StanzaPtr& s, HookRegistry::AfterEach after = StanzaReplace::adopt) {
    std::string from = "a@x/r", to = "b@x";
    av_stanza_params p{sizeof(av_stanza_params), s.get(), av_strn(from.data(), from.size()),
                       av_strn(to.data(), to.size()), nullptr, 0};
    av_stanza_acc acc{sizeof(av_stanza_acc), false, nullptr};
    StanzaReplace r{s, p, acc};
    REQUIRE(reg.run(id, nullptr, &p, &acc, nullptr, 0, after, &r) == AV_OK);
    CHECK(p.stanza == s.get());  // the params always point at the host's current stanza
    return acc;
  }
};

}  // namespace

TEST_CASE_METHOD(Fixture, "stanza replace: each handler sees the previous replacement, the caller the last", "[replace]") {
  add(add_child_handler<kA>, 0);
  add(look, 1);
  add(add_child_handler<kB>, 2);
  add(look, 3, true);
  StanzaPtr s = parse("<message to='b@x'><body>hi</body></message>");
  StanzaPtr original = s;  // an observer's reference
  av_stanza_acc acc = run(s);
  CHECK(acc.replace == nullptr);
  CHECK_FALSE(acc.drop);
  REQUIRE(seen.xml.size() == 4);
  CHECK_FALSE(has(original.get(), "a"));  // the original is never modified
  CHECK(seen.xml[0] == xml_of(original.get()));
  CHECK(seen.xml[1] == xml_of(seen.handed[0].get()));  // look saw a's replacement
  CHECK(seen.xml[2] == seen.xml[1]);                    // b cloned a's replacement
  CHECK(seen.xml[3] == xml_of(seen.handed[1].get()));
  CHECK(s.get() == seen.handed[1].get());
  CHECK(has(s.get(), "a"));
  CHECK(has(s.get(), "b"));
  // Counts: the host released the original (only `original` is left) and the first
  // replacement (only seen.handed[0] is left); it holds the last one in s.
  CHECK(refs(original.get()) == 1);
  CHECK(refs(seen.handed[0].get()) == 1);
  CHECK(refs(seen.handed[1].get()) == 2);
}

TEST_CASE_METHOD(Fixture, "stanza replace: a replacement overwritten within one call, and a STOP, leak nothing", "[replace]") {
  add(twice, 0);
  add(add_child_handler<kA>, 1);  // not called: twice returned STOP
  StanzaPtr s = parse("<message to='b@x'/>");
  StanzaPtr original = s;
  run(s);
  REQUIRE(seen.handed.size() == 2);
  CHECK(refs(seen.handed[0].get()) == 1);  // released by av::replace_stanza
  CHECK(s.get() == seen.handed[1].get());  // the last one, taken over despite the STOP
  CHECK(has(s.get(), "second"));
  CHECK_FALSE(has(s.get(), "first"));
  CHECK(refs(original.get()) == 1);
  CHECK(seen.xml.empty());
}

TEST_CASE_METHOD(Fixture, "stanza replace: handing back params->stanza itself keeps the counts right", "[replace]") {
  add(same, 0);
  add(look, 1);
  StanzaPtr s = parse("<presence/>");
  av_stanza* before = s.get();
  StanzaPtr observer = s;
  run(s);
  CHECK(s.get() == before);
  CHECK(refs(before) == 2);  // s and observer
  REQUIRE(seen.xml.size() == 1);
  CHECK(seen.xml[0] == "<presence/>");
}

TEST_CASE_METHOD(Fixture, "stanza replace: discard (hooks that do not honour it) releases and ignores", "[replace]") {
  add(add_child_handler<kA>, 0);
  add(look, 1);
  StanzaPtr s = parse("<r xmlns='urn:xmpp:sm:3'/>");
  av_stanza* before = s.get();
  av_stanza_acc acc = run(s, StanzaReplace::discard);
  CHECK(acc.replace == nullptr);
  CHECK(s.get() == before);
  CHECK(refs(before) == 1);
  REQUIRE(seen.handed.size() == 1);
  CHECK(refs(seen.handed[0].get()) == 1);  // released by the host; only the test's reference left
  REQUIRE(seen.xml.size() == 2);
  CHECK(seen.xml[1] == seen.xml[0]);  // the next handler still saw the original
}

TEST_CASE("stanza replace: av::replace_stanza on a 1.0 accumulator refuses and releases", "[replace]") {
  av::detail::stanza_ext_slot() = aviary::stanza_ext();
  StanzaPtr s = parse("<message/>");
  StanzaPtr keep = s;
  av_stanza_acc acc{static_cast<uint32_t>(offsetof(av_stanza_acc, replace)), false, nullptr};  // a 1.0 host's size
  CHECK_FALSE(av::replace_stanza(acc, av::StanzaRef::adopt(s.release())));
  CHECK(acc.replace == nullptr);
  CHECK(refs(keep.get()) == 1);
  av_stanza_acc acc11{sizeof(av_stanza_acc), false, nullptr};
  CHECK(av::replace_stanza(acc11, av::StanzaRef::share(keep.get())));
  CHECK(acc11.replace == keep.get());
  CHECK(refs(keep.get()) == 2);
  CHECK(av::replace_stanza(acc11, av::StanzaRef()));  // an empty ref cancels the pending one
  CHECK(acc11.replace == nullptr);
  CHECK(refs(keep.get()) == 1);
  av::detail::stanza_ext_slot() = nullptr;
}
