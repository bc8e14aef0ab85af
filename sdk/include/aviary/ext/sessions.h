/* Extension "av.sessions/1" (host-provided): the bound client sessions. C11. */
#ifndef AVIARY_EXT_SESSIONS_H
#define AVIARY_EXT_SESSIONS_H

#include "../types.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_SESSIONS "av.sessions/1"

/* One bound session. OWNERSHIP: host-owned, valid only during the list callback. */
typedef struct av_session_info {
  uint32_t struct_size;
  av_str jid;            /* full JID                                                  */
  av_str resource;
  int32_t priority;      /* of its last available presence; 0 before any              */
  bool available;        /* sent available presence, not unavailable since             */
  av_executor executor;  /* the network thread the session lives on                    */
} av_session_info;

/* Called once, synchronously, with a snapshot; items valid during the call only. */
typedef void (*av_session_list_fn)(void *user, const av_session_info *items, size_t n);

/* OWNERSHIP: host-owned table, valid for the process lifetime. */
typedef struct av_ext_sessions_v1 {
  uint32_t struct_size;
  /* [any-thread] The sessions of a bare JID (n == 0 when none), in binding order. */
  void (*list)(av_str bare_jid, av_session_list_fn fn, void *user);
  /* [any-thread] End one session with a stream error (e.g. condition "conflict",
   * "policy-violation", "connection-timeout"; text may be {NULL,0}). AV_E_NOT_FOUND when no
   * session has that full JID. The session closes asynchronously. */
  av_status (*kick)(av_str full_jid, av_str condition, av_str text);
} av_ext_sessions_v1;

AV_EXTERN_C_END

#endif
