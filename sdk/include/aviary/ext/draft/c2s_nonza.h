/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the hook name stays).
 * Host hook for top-level stream elements that are not stanzas ("nonzas"), as needed by
 * XEP-0352 Client State Indication (mod_csi) and XEP-0198 Stream Management. C11.
 *
 * Proposed by mod_csi; to be run by the host's c2s session. When the host declares it in
 * hooks.h (AV_HOOK_C2S_NONZA), that declaration wins and this draft only documents the
 * contract modules rely on. Modules register on it BY NAME ("c2s/nonza").
 *
 * c2s/nonza   fold  [session]  av_stanza_params / av_stanza_acc
 *   When: the c2s session reads a top-level element, from an authenticated client (resource
 *     bound or not yet), whose name is not message, presence or iq (and which the host does
 *     not handle itself: starttls, SASL, stream-level elements), e.g. XEP-0352
 *     <active xmlns='urn:xmpp:csi:0'/> and <inactive xmlns='urn:xmpp:csi:0'/>, or XEP-0198
 *     <enable/>, <r/>, <a/>, <resume/>.
 *   params.stanza   the element (borrowed for the call; read-only). Its xmlns attribute is
 *                   its namespace. It is never routed, and no c2s/user-send-* hook runs.
 *   params.from     the session's full JID ({bare JID} before resource binding).
 *   params.to       {NULL,0}.
 *   params.session  the session that read it (never NULL): the same pointer as in that
 *                   session's c2s/user-receive-packet and session hooks, and the argument of
 *                   av.sessions/1 token().
 *   params.executor the session's network thread (the hook runs on it).
 *   acc.drop        false on entry. A handler that takes the element sets drop = true
 *                   ("handled") and may return STOP. After the run, drop == false means
 *                   nobody handled it: the host keeps its old behaviour (stream error
 *                   <unsupported-stanza-type/> and close).
 *   Handlers must not block. Answers (e.g. XEP-0198 <a/>) are written with
 *   av.sessions/1 send_to(token(session), element), which runs no hook.
 *
 * What mod_csi relies on in addition (all in av.sessions/1 of the same host change):
 *   token(session)       a connection id valid for the connection's life, never reused;
 *   send_to(token, st)   write st to that connection as it is, running no hook. Writes of
 *                        one connection issued from its own thread are written in the order
 *                        issued, after what the session already wrote.
 * mod_csi holds stanzas in c2s/user-receive-packet (priority LAST, after every other
 * receive filter) and writes them later with send_to, so held stanzas never run the
 * router/filter-local-packet or user-receive-packet hooks twice. */
#ifndef AVIARY_EXT_DRAFT_C2S_NONZA_H
#define AVIARY_EXT_DRAFT_C2S_NONZA_H

#include "../../hooks.h"

AV_EXTERN_C_BEGIN

/* The hook name (also declared by hooks.h once the host runs it). */
#define AV_DRAFT_HOOK_C2S_NONZA "c2s/nonza"

AV_EXTERN_C_END

#endif
