/* Extension "av.storage.sql/1" (host-provided): SQL on the configured pools. C11.
 * Queries run on the pool's worker threads; the caller never blocks (except query_sync,
 * which is for schema set-up during start and for [blocking] code). */
#ifndef AVIARY_EXT_STORAGE_SQL_H
#define AVIARY_EXT_STORAGE_SQL_H

#include "../types.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_STORAGE_SQL "av.storage.sql/1"

typedef struct av_sql_pool av_sql_pool;     /* host-owned, valid for the process lifetime */
typedef struct av_sql_result av_sql_result; /* host-owned, valid during the done callback */

typedef int32_t av_sql_dialect;
enum { AV_SQL_SQLITE = 1, AV_SQL_PGSQL = 2, AV_SQL_MYSQL = 3 };

/* Called exactly once per query on the executor given to query() (or inside query_sync).
 * st != AV_OK on failure; res is never NULL (error() then describes it). */
typedef void (*av_sql_done_fn)(void *user, av_status st, const av_sql_result *res);

typedef struct av_ext_storage_sql_v1 {
  uint32_t struct_size;
  /* [any-thread] The pool configured under outgoing_pools.rdbms.<tag>, or NULL. */
  av_sql_pool *(*pool)(av_str tag);
  av_sql_dialect (*dialect)(const av_sql_pool *p);
  /* [any-thread] Run one statement. Placeholders are '?' (outside quotes); params[i].ptr
   * NULL binds SQL NULL. sql and params are copied before return. AV_E_BUSY when the
   * pool's queue is full (nothing is run, done is not called). */
  av_status (*query)(av_sql_pool *p, av_str sql, const av_str *params, size_t nparams,
                     av_executor reply_on, av_sql_done_fn done, void *user);
  /* [main during start, or blocking] Same, but runs now on the calling thread and calls
   * done before returning. Returns the statement's status. */
  av_status (*query_sync)(av_sql_pool *p, av_str sql, const av_str *params, size_t nparams,
                          av_sql_done_fn done, void *user);
  /* [during done] Result access. value() is {NULL,0} for SQL NULL. */
  size_t (*rows)(const av_sql_result *r);
  size_t (*cols)(const av_sql_result *r);
  av_str (*value)(const av_sql_result *r, size_t row, size_t col);
  int64_t (*affected)(const av_sql_result *r);
  av_str (*error)(const av_sql_result *r);
} av_ext_storage_sql_v1;

AV_EXTERN_C_END

#endif
