// mod_mam: XEP-0313 message archive for one-to-one chats (and, through av.mam/1, for rooms),
// with XEP-0359 stanza ids, XEP-0424 retraction, preferences, and MongooseIM's
// stanza getLastMessages / mam commands. Storage is a backend module reached through
// "av.mam.store/1/<backend>" (mod_mam_rdbms by default); writes go through batch writers.
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/disco.h>

#include <cstring>

#include "mam_commands.hpp"
#include "mam_core.hpp"
#include "mam_text.hpp"

namespace {

using namespace mod_mam;

constexpr int32_t kPrio = 100;  // after blocking/privacy drops, before carbons and SM (LATE)
constexpr const char* kNsHints = "urn:xmpp:hints";

// The storage side of a writer: av.mam.store/1 and av.timer/1.
class StoreWriter final : public WriterBackend {
 public:
  StoreWriter(const av_mam_store_v1* s, std::shared_ptr<Timers> t) : s_(s), t_(std::move(t)) {}
  // The batch is built into SQL on the worker pool, not on the routing thread that filled it
  // (a 5000-row batch is milliseconds of work). `batch` stays alive until done is called.
  bool write(const std::vector<Record>& batch, std::function<void(bool, const std::string&)> done) override {
    auto* job = new WriteJob{s_, &batch, std::move(done)};
    if (av::host().post(AV_EXEC_BLOCKING, &run_write, job) == AV_OK) return true;
    delete job;
    return false;
  }
  bool write_now(const std::vector<Record>& batch, std::string* err) override {
    std::vector<av_mam_record> recs(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) recs[i] = view(batch[i]);
    char buf[512] = {0};
    av_status st = s_->write_sync(s_->self, recs.data(), recs.size(), buf, sizeof buf);
    if (st != AV_OK && err) *err = buf;
    return st == AV_OK;
  }
  bool after(uint64_t ms, std::function<void()> fn) override { return t_->after(ms, std::move(fn)); }
  void log_warning(const std::string& m) override { av::log_warning(m); }

