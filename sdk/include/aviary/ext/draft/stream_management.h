/* DRAFT (ext/draft/: not frozen, not in the ABI baseline until promoted; the hook name
 * stays). Hooks run by mod_stream_management (XEP-0198). Module-owned interface: modules
 * register on them by name and need no dependency on mod_stream_management. C11. */
#ifndef AVIARY_EXT_DRAFT_STREAM_MANAGEMENT_H
#define AVIARY_EXT_DRAFT_STREAM_MANAGEMENT_H

#include "../../hooks.h"

AV_EXTERN_C_BEGIN

/* sm/unacknowledged-message   notify  [any-thread]  av_stanza_params (acc NULL)
 *   A message that a session which will not be resumed never acknowledged, just before it is
 *   routed again to the user's bare JID (another resource or offline storage). params.stanza
 *   is the message as it was sent to the session (borrowed), params.to the session's full
 *   JID, params.from its sender, params.session NULL. (MongooseIM: unacknowledged_message.) */
#define AV_HOOK_SM_UNACKNOWLEDGED_MESSAGE "sm/unacknowledged-message"

AV_EXTERN_C_END

#endif
