/* Aviary module SDK: opaque handles and small shared types. C11. */
#ifndef AVIARY_TYPES_H
#define AVIARY_TYPES_H

#include "status.h"
#include "str.h"

AV_EXTERN_C_BEGIN

/* One loaded module, as the host knows it. OWNERSHIP: host-owned, valid from start()
 * until stop() returns. Modules pass it back to identify themselves. */
typedef struct av_module av_module;

/* One virtual host (an XMPP domain served here). OWNERSHIP: host-owned, valid for the
 * whole process lifetime. NULL means "global" where a scope is expected. */
typedef struct av_vhost av_vhost;

/* A client session (c2s stream). OWNERSHIP: host-owned; valid only during the call or
 * hook that hands it out. Compare, never dereference. */
typedef struct av_session av_session;

/* Where work runs. Values below are fixed; session threads have values >= AV_EXEC_IO_BASE
 * (the executor of a session is given in hook params). */
typedef uint64_t av_executor;
#define AV_EXEC_MAIN ((av_executor)1)     /* the main thread (config, load, start/stop)   */
#define AV_EXEC_BLOCKING ((av_executor)2) /* bounded worker pool: SQL, hashing, blocking I/O */
#define AV_EXEC_IO_ANY ((av_executor)3)   /* any network thread, host's choice             */
#define AV_EXEC_IO_BASE ((av_executor)0x100) /* + thread index: a specific network thread */

typedef int32_t av_log_level;
enum { AV_LOG_DEBUG = 0, AV_LOG_INFO = 1, AV_LOG_WARNING = 2, AV_LOG_ERROR = 3 };

AV_EXTERN_C_END

#endif
