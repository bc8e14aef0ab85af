/* Aviary module SDK: the module descriptor (module -> host). C11.
 * A module exports exactly one symbol:
 *     AV_EXPORT const av_module_desc *av_module_entry(void);
 * returning a pointer to a function-local static descriptor. */
#ifndef AVIARY_MODULE_H
#define AVIARY_MODULE_H

#include "types.h"

AV_EXTERN_C_BEGIN

typedef struct av_host_api av_host_api;

typedef int32_t av_dep_kind;
enum {
  AV_DEP_HARD = 0, /* load fails when the dependency is not enabled                 */
  AV_DEP_SOFT = 1  /* only orders start-up: started after it when both are enabled  */
};

/* One dependency. Arrays are terminated by an entry with id == NULL. */
typedef struct av_dep {
  const char *id;
  av_dep_kind kind;
} av_dep;

typedef int32_t av_option_type;
enum {
  AV_OPT_BOOL = 1,
  AV_OPT_INT = 2,         /* int64, range [min, max] when min <= max            */
  AV_OPT_STRING = 3,
  AV_OPT_ENUM = 4,        /* one of enum_values ("a|b|c")                         */
  AV_OPT_STRING_LIST = 5,
  AV_OPT_DOUBLE = 6,
  AV_OPT_ANY = 7          /* any YAML subtree; read back as JSON text             */
};

/* One declared config key of a module. Keys may be dotted ("tls.certfile") to declare
 * a key inside a map; a map key itself needs no declaration. The host rejects keys a
 * module did not declare, with FILE:LINE.
 * Arrays are terminated by an entry with key == NULL. */
typedef struct av_option_spec {
  const char *key;
  av_option_type type;
  const char *default_value; /* YAML scalar text ("50", "true", "none"); NULL = none   */
  int64_t min, max;          /* AV_OPT_INT only; ignored when min > max                 */
  const char *enum_values;   /* AV_OPT_ENUM only: "|"-separated                          */
  bool required;
  const char *description;
} av_option_spec;

/* The descriptor. OWNERSHIP: module-owned static storage, valid while the .so is mapped
 * (the host never unloads a module while running). The host copies
 * min(struct_size, its own sizeof) bytes into a zeroed struct: fields appended in later
 * minors must treat zero as "absent". */
typedef struct av_module_desc {
  uint32_t struct_size;        /* sizeof(av_module_desc) as compiled; first field forever */
  uint16_t abi_major;          /* AV_ABI_MAJOR the module was built with                  */
  uint16_t abi_minor;          /* AV_ABI_MINOR the module was built with                  */
  uint16_t min_host_minor;     /* lowest host minor whose functions it calls unchecked    */
  uint16_t reserved0;
  const char *id;              /* "mod_x", equals the .so basename, [a-z0-9_]             */
  const char *version;         /* the module's own version, "0.1.0"                       */
  const char *description;
  const av_dep *deps;          /* may be NULL                                              */
  const av_option_spec *options; /* may be NULL: the module takes no options             */
  /* [main] Called once after config validation and after every dependency started.
   * On AV_OK, *out_state is the module's state passed back to stop/get_extension.
   * On failure the host never calls stop(); give the reason with host->set_error. */
  av_status (*start)(const av_host_api *host, av_module *self, void **out_state);
  /* [main] Called once at shutdown, after the host removed all the module's hooks,
   * commands and providers and no handler call is in flight. Dependents stop first. */
  void (*stop)(void *state);
  /* [any-thread] Returns the extension struct this module offers under ext_id, or NULL.
   * OWNERSHIP: module-owned, must stay valid until stop(). */
  const void *(*get_extension)(void *state, const char *ext_id);
} av_module_desc;

/* The entry symbol's type. */
typedef const av_module_desc *(*av_module_entry_fn)(void);
#define AV_MODULE_ENTRY_SYMBOL "av_module_entry"

AV_EXTERN_C_END

#endif
