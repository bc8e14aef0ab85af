/* ABI 1.1 layout on LP64 targets such as x86_64 (DESIGN.md B5.1): the offset of every
 * member of the host API table and of the module descriptor, the size and the offsets of
 * every public struct, and the values of every public enumerator (never renumbered).
 * Changed only in a commit that bumps AV_ABI_MINOR (appending, so only new lines and the
 * SIZE of the grown struct change) or AV_ABI_MAJOR. sdk/abi/ holds the abidiff half of the
 * check (DESIGN.md B6); these asserts also run where libabigail is not installed. */
#include <aviary/aviary.h>

#define OFF(t, f, v) _Static_assert(offsetof(t, f) == (v), #t "." #f " moved")
#define SIZE(t, v) _Static_assert(sizeof(t) == (v), "sizeof " #t " changed")
#define VAL(c, v) _Static_assert((c) == (v), #c " renumbered")

_Static_assert(AV_ABI_MAJOR == 1, "these asserts describe ABI 1.x");
_Static_assert(AV_ABI_MINOR == 1, "a minor bump appends asserts for the new members here");

#if (defined(__LP64__) || defined(_LP64)) && defined(__CHAR_BIT__) && __CHAR_BIT__ == 8

/* ---- module.h: the descriptor (module -> host) ---- */
OFF(av_module_desc, struct_size, 0);
OFF(av_module_desc, abi_major, 4);
OFF(av_module_desc, abi_minor, 6);
OFF(av_module_desc, min_host_minor, 8);
OFF(av_module_desc, reserved0, 10);
OFF(av_module_desc, id, 16);
OFF(av_module_desc, version, 24);
OFF(av_module_desc, description, 32);
OFF(av_module_desc, deps, 40);
OFF(av_module_desc, options, 48);
OFF(av_module_desc, start, 56);
OFF(av_module_desc, stop, 64);
OFF(av_module_desc, get_extension, 72);
SIZE(av_module_desc, 80);

OFF(av_dep, id, 0);
OFF(av_dep, kind, 8);
SIZE(av_dep, 16);

OFF(av_option_spec, key, 0);
OFF(av_option_spec, type, 8);
OFF(av_option_spec, default_value, 16);
OFF(av_option_spec, min, 24);
OFF(av_option_spec, max, 32);
OFF(av_option_spec, enum_values, 40);
OFF(av_option_spec, required, 48);
OFF(av_option_spec, description, 56);
SIZE(av_option_spec, 64);

/* ---- host.h: the host API table (host -> module), one pointer per slot after the
 *      8-byte header; slot N sits at 8 + 8 * N ---- */
OFF(av_host_api, struct_size, 0);
OFF(av_host_api, abi_major, 4);
OFF(av_host_api, abi_minor, 6);
/* since 1.0 */
OFF(av_host_api, log, 8 + 8 * 0);
OFF(av_host_api, set_error, 8 + 8 * 1);
OFF(av_host_api, get_option, 8 + 8 * 2);
OFF(av_host_api, hook_resolve, 8 + 8 * 3);
OFF(av_host_api, hook_declare, 8 + 8 * 4);
OFF(av_host_api, hook_add, 8 + 8 * 5);
OFF(av_host_api, hook_remove, 8 + 8 * 6);
OFF(av_host_api, hook_run, 8 + 8 * 7);
OFF(av_host_api, get_extension, 8 + 8 * 8);
OFF(av_host_api, post, 8 + 8 * 9);
OFF(av_host_api, mem_alloc, 8 + 8 * 10);
OFF(av_host_api, mem_free, 8 + 8 * 11);
OFF(av_host_api, vhost_find, 8 + 8 * 12);
OFF(av_host_api, vhost_name, 8 + 8 * 13);
OFF(av_host_api, vhost_list, 8 + 8 * 14);
OFF(av_host_api, current_executor, 8 + 8 * 15);
SIZE(av_host_api, 8 + 8 * 16);

OFF(av_value, type, 0);
OFF(av_value, present, 4);
OFF(av_value, b, 5);
OFF(av_value, i, 8);
OFF(av_value, d, 16);
OFF(av_value, s, 24);
OFF(av_value, items, 40);
OFF(av_value, count, 48);
SIZE(av_value, 56);

