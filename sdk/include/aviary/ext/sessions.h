/* Extension "av.sessions/1" (host-provided): the bound client sessions. C11. */
#ifndef AVIARY_EXT_SESSIONS_H
#define AVIARY_EXT_SESSIONS_H

#include "stanza.h"

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
  /* [session] A token naming the connection of `s` (from hook params; any state, also before
   * authentication), valid for the connection's life and never reused; 0 for NULL. */
  uint64_t (*token)(const av_session *s);
  /* [any-thread] Write an element to that connection as it is, without running any hook:
   * answers to pre-authentication IQs, nonzas such as XEP-0198 <a/>. AV_E_NOT_FOUND when the
   * connection is gone. The caller keeps its own reference to st. */
  av_status (*send_to)(uint64_t token, const av_stanza *st);
  /* [session] The peer's IP address as text ("127.0.0.1", "::1"); valid during the hook call
   * that handed out `s`. */
  av_str (*peer_ip)(const av_session *s);
} av_ext_sessions_v1;

AV_EXTERN_C_END

#endif
