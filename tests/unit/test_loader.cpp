// The real ModuleLoader against the negative and positive fixtures in tests/abi/fixtures
// (DESIGN.md B5.4). Operators read these messages, so each is pinned in full: file,
// symbol and versions included. The modules run against the real host API table (a real
// aviary::Host) with only `log` replaced by a recorder, so that module-side events such
// as "start" and "stop" are observable.
#include "core/host.hpp"
#include "modules/loader.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

using aviary::ModuleLoader;

namespace {

struct ProbeAcc {  // matches fx_probe_acc in tests/abi/fixtures/fx_common.h
  char trace[256];
};

std::vector<std::string>& module_logs() {
  static std::vector<std::string> v;
  return v;
}

void record_log(av_module* m, av_log_level, av_str msg) {
  module_logs().push_back((m ? m->id : std::string("?")) + ": " + std::string(msg.ptr, msg.len));
}

aviary::Config host_config() {
  aviary::Config c;
  c.file = "test.yaml";
  c.hosts = {"localhost"};
  c.threads = 1;
  c.worker_threads = 1;
  return c;
}

std::string abi(int major, int minor) { return std::to_string(major) + "." + std::to_string(minor); }

using Logs = std::vector<std::string>;

struct LoaderFixture {
  aviary::Host host{host_config()};
  av_host_api api = *host.api();
  ModuleLoader loader{{AV_FX_DIR}};
  std::function<void(av_module*)> cleanup = [this](av_module* m) { host.hooks().remove_owner(m); };
  std::string err;

  LoaderFixture() {
    module_logs().clear();
    api.log = record_log;
  }
  ~LoaderFixture() { loader.stop_all(cleanup); }

  // Refused load: returns the message, and checks nothing was kept.
  std::string refused(const std::string& path, const std::string& id) {
    std::string e;
    CHECK_FALSE(loader.load_file(path, &e));
    CHECK(loader.find(id) == nullptr);
    return e;
  }
  av_hook_id probe() {
    av_hook_id id = -1;
    REQUIRE(host.hooks().resolve("fx/probe", &id) == AV_OK);
    return id;
  }
  std::string run_probe() {
    ProbeAcc acc{};
    REQUIRE(host.hooks().run(probe(), nullptr, nullptr, &acc, nullptr, AV_EXEC_MAIN) == AV_OK);
    return acc.trace;
  }
  std::vector<std::string> order() const {
    std::vector<std::string> ids;
    for (auto* m : loader.ordered()) ids.push_back(m->id);
    return ids;
  }
};

}  // namespace

// ---- refused files: one message each, naming the file ----

TEST_CASE_METHOD(LoaderFixture, "loader: a file without av_module_entry is refused by name") {
  const std::string p = AV_FX_mod_fx_no_entry;
  CHECK(refused(p, "mod_fx_no_entry") ==
        "module file " + p + ": no entry symbol 'av_module_entry' (not an Aviary module, or built without AV_MODULE)");
}

TEST_CASE_METHOD(LoaderFixture, "loader: av_module_entry returning NULL is refused") {
  const std::string p = AV_FX_mod_fx_entry_returns_null;
  CHECK(refused(p, "mod_fx_entry_returns_null") == "module file " + p + ": av_module_entry() returned NULL");
}

TEST_CASE_METHOD(LoaderFixture, "loader: another ABI major is refused, naming both versions") {
  const std::string p = AV_FX_mod_fx_abi_major_mismatch;
  CHECK(refused(p, "mod_fx_abi_major_mismatch") ==
        "module file " + p + ": built for Aviary ABI " + abi(AV_ABI_MAJOR + 1, 0) + ", this host implements ABI " +
            abi(AV_ABI_MAJOR, AV_ABI_MINOR) + " (the major version must match)");
  CHECK(abi(AV_ABI_MAJOR + 1, 0) == "2.0");  // the message as an operator sees it today
}

