/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the hook names
 * stay). Service discovery hooks (XEP-0030), run by mod_disco; any module adds what it offers.
 * Module-owned interface: mod_disco declares and runs these hooks; modules that add
 * features register on them by name and need no dependency on mod_disco. C11. */
#ifndef AVIARY_EXT_DISCO_H
#define AVIARY_EXT_DISCO_H

#include "../stanza.h"

AV_EXTERN_C_BEGIN

/* Params of the disco hooks. OWNERSHIP: valid during the handler call. */
typedef struct av_disco_params {
  uint32_t struct_size;
  av_vhost *vhost;  /* the domain asked about (or the domain of the user asked about) */
  av_str from;      /* the asking entity's full JID                                   */
  av_str to;        /* the JID asked about: a domain, or a user's bare JID             */
  av_str node;      /* the 'node' attribute, {NULL,0} when absent                      */
} av_disco_params;

/* Accumulator: `query` is an unshared <query/> element (av.stanza/1 mut_root/add_child
 * on it are allowed) of the reply being built. Add children:
 *   info:  <identity category='' type='' name=''/>, <feature var=''/>, and XEP-0128
 *          <x xmlns='jabber:x:data' type='result'> forms;
 *   items: <item jid='' name='' node=''/>.
 * Set `found` when the node (if any) is yours. */
typedef struct av_disco_acc {
  uint32_t struct_size;
  av_stanza *query;
  bool found;
} av_disco_acc;

/* disco/server-info   fold  [any-thread]  av_disco_params / av_disco_acc
 *   disco#info to a served domain: features of the server (e.g. "urn:xmpp:ping"). */
#define AV_HOOK_DISCO_SERVER_INFO "disco/server-info"
/* disco/server-items  fold  [any-thread]  av_disco_params / av_disco_acc
 *   disco#items to a served domain: services (MUC, pubsub, upload...). */
#define AV_HOOK_DISCO_SERVER_ITEMS "disco/server-items"
/* disco/user-info     fold  [any-thread]  av_disco_params / av_disco_acc
 *   disco#info to a local user's bare JID (identity account/registered is added by
 *   mod_disco; modules add user-level features such as PEP or MAM). */
#define AV_HOOK_DISCO_USER_INFO "disco/user-info"
/* disco/user-items    fold  [any-thread]  av_disco_params / av_disco_acc */
#define AV_HOOK_DISCO_USER_ITEMS "disco/user-items"

AV_EXTERN_C_END

#endif