 private:
  static av_mam_record view(const Record& r) {
    av_mam_record v{};
    v.struct_size = sizeof v;
    v.kind = r.kind;
    v.owner_user = av::str(r.owner_user);
    v.owner_server = av::str(r.owner_server);
    v.id = r.id;
    v.remote_bare = av::str(r.remote_bare);
    v.remote_resource = av::str(r.remote_resource);
    v.from_jid = av::str(r.from_jid);
    v.direction = r.direction;
    v.origin_id = av::str(r.origin_id);
    v.xml = av::str(r.xml);
    v.search_body = av::str(r.search);
    return v;
  }
  struct WriteJob {
    const av_mam_store_v1* s;
    const std::vector<Record>* batch;
    std::function<void(bool, const std::string&)> done;
  };
  static void run_write(void* arg) {
    std::unique_ptr<WriteJob> j(static_cast<WriteJob*>(arg));
    av::detail::guard<int>("mam write", 0, [&] {
      std::vector<av_mam_record> recs(j->batch->size());
      for (size_t i = 0; i < recs.size(); ++i) recs[i] = view((*j->batch)[i]);
      auto* cb = new std::function<void(bool, const std::string&)>(std::move(j->done));
      if (j->s->write(j->s->self, recs.data(), recs.size(), AV_EXEC_IO_ANY, &on_done, cb) != AV_OK) {
        (*cb)(false, "the database queue is full");
        delete cb;
      }
      return 0;
    });
  }
  static void on_done(void* cx, av_status st, av_str err) {
    std::unique_ptr<std::function<void(bool, const std::string&)>> cb(
        static_cast<std::function<void(bool, const std::string&)>*>(cx));
    av::detail::guard<int>("mam write done", 0, [&] {
      (*cb)(st == AV_OK, std::string(av::sv(err)));
      return 0;
    });
  }
  const av_mam_store_v1* s_;
  std::shared_ptr<Timers> t_;
};

// What the hooks read off a message, in one pass over its children.
struct MessageFacts {
  bool body = false, store_hint = false, no_store = false, stanza_id = false, carbon_or_result = false;
  std::string body_text, origin_id;
  RetractView retract;
};

MessageFacts read_message(av::ElementView root) {
  MessageFacts f;
  for (size_t i = 0; i < root.child_count(); ++i) {
    auto c = root.child_at(i);
    auto name = c.name();
    auto ns = c.attr("xmlns");
    if (name == "body" && (ns.empty() || ns == "jabber:client")) {
      if (!f.body) f.body_text = std::string(c.text());
      f.body = true;
    } else if (ns == kNsHints) {
      if (name == "store") f.store_hint = true;
      if (name == "no-store" || name == "no-permanent-store") f.no_store = true;
    } else if (ns == kNsSid) {
      if (name == "stanza-id") f.stanza_id = true;
      if (name == "origin-id") f.origin_id = std::string(c.attr("id"));
    } else if (ns == "urn:xmpp:carbons:2" || ns == kNsMam2 || ns == kNsMam1) {
      f.carbon_or_result = true;
    } else if (name == "retract" && ns == "urn:xmpp:message-retract:1") {
      f.retract.has_v1 = true;
      f.retract.v1_id = std::string(c.attr("id"));
    } else if (name == "apply-to" && ns == "urn:xmpp:fasten:0" && c.child("retract", "urn:xmpp:message-retract:0")) {
      f.retract.has_v0 = true;
      f.retract.v0_apply_to_id = std::string(c.attr("id"));
    }
  }
  return f;
}

bool archivable_type(std::string_view type) { return type.empty() || type == "chat" || type == "normal"; }

class ModMam final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"backend", AV_OPT_STRING, "rdbms", 1, 64, nullptr, false,
         "storage backend: loads mod_mam_<backend> (rdbms: SQL on outgoing_pools.rdbms)"},
        {"default_mode", AV_OPT_ENUM, "always", 0, 0, "always|never|roster", false,
         "archiving of users who set no preferences (XEP-0313 default)"},
        {"default_result_limit", AV_OPT_INT, "50", 1, 10000, nullptr, false, "page size when a query gives no RSM max"},
        {"max_result_limit", AV_OPT_INT, "50", 1, 10000, nullptr, false, "largest page a query gets"},
        {"rsm_count_limit", AV_OPT_INT, "1000", 0, 100000000, nullptr, false,
         "RSM <count/> and index only for result sets up to this size (0: always, as MongooseIM)"},
        {"full_text_search", AV_OPT_BOOL, "true", 0, 0, nullptr, false,
         "{urn:xmpp:fulltext:0}fulltext queries (words of archived bodies are stored)"},
        {"message_retraction", AV_OPT_BOOL, "true", 0, 0, nullptr, false,
         "XEP-0424: a retraction replaces the archived message with a tombstone"},
        {"node_num", AV_OPT_INT, "0", 0, 255, nullptr, false, "this node's number in message ids (0-255)"},
        {"async_writer.enabled", AV_OPT_BOOL, "true", 0, 0, nullptr, false,
         "batch writes (false: each message is written on its own, still off the routing thread)"},
        {"async_writer.flush_interval", AV_OPT_INT, "2000", 1, 3600000, nullptr, false,
         "ms a message waits at most for its batch"},
        {"async_writer.batch_size", AV_OPT_INT, "30", 1, 1000, nullptr, false,
         "a batch is written once this many messages wait"},
        {"async_writer.max_batch", AV_OPT_INT, "5000", 1, 5000, nullptr, false,
         "largest batch (one transaction) when messages pile up during a write"},
        {"async_writer.max_queue", AV_OPT_INT, "100000", 100, 100000000, nullptr, false,
         "messages waiting or retried; past it the oldest failed batch is dropped (logged, counted)"},
        {"async_writer.max_inflight", AV_OPT_INT, "2", 1, 64, nullptr, false, "batches written at the same time"},
        {"muc.host", AV_OPT_STRING, "conference.@HOST@", 1, 0, nullptr, false,
         "MUC service whose rooms are archived (with mod_muc)"},
        {"muc", AV_OPT_ANY, nullptr, 0, 0, nullptr, false, "room archives (av.mam/1 for mod_muc)"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }
  static const av_dep* deps() {
    static const av_dep d[] = {{"mod_roster", AV_DEP_SOFT}, {nullptr, 0}};
    return d;
  }

  av_status start(av::Context& cx) override {
    core_ = std::make_shared<Core>();
    Core& c = *core_;
    const std::string backend = cx.option_string("backend");
    const std::string ext_id = std::string(AV_EXT_MAM_STORE_PREFIX) + backend;
    c.store = cx.extension<av_mam_store_v1>(ext_id.c_str());
    if (!c.store)
      throw av::Error(AV_E_NOT_FOUND, "no storage backend '" + backend + "' (extension " + ext_id +
                                          "; mod_mam_" + backend + " must be loaded)");
    c.router = cx.require<av_ext_router_v1>(AV_EXT_ROUTER);
    c.roster = cx.extension<av_ext_roster_v1>(AV_EXT_ROSTER);
    c.roster_lookup = cx.extension<av_ext_roster_lookup_v1>(AV_EXT_ROSTER_LOOKUP);
    c.timers = std::make_shared<Timers>(cx.require<av_ext_timer_v1>(AV_EXT_TIMER));
    c.ids.set_node(static_cast<uint8_t>(cx.option_int("node_num")));
    const std::string mode = cx.option_enum("default_mode");
    c.cfg.default_mode = behaviour_of(mode);
    c.cfg.default_page = static_cast<uint32_t>(cx.option_int("default_result_limit"));
    c.cfg.max_page = static_cast<uint32_t>(cx.option_int("max_result_limit"));
    c.cfg.full_text = cx.option_bool("full_text_search");
    c.cfg.count_limit = static_cast<uint32_t>(cx.option_int("rsm_count_limit"));
    c.cfg.retraction = cx.option_bool("message_retraction");
    c.cfg.muc = !cx.option_json("muc").empty();
    c.cfg.muc_host = cx.option_string("muc.host");

    WriterConfig wc;
    if (cx.option_bool("async_writer.enabled")) {
      wc.batch_size = static_cast<size_t>(cx.option_int("async_writer.batch_size"));
      wc.flush_interval_ms = static_cast<uint64_t>(cx.option_int("async_writer.flush_interval"));
    } else {
      wc.batch_size = 1;
      wc.flush_interval_ms = 1;
    }
    wc.max_batch = static_cast<size_t>(cx.option_int("async_writer.max_batch"));
    wc.queue_max = static_cast<size_t>(cx.option_int("async_writer.max_queue"));
    wc.max_inflight = static_cast<size_t>(cx.option_int("async_writer.max_inflight"));
    auto sink = std::make_shared<StoreWriter>(c.store, c.timers);
    c.pm_writer = std::make_shared<AsyncWriter>(sink, wc);
    c.muc_writer = std::make_shared<AsyncWriter>(sink, wc);

    if (c.store->load_all_prefs(c.store->self, &on_prefs_row, core_.get()) != AV_OK)
      throw av::Error(AV_E_IO, "cannot read the archive preferences");
    for (auto* vh : cx.vhosts()) {
      std::string name(av::Context::vhost_name(vh));
      vhosts_.insert(name);
      if (c.cfg.muc) {
        std::string h = c.cfg.muc_host;
        auto at = h.find("@HOST@");
        if (at != std::string::npos) h.replace(at, 6, name);
        muc_hosts_.insert(h);
      }
    }

    hooks_.add(av::hooks::user_send_message, kPrio,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_send(p, acc); });
    hooks_.add(av::hooks::filter_local_packet, kPrio,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_local(p, acc); });
    for (const char* ns : {kNsMam2, kNsMam1})
      hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_BARE_PREFIX) + ns, AV_PRIO_NORMAL,
                                                    [this](const av_stanza_params& p, av_iq_acc& acc) {
                                                      return on_iq(p, acc);
                                                    });
    hooks_.add(av::hooks::account_removed, AV_PRIO_NORMAL, [this](const av_session_params& p) { on_removed(p); });
    hooks_.add_named<av_disco_params, av_disco_acc>(AV_HOOK_DISCO_USER_INFO, AV_PRIO_NORMAL,
                                                    [](const av_disco_params& p, av_disco_acc& acc) {
                                                      if (p.node.len == 0)
                                                        for (const char* f : {kNsMam1, kNsMam2, "urn:xmpp:mam:2#extended",
                                                                              "urn:xmpp:sid:0"})
                                                          av::add_disco_feature(acc.query, f);
                                                      return av::next;
                                                    });
    add_commands();
    ext_ = av_ext_mam_v1{sizeof(av_ext_mam_v1), &x_muc_enabled, &x_archive_room, &x_room_iq, &x_remove_room};
    g_mod = this;
    return AV_OK;
  }

  void stop() override {
    hooks_.clear();
    g_mod = nullptr;
    core_->timers->cancel_all();
    size_t lost = core_->pm_writer->drain() + core_->muc_writer->drain();
    auto st = core_->pm_writer->stats();
    av::log_info("mam: stopped; " + std::to_string(st.written) + " message(s) archived since start" +
                 (lost ? ", " + std::to_string(lost) + " could not be written (logged above)" : std::string()));
  }

  const void* extension(const char* id) override { return std::strcmp(id, AV_EXT_MAM) == 0 ? &ext_ : nullptr; }

 private:
  static void on_prefs_row(void* cx, av_str user, av_str server, char def, const av_str* jids, const char* bs, size_t n) {
    if (!user.ptr) return;
    Prefs p;
    p.def = def ? def : static_cast<Core*>(cx)->cfg.default_mode;
    for (size_t i = 0; i < n; ++i) (bs[i] == 'N' ? p.never : p.always).emplace_back(av::sv(jids[i]));
    static_cast<Core*>(cx)->set_cached_prefs(std::string(av::sv(user)) + "@" + std::string(av::sv(server)), std::move(p));
  }

  bool local_domain(std::string_view d) const { return vhosts_.count(std::string(d)) != 0; }

  // What every record has: a new id, the owner, the content (origin-id, the message as
  // serialized -- xmlns='jabber:client' is added when it is read back -- and its body words).
  Record new_record(av_mam_kind kind, std::string user, std::string server, av::ElementView root,
                    const MessageFacts& f) const {
    Record r;
    r.id = core_->ids.next(now_us());
    r.kind = kind;
    r.owner_user = std::move(user);
    r.owner_server = std::move(server);
    r.origin_id = f.origin_id;
    r.xml = root.xml();
    if (core_->cfg.full_text) r.search = normalize_search(f.body_text);
    return r;
  }

  Record make_record(av::ElementView root, const MessageFacts& f, av_mam_direction dir, const av::Jid& owner,
                     std::string_view remote_full) const {
    Record r = new_record(AV_MAM_PM, owner.user, owner.server, root, f);
    r.direction = dir;
    if (auto remote = av::parse_jid(remote_full)) {
      r.remote_bare = remote->bare();
      r.remote_resource = remote->resource;
    }
    r.from_jid = std::string(root.attr("from"));
    return r;
  }

  void maybe_retract(const MessageFacts& f, const av::Jid& owner, const std::string& peer_bare) {
    if (!core_->cfg.retraction) return;
    auto r = retraction_of(f.retract);
    if (!r) return;
    Archive a{AV_MAM_PM, owner.user, owner.server, owner.bare()};
    core_->retract(a, peer_bare, *r);
  }

  // [session] A local user sends: strip stanza-ids the client wrote (only this server adds
  // them, XEP-0359), archive in the sender's archive (outgoing).
  av::Next on_send(const av_stanza_params& p, av_stanza_acc& acc) {
    if (acc.drop || av::stanza_api().kind(p.stanza) != AV_STANZA_MESSAGE) return av::next;
    av::StanzaView v(p.stanza);
    auto root = v.root();
    MessageFacts f = read_message(root);
    if (f.stanza_id) {
      av::StanzaRef copy = av::StanzaRef::adopt(av::stanza_api().clone(p.stanza));
      if (av_xml_el* m = av::stanza_api().mut_root(copy.get())) {
        av::stanza_api().remove_children(m, av_cstr("stanza-id"), av_cstr(kNsSid));
        av::replace_stanza(acc, std::move(copy));
      }
    }
    if (!archivable_type(v.type()) || f.no_store || f.carbon_or_result || !(f.body || f.store_hint)) return av::next;
    auto from = av::parse_jid(av::sv(p.from));
    std::string_view to = v.to();
    if (!from || from->user.empty() || to.empty() || !local_domain(from->server)) return av::next;
    av::Jid owner{from->user, from->server, ""};
    if (core_->pm_writer->saturated()) return core_->pm_writer->refuse(owner.bare()), av::next;
    std::string peer = av::bare_jid(to);
    maybe_retract(f, owner, peer);
    core_->archive(make_record(root, f, AV_MAM_OUTGOING, owner, to), owner.bare());
    return av::next;
  }

  // [any-thread] A message reaches a local user: archive it in the recipient's archive
  // (incoming) and give the delivered copy its <stanza-id by=recipient/>. A message that
  // already has one by the recipient was archived before (offline storage or stream
  // resumption re-routes it; clients cannot forge one, see on_send).
  av::Next on_local(const av_stanza_params& p, av_stanza_acc& acc) {
    if (acc.drop || av::stanza_api().kind(p.stanza) != AV_STANZA_MESSAGE) return av::next;
    std::string_view to_full = av::sv(p.to);
    if (to_full.find('@') == std::string_view::npos) return av::next;
    av::StanzaView v(p.stanza);
    if (!archivable_type(v.type())) return av::next;
    auto root = v.root();
    MessageFacts f = read_message(root);
    if (f.no_store || f.carbon_or_result || !(f.body || f.store_hint)) return av::next;
    auto to = av::parse_jid(to_full);
    if (!to || to->user.empty() || !local_domain(to->server)) return av::next;
    av::Jid owner{to->user, to->server, ""};
    const std::string owner_bare = owner.bare();
    if (f.stanza_id)
      for (size_t i = 0; i < root.child_count(); ++i) {
        auto c = root.child_at(i);
        if (c.name() == "stanza-id" && c.attr("xmlns") == kNsSid && c.attr("by") == owner_bare) return av::next;
      }
    // Overloaded: no record (and no stanza-id naming a row that will not exist).
    if (core_->pm_writer->saturated()) return core_->pm_writer->refuse(owner_bare), av::next;
    std::string_view from = v.from().empty() ? av::sv(p.from) : v.from();
    maybe_retract(f, owner, av::bare_jid(from));
    Record r = make_record(root, f, AV_MAM_INCOMING, owner, from);
    const int64_t id = r.id;
    // Not archived (the owner's preferences): no stanza-id either.
    if (!core_->archive(std::move(r), owner_bare)) return av::next;
    av::StanzaRef copy = av::StanzaRef::adopt(av::stanza_api().clone(p.stanza));
    if (av_xml_el* m = av::stanza_api().mut_root(copy.get())) {
      av_xml_el* sid = av::stanza_api().add_child(m, av_cstr("stanza-id"), av_cstr(kNsSid));
      if (sid) {
        av::stanza_api().set_attr(sid, av_cstr("by"), av::str(owner_bare));
        av::stanza_api().set_attr(sid, av_cstr("id"), av::str(encode_id(id)));
      }
      av::replace_stanza(acc, std::move(copy));
    }
    return av::next;
  }

  // [any-thread] iq/bare/urn:xmpp:mam:{1,2}: only the archive's owner may ask.
  av::Next on_iq(const av_stanza_params& p, av_iq_acc& acc) {
    acc.handled = true;
    auto iq = av::StanzaRef::share(p.stanza);
    std::string owner(av::jid_bare_part(av::sv(p.to)));
    std::string from(av::sv(p.from));
    auto to = av::parse_jid(owner);
    if (!to || av::bare_jid(from) != to->bare()) {
      core_->reply_error(iq, owner, {"cancel", "forbidden", "Only the owner may use an archive"});
      return av::stop;
    }
    Archive a{AV_MAM_PM, to->user, to->server, to->bare()};
    core_->handle_iq(a, iq, from, p.executor);
    return av::stop;
  }

  void on_removed(const av_session_params& p) {
    std::string user(av::sv(p.user)), server(av::sv(p.server));
    core_->forget_prefs(user + "@" + server);
    auto core = core_;
    core_->pm_writer->sync([core, user, server] {
      auto* key = new std::string(user + "@" + server);
      if (core->store->remove_archive(core->store->self, AV_MAM_PM, av::str(user), av::str(server), AV_EXEC_IO_ANY,
                                      &on_removed_done, key) != AV_OK) {
        av::log_warning("mam: cannot remove the archive of " + *key + " (busy)");
        delete key;
      }
    });
  }
  static void on_removed_done(void* cx, av_status st, av_str err) {
    std::unique_ptr<std::string> key(static_cast<std::string*>(cx));
    if (st != AV_OK) av::log_warning("mam: removing the archive of " + *key + " failed: " + std::string(av::sv(err)));
  }

  void add_commands() { register_commands(commands_, core_); }

  // ---- av.mam/1 (rooms) ----
  static bool x_muc_enabled() { return g_mod && g_mod->core_->cfg.muc; }
  static int64_t x_archive_room(av_str room, av_str nick, av_str sender, const av_stanza* msg) {
    return av::detail::guard<int64_t>("mam archive_room_message", 0, [&]() -> int64_t {
      if (!g_mod || !g_mod->core_->cfg.muc || !msg) return 0;
      auto r = av::parse_jid(av::sv(room));
      if (!r || r->user.empty()) return 0;
      av::StanzaView v(msg);
      MessageFacts f = read_message(v.root());
      if (f.no_store || !(f.body || f.store_hint)) return 0;
      Record rec = g_mod->new_record(AV_MAM_MUC, r->user, r->server, v.root(), f);
      rec.remote_bare = av::bare_jid(av::sv(sender));
      rec.remote_resource = std::string(av::sv(nick));
      rec.from_jid = r->bare() + "/" + rec.remote_resource;
      const int64_t id = rec.id;
      g_mod->core_->archive(std::move(rec), r->bare());
      return id;
    });
  }
  static void x_room_iq(av_str room, const av_stanza* iq, bool allowed) {
    av::detail::guard<int>("mam handle_room_iq", 0, [&] {
      if (!g_mod || !iq) return 0;
      auto ref = av::StanzaRef::share(const_cast<av_stanza*>(iq));
      auto r = av::parse_jid(av::sv(room));
      std::string from(ref.root().attr("from"));
      if (!r) return 0;
      if (!allowed || !g_mod->core_->cfg.muc) {
        g_mod->core_->reply_error(ref, r->bare(), {"cancel", "forbidden", "This room's archive is not readable for you"});
        return 0;
      }
      Archive a{AV_MAM_MUC, r->user, r->server, r->bare()};
      g_mod->core_->handle_iq(a, ref, from, AV_EXEC_IO_ANY);
      return 0;
    });
  }
  static void x_remove_room(av_str room) {
    av::detail::guard<int>("mam remove_room_archive", 0, [&] {
      if (!g_mod) return 0;
      auto r = av::parse_jid(av::sv(room));
      if (!r) return 0;
      auto core = g_mod->core_;
      std::string user = r->user, server = r->server;
      core->muc_writer->sync([core, user, server] {
        core->store->remove_archive(core->store->self, AV_MAM_MUC, av::str(user), av::str(server), AV_EXEC_IO_ANY,
                                    [](void*, av_status, av_str) {}, nullptr);
      });
      return 0;
    });
  }

  static ModMam* g_mod;
  std::shared_ptr<Core> core_;
  std::unordered_set<std::string> vhosts_, muc_hosts_;
  av::HookSet hooks_;
  av::Commands commands_;
  av_ext_mam_v1 ext_{};
};

ModMam* ModMam::g_mod = nullptr;

}  // namespace

AV_MODULE(ModMam, "mod_mam", "0.1.0", "XEP-0313 message archive")