TEST_CASE_METHOD(LoaderFixture, "loader: a module needing a newer host minor is refused, naming both versions") {
  const std::string p = AV_FX_mod_fx_needs_newer_minor;
  CHECK(refused(p, "mod_fx_needs_newer_minor") ==
        "module file " + p + ": needs a host with ABI " + abi(AV_ABI_MAJOR, AV_ABI_MINOR + 1) +
            " or newer, this host implements ABI " + abi(AV_ABI_MAJOR, AV_ABI_MINOR));
}

TEST_CASE_METHOD(LoaderFixture, "loader: a descriptor shorter than ABI 1.0 is refused") {
  const std::string p = AV_FX_mod_fx_descriptor_too_short;
  // x86_64 sizes, pinned by sdk/tests/layout_asserts.c.
  STATIC_REQUIRE(offsetof(av_module_desc, get_extension) == 72);
  STATIC_REQUIRE(sizeof(av_module_desc) == 80);
  CHECK(refused(p, "mod_fx_descriptor_too_short") ==
        "module file " + p + ": descriptor struct_size 72 is smaller than the ABI 1.0 minimum 80");
}

TEST_CASE_METHOD(LoaderFixture, "loader: a descriptor too small to hold its version is refused") {
  const std::string p = AV_FX_mod_fx_descriptor_tiny;
  CHECK(refused(p, "mod_fx_descriptor_tiny") ==
        "module file " + p + ": descriptor struct_size 4 is too small to hold a version");
}

TEST_CASE_METHOD(LoaderFixture, "loader: a descriptor id that differs from the file name is refused") {
  const std::string p = AV_FX_mod_fx_id_mismatch;
  CHECK(refused(p, "mod_fx_someone_else") ==
        "module file " + p + ": descriptor id 'mod_fx_someone_else' does not match the file name 'mod_fx_id_mismatch'");
  CHECK(loader.find("mod_fx_id_mismatch") == nullptr);
}

TEST_CASE_METHOD(LoaderFixture, "loader: an invalid descriptor id is refused") {
  const std::string p = AV_FX_mod_fx_bad_id;
  CHECK(refused(p, "mod_FX-bad") ==
        "module file " + p + ": descriptor id 'mod_FX-bad' is not a valid module id (mod_[a-z0-9_]+)");
}

TEST_CASE_METHOD(LoaderFixture, "loader: a descriptor without start is refused") {
  const std::string p = AV_FX_mod_fx_no_start;
  CHECK(refused(p, "mod_fx_no_start") == "module file " + p + ": descriptor has no start function");
}

TEST_CASE_METHOD(LoaderFixture, "loader: a missing file is refused with dlopen's reason") {
  const std::string p = "/nonexistent/mod_fx_nowhere.so";
  CHECK(refused(p, "mod_fx_nowhere") ==
        "module file " + p + ": cannot be loaded: " + p + ": cannot open shared object file: No such file or directory");
}

TEST_CASE_METHOD(LoaderFixture, "loader: load_named names the module and the search path") {
  CHECK_FALSE(loader.load_named("mod_fx_nowhere", &err));
  CHECK(err == std::string("module mod_fx_nowhere: no file mod_fx_nowhere.so in the module path (") + AV_FX_DIR + ")");
  ModuleLoader two{{"/nonexistent", AV_FX_DIR}};
  CHECK_FALSE(two.load_named("mod_fx_nowhere", &err));
  CHECK(err == std::string("module mod_fx_nowhere: no file mod_fx_nowhere.so in the module path (/nonexistent, ") +
                   AV_FX_DIR + ")");
}

// ---- duplicates ----

TEST_CASE_METHOD(LoaderFixture, "loader: the same file loaded twice is refused") {
  const std::string p = AV_FX_mod_fx_duplicate_id;
  REQUIRE(loader.load_file(p, &err));
  CHECK_FALSE(loader.load_file(p, &err));
  CHECK(err == "module mod_fx_duplicate_id: already loaded from " + p + " (refusing " + p + ")");
  REQUIRE(loader.resolve(&err));
  CHECK(order() == std::vector<std::string>{"mod_fx_duplicate_id"});
}

