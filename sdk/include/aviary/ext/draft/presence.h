/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the id stays).
 * Extension "av.presence/1", offered by mod_presence: the available resources of a local
 * user with what their last presence said, including XEP-0115 entity capabilities (enough
 * for PEP's +notify filtering). Answers from memory, never blocks. C11. */
#ifndef AVIARY_EXT_DRAFT_PRESENCE_H
#define AVIARY_EXT_DRAFT_PRESENCE_H

#include "../../types.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_PRESENCE "av.presence/1"

/* One available resource. OWNERSHIP: module-owned, valid only during the callback.
 * Absent values are {NULL,0}. */
typedef struct av_presence_resource {
  uint32_t struct_size;
  av_str jid;        /* full JID                                                        */
  int32_t priority;
  av_str show;       /* <show/> text: away, chat, dnd, xa; absent = available             */
  av_str status;     /* first <status/> text                                            */
  av_str caps_node;  /* <c xmlns='http://jabber.org/protocol/caps' node='' ver='' hash=''/> */
  av_str caps_ver;
  av_str caps_hash;
} av_presence_resource;

/* Called once, synchronously, with a snapshot (n may be 0). */
typedef void (*av_presence_list_fn)(void *user, const av_presence_resource *items, size_t n);

/* OWNERSHIP: module-owned table, valid until mod_presence stops. */
typedef struct av_ext_presence_v1 {
  uint32_t struct_size;
  /* [any-thread] The available resources of bare_jid (a local user), in binding order of
   * their first presence. AV_E_INVALID_ARG on a bad JID (fn not called). */
  av_status (*available)(av_str bare_jid, av_presence_list_fn fn, void *user);
  /* [any-thread] The caps of one full JID's last available presence: AV_OK and fn called
   * with n = 1, or AV_E_NOT_FOUND (not available). */
  av_status (*resource)(av_str full_jid, av_presence_list_fn fn, void *user);
} av_ext_presence_v1;

AV_EXTERN_C_END

#endif
