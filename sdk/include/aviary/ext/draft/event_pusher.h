/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the hook name
 * stays). The event pusher's hook, run by mod_event_pusher (DESIGN.md "Event pusher").
 * Module-owned interface: mod_event_pusher turns core hooks into events and runs
 * "event-pusher/push" for each; every transport (rabbit, kafka, http, sns, push, or a third
 * party's) registers a handler on it. C11. */
#ifndef AVIARY_EXT_DRAFT_EVENT_PUSHER_H
#define AVIARY_EXT_DRAFT_EVENT_PUSHER_H

#include "../stanza.h"

AV_EXTERN_C_BEGIN

typedef int32_t av_push_event_kind;
enum {
  AV_PUSH_USER_STATUS = 0, /* a user came online (first available presence of a session)
                              or went offline (unavailable presence / disconnect)          */
  AV_PUSH_CHAT = 1,        /* a message with a <body>, sent or received (see direction)     */
  AV_PUSH_UNACK = 2        /* XEP-0198: a message a lost session never acknowledged         */
};

typedef int32_t av_push_chat_type;
enum { AV_PUSH_TYPE_CHAT = 0, AV_PUSH_TYPE_GROUPCHAT = 1 };

typedef int32_t av_push_direction;
enum {
  AV_PUSH_DIR_SENT = 0,    /* MongooseIM "in": sent by a local user (or by aviaryctl/API)    */
  AV_PUSH_DIR_RECEIVED = 1 /* MongooseIM "out": routed to a local JID, also when offline     */
};

/* One event. OWNERSHIP: owned by mod_event_pusher, valid during the handler call only;
 * strings are copied by a transport that queues the event. Absent strings are {NULL,0}.
 * JIDs are as routed (not lowercased): transports apply their own formatting. */
typedef struct av_push_event {
  uint32_t struct_size;
  av_push_event_kind kind;
  av_vhost *vhost;            /* the local domain the event belongs to                      */
  /* AV_PUSH_USER_STATUS */
  av_str user_jid;            /* the session's full JID                                     */
  bool online;
  /* AV_PUSH_CHAT */
  av_push_chat_type chat_type;
  av_push_direction direction;
  av_str from;                /* sender JID (full for a local client)                       */
  av_str to;                  /* recipient JID as addressed (bare or full); for UNACK the
                                 full JID of the lost session                               */
  av_str body;                /* the <body> text (never empty for CHAT)                     */
  const av_stanza *stanza;    /* CHAT, UNACK: the message, borrowed (retain to keep it)      */
  int64_t timestamp_us;       /* when the event was made, µs since the Unix epoch           */
} av_push_event;

/* The accumulator: metadata that handlers add for the transports after them (MongooseIM's
 * `metadata` map; the rabbit and kafka transports merge it into the JSON object).
 * OWNERSHIP: owned by mod_event_pusher, valid during the handler call; the functions copy. */
typedef struct av_push_acc av_push_acc;
struct av_push_acc {
  uint32_t struct_size;
  void *impl; /* mod_event_pusher's; do not touch                                           */
  /* [same thread as the hook] Set key to a JSON value (number, string with quotes, true,
   * false, null; objects and arrays too). A later set of the same key replaces it.
   * AV_E_INVALID_ARG when json_value is not one JSON value. */
  av_status (*meta_set)(av_push_acc *acc, av_str key, av_str json_value);
  /* [same thread] Number of metadata entries, and entry i (in first-set order). */
  size_t (*meta_count)(const av_push_acc *acc);
  av_status (*meta_at)(const av_push_acc *acc, size_t i, av_str *key, av_str *json_value);
};

/* event-pusher/push   fold  [any-thread: the thread of the source hook]  av_push_event / av_push_acc
 *   Transports register at AV_PUSH_PRIO_TRANSPORT (MongooseIM: 50) and queue the event; a
 *   filter runs earlier (e.g. AV_PRIO_EARLY) and returns AV_HOOK_STOP to drop the event for
 *   every later handler, or adds metadata. Handlers must not block. */
#define AV_HOOK_EVENT_PUSHER_PUSH "event-pusher/push"
#define AV_PUSH_PRIO_TRANSPORT 50

AV_EXTERN_C_END

#endif
