/* Aviary module SDK: ABI version and linkage macros.
 * C11 header, also valid C++17. Includes only <stdint.h>, <stddef.h>, <stdbool.h>.
 * See DESIGN.md B1: AV_ABI_MAJOR changes only on a break (host refuses other majors);
 * AV_ABI_MINOR grows with append-only additions (any minor loads; a module that needs
 * newer host functions states it in av_module_desc.min_host_minor). */
#ifndef AVIARY_ABI_H
#define AVIARY_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AV_ABI_MAJOR 1
#define AV_ABI_MINOR 1

#ifdef __cplusplus
#define AV_EXTERN_C_BEGIN extern "C" {
#define AV_EXTERN_C_END }
#else
#define AV_EXTERN_C_BEGIN
#define AV_EXTERN_C_END
#endif

/* Marks the one symbol a module exports. Modules are built with -fvisibility=hidden. */
#if defined(__GNUC__)
#define AV_EXPORT __attribute__((visibility("default")))
#else
#define AV_EXPORT
#endif

/* True when the host table `api` (any struct whose first field is uint32_t struct_size)
 * is large enough to contain `field` and the field is non-NULL. Use it before calling
 * any host function newer than the module's min_host_minor. */
#define AV_HOST_HAS(api, type, field)                                              \
  ((api) != NULL &&                                                                \
   offsetof(type, field) + sizeof(((const type *)0)->field) <= (api)->struct_size && \
   (api)->field != NULL)

#endif
