/* Extension "av.router/1" (host-provided): deliver stanzas. C11. */
#ifndef AVIARY_EXT_ROUTER_H
#define AVIARY_EXT_ROUTER_H

#include "stanza.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_ROUTER "av.router/1"

typedef struct av_ext_router_v1 {
  uint32_t struct_size;
  /* [any-thread] Route s from its 'from' to its 'to' attribute (both required, 'from'
   * must be a full or bare JID or a domain). Runs router/filter-local-packet and delivers
   * to local sessions, offline storage or an error reply. The router takes its own
   * reference; the caller keeps (and must release) its own. */
  av_status (*route)(av_stanza *s);
  /* [any-thread] Treat s as sent by the local user in its 'from' attribute (bare or full
   * JID): runs the same c2s/user-send-* hooks as a stanza from that user's client, then
   * routes it. Used by admin commands such as `stanza sendMessage`. AV_E_NOT_FOUND when
   * 'from' is not a user of a local vhost. */
  av_status (*route_as_user)(av_stanza *s);
  /* [any-thread] Number of bound sessions on vh (NULL: all vhosts). */
  size_t (*session_count)(av_vhost *vh);
} av_ext_router_v1;

AV_EXTERN_C_END

#endif