OFF(av_hook_ctx, struct_size, 0);
OFF(av_hook_ctx, hook, 4);
OFF(av_hook_ctx, vhost, 8);
OFF(av_hook_ctx, executor, 16);
SIZE(av_hook_ctx, 24);

/* ---- str.h, types.h ---- */
OFF(av_str, ptr, 0);
OFF(av_str, len, 8);
SIZE(av_str, 16);
SIZE(av_status, 4);
SIZE(av_executor, 8);
SIZE(av_log_level, 4);
SIZE(av_hook_id, 4);
SIZE(av_hook_reg, 8);
SIZE(av_hook_action, 4);
SIZE(av_hook_kind, 4);
SIZE(av_option_type, 4);
SIZE(av_dep_kind, 4);

/* ---- hooks.h: params and accumulators ---- */
OFF(av_stanza_params, struct_size, 0);
OFF(av_stanza_params, stanza, 8);
OFF(av_stanza_params, from, 16);
OFF(av_stanza_params, to, 32);
OFF(av_stanza_params, session, 48);
OFF(av_stanza_params, executor, 56);
SIZE(av_stanza_params, 64);

OFF(av_stanza_acc, struct_size, 0);
OFF(av_stanza_acc, drop, 4);
OFF(av_stanza_acc, replace, 8); /* since 1.1 */
SIZE(av_stanza_acc, 16);        /* 8 in 1.0 */

OFF(av_offline_acc, struct_size, 0);
OFF(av_offline_acc, handled, 4);
SIZE(av_offline_acc, 8);

OFF(av_iq_acc, struct_size, 0);
OFF(av_iq_acc, handled, 4);
OFF(av_iq_acc, reply, 8);
SIZE(av_iq_acc, 16);

OFF(av_session_params, struct_size, 0);
OFF(av_session_params, session, 8);
OFF(av_session_params, jid, 16);
OFF(av_session_params, user, 32);
OFF(av_session_params, server, 48);
OFF(av_session_params, resource, 64);
OFF(av_session_params, executor, 80);
SIZE(av_session_params, 88);

OFF(av_features_acc, struct_size, 0);
OFF(av_features_acc, features, 8);
SIZE(av_features_acc, 16);

/* ---- ext/stanza.h: "av.stanza/1" (frozen) ---- */
OFF(av_ext_stanza_v1, struct_size, 0);
OFF(av_ext_stanza_v1, retain, 8 + 8 * 0);
OFF(av_ext_stanza_v1, release, 8 + 8 * 1);
OFF(av_ext_stanza_v1, parse, 8 + 8 * 2);
OFF(av_ext_stanza_v1, create, 8 + 8 * 3);
OFF(av_ext_stanza_v1, clone, 8 + 8 * 4);
OFF(av_ext_stanza_v1, root, 8 + 8 * 5);
OFF(av_ext_stanza_v1, kind, 8 + 8 * 6);
OFF(av_ext_stanza_v1, name, 8 + 8 * 7);
OFF(av_ext_stanza_v1, attr, 8 + 8 * 8);
OFF(av_ext_stanza_v1, text, 8 + 8 * 9);
OFF(av_ext_stanza_v1, child, 8 + 8 * 10);
OFF(av_ext_stanza_v1, child_count, 8 + 8 * 11);
OFF(av_ext_stanza_v1, child_at, 8 + 8 * 12);
OFF(av_ext_stanza_v1, mut_root, 8 + 8 * 13);
OFF(av_ext_stanza_v1, set_attr, 8 + 8 * 14);
OFF(av_ext_stanza_v1, add_child, 8 + 8 * 15);
OFF(av_ext_stanza_v1, add_text, 8 + 8 * 16);
OFF(av_ext_stanza_v1, add_xml, 8 + 8 * 17);
OFF(av_ext_stanza_v1, remove_children, 8 + 8 * 18);
OFF(av_ext_stanza_v1, serialize, 8 + 8 * 19);
OFF(av_ext_stanza_v1, make_error, 8 + 8 * 20);
OFF(av_ext_stanza_v1, make_result, 8 + 8 * 21);
SIZE(av_ext_stanza_v1, 8 + 8 * 22);

