// mod_mam's shared state: configuration, the storage backend, the two batch writers (user
// and room archives), the preferences cache, and the operations the hooks, IQ handlers,
// commands and av.mam/1 share. Asynchronous callbacks hold a shared_ptr to it.
#pragma once

#include "async_writer.hpp"
#include "mam_id.hpp"
#include "mam_prefs.hpp"
#include "mam_query.hpp"
#include "mam_reply.hpp"

#include <aviary/aviary.hpp>
#include <aviary/ext/draft/mam.h>
#include <aviary/ext/draft/roster.h>
#include <aviary/ext/draft/roster_lookup.h>
#include <aviary/ext/router.h>
#include <aviary/ext/timer.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace mod_mam {

inline constexpr const char* kNsSid = "urn:xmpp:sid:0";

// Timers on av.timer/1 whose closures are freed when cancelled at stop.
class Timers : public std::enable_shared_from_this<Timers> {
 public:
  explicit Timers(const av_ext_timer_v1* t) : t_(t) {}
  bool after(uint64_t ms, std::function<void()> fn);
  void cancel_all();

 private:
  struct Pending {
    std::shared_ptr<Timers> owner;
    uint64_t key;
    std::function<void()> fn;
  };
  static void fire(void* arg);
  const av_ext_timer_v1* t_;
  std::mutex mu_;
  std::map<uint64_t, std::pair<av_timer_id, Pending*>> pending_;
  uint64_t next_ = 1;
  bool stopped_ = false;
};

struct Config {
  uint32_t default_page = 50, max_page = 50;
  uint32_t count_limit = 1000;   // RSM count/index only for result sets up to this size (0: always)
  char default_mode = 'A';
  bool full_text = true;
  bool retraction = true;
  bool muc = false;
  std::string muc_host = "conference.@HOST@";
};

// What the archive query path needs to know about the archive being asked.
struct Archive {
  av_mam_kind kind = AV_MAM_PM;
  std::string user, server;  // owner (localpart / room name, vhost / MUC domain)
  std::string jid;           // its bare JID: 'from' of the results
};

class Core : public std::enable_shared_from_this<Core> {
 public:
  Config cfg;
  const av_mam_store_v1* store = nullptr;
  const av_ext_router_v1* router = nullptr;
  const av_ext_roster_v1* roster = nullptr;                // optional
  const av_ext_roster_lookup_v1* roster_lookup = nullptr;  // optional
  std::shared_ptr<Timers> timers;
  IdGenerator ids;
  std::shared_ptr<AsyncWriter> pm_writer, muc_writer;

  // ---- preferences (the whole table is in memory; written through) ----
  Prefs prefs_of(const std::string& owner_bare) const;
  bool has_custom_prefs() const { return prefs_count_.load(std::memory_order_relaxed) != 0; }
  void set_cached_prefs(const std::string& owner_bare, Prefs p);
  void forget_prefs(const std::string& owner_bare);

  // ---- archiving ----
  // Queue a record, deciding with the owner's preferences (roster: possibly later). false
  // when the preferences say no (a roster answer still to come counts as archived).
  bool archive(Record r, const std::string& owner_bare);
  AsyncWriter& writer(av_mam_kind k) { return k == AV_MAM_MUC ? *muc_writer : *pm_writer; }

  // XEP-0424: replace the owner's archived messages to/from `peer_bare` carrying origin-id
  // `r.id` with tombstones (after the writer has flushed).
  void retract(const Archive& a, const std::string& peer_bare, const Retraction& r);

  // ---- queries ----
  // Answers an IQ addressed to an archive (iq is the request; `from` the requester).
  void handle_iq(const Archive& a, const av::StanzaRef& iq, const std::string& from, av_executor ex);

  void route_xml(const std::string& xml) const;
  void reply_error(const av::StanzaRef& iq, const std::string& from_jid, const StanzaError& e) const;
  void reply_result(const av::StanzaRef& iq, const std::string& from_jid, const std::string& payload) const;

 private:
  mutable std::shared_mutex prefs_mu_;
  std::unordered_map<std::string, Prefs> prefs_;
  std::atomic<size_t> prefs_count_{0};
};

// A lookup of the whole archive (kind, owner; no bounds, nothing counted). The strings are
// views: user and server must outlive the lookup call.
av_mam_lookup whole_archive(av_mam_kind kind, const std::string& user, const std::string& server);

// Reads an element into a Node (a fixed set of attributes: those the parsers read).
Node to_node(av::ElementView e, int depth = 0);

int64_t now_us();

}  // namespace mod_mam
