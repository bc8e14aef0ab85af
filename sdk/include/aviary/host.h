/* Aviary module SDK: the host API table (host -> module). C11.
 * Append-only: new members go at the end under a "since 1.N" banner; never reorder. */
#ifndef AVIARY_HOST_H
#define AVIARY_HOST_H

#include "module.h"

AV_EXTERN_C_BEGIN

/* A config value as read by get_option.
 * OWNERSHIP: strings and items are host-owned and stay valid until the module stops. */
typedef struct av_value {
  av_option_type type;
  bool present;          /* false: key absent and no default                              */
  bool b;                /* AV_OPT_BOOL                                                   */
  int64_t i;             /* AV_OPT_INT                                                    */
  double d;              /* AV_OPT_DOUBLE                                                 */
  av_str s;              /* AV_OPT_STRING, AV_OPT_ENUM, AV_OPT_ANY (JSON text)            */
  const av_str *items;   /* AV_OPT_STRING_LIST                                            */
  size_t count;          /* AV_OPT_STRING_LIST                                            */
} av_value;

/* ---- hooks (semantics: DESIGN.md B3; core hooks: hooks.h) ---- */
typedef int32_t av_hook_id;         /* interned hook name; valid for the process lifetime */
typedef uint64_t av_hook_reg;       /* one registration, for hook_remove                  */

typedef int32_t av_hook_action;
enum {
  AV_HOOK_CONTINUE = 0, /* pass to the next handler                                      */
  AV_HOOK_STOP = 1,     /* fold/verdict: skip later handlers (notify hooks ignore it)    */
  AV_HOOK_SUSPEND = 2,  /* reserved: no 1.0 hook is suspendable; treated as an error     */
  AV_HOOK_ERROR = -1    /* logged; the run continues with the next handler               */
};

typedef int32_t av_hook_kind;
enum { AV_HOOK_KIND_NOTIFY = 0, AV_HOOK_KIND_FOLD = 1, AV_HOOK_KIND_VERDICT = 2 };

/* Priorities: lower runs first; ties run in module load order, then registration order. */
#define AV_PRIO_FIRST (-1000)
#define AV_PRIO_EARLY (-500)
#define AV_PRIO_NORMAL 0
#define AV_PRIO_LATE 500
#define AV_PRIO_LAST 1000

/* Passed to every handler. OWNERSHIP: host-owned, valid during the call only. */
typedef struct av_hook_ctx {
  uint32_t struct_size;
  av_hook_id hook;
  av_vhost *vhost;       /* the vhost the hook runs for; NULL for a global run       */
  av_executor executor;  /* the thread the handler runs on                           */
} av_hook_ctx;

/* A handler. Must not block; must not throw (the C++ layer guarantees it). A handler that
 * returns AV_HOOK_ERROR must leave acc unchanged. */
typedef av_hook_action (*av_hook_fn)(void *user, const av_hook_ctx *cx, const void *params,
                                     void *acc);

/* The table. OWNERSHIP: host-owned, valid until the module's stop() returns. */
struct av_host_api {
  uint32_t struct_size;   /* sizeof as compiled into the host                       */
  uint16_t abi_major;
  uint16_t abi_minor;

  /* ---------------- since 1.0 ---------------- */

  /* [any-thread] Log a line tagged with the module id.
   * OWNERSHIP: msg is borrowed for the call (copied). */
  void (*log)(av_module *m, av_log_level lvl, av_str msg);

  /* [main, during start only] Reason for a failing start().
   * OWNERSHIP: msg is borrowed for the call (copied). */
  av_status (*set_error)(av_module *m, const char *msg);

  /* [main] Read a declared option of module m (vh: vhost override, NULL = module level).
   * AV_E_NOT_FOUND when the key was not declared; AV_E_INVALID_ARG on a type mismatch.
   * *out is filled; its strings live until the module stops. */
  av_status (*get_option)(av_module *m, av_vhost *vh, const char *key, av_option_type type,
                          av_value *out);

  /* [any-thread] Intern a hook name (creating it if new; undeclared hooks are folds).
   * OWNERSHIP: name is borrowed for the call; the id is a plain value. */
  av_status (*hook_resolve)(const char *name, av_hook_id *out);

  /* [main] Declare a hook this module owns and runs, with its kind. Re-declaring with the
   * same kind is fine; another kind is AV_E_INVALID_ARG.
   * OWNERSHIP: name is borrowed for the call. */
  av_status (*hook_declare)(av_module *m, const char *name, av_hook_kind kind, av_hook_id *out);

  /* [main] Register a handler. scope NULL = global (runs for every vhost). Duplicate
   * (module, hook, scope, fn, user) is AV_E_INVALID_ARG. Removed automatically when m stops.
   * OWNERSHIP: user stays the module's; it must stay valid until the handler is removed
   * (hook_remove or stop) and no run is in flight. */
  av_status (*hook_add)(av_module *m, av_hook_id h, av_vhost *scope, int32_t prio,
                        av_hook_fn fn, void *user, av_hook_reg *out);

  /* [main] Remove one registration. A run already in progress may still call it once.
   * OWNERSHIP: nothing changes hands. */
  av_status (*hook_remove)(av_module *m, av_hook_reg reg);

  /* [any-thread] Run a hook for vhost vh (NULL: global handlers only) on the calling
   * thread. params/acc are borrowed for the call. *out_last (may be NULL) receives
   * AV_HOOK_STOP if a handler stopped the run, else AV_HOOK_CONTINUE. */
  av_status (*hook_run)(av_hook_id h, av_vhost *vh, const void *params, void *acc,
                        av_hook_action *out_last);

  /* [any-thread] An extension offered by the host or by any started module, or NULL.
   * OWNERSHIP: provider-owned; valid until m stops (providers stop after dependents). */
  const void *(*get_extension)(av_module *m, const char *ext_id);

  /* [any-thread] Run fn(arg) on executor ex. AV_E_BUSY when the target queue is full.
   * OWNERSHIP: arg stays the caller's. On AV_OK fn runs once, unless the server is shutting
   * down and drops the queued work; on an error status it never runs (the caller cleans up). */
  av_status (*post)(av_executor ex, void (*fn)(void *arg), void *arg);

  /* [any-thread] Memory that crosses the boundary.
   * OWNERSHIP: a block from mem_alloc belongs to whoever receives it; free it with mem_free. */
  void *(*mem_alloc)(size_t n);
  void (*mem_free)(void *p);

  /* [any-thread] Virtual hosts. vhost_find returns NULL for an unknown name (case-insensitive).
   * OWNERSHIP: vhosts, vhost_name's text and vhost_list's array (*out) are host-owned and
   * valid for the process lifetime; name is borrowed for the call. */
  av_vhost *(*vhost_find)(av_str name);
  av_str (*vhost_name)(const av_vhost *vh);
  size_t (*vhost_list)(av_vhost *const **out);

  /* [any-thread] The executor the caller runs on (AV_EXEC_MAIN, AV_EXEC_BLOCKING or a
   * network thread's value). OWNERSHIP: a plain value. */
  av_executor (*current_executor)(void);
};

AV_EXTERN_C_END

#endif
