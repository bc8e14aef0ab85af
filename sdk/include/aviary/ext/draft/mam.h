/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the ids stay).
 * Message archive (XEP-0313) interfaces. C11.
 *
 * 1. "av.mam.store/1/<name>": a storage backend, offered by a backend module (mod_mam_rdbms
 *    offers "av.mam.store/1/rdbms") and used by mod_mam, which knows storage only through
 *    this table. `modules.mod_mam.backend: NAME` (default rdbms) makes the host load
 *    mod_mam_NAME and start it before mod_mam (see the README of mod_mam for writing one).
 * 2. "av.mam/1": offered by mod_mam to other modules (mod_muc): archive a room message and
 *    answer a room's archive query without linking to mod_mam.
 *
 * Archives are named by (kind, user, server): a user's archive is (AV_MAM_PM, localpart,
 * vhost), a room's (AV_MAM_MUC, room name, MUC service domain). Message ids are MongooseIM's:
 * (microseconds since the epoch << 8) | node number, unique and increasing per archive. */
#ifndef AVIARY_EXT_DRAFT_MAM_H
#define AVIARY_EXT_DRAFT_MAM_H

#include "../stanza.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_MAM_STORE_PREFIX "av.mam.store/1/"
#define AV_EXT_MAM "av.mam/1"

typedef int32_t av_mam_kind;
enum { AV_MAM_PM = 0, AV_MAM_MUC = 1 };
typedef int32_t av_mam_direction;
enum { AV_MAM_INCOMING = 0, AV_MAM_OUTGOING = 1 };

/* One archived message. OWNERSHIP: borrowed for the call that receives it. */
typedef struct av_mam_record {
  uint32_t struct_size;
  av_mam_kind kind;
  av_str owner_user;       /* archive owner: localpart, or room name                        */
  av_str owner_server;     /* vhost, or MUC service domain                                   */
  int64_t id;
  av_str remote_bare;      /* PM: the other party's bare JID; MUC: the sender's real bare JID
                              when the room knows it, else {"",0}                             */
  av_str remote_resource;  /* PM: the other party's resource; MUC: the sender's nick         */
  av_str from_jid;         /* the message's 'from' as archived                               */
  av_mam_direction direction; /* PM only */
  av_str origin_id;        /* XEP-0359 origin-id, {"",0} when none                           */
  av_str xml;              /* the message, with xmlns='jabber:client' on its root            */
  av_str search_body;      /* normalised words of the body (full-text search), or {"",0}    */
} av_mam_record;

/* What a lookup selects. Bounds are inclusive; 0 / INT64_MAX mean "none". */
typedef struct av_mam_filter {
  uint32_t struct_size;
  av_mam_kind kind;
  av_str owner_user, owner_server;
  av_str with_bare;        /* {NULL,0}: any. PM: remote_bare; MUC: the sender's real bare JID */
  av_str with_resource;    /* {NULL,0}: any. PM: remote_resource; MUC: nick                   */
  int64_t min_id, max_id;
  const int64_t *ids;      /* non-NULL: only these ids (nids of them)                         */
  size_t nids;
  const av_str *words;     /* full-text: every word must occur in search_body                */
  size_t nwords;
  av_str origin_id;        /* {NULL,0}: any                                                  */
} av_mam_filter;

/* A page: rows from the low end (backward false: ascending ids) or from the high end
 * (backward true: descending ids) of the filtered set, skipping `offset` rows first. */
typedef struct av_mam_lookup {
  uint32_t struct_size;
  av_mam_filter filter;
  bool backward;
  uint32_t offset;
  uint32_t limit;          /* rows returned at most                                          */
  bool want_count;         /* also count: see count_min_id                                   */
  /* The counted set is `filter` with min_id/max_id replaced by these bounds (the query
   * without its RSM position), so that total and before give RSM's <count/> and index. */
  int64_t count_min_id, count_max_id;
  /* > 0: count at most this many rows; a larger set reports total and before as -1 (counting
   * a large archive row by row costs milliseconds). 0: count exactly. */
  uint32_t count_limit;
} av_mam_lookup;

typedef struct av_mam_row {
  int64_t id;
  av_str from_jid;
  av_str xml;
} av_mam_row;

/* Callbacks: called exactly once, on the executor given to the call (directly if posting
 * fails), never before the call returns. OWNERSHIP: everything is valid during the call. */
