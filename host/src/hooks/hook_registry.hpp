// Hook registry and runner (DESIGN.md B3).
// Registration is [main]-only and rebuilds an immutable, priority-sorted snapshot per hook
// (one handler list per vhost, global handlers merged in). hook_run reads the snapshot
// with one atomic load and takes no lock. Snapshots replaced while a run may still use
// them are freed only after every thread has left the runs it was in (a grace period),
// which is also how remove_owner() guarantees that no handler of a stopping module is
// still executing.
#pragma once

#include <aviary/host.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace aviary {

class HookRegistry {
 public:
  using ErrorSink = std::function<void(const std::string&)>;
  // Identifies a module for ordering and messages (owner nullptr = the host itself).
  struct OwnerInfo {
    uint32_t load_order = 0;
    std::string id = "host";
  };
  using OwnerLookup = std::function<OwnerInfo(av_module*)>;

  HookRegistry(size_t vhost_count, ErrorSink sink, OwnerLookup owners, size_t capacity = 8192);
  ~HookRegistry();

  av_status resolve(const char* name, av_hook_id* out);                            // [any-thread]
  av_status declare(const char* name, av_hook_kind kind, av_hook_id* out);         // [main]
  av_status add(av_module* m, av_hook_id h, av_vhost* scope, int32_t prio, av_hook_fn fn,
                void* user, av_hook_reg* out);                                     // [main]
  av_status remove(av_module* m, av_hook_reg reg);                                 // [main]
  // [main] Removes every handler of m, then waits until no run can still call one.
  void remove_owner(av_module* m);
  // Host-internal (not part of the C ABI): called on the running thread after each handler
  // returns, whatever it returned, before the next one runs or the run ends. The router
  // and c2s code use it to take av_stanza_acc.replace over and refresh params.stanza.
  using AfterEach = void (*)(void* ctx);
  // [any-thread] after_each: nullptr (the default) = nothing between handlers.
  av_status run(av_hook_id h, av_vhost* vh, const void* params, void* acc,
                av_hook_action* out_last, av_executor current,
                AfterEach after_each = nullptr, void* after_ctx = nullptr) const;

  std::string name(av_hook_id h) const;
  struct Reader;  // per-thread run marker (see the .cpp)
  size_t handler_count(av_hook_id h) const;
  // [main] Frees retired snapshots once no reader can hold them (called by remove_owner).
  void synchronize();

 private:
  struct Handler {
    av_hook_fn fn;
    void* user;
    int32_t prio;
    uint32_t load_order;
    uint64_t seq;  // registration order
    av_module* owner;
    av_vhost* scope;
    av_hook_reg reg;
    std::string owner_id;
  };
  struct Snapshot {
    std::vector<std::vector<Handler>> lists;  // [0] global-only run, [1 + vhost index]
  };
  struct Hook {
    std::string name;
    av_hook_kind kind = AV_HOOK_KIND_FOLD;
    bool declared = false;
    std::vector<Handler> master;                  // guarded by mu_
    std::atomic<const Snapshot*> snap{nullptr};
  };
  void publish(Hook& hook);  // rebuild snapshot from master; caller holds mu_
  static Reader& reader() ;
  void wait_for_readers() const;

  size_t vhosts_;
  ErrorSink sink_;
  OwnerLookup owners_;
  std::vector<Hook> hooks_;               // fixed capacity: addresses stay put
  std::atomic<int32_t> count_{0};
  mutable std::mutex mu_;                 // names, masters, retired
  std::unordered_map<std::string, av_hook_id> by_name_;
  std::vector<const Snapshot*> retired_;
  uint64_t next_seq_ = 1;
  uint64_t next_reg_ = 1;
  std::unordered_map<av_hook_reg, av_hook_id> reg_hook_;
};

}  // namespace aviary
