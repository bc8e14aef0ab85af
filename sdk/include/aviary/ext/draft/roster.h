/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the id stays).
 * Extension "av.roster/1", offered by mod_roster: synchronous read access to the rosters of
 * users that have at least one session (mod_roster keeps those in memory: loaded when a
 * session opens, updated on every change, dropped when the last session closes).
 * Fetch it with get_extension(AV_EXT_ROSTER) from a module that declares a hard dependency on
 * mod_roster. Nothing here blocks: a roster that is not in memory answers AV_E_BUSY. C11. */
#ifndef AVIARY_EXT_DRAFT_ROSTER_H
#define AVIARY_EXT_DRAFT_ROSTER_H

#include "../../types.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_ROSTER "av.roster/1"

/* RFC 6121 subscription of a roster item (the 'subscription' attribute). */
typedef int32_t av_roster_sub;
enum { AV_ROSTER_SUB_NONE = 0, AV_ROSTER_SUB_TO = 1, AV_ROSTER_SUB_FROM = 2, AV_ROSTER_SUB_BOTH = 3 };
/* Bit of a subscription in a sub_mask: AV_ROSTER_MASK(AV_ROSTER_SUB_FROM) | ... */
#define AV_ROSTER_MASK(sub) (1u << (uint32_t)(sub))

/* One roster item. OWNERSHIP: module-owned, valid only during the callback. */
typedef struct av_roster_contact {
  uint32_t struct_size;
  av_str jid;                  /* the contact's bare JID (lowercase localpart and domain)     */
  av_str name;                 /* {"",0} when none                                            */
  av_roster_sub subscription;
  bool pending_out;            /* the user asked to subscribe (ask='subscribe')              */
  bool pending_in;             /* the contact asked to subscribe, not yet answered           */
  bool approved;               /* pre-approved (RFC 6121 3.4)                                 */
  bool in_roster;              /* false: only a pending inbound request, hidden from roster get */
} av_roster_contact;

/* Called once, synchronously, with a snapshot (n may be 0). */
typedef void (*av_roster_contacts_fn)(void *user, const av_roster_contact *items, size_t n);

/* OWNERSHIP: module-owned table, valid until mod_roster stops (dependents stop first). */
typedef struct av_ext_roster_v1 {
  uint32_t struct_size;
  /* [any-thread] The item of contact_bare in user_bare's roster: AV_OK and *out filled,
   * AV_E_NOT_FOUND when the roster is in memory but has no such item, AV_E_BUSY when the
   * roster is not in memory (no session, or still loading). out may be NULL. */
  av_status (*get_contact)(av_str user_bare, av_str contact_bare, av_roster_sub *out_sub,
                           bool *out_pending_out, bool *out_pending_in);
  /* [any-thread] Calls fn once with the items whose subscription is in sub_mask (0 = all),
   * hidden pending-only items included only when their bit matches too. AV_E_BUSY (fn not
   * called) when the roster is not in memory. */
  av_status (*list)(av_str user_bare, uint32_t sub_mask, av_roster_contacts_fn fn, void *user);
  /* [any-thread] Posts fn(arg) to executor ex once user_bare's roster is in memory (at once
   * when it is). Meant for users with a session: for others the roster is loaded, fn is
   * posted, and the roster may be dropped again before fn runs. AV_E_INVALID_ARG on a bad
   * JID (fn not called). */
  av_status (*when_cached)(av_str user_bare, av_executor ex, void (*fn)(void *arg), void *arg);
} av_ext_roster_v1;

/* roster/subscription-changed   notify  [any-thread]  av_roster_change_params / no acc
 *   Run by mod_roster after the subscription of an item changed (and after the subscription
 *   stanza that caused it was routed), including removals (roster remove, account removal:
 *   new_sub NONE, removed true). mod_presence sends presence to a new 'from' subscriber and
 *   'unavailable' to a former one from it. Register by name; no dependency needed. */
#define AV_HOOK_ROSTER_SUBSCRIPTION_CHANGED "roster/subscription-changed"
typedef struct av_roster_change_params {
  uint32_t struct_size;
  av_str user;              /* bare JID of the local user whose roster changed */
  av_str contact;           /* bare JID of the contact                          */
  av_roster_sub old_sub;
  av_roster_sub new_sub;
  bool removed;             /* the item is gone                                 */
} av_roster_change_params;

AV_EXTERN_C_END

#endif
