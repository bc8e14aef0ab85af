/* Extension "av.commands/1" (host-provided): admin commands shared by aviaryctl and the
 * (future) GraphQL API. Shaped like mongooseimctl: CATEGORY COMMAND --arg value. C11. */
#ifndef AVIARY_EXT_COMMANDS_H
#define AVIARY_EXT_COMMANDS_H

#include "../types.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_COMMANDS "av.commands/1"

typedef struct av_cmd_call av_cmd_call; /* one invocation; host-owned until reply()  */

typedef int32_t av_cmd_arg_type;
enum {
  AV_ARG_STRING = 1,
  AV_ARG_INT = 2,  /* validated by the host before the handler runs */
  AV_ARG_BOOL = 3, /* "true" / "false"                                */
  AV_ARG_JID = 4,  /* validated and normalized by the host            */
  AV_ARG_JSON = 5  /* validated as JSON by the host                   */
};

/* Arrays are terminated by an entry with name == NULL. */
typedef struct av_cmd_arg {
  const char *name;        /* camelCase, as in MongooseIM's GraphQL schema */
  av_cmd_arg_type type;
  bool required;
  const char *description;
} av_cmd_arg;

/* [any-thread] The handler. Must not block; must call reply() exactly once, now or later
 * from any thread. */
typedef void (*av_cmd_fn)(void *user, av_cmd_call *call);

/* OWNERSHIP: everything is copied by add(). */
typedef struct av_cmd_spec {
  uint32_t struct_size;
  const char *category;    /* "account" */
  const char *name;        /* "registerUser" */
  const char *description;
  const av_cmd_arg *args;  /* may be NULL */
  av_cmd_fn fn;
  void *user;
} av_cmd_spec;

typedef struct av_ext_commands_v1 {
  uint32_t struct_size;
  /* [main] Register a command; removed when m stops. AV_E_EXISTS if taken. */
  av_status (*add)(av_module *m, const av_cmd_spec *spec);
  /* [until reply] An argument's value ({NULL,0} when not given). */
  av_str (*arg)(av_cmd_call *call, const char *name);
  /* [any-thread] Finish the call. st AV_OK: `result` is the answer, either a plain text
   * message or JSON (object/array) when it starts with '{' or '['. Otherwise `result` is
   * the error text shown to the admin. Copied. The call is invalid afterwards. */
  void (*reply)(av_cmd_call *call, av_status st, av_str result);
} av_ext_commands_v1;

AV_EXTERN_C_END

#endif
