/* Aviary module SDK: the core hooks the host runs. C11.
 * Each entry: name macro, kind, thread, params struct, accumulator struct.
 * Params and accumulators start with struct_size; the host fills it with its own sizeof,
 * so a module built against an older SDK reads only the fields it knows.
 * OWNERSHIP: params and acc are host-owned and valid only during the handler call;
 * retain a stanza (av.stanza/1) to keep it longer. */
#ifndef AVIARY_HOOKS_H
#define AVIARY_HOOKS_H

#include "host.h"
#include "ext/stanza.h"

AV_EXTERN_C_BEGIN

/* Params of every stanza hook. */
typedef struct av_stanza_params {
  uint32_t struct_size;
  av_stanza *stanza;     /* borrowed; shared: read-only (clone to change; since 1.1 a
                            handler may hand the clone back: av_stanza_acc.replace)     */
  av_str from;           /* sender JID as routed (full JID for a c2s user)             */
  av_str to;             /* recipient JID ('to' attribute, or the sender's bare JID)   */
  av_session *session;   /* sending (user-send-*) or receiving (user-receive-*) session,
                            NULL when none (admin commands, router-level hooks)         */
  av_executor executor;  /* the thread this runs on                                     */
} av_stanza_params;

/* Accumulator of stanza fold hooks: set drop = true to stop the default action
 * (routing / delivery); STOP alone only skips later handlers. Since 1.1 a handler may also
 * replace the stanza (replace, below). */
typedef struct av_stanza_acc {
  uint32_t struct_size;
  bool drop;

  /* ---------------- since 1.1 ---------------- */

  /* [the hook's thread: the session's strand or any-thread, as the hook says]
   * Replace the stanza. params->stanza is shared and read-only; a handler that wants a
   * changed stanza routed or delivered sets replace to a NEW reference to a modified copy,
   * e.g. av.stanza/1 clone(params->stanza), edits through mut_root(), replace = the clone.
   * OWNERSHIP: the host takes that reference over when the handler returns (whatever it
   *   returned) and sets replace back to NULL. A non-NULL replace seen by a handler was
   *   therefore set earlier in the same call: a handler that overwrites it releases the old
   *   value first (av::replace_stanza does). A replacement from an earlier handler, already
   *   taken over, is released by the host when a later handler replaces it again, or after
   *   the run. Once handed over, a replacement is shared: never modify it (clone again).
   * Semantics: from the next handler on, params->stanza IS the replacement (the host
   *   refreshes its params between handlers; from, to, session and executor stay as they
   *   were), and after the run the host routes / delivers the replacement instead of the
   *   original (unless drop is set).
   * Honoured by: c2s/user-send-packet and c2s/user-send-message, -presence, -iq (the
   *   replacement is what gets routed, by its own from/to, and what the next send hook
   *   sees: user-send-packet's replacement is the params->stanza of user-send-message);
   *   router/filter-local-packet (the replacement is what is delivered to the recipient's
   *   sessions, handed to sm/offline-message or bounced; the recipient was chosen before the
   *   hook and stays); c2s/user-receive-packet (the replacement is what is written to the
   *   client). Any other hook with this accumulator (c2s/nonza) releases it and ignores it.
   *   A module that runs one of these hooks itself (hook_run) gets no refresh between
   *   handlers and owns what is left in replace after the run.
   * A 1.0 host has no such field: write it only when
   *   acc->struct_size >= offsetof(av_stanza_acc, replace) + sizeof(av_stanza *).
   * NULL = no replacement. */
  av_stanza *replace;
} av_stanza_acc;

/* c2s/user-send-packet   fold  [session]  av_stanza_params / av_stanza_acc
 *   Every stanza a local user sends (also `aviaryctl stanza sendMessage`), before the
 *   per-kind hook below and before routing. */
#define AV_HOOK_USER_SEND_PACKET "c2s/user-send-packet"
/* c2s/user-send-message | -presence | -iq   fold  [session]  same params/acc */
#define AV_HOOK_USER_SEND_MESSAGE "c2s/user-send-message"
#define AV_HOOK_USER_SEND_PRESENCE "c2s/user-send-presence"
#define AV_HOOK_USER_SEND_IQ "c2s/user-send-iq"
/* c2s/user-receive-packet   fold  [session of the recipient]  same params/acc
 *   Before a stanza is written to a client; drop = not written, replace (1.1) = what is
 *   written instead. */
#define AV_HOOK_USER_RECEIVE_PACKET "c2s/user-receive-packet"
/* router/filter-local-packet   fold  [any-thread]  same params/acc (session NULL)
 *   Every stanza routed to a local JID (user, bare or full; also offline recipients),
 *   before the session manager. */
#define AV_HOOK_FILTER_LOCAL_PACKET "router/filter-local-packet"

/* sm/offline-message   fold  [any-thread]  av_stanza_params / av_offline_acc
 *   A message for an existing local user with no available session that can take it.
 *   Set handled = true when stored; otherwise the host bounces it (service-unavailable). */
