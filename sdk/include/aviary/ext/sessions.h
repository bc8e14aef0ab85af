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
   * connection is gone. The caller keeps its own reference to st. Called on the connection's
   * own thread, st is written at once, in order with what that thread writes next. */
  av_status (*send_to)(uint64_t token, const av_stanza *st);
  /* [session] The peer's IP address as text ("127.0.0.1", "::1"); valid during the hook call
   * that handed out `s`. */
  av_str (*peer_ip)(const av_session *s);
  /* — appended for XEP-0198 (mod_stream_management); test with AV_HOST_HAS-style
   *   struct_size checks before calling — */
  /* [session] Why the connection of `s` ended, for session/closed (and session/unavailable)
   * handlers; valid during that hook call. {"",0} while the connection is open;
   * "client": the client closed the stream (</stream:stream>);
   * "transport": the connection was lost (EOF, read/write error) without a stream close;
   * otherwise the condition of the stream error the server sent to end it ("conflict",
   * "connection-timeout", "policy-violation", "not-authorized", ...). */
  av_str (*end_reason)(const av_session *s);
  /* [session, the connection's own thread only: call it from a hook run for that connection,
   * e.g. c2s/nonza] XEP-0198 resumption: bind the authenticated, not yet bound connection
   * `token` to `full_jid`, a full JID of the account it authenticated as, without a bind IQ
   * and without writing anything. A bound session with the same full JID is replaced (it
   * ends with a "conflict" stream error). session/opened runs; then, when `presence` is not
   * NULL, it is handled as if the client had just sent it (presence without 'to' restores
   * availability and priority: c2s/user-send-packet and -presence run with this session,
   * then session/available). Deliveries made meanwhile go through c2s/user-receive-packet
   * as usual. Elements the caller wrote to the connection with send_to before this call (on
   * this thread) are written before anything written during it.
   * AV_E_NOT_FOUND: no such connection. AV_E_INVALID_ARG: wrong thread, connection not in
   * the "authenticated, not bound" state, or full_jid not a resource of its account.
   * The caller keeps its own reference to presence. */
  av_status (*resume_bind)(uint64_t token, av_str full_jid, const av_stanza *presence);
} av_ext_sessions_v1;

AV_EXTERN_C_END

#endif
