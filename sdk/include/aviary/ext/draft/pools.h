/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the id stays).
 * Extension "av.pools/1" (host-provided): the configuration of the outgoing connection pools
 * other than rdbms (`outgoing_pools.<type>.<tag>` in the config: rabbit, kafka, http). The host
 * validates those sections (FILE:LINE errors at start-up) and fills in their defaults; the
 * module that uses a pool opens and owns its connections. C11. */
#ifndef AVIARY_EXT_DRAFT_POOLS_H
#define AVIARY_EXT_DRAFT_POOLS_H

#include "../../types.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_POOLS "av.pools/1"

/* OWNERSHIP: host-owned table, valid for the process lifetime. */
typedef struct av_ext_pools_v1 {
  uint32_t struct_size;
  /* [any-thread] The section outgoing_pools.<type>.<tag> as one JSON object, defaults
   * included (e.g. {"workers":10,"connection":{"host":"localhost","port":5672,...}}).
   * *out_json is host-owned and valid for the process lifetime.
   * AV_E_NOT_FOUND when the config has no such pool. */
  av_status (*config)(av_str type, av_str tag, av_str *out_json);
} av_ext_pools_v1;

AV_EXTERN_C_END

#endif