typedef void (*av_mam_done_fn)(void *cx, av_status st, av_str error);
/* rows in scan order (see av_mam_lookup.backward). total: rows in the filtered set and
 * before: rows of the set with a lower id than the first row returned (both -1 when not
 * counted). */
typedef void (*av_mam_rows_fn)(void *cx, av_status st, const av_mam_row *rows, size_t n, int64_t total,
                               int64_t before, av_str error);
/* One user's preferences: default 'A' always, 'N' never, 'R' roster; jids[i] with
 * behaviours[i] ('A' or 'N'). n == 0 and default 0: nothing stored. */
typedef void (*av_mam_prefs_fn)(void *cx, av_status st, char default_behaviour, const av_str *jids,
                                const char *behaviours, size_t n, av_str error);
/* Every stored preference, one call per user with a row (then once with user {NULL,0} to
 * say the list is complete). */
typedef void (*av_mam_prefs_each_fn)(void *cx, av_str user, av_str server, char default_behaviour,
                                     const av_str *jids, const char *behaviours, size_t n);

/* OWNERSHIP: backend-owned table, valid until the backend module stops (mod_mam stops
 * first). Asynchronous functions are [any-thread], never block, and return AV_OK when
 * `done` will be called (any other status: it will not). */
typedef struct av_mam_store_v1 {
  uint32_t struct_size;
  const char *name;
  void *self;
  /* Store records (any mix of archives) all-or-nothing. */
  av_status (*write)(void *self, const av_mam_record *recs, size_t n, av_executor reply_on, av_mam_done_fn done,
                     void *cx);
  /* [main during stop, or blocking] The same, run now on the calling thread. */
  av_status (*write_sync)(void *self, const av_mam_record *recs, size_t n, char *err, size_t err_cap);
  av_status (*lookup)(void *self, const av_mam_lookup *q, av_executor reply_on, av_mam_rows_fn done, void *cx);
  /* Replace the stored message `id` of an archive (retraction tombstones). */
  av_status (*update_message)(void *self, av_mam_kind kind, av_str owner_user, av_str owner_server, int64_t id,
                              av_str xml, av_str search_body, av_executor reply_on, av_mam_done_fn done, void *cx);
  /* Delete an archive and its preferences. */
  av_status (*remove_archive)(void *self, av_mam_kind kind, av_str owner_user, av_str owner_server,
                              av_executor reply_on, av_mam_done_fn done, void *cx);
  /* Preferences (PM archives). set replaces all of the user's rows. */
  av_status (*get_prefs)(void *self, av_str owner_user, av_str owner_server, av_executor reply_on,
                         av_mam_prefs_fn done, void *cx);
  av_status (*set_prefs)(void *self, av_str owner_user, av_str owner_server, char default_behaviour,
                         const av_str *jids, const char *behaviours, size_t n, av_executor reply_on,
                         av_mam_done_fn done, void *cx);
  /* [main during start] Every stored preference (mod_mam keeps them in memory). */
  av_status (*load_all_prefs)(void *self, av_mam_prefs_each_fn each, void *cx);
} av_mam_store_v1;

/* ---- "av.mam/1", offered by mod_mam ---- */

/* OWNERSHIP: module-owned, valid until mod_mam stops (dependents stop first). */
typedef struct av_ext_mam_v1 {
  uint32_t struct_size;
  /* [any-thread] Whether `modules.mod_mam.muc` is configured (room archives enabled). */
  bool (*muc_enabled)(void);
  /* [any-thread] Archive a room message: room_bare is the room's JID, nick the sender's
   * nick, sender_bare the sender's real bare JID ({"",0} if unknown). Returns the id given
   * to it (>0) for the <stanza-id by=room/> the room adds, 0 when not archived. The write
   * is asynchronous (batched). */
  int64_t (*archive_room_message)(av_str room_bare, av_str nick, av_str sender_bare, const av_stanza *msg);
  /* [any-thread] Answer an XEP-0313 IQ (query, form, metadata) sent to a room's JID: the
   * results and the IQ reply are routed from the room's JID to the requester. `allowed`
   * false answers forbidden (the room decides who may read its archive). */
  void (*handle_room_iq)(av_str room_bare, const av_stanza *iq, bool allowed);
  /* [any-thread] Delete a room's archive (room destroyed). */
  void (*remove_room_archive)(av_str room_bare);
} av_ext_mam_v1;

AV_EXTERN_C_END

#endif
