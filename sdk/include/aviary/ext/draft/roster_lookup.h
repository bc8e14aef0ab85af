/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the id stays).
 * Extension "av.roster.lookup/1", offered by mod_roster next to "av.roster/1": one item of
 * ANY local user's roster, whether or not that user has a session. av.roster/1 answers
 * synchronously from memory and so only for users with a session (AV_E_BUSY otherwise);
 * this one loads the roster from storage when it is not in memory and answers through a
 * callback. Meant for access checks on users who may be offline, e.g. XEP-0012 last
 * activity (mod_last: only entities subscribed to the user's presence may ask).
 * Fetch it with get_extension(AV_EXT_ROSTER_LOOKUP); NULL when mod_roster is not enabled
 * (declare a soft dependency on mod_roster so that it starts first). Never blocks. C11. */
#ifndef AVIARY_EXT_DRAFT_ROSTER_LOOKUP_H
#define AVIARY_EXT_DRAFT_ROSTER_LOOKUP_H

#include "roster.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_ROSTER_LOOKUP "av.roster.lookup/1"

/* The answer. st: AV_OK (sub, pending_out and pending_in describe the item) or
 * AV_E_NOT_FOUND (no item: subscription none either way; also for a user without an
 * account, and when the roster could not be read from storage, which mod_roster logs). */
typedef void (*av_roster_lookup_fn)(void *arg, av_status st, av_roster_sub sub, bool pending_out,
                                    bool pending_in);

/* OWNERSHIP: module-owned table, valid until mod_roster stops (dependents stop first). */
typedef struct av_ext_roster_lookup_v1 {
  uint32_t struct_size;
  /* [any-thread] The item of contact_bare in user_bare's roster. Returns AV_OK when fn will
   * be called exactly once: posted to executor ex (called directly only if posting fails),
   * never before this function returns; at once when the roster is in memory, else after
   * an asynchronous load (the roster is dropped again afterwards if the user has no
   * session). AV_E_INVALID_ARG on a bad JID or NULL fn (fn not called). A pending fn is
   * not called if mod_roster stops first. */
  av_status (*get_contact)(av_str user_bare, av_str contact_bare, av_executor ex, av_roster_lookup_fn fn,
                           void *arg);
} av_ext_roster_lookup_v1;

AV_EXTERN_C_END

#endif