/* ---- ext/router.h: "av.router/1" (frozen) ---- */
OFF(av_ext_router_v1, struct_size, 0);
OFF(av_ext_router_v1, route, 8 + 8 * 0);
OFF(av_ext_router_v1, route_as_user, 8 + 8 * 1);
OFF(av_ext_router_v1, session_count, 8 + 8 * 2);
SIZE(av_ext_router_v1, 8 + 8 * 3);

/* ---- ext/storage_sql.h: "av.storage.sql/1" (frozen) ---- */
OFF(av_ext_storage_sql_v1, struct_size, 0);
OFF(av_ext_storage_sql_v1, pool, 8 + 8 * 0);
OFF(av_ext_storage_sql_v1, dialect, 8 + 8 * 1);
OFF(av_ext_storage_sql_v1, query, 8 + 8 * 2);
OFF(av_ext_storage_sql_v1, query_sync, 8 + 8 * 3);
OFF(av_ext_storage_sql_v1, rows, 8 + 8 * 4);
OFF(av_ext_storage_sql_v1, cols, 8 + 8 * 5);
OFF(av_ext_storage_sql_v1, value, 8 + 8 * 6);
OFF(av_ext_storage_sql_v1, affected, 8 + 8 * 7);
OFF(av_ext_storage_sql_v1, error, 8 + 8 * 8);
SIZE(av_ext_storage_sql_v1, 8 + 8 * 9);

/* ---- ext/auth_provider.h: "av.auth.provider/1", "av.auth/1" (frozen) ---- */
OFF(av_auth_provider_v1, struct_size, 0);
OFF(av_auth_provider_v1, name, 8 + 8 * 0);
OFF(av_auth_provider_v1, self, 8 + 8 * 1);
OFF(av_auth_provider_v1, get_secret, 8 + 8 * 2);
OFF(av_auth_provider_v1, check_password, 8 + 8 * 3);
OFF(av_auth_provider_v1, user_exists, 8 + 8 * 4);
OFF(av_auth_provider_v1, register_user, 8 + 8 * 5);
OFF(av_auth_provider_v1, remove_user, 8 + 8 * 6);
OFF(av_auth_provider_v1, set_password, 8 + 8 * 7);
OFF(av_auth_provider_v1, list_users, 8 + 8 * 8);
OFF(av_auth_provider_v1, count_users, 8 + 8 * 9);
SIZE(av_auth_provider_v1, 8 + 8 * 10);

OFF(av_ext_auth_v1, struct_size, 0);
OFF(av_ext_auth_v1, make_secret, 8 + 8 * 0);
OFF(av_ext_auth_v1, verify_secret, 8 + 8 * 1);
OFF(av_ext_auth_v1, nodeprep, 8 + 8 * 2);
SIZE(av_ext_auth_v1, 8 + 8 * 3);

/* ---- ext/commands.h: "av.commands/1" (frozen) ---- */
OFF(av_cmd_arg, name, 0);
OFF(av_cmd_arg, type, 8);
OFF(av_cmd_arg, required, 12);
OFF(av_cmd_arg, description, 16);
SIZE(av_cmd_arg, 24);

OFF(av_cmd_spec, struct_size, 0);
OFF(av_cmd_spec, category, 8);
OFF(av_cmd_spec, name, 16);
OFF(av_cmd_spec, description, 24);
OFF(av_cmd_spec, args, 32);
OFF(av_cmd_spec, fn, 40);
OFF(av_cmd_spec, user, 48);
SIZE(av_cmd_spec, 56);

OFF(av_ext_commands_v1, struct_size, 0);
OFF(av_ext_commands_v1, add, 8 + 8 * 0);
OFF(av_ext_commands_v1, arg, 8 + 8 * 1);
OFF(av_ext_commands_v1, reply, 8 + 8 * 2);
SIZE(av_ext_commands_v1, 8 + 8 * 3);