#define AV_HOOK_OFFLINE_MESSAGE "sm/offline-message"
typedef struct av_offline_acc {
  uint32_t struct_size;
  bool handled;
} av_offline_acc;

/* iq/server/<xmlns>   fold  [any-thread]  av_stanza_params / av_iq_acc
 *   An IQ get/set addressed to a vhost (to='localhost') whose payload child has that
 *   namespace, e.g. "iq/server/urn:xmpp:ping".
 * iq/bare/<xmlns>     fold  same, for an IQ to a local user's bare JID (RFC 6120 10.5.3.1).
 *   A handler that answers sets handled = true and reply = a new reference (the host
 *   routes and releases it); it may also set handled with reply NULL and answer later
 *   through av.router/1. Unhandled IQs get service-unavailable. */
#define AV_HOOK_IQ_SERVER_PREFIX "iq/server/"
#define AV_HOOK_IQ_BARE_PREFIX "iq/bare/"
/* iq/response   fold  [any-thread]  av_stanza_params / av_iq_acc
 *   An IQ result or error addressed to a served domain: the answer to an IQ that a module
 *   sent from the server (a ping, a probe). The module that sent it sets handled = true;
 *   nobody answers it either way (RFC 6120 8.2.3). */
#define AV_HOOK_IQ_RESPONSE "iq/response"
typedef struct av_iq_acc {
  uint32_t struct_size;
  bool handled;
  av_stanza *reply;
} av_iq_acc;

/* Params of session and account hooks. */
typedef struct av_session_params {
  uint32_t struct_size;
  av_session *session;   /* NULL for account hooks                                  */
  av_str jid;            /* full JID of the session; bare JID for account hooks       */
  av_str user;           /* localpart                                                */
  av_str server;         /* vhost name                                               */
  av_str resource;       /* {"",0} for account hooks                                 */
  av_executor executor;
} av_session_params;

/* session/opened   notify  [session]  av_session_params — resource bound, session open. */
#define AV_HOOK_SESSION_OPENED "session/opened"
/* session/closed   notify  [session]  av_session_params — the session ended (any reason). */
#define AV_HOOK_SESSION_CLOSED "session/closed"
/* session/available   notify  [session]  av_session_params — the session sent its initial
 *   presence (unavailable -> available): time to deliver what waited for it. */
#define AV_HOOK_SESSION_AVAILABLE "session/available"
/* session/unavailable   notify  [session]  av_session_params — an available session became
 *   unavailable: presence type='unavailable', or the session ended while available (then it
 *   runs before session/closed). */
#define AV_HOOK_SESSION_UNAVAILABLE "session/unavailable"
/* account/registered   notify  [any-thread]  av_session_params — a new account exists. */
#define AV_HOOK_ACCOUNT_REGISTERED "account/registered"
/* account/removed   notify  [any-thread]  av_session_params — every module deletes that
 *   user's data. */
#define AV_HOOK_ACCOUNT_REMOVED "account/removed"

/* c2s/nonza   fold  [session]  av_stanza_params / av_stanza_acc
 *   A top-level element other than message/presence/iq from an authenticated client (bound or
 *   not yet bound), e.g. XEP-0198 <r/>, <enable/>, <resume/> or XEP-0352 <active/>. params.from
 *   is the session's JID (bare before binding), to is {NULL,0}. Set drop = true when you handled
 *   it; an element nobody handles ends the stream with unsupported-stanza-type. Answer with
 *   av.sessions/1 send_to. */
#define AV_HOOK_C2S_NONZA "c2s/nonza"
/* c2s/pre-auth-features   fold  [session]  av_session_params / av_features_acc
 *   Before authentication, when <stream:features> is built (jid, user and resource are
 *   {"",0}; server is the vhost): add features such as XEP-0077 <register/>. */
#define AV_HOOK_PRE_AUTH_FEATURES "c2s/pre-auth-features"
/* c2s/pre-auth-iq   fold  [session]  av_stanza_params / av_iq_acc
 *   An IQ from a client that has not authenticated (XEP-0077 in-band registration). params.from
 *   is {NULL,0}, params.to the domain the stream was opened for. Set handled and reply (written back to the connection; its 'to'/'from' are not
 *   needed) or handled with reply NULL and answer later with av.sessions/1 send_to. Unhandled
 *   IQs get service-unavailable. */
#define AV_HOOK_PRE_AUTH_IQ "c2s/pre-auth-iq"
/* c2s/stream-features   fold  [session]  av_session_params / av_features_acc
 *   After authentication, before <stream:features> is sent: add feature elements as
 *   children of acc->features (an unshared stanza, safe to modify). */
#define AV_HOOK_STREAM_FEATURES "c2s/stream-features"
typedef struct av_features_acc {
  uint32_t struct_size;
  av_stanza *features;
} av_features_acc;

AV_EXTERN_C_END

#endif