TEST_CASE_METHOD(LoaderFixture, "loader: two files claiming the same id: the second is refused") {
  const std::string a = AV_FX_mod_fx_duplicate_id, b = AV_FX_mod_fx_duplicate_id_copy;
  REQUIRE(a != b);
  REQUIRE(loader.load_file(a, &err));
  CHECK_FALSE(loader.load_file(b, &err));
  CHECK(err == "module mod_fx_duplicate_id: already loaded from " + a + " (refusing " + b + ")");
  CHECK(loader.find("mod_fx_duplicate_id")->path == a);
}

TEST_CASE_METHOD(LoaderFixture, "loader: load_named takes the first directory, then refuses a second load") {
  ModuleLoader l{{AV_FX_DUP_DIR, AV_FX_DIR}};
  REQUIRE(l.load_named("mod_fx_duplicate_id", &err));
  const std::string first = std::string(AV_FX_DUP_DIR) + "/mod_fx_duplicate_id.so";
  CHECK(l.find("mod_fx_duplicate_id")->path == first);
  CHECK_FALSE(l.load_named("mod_fx_duplicate_id", &err));
  CHECK(err == "module mod_fx_duplicate_id: already loaded from " + first + " (refusing " + first + ")");
}

// ---- dependencies ----

TEST_CASE_METHOD(LoaderFixture, "loader: a missing hard dependency fails resolve by name") {
  REQUIRE(loader.load_file(AV_FX_mod_fx_missing_hard_dep, &err));
  CHECK_FALSE(loader.resolve(&err));
  CHECK(err == "module mod_fx_missing_hard_dep: needs module mod_fx_absent (hard dependency), which is not enabled in the config");
}

TEST_CASE_METHOD(LoaderFixture, "loader: a missing soft dependency is fine") {
  REQUIRE(loader.load_file(AV_FX_mod_fx_missing_soft_dep, &err));
  REQUIRE(loader.resolve(&err));
  REQUIRE(loader.start_all(&api, &err, cleanup));
  CHECK(module_logs() == Logs{"mod_fx_missing_soft_dep: start"});
}

TEST_CASE_METHOD(LoaderFixture, "loader: a dependency starts first and stops last") {
  // Config order a, b; a depends on b.
  REQUIRE(loader.load_file(AV_FX_mod_fx_dep_a, &err));
  REQUIRE(loader.load_file(AV_FX_mod_fx_dep_b, &err));
  REQUIRE(loader.resolve(&err));
  CHECK(order() == std::vector<std::string>{"mod_fx_dep_b", "mod_fx_dep_a"});
  CHECK(loader.find("mod_fx_dep_b")->load_order == 1);
  CHECK(loader.find("mod_fx_dep_a")->load_order == 2);

  REQUIRE(loader.start_all(&api, &err, cleanup));
  CHECK(module_logs() == Logs{"mod_fx_dep_b: start", "mod_fx_dep_a: start"});
  // Equal priorities run in load order, i.e. dependency order (DESIGN.md B3).
  CHECK(run_probe() == "mod_fx_dep_b;mod_fx_dep_a;");

  module_logs().clear();
  loader.stop_all(cleanup);
  // "stop" (not "stop while still hooked"): each module's handlers were gone before its stop().
  CHECK(module_logs() == Logs{"mod_fx_dep_a: stop", "mod_fx_dep_b: stop"});
  CHECK(host.hooks().handler_count(probe()) == 0);
  CHECK_FALSE(loader.find("mod_fx_dep_a")->started);
}

TEST_CASE_METHOD(LoaderFixture, "loader: the dependency order does not depend on config order") {
  REQUIRE(loader.load_file(AV_FX_mod_fx_dep_b, &err));
  REQUIRE(loader.load_file(AV_FX_mod_fx_good, &err));
  REQUIRE(loader.load_file(AV_FX_mod_fx_dep_a, &err));
  REQUIRE(loader.resolve(&err));
  CHECK(order() == std::vector<std::string>{"mod_fx_dep_b", "mod_fx_good", "mod_fx_dep_a"});
}

TEST_CASE_METHOD(LoaderFixture, "loader: a dependency cycle is refused with its path") {
  REQUIRE(loader.load_file(AV_FX_mod_fx_cycle_a, &err));
  REQUIRE(loader.load_file(AV_FX_mod_fx_cycle_b, &err));
  CHECK_FALSE(loader.resolve(&err));
  CHECK(err == "modules: dependency cycle mod_fx_cycle_a -> mod_fx_cycle_b -> mod_fx_cycle_a");
}