OFF(av_ext_timer_v1, struct_size, 0);
OFF(av_ext_timer_v1, start, 8 + 8 * 0);
OFF(av_ext_timer_v1, cancel, 8 + 8 * 1);
OFF(av_ext_timer_v1, now_ms, 8 + 8 * 2);
SIZE(av_ext_timer_v1, 8 + 8 * 3);

OFF(av_session_info, struct_size, 0);
OFF(av_session_info, jid, 8);
OFF(av_session_info, resource, 24);
OFF(av_session_info, priority, 40);
OFF(av_session_info, available, 44);
OFF(av_session_info, executor, 48);
SIZE(av_session_info, 56);

OFF(av_ext_sessions_v1, struct_size, 0);
OFF(av_ext_sessions_v1, list, 8);
OFF(av_ext_sessions_v1, kick, 16);
OFF(av_ext_sessions_v1, token, 24);
OFF(av_ext_sessions_v1, send_to, 32);
OFF(av_ext_sessions_v1, peer_ip, 40);
OFF(av_ext_sessions_v1, end_reason, 48);
OFF(av_ext_sessions_v1, resume_bind, 56);
SIZE(av_ext_sessions_v1, 64);

#endif /* LP64 */

/* ---- enumerators: values are part of the ABI on every target ---- */
VAL(AV_OK, 0);
VAL(AV_E_INVALID_ARG, -1);
VAL(AV_E_NOMEM, -2);
VAL(AV_E_NOT_FOUND, -3);
VAL(AV_E_UNSUPPORTED, -4);
VAL(AV_E_ABI_MISMATCH, -5);
VAL(AV_E_BUSY, -6);
VAL(AV_E_TIMEOUT, -7);
VAL(AV_E_IO, -8);
VAL(AV_E_EXCEPTION, -9);
VAL(AV_E_INTERNAL, -10);
VAL(AV_E_EXISTS, -11);
VAL(AV_E_DENIED, -12);
VAL(AV_LOG_DEBUG, 0);
VAL(AV_LOG_INFO, 1);
VAL(AV_LOG_WARNING, 2);
VAL(AV_LOG_ERROR, 3);
VAL(AV_EXEC_MAIN, 1);
VAL(AV_EXEC_BLOCKING, 2);
VAL(AV_EXEC_IO_ANY, 3);
VAL(AV_EXEC_IO_BASE, 0x100);
VAL(AV_DEP_HARD, 0);
VAL(AV_DEP_SOFT, 1);
VAL(AV_OPT_BOOL, 1);
VAL(AV_OPT_INT, 2);
VAL(AV_OPT_STRING, 3);
VAL(AV_OPT_ENUM, 4);
VAL(AV_OPT_STRING_LIST, 5);
VAL(AV_OPT_DOUBLE, 6);
VAL(AV_OPT_ANY, 7);
VAL(AV_HOOK_CONTINUE, 0);
VAL(AV_HOOK_STOP, 1);
VAL(AV_HOOK_SUSPEND, 2);
VAL(AV_HOOK_ERROR, -1);
VAL(AV_HOOK_KIND_NOTIFY, 0);
VAL(AV_HOOK_KIND_FOLD, 1);
VAL(AV_HOOK_KIND_VERDICT, 2);
VAL(AV_PRIO_FIRST, -1000);
VAL(AV_PRIO_EARLY, -500);
VAL(AV_PRIO_NORMAL, 0);
VAL(AV_PRIO_LATE, 500);
VAL(AV_PRIO_LAST, 1000);
VAL(AV_STANZA_OTHER, 0);
VAL(AV_STANZA_MESSAGE, 1);
VAL(AV_STANZA_PRESENCE, 2);
VAL(AV_STANZA_IQ, 3);
VAL(AV_SQL_SQLITE, 1);
VAL(AV_SQL_PGSQL, 2);
VAL(AV_SQL_MYSQL, 3);
VAL(AV_ARG_STRING, 1);
VAL(AV_ARG_INT, 2);
VAL(AV_ARG_BOOL, 3);
VAL(AV_ARG_JID, 4);
VAL(AV_ARG_JSON, 5);
