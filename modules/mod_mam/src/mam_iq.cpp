// XEP-0313 IQs to an archive: the query (form, RSM, flip-page), the form, metadata, prefs.
#include "mam_core.hpp"

#include <aviary/cpp/jid.hpp>

#include <algorithm>
#include <set>

namespace mod_mam {

namespace {

// One query on its way through the storage calls.
struct QueryJob {
  std::shared_ptr<Core> core;
  Archive a;
  av::StanzaRef iq;
  std::string requester;
  Query q;
  Plan plan;
  std::string with_bare, with_res;
  bool has_with = false, has_with_res = false;
  std::vector<av_str> words;

  av_mam_filter filter() {
    av_mam_filter f{};
    f.struct_size = sizeof f;
    f.kind = a.kind;
    f.owner_user = av::str(a.user);
    f.owner_server = av::str(a.server);
    if (has_with) f.with_bare = av::str(with_bare);
    if (has_with_res) f.with_resource = av::str(with_res);
    f.min_id = plan.min_id;
    f.max_id = plan.max_id;
    if (!q.ids.empty()) {
      f.ids = q.ids.data();
      f.nids = q.ids.size();
    }
    words.clear();
    for (auto& w : q.words) words.push_back(av::str(w));
    f.words = words.data();
    f.nwords = words.size();
    return f;
  }
  void fail(const StanzaError& e) { core->reply_error(iq, a.jid, e); }
  void fail_storage(av_str err) {
    av::log_warning("mam: archive query of " + a.jid + " failed: " + std::string(av::sv(err)));
    fail({"wait", "internal-server-error", "The archive cannot be read now"});
  }
};
using JobPtr = std::shared_ptr<QueryJob>;

void run_page(const JobPtr& j);

void on_page(void* cx, av_status st, const av_mam_row* rows, size_t n, int64_t total, int64_t before, av_str err) {
  std::unique_ptr<JobPtr> jp(static_cast<JobPtr*>(cx));
  JobPtr j = *jp;
  av::detail::guard<int>("mam query page", 0, [&] {
    if (st != AV_OK) return j->fail_storage(err), 0;
    const uint32_t page = j->plan.page;
    Page pg;
    pg.complete = n <= page;
    size_t take = std::min<size_t>(n, page);
    std::vector<size_t> order(take);
    for (size_t i = 0; i < take; ++i) order[i] = i;
    if (j->plan.backward) std::reverse(order.begin(), order.end());  // chronological
    for (size_t i : order) pg.ids.push_back(rows[i].id);
    if (total >= 0 && !j->q.simple) {
      pg.count = total;
      // `before` counts the rows older than the oldest row fetched; a backward scan fetched
      // extra (older) rows beyond the page, which are older than the page's first.
      const int64_t extra = j->plan.backward && n > page ? static_cast<int64_t>(n - page) : 0;
      pg.first_index = pg.ids.empty() ? -1 : before + extra;
    }
    // Flipping changes only the order of transmission (XEP-0313 "Flipped pages").
    std::vector<size_t> send = order;
    if (j->q.flip) std::reverse(send.begin(), send.end());
    for (size_t i : send)
      j->core->route_xml(result_message(j->q.ns, j->q.queryid, j->a.jid, j->requester, rows[i].id, av::sv(rows[i].xml)));
    j->core->reply_result(j->iq, j->a.jid, fin_xml(j->q.ns, pg));
    return 0;
  });
}

void run_page(const JobPtr& j) {
  av_mam_lookup l{};
  l.struct_size = sizeof l;
  l.filter = j->filter();
  l.backward = j->plan.backward;
  l.offset = j->plan.offset;
  l.limit = j->plan.page + 1;  // one more tells whether the page is complete
  l.want_count = !j->q.simple;
  l.count_limit = j->core->cfg.count_limit;
  l.count_min_id = j->plan.count_min_id;
  l.count_max_id = j->plan.count_max_id;
  auto* cx = new JobPtr(j);
  if (j->core->store->lookup(j->core->store->self, &l, AV_EXEC_IO_ANY, &on_page, cx) != AV_OK) {
    delete cx;
    j->fail({"wait", "resource-constraint", "The archive is busy"});
  }
}

// Ids named by the query must exist in this archive (XEP-0313: item-not-found otherwise).
void on_ids_checked(void* cx, av_status st, const av_mam_row*, size_t n, int64_t, int64_t, av_str err) {
  std::unique_ptr<std::pair<JobPtr, size_t>> p(static_cast<std::pair<JobPtr, size_t>*>(cx));
  JobPtr j = p->first;
  av::detail::guard<int>("mam id check", 0, [&] {
    if (st != AV_OK) return j->fail_storage(err), 0;
    if (n < p->second) return j->fail({"cancel", "item-not-found", "A message id of the query is not in the archive"}), 0;
    run_page(j);
    return 0;
  });
}

void check_ids_then_page(const JobPtr& j) {
  std::set<int64_t> refs(j->q.ids.begin(), j->q.ids.end());
  for (auto& o : {j->q.after_id, j->q.before_id, j->q.rsm_after, j->q.rsm_before})
    if (o) refs.insert(*o);
  if (refs.empty()) return run_page(j);
  std::vector<int64_t> ids(refs.begin(), refs.end());
  av_mam_lookup l = whole_archive(j->a.kind, j->a.user, j->a.server);
  l.filter.ids = ids.data();
  l.filter.nids = ids.size();
  l.limit = static_cast<uint32_t>(ids.size());
  auto* cx = new std::pair<JobPtr, size_t>(j, ids.size());
  if (j->core->store->lookup(j->core->store->self, &l, AV_EXEC_IO_ANY, &on_ids_checked, cx) != AV_OK) {
    delete cx;
    j->fail({"wait", "resource-constraint", "The archive is busy"});
  }
}

// ---- metadata ----
struct MetaJob {
  std::shared_ptr<Core> core;
  Archive a;
  av::StanzaRef iq;
  std::optional<int64_t> first;
};
using MetaPtr = std::shared_ptr<MetaJob>;

void meta_lookup(const MetaPtr& m, bool backward);

void on_meta(void* cx, av_status st, const av_mam_row* rows, size_t n, int64_t, int64_t, av_str err) {
  std::unique_ptr<std::pair<MetaPtr, bool>> p(static_cast<std::pair<MetaPtr, bool>*>(cx));
  MetaPtr m = p->first;
  const bool backward = p->second;
  av::detail::guard<int>("mam metadata", 0, [&] {
    if (st != AV_OK) {
      av::log_warning("mam: metadata of " + m->a.jid + " failed: " + std::string(av::sv(err)));
      m->core->reply_error(m->iq, m->a.jid, {"wait", "internal-server-error", "The archive cannot be read now"});
      return 0;
    }
    if (!backward) {
      if (n == 0) return m->core->reply_result(m->iq, m->a.jid, metadata_xml(std::nullopt, std::nullopt)), 0;
      m->first = rows[0].id;
      meta_lookup(m, true);
      return 0;
    }
    std::optional<int64_t> last;
    if (n) last = rows[0].id;
    m->core->reply_result(m->iq, m->a.jid, metadata_xml(m->first, last ? last : m->first));
    return 0;
  });
}

void meta_lookup(const MetaPtr& m, bool backward) {
  av_mam_lookup l = whole_archive(m->a.kind, m->a.user, m->a.server);
  l.backward = backward;
  l.limit = 1;
  auto* cx = new std::pair<MetaPtr, bool>(m, backward);
  if (m->core->store->lookup(m->core->store->self, &l, AV_EXEC_IO_ANY, &on_meta, cx) != AV_OK) {
    delete cx;
    m->core->reply_error(m->iq, m->a.jid, {"wait", "resource-constraint", "The archive is busy"});
  }
}

// ---- prefs ----
struct PrefsSet {
  std::shared_ptr<Core> core;
  Archive a;
  av::StanzaRef iq;
  Prefs prefs;
  std::string ns;
};

void on_prefs_stored(void* cx, av_status st, av_str err) {
  std::unique_ptr<PrefsSet> p(static_cast<PrefsSet*>(cx));
  av::detail::guard<int>("mam prefs", 0, [&] {
    if (st != AV_OK) {
      av::log_warning("mam: storing preferences of " + p->a.jid + " failed: " + std::string(av::sv(err)));
      p->core->reply_error(p->iq, p->a.jid, {"wait", "internal-server-error", "The preferences were not stored"});
      return 0;
    }
    p->core->set_cached_prefs(p->a.jid, p->prefs);
    p->core->reply_result(p->iq, p->a.jid, prefs_xml(p->prefs, p->ns));
    return 0;
  });
}

}  // namespace

void Core::handle_iq(const Archive& a, const av::StanzaRef& iq, const std::string& from, av_executor) {
  auto root = iq.root();
  const std::string type(root.attr("type"));
  av::ElementView payload = root.child_at(0);
  const std::string name(payload.name()), ns(payload.attr("xmlns"));
  auto self = shared_from_this();

  if (name == "prefs") {
    if (a.kind != AV_MAM_PM) return reply_error(iq, a.jid, {"cancel", "feature-not-implemented", "Rooms have no preferences"});
    if (type == "get") return reply_result(iq, a.jid, prefs_xml(prefs_of(a.jid), ns));
    auto parsed = parse_prefs(to_node(payload));
    if (auto* e = std::get_if<StanzaError>(&parsed)) return reply_error(iq, a.jid, *e);
    auto* job = new PrefsSet{self, a, iq, std::get<Prefs>(parsed), ns};
    std::vector<av_str> jids;
    std::string bs;
    for (auto& j : job->prefs.always) jids.push_back(av::str(j)), bs += 'A';
    for (auto& j : job->prefs.never) jids.push_back(av::str(j)), bs += 'N';
    if (store->set_prefs(store->self, av::str(a.user), av::str(a.server), job->prefs.def, jids.data(), bs.data(),
                         jids.size(), AV_EXEC_IO_ANY, &on_prefs_stored, job) != AV_OK) {
      delete job;
      reply_error(iq, a.jid, {"wait", "resource-constraint", "The archive is busy"});
    }
    return;
  }
  if (name == "metadata") {
    if (type != "get") return reply_error(iq, a.jid, {"modify", "bad-request", "Archive metadata is read with an IQ get"});
    auto m = std::make_shared<MetaJob>(MetaJob{self, a, iq, std::nullopt});
    return writer(a.kind).sync([m] { meta_lookup(m, false); });
  }
  if (name != "query") return reply_error(iq, a.jid, {"cancel", "feature-not-implemented", "Unknown archive request"});
  if (type == "get") return reply_result(iq, a.jid, "<query xmlns='" + ns + "'>" + form_xml(ns) + "</query>");

  auto parsed = parse_query(to_node(payload));
  if (auto* e = std::get_if<StanzaError>(&parsed)) return reply_error(iq, a.jid, *e);
  auto j = std::make_shared<QueryJob>();
  j->core = self;
  j->a = a;
  j->iq = iq;
  j->requester = from;
  j->q = std::move(std::get<Query>(parsed));
  if (!cfg.full_text && !j->q.words.empty())
    return reply_error(iq, a.jid, {"cancel", "feature-not-implemented", "Full-text search is disabled"});
  if (j->q.with) {
    auto w = av::parse_jid(*j->q.with);
    if (!w) return reply_error(iq, a.jid, {"modify", "jid-malformed", "'with' is not a JID"});
    if (a.kind == AV_MAM_MUC && w->bare() == a.jid) {
      // In a room archive, 'with' = room/nick selects that occupant's messages.
      if (!w->resource.empty()) j->with_res = w->resource, j->has_with_res = true;
    } else {
      j->with_bare = w->bare();
      j->has_with = true;
      if (!w->resource.empty()) j->with_res = w->resource, j->has_with_res = true;
    }
  }
  j->plan = plan_query(j->q, cfg.default_page, cfg.max_page);
  writer(a.kind).sync([j] { check_ids_then_page(j); });
}

}  // namespace mod_mam
