/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the id stays).
 * Extension "av.caps/1", offered by mod_caps: what local clients support according to their
 * XEP-0115 entity capabilities, verified. mod_caps reads the <c xmlns=
 * 'http://jabber.org/protocol/caps' hash node ver/> of each available presence; for a ver it
 * has not verified yet it asks the client (disco#info to its full JID, node 'node#ver'),
 * checks the answer against ver (XEP-0115 section 5) and caches ver -> features in memory.
 * Meant for PEP (XEP-0163 '+notify' filtering) and anything that must know whether a client
 * supports a feature. Answers from memory, never blocks. Fetch it with
 * get_extension(AV_EXT_CAPS) (NULL when mod_caps is not enabled). C11. */
#ifndef AVIARY_EXT_DRAFT_CAPS_H
#define AVIARY_EXT_DRAFT_CAPS_H

#include "../../types.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_CAPS "av.caps/1"

/* How much is known of one full JID's capabilities. */
typedef int32_t av_caps_state;
enum {
  AV_CAPS_PENDING = 1, /* caps advertised; the disco#info answer has not come yet           */
  AV_CAPS_KNOWN = 2,   /* features known (see `verified`)                                  */
  AV_CAPS_INVALID = 3  /* the answer did not verify, was ill-formed, or was an error:     */
                       /* nothing is known (the client is asked again on a new ver)          */
};

/* The caps of one full JID. OWNERSHIP: module-owned, valid only during the callback.
 * features are sorted ("i;octet"), n_features is 0 unless state is AV_CAPS_KNOWN. */
typedef struct av_caps_info {
  uint32_t struct_size;
  av_str jid;   /* full JID                                                            */
  av_str node;  /* the <c/> attributes as advertised                                    */
  av_str ver;
  av_str hash;  /* {"",0} for legacy caps without 'hash'                               */
  av_caps_state state;
  bool verified; /* KNOWN: true = ver verified (shared cache); false = this JID's own
                    answer, kept for it only (hash not supported, or legacy caps)       */
  const av_str *features;
  size_t n_features;
} av_caps_info;

/* Called once, synchronously. */
typedef void (*av_caps_info_fn)(void *user, const av_caps_info *info);

/* OWNERSHIP: module-owned table, valid until mod_caps stops. */
typedef struct av_ext_caps_v1 {
  uint32_t struct_size;
  /* [any-thread] The caps of full_jid's current available presence: AV_OK and fn called,
   * AV_E_NOT_FOUND when its last available presence had no caps (or it is not available),
   * AV_E_INVALID_ARG on a bad JID or NULL fn (fn not called). */
  av_status (*info)(av_str full_jid, av_caps_info_fn fn, void *user);
  /* [any-thread] Whether full_jid supports `feature`: AV_OK and *out set when its features
   * are known, AV_E_BUSY while the answer is pending, AV_E_NOT_FOUND when nothing is known
   * (no caps, or state AV_CAPS_INVALID). out may be NULL. */
  av_status (*has_feature)(av_str full_jid, av_str feature, bool *out);
} av_ext_caps_v1;

/* caps/features-known   notify  [any-thread]  av_caps_known_params / no acc
 *   Run by mod_caps when the features of a full JID become known: at once (from the cache)
 *   for an available presence with an already verified ver, else after the client's
 *   disco#info answer was checked. Read them with av.caps/1 (e.g. PEP sends the last items
 *   of the nodes the client now '+notify's). Register by name; no dependency needed. */
#define AV_HOOK_CAPS_FEATURES_KNOWN "caps/features-known"
typedef struct av_caps_known_params {
  uint32_t struct_size;
  av_str jid;   /* full JID */
  av_str node;
  av_str ver;
  bool verified;
} av_caps_known_params;

AV_EXTERN_C_END

#endif
