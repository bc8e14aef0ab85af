#include "mam_commands.hpp"

#include <aviary/cpp/datetime.hpp>
#include <aviary/cpp/jid.hpp>

#include <nlohmann/json.hpp>

namespace mod_mam {

std::string last_messages_json(const std::vector<LastMessage>& rows, uint32_t limit) {
  nlohmann::json stanzas = nlohmann::json::array();
  for (auto& r : rows)
    stanzas.push_back({{"sender", r.from},
                       {"timestamp", av::xep82_datetime(us_of_id(r.id), true)},
                       {"stanza_id", encode_id(r.id)},
                       {"stanza", r.xml}});
  return nlohmann::json{{"stanzas", stanzas}, {"limit", limit}}.dump();
}

namespace {

struct LastJob {
  av::CommandCall call;
  uint32_t limit;
  std::string with;
};

void on_last(void* cx, av_status st, const av_mam_row* rows, size_t n, int64_t, int64_t, av_str err) {
  std::unique_ptr<LastJob> j(static_cast<LastJob*>(cx));
  av::detail::guard<int>("getLastMessages", 0, [&] {
    if (st != AV_OK) return j->call.fail(AV_E_IO, "cannot read the archive: " + std::string(av::sv(err))), 0;
    std::vector<LastMessage> out;
    for (size_t i = n; i-- > 0;)  // rows came newest first
      out.push_back({rows[i].id, std::string(av::sv(rows[i].from_jid)), with_client_ns(av::sv(rows[i].xml))});
    j->call.ok(last_messages_json(out, j->limit));
    return 0;
  });
}

void stats_json_field(nlohmann::json& o, const char* k, const WriterStats& s) {
  o[k] = {{"written", s.written},   {"batches", s.batches},   {"failed_batches", s.failed_batches},
          {"retried_batches", s.retried_batches}, {"dropped", s.dropped}, {"queued", s.queued},
          {"inflight_batches", s.inflight}, {"retrying", s.retrying}};
}

}  // namespace

void register_commands(av::Commands& cmds, std::shared_ptr<Core> core) {
  cmds.add("stanza", "getLastMessages", "Messages of a user's archive, newest last (MongooseIM's getLastMessages)",
           {{"caller", AV_ARG_JID, true, "whose archive"},
            {"with", AV_ARG_JID, false, "only messages with this JID"},
            {"limit", AV_ARG_INT, false, "at most this many (default 50, at most 500)"},
            {"before", AV_ARG_STRING, false, "only messages before this XEP-0082 date-time"}},
           [core](const av::CommandCall& c) {
             auto caller = av::parse_jid(c.arg("caller"));
             if (!caller || caller->user.empty()) return c.fail(AV_E_INVALID_ARG, "caller must be a user JID");
             uint32_t limit = 50;
             if (c.has("limit")) {
               long long l = std::stoll(std::string(c.arg("limit")));
               if (l < 1 || l > 500) return c.fail(AV_E_INVALID_ARG, "limit must be between 1 and 500");
               limit = static_cast<uint32_t>(l);
             }
             int64_t max_id = INT64_MAX;
             if (c.has("before")) {
               auto t = av::parse_xep82_datetime(c.arg("before"));
               if (!t) return c.fail(AV_E_INVALID_ARG, "before must be an XEP-0082 date-time, e.g. 2026-12-08T10:00:00Z");
               max_id = id_from_us(*t, 0) - 1;
             }
             auto* j = new LastJob{c, limit, c.has("with") ? av::bare_jid(c.arg("with")) : std::string()};
             std::string user = caller->user, server = caller->server;
             core->pm_writer->sync([core, j, user, server, max_id] {
               av_mam_lookup l = whole_archive(AV_MAM_PM, user, server);
               if (!j->with.empty()) l.filter.with_bare = av::str(j->with);
               l.filter.max_id = max_id;
               l.backward = true;
               l.limit = j->limit;
               if (core->store->lookup(core->store->self, &l, AV_EXEC_IO_ANY, &on_last, j) != AV_OK) {
                 j->call.fail(AV_E_BUSY, "the archive is busy");
                 delete j;
               }
             });
           });
  cmds.add("mam", "removeArchive", "Delete a user's message archive and archive preferences",
           {{"user", AV_ARG_JID, true, "the user"}}, [core](const av::CommandCall& c) {
             auto u = av::parse_jid(c.arg("user"));
             if (!u || u->user.empty()) return c.fail(AV_E_INVALID_ARG, "user must be a user JID");
             core->forget_prefs(u->bare());
             auto* call = new std::pair<av::CommandCall, std::string>(c, u->bare());
             std::string user = u->user, server = u->server;
             core->pm_writer->sync([core, call, user, server] {
               av_status st = core->store->remove_archive(
                   core->store->self, AV_MAM_PM, av::str(user), av::str(server), AV_EXEC_IO_ANY,
                   [](void* cx, av_status st, av_str err) {
                     std::unique_ptr<std::pair<av::CommandCall, std::string>> p(
                         static_cast<std::pair<av::CommandCall, std::string>*>(cx));
                     if (st == AV_OK)
                       p->first.ok("Archive of " + p->second + " removed");
                     else
                       p->first.fail(AV_E_IO, "cannot remove the archive: " + std::string(av::sv(err)));
                   },
                   call);
               if (st != AV_OK) {
                 call->first.fail(AV_E_BUSY, "the archive is busy");
                 delete call;
               }
             });
           });
  cmds.add("mam", "stats", "Counters of the archive writers (written, failed, retried, dropped, queued)", {},
           [core](const av::CommandCall& c) {
             nlohmann::json o;
             stats_json_field(o, "pm", core->pm_writer->stats());
             stats_json_field(o, "muc", core->muc_writer->stats());
             c.ok(o.dump());
           });
}

}  // namespace mod_mam