// ---- start and stop ----

TEST_CASE_METHOD(LoaderFixture, "loader: a good module loads, starts, is hooked and stops unhooked") {
  REQUIRE(loader.load_named("mod_fx_good", &err));
  av_module* m = loader.find("mod_fx_good");
  REQUIRE(m);
  CHECK(m->path == std::string(AV_FX_DIR) + "/mod_fx_good.so");
  CHECK(std::string(m->desc.version) == "0.1.0");
  REQUIRE(loader.resolve(&err));
  REQUIRE(loader.start_all(&api, &err, cleanup));
  CHECK(m->started);
  CHECK(m->state == m);  // the fixture's state is its own handle
  CHECK(run_probe() == "mod_fx_good;");
  // Auto-removal on module stop: the host removes the handler, then calls stop().
  loader.stop_all(cleanup);
  CHECK(module_logs() == Logs{"mod_fx_good: start", "mod_fx_good: stop"});
  CHECK(host.hooks().handler_count(probe()) == 0);
  CHECK(run_probe().empty());
  loader.stop_all(cleanup);  // idempotent: nothing is stopped twice
  CHECK(module_logs().size() == 2);
}

TEST_CASE_METHOD(LoaderFixture, "loader: a descriptor with a newer, longer tail loads and runs") {
  const std::string p = AV_FX_mod_fx_descriptor_newer_tail;
  REQUIRE(loader.load_file(p, &err));
  av_module* m = loader.find("mod_fx_descriptor_newer_tail");
  REQUIRE(m);
  CHECK(m->desc.struct_size == sizeof(av_module_desc));  // the host's own size, tail ignored
  CHECK(m->desc.abi_minor == AV_ABI_MINOR + 7);
  CHECK(m->desc.get_extension == nullptr);
  REQUIRE(loader.resolve(&err));
  REQUIRE(loader.start_all(&api, &err, cleanup));
  loader.stop_all(cleanup);
  CHECK(module_logs() == Logs{"mod_fx_descriptor_newer_tail: start", "mod_fx_descriptor_newer_tail: stop"});
}

TEST_CASE_METHOD(LoaderFixture, "loader: a failing start reports set_error, is never stopped, and unwinds") {
  REQUIRE(loader.load_file(AV_FX_mod_fx_good, &err));
  REQUIRE(loader.load_file(AV_FX_mod_fx_start_fails_with_error, &err));
  REQUIRE(loader.resolve(&err));
  CHECK_FALSE(loader.start_all(&api, &err, cleanup));
  CHECK(err == "module mod_fx_start_fails_with_error: start failed (status -8, I/O error): cannot open /nonexistent/fx.db");
  // The good module, already started, is stopped; the failing one never is.
  CHECK(module_logs() == Logs{"mod_fx_good: start", "mod_fx_start_fails_with_error: start", "mod_fx_good: stop"});
  av_module* bad = loader.find("mod_fx_start_fails_with_error");
  CHECK_FALSE(bad->started);
  CHECK(bad->state == nullptr);  // *out_state of a failed start is not kept
  // What it registered before failing was removed.
  CHECK(host.hooks().handler_count(probe()) == 0);
  loader.stop_all(cleanup);
  CHECK(module_logs().size() == 3);
}

TEST_CASE_METHOD(LoaderFixture, "loader: a failing start alone reports its status without a reason") {
  // No set_error: the message ends with the status text.
  REQUIRE(loader.load_file(AV_FX_mod_fx_start_fails_with_error, &err));
  REQUIRE(loader.resolve(&err));
  av_host_api no_error = api;
  no_error.set_error = [](av_module*, const char*) -> av_status { return AV_OK; };
  CHECK_FALSE(loader.start_all(&no_error, &err, cleanup));
  CHECK(err == "module mod_fx_start_fails_with_error: start failed (status -8, I/O error)");
  CHECK(module_logs() == Logs{"mod_fx_start_fails_with_error: start"});
}
