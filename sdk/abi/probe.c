/* ABI probe (DESIGN.md B6). The host exports nothing to modules, so the module ABI is the
 * public header types plus the entry symbol. This file turns the headers into one shared
 * library whose only exported function takes a pointer to every public struct (and every
 * public function-pointer type), so that abidw sees the whole ABI and abidiff can compare
 * it with sdk/abi/baseline-<major>.abi.xml:
 *
 *   cc -g -Og -shared -fPIC -Isdk/include -o libaviary_abi_probe.so sdk/abi/probe.c
 *   abidw --headers-dir sdk/include --out-file current.abi.xml libaviary_abi_probe.so
 *   abidiff --suppressions sdk/abi/sdk.abignore sdk/abi/baseline-1.abi.xml current.abi.xml
 *
 * Rules: a new public struct or extension id is added here in the commit that adds it
 * (sdk/abi/check_abi.cmake fails when one is missing); drafts (ext/draft/) stay out until
 * promoted. Never remove or reorder parameters: append new ones at the end. */
#include <aviary/aviary.h>

/* Every extension id; a removed or renamed id macro breaks this file's build. */
static const char *const av_abi_probe_ext_ids[] = {
    AV_EXT_STANZA,  AV_EXT_ROUTER, AV_EXT_STORAGE_SQL, AV_EXT_AUTH_PROVIDER,
    AV_EXT_AUTH,    AV_EXT_COMMANDS, AV_EXT_TIMER, AV_EXT_SESSIONS,
};

AV_EXPORT size_t aviary_abi_probe(
    /* abi.h, str.h, types.h, module.h */
    const av_str *str, const av_dep *dep, const av_option_spec *option_spec,
    const av_module_desc *module_desc, av_module_entry_fn module_entry,
    /* host.h */
    const av_value *value, const av_hook_ctx *hook_ctx, av_hook_fn hook_fn,
    const av_host_api *host_api,
    /* hooks.h */
    const av_stanza_params *stanza_params, const av_stanza_acc *stanza_acc,
    const av_offline_acc *offline_acc, const av_iq_acc *iq_acc,
    const av_session_params *session_params, const av_features_acc *features_acc,
    /* ext/stanza.h, ext/router.h, ext/storage_sql.h */
    const av_ext_stanza_v1 *ext_stanza, const av_ext_router_v1 *ext_router,
    const av_ext_storage_sql_v1 *ext_storage_sql, av_sql_done_fn sql_done,
    /* ext/auth_provider.h */
    const av_auth_provider_v1 *auth_provider, const av_ext_auth_v1 *ext_auth,
    av_auth_done_fn auth_done, av_auth_bool_fn auth_bool, av_auth_secret_fn auth_secret,
    av_auth_list_fn auth_list, av_auth_count_fn auth_count,
    /* ext/commands.h */
    const av_cmd_arg *cmd_arg, const av_cmd_spec *cmd_spec, const av_ext_commands_v1 *ext_commands,
    av_cmd_fn cmd_fn,
    /* ext/timer.h, ext/sessions.h */
    const av_ext_timer_v1 *ext_timer, const av_session_info *session_info,
    const av_ext_sessions_v1 *ext_sessions, av_session_list_fn session_list);

AV_EXPORT size_t aviary_abi_probe(
    const av_str *str, const av_dep *dep, const av_option_spec *option_spec,
    const av_module_desc *module_desc, av_module_entry_fn module_entry,
    const av_value *value, const av_hook_ctx *hook_ctx, av_hook_fn hook_fn,
    const av_host_api *host_api,
    const av_stanza_params *stanza_params, const av_stanza_acc *stanza_acc,
    const av_offline_acc *offline_acc, const av_iq_acc *iq_acc,
    const av_session_params *session_params, const av_features_acc *features_acc,
    const av_ext_stanza_v1 *ext_stanza, const av_ext_router_v1 *ext_router,
    const av_ext_storage_sql_v1 *ext_storage_sql, av_sql_done_fn sql_done,
    const av_auth_provider_v1 *auth_provider, const av_ext_auth_v1 *ext_auth,
    av_auth_done_fn auth_done, av_auth_bool_fn auth_bool, av_auth_secret_fn auth_secret,
    av_auth_list_fn auth_list, av_auth_count_fn auth_count,
    const av_cmd_arg *cmd_arg, const av_cmd_spec *cmd_spec, const av_ext_commands_v1 *ext_commands,
    av_cmd_fn cmd_fn, const av_ext_timer_v1 *ext_timer, const av_session_info *session_info,
    const av_ext_sessions_v1 *ext_sessions, av_session_list_fn session_list) {
  /* Touch everything so no parameter is "unused"; the value itself means nothing. */
  size_t n = 0, i;
  const void *p[] = {str,           dep,          option_spec,  module_desc,    value,
                     hook_ctx,      host_api,     stanza_params, stanza_acc,    offline_acc,
                     iq_acc,        session_params, features_acc, ext_stanza,   ext_router,
                     ext_storage_sql, auth_provider, ext_auth,    cmd_arg,        cmd_spec,
                     ext_commands, ext_timer, session_info, ext_sessions};
  const bool fns[] = {module_entry != NULL, hook_fn != NULL,   sql_done != NULL,
                      auth_done != NULL,    auth_bool != NULL, auth_secret != NULL,
                      auth_list != NULL,    auth_count != NULL, cmd_fn != NULL,
                      session_list != NULL};
  for (i = 0; i < sizeof p / sizeof p[0]; ++i) n += p[i] != NULL;
  for (i = 0; i < sizeof fns / sizeof fns[0]; ++i) n += fns[i];
  for (i = 0; i < sizeof av_abi_probe_ext_ids / sizeof av_abi_probe_ext_ids[0]; ++i)
    n += av_abi_probe_ext_ids[i][0] != '\0';
  return n;
}
