/* ABI 1.0 layout on x86_64 (DESIGN.md B5.1). Changed only in a commit that bumps
 * AV_ABI_MINOR (appending) or AV_ABI_MAJOR. */
#include <aviary/aviary.h>

#define OFF(t, f, v) _Static_assert(offsetof(t, f) == (v), #t "." #f " moved")
#define SIZE(t, v) _Static_assert(sizeof(t) == (v), "sizeof " #t " changed")

OFF(av_module_desc, struct_size, 0);
OFF(av_module_desc, abi_major, 4);
OFF(av_module_desc, min_host_minor, 8);
OFF(av_module_desc, id, 16);
OFF(av_module_desc, start, 56);
OFF(av_module_desc, get_extension, 72);
SIZE(av_module_desc, 80);
OFF(av_host_api, struct_size, 0);
OFF(av_host_api, log, 8);
OFF(av_host_api, current_executor, 8 + 8 * 15);
SIZE(av_host_api, 8 + 8 * 16);
SIZE(av_str, 16);
SIZE(av_option_spec, 64);
SIZE(av_stanza_params, 64);
SIZE(av_hook_ctx, 24);
SIZE(av_ext_stanza_v1, 8 + 8 * 22);
SIZE(av_ext_storage_sql_v1, 8 + 8 * 9);
SIZE(av_auth_provider_v1, 8 + 8 * 10);
SIZE(av_ext_commands_v1, 8 + 8 * 3);
