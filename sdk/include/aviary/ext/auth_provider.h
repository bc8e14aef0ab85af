/* Extension "av.auth.provider/1" (offered by auth modules, used by the host) and
 * "av.auth/1" (host-provided password hashing for those modules). C11.
 * The host picks providers per `auth.methods` in the config by their `name`. */
#ifndef AVIARY_EXT_AUTH_PROVIDER_H
#define AVIARY_EXT_AUTH_PROVIDER_H

#include "../types.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_AUTH_PROVIDER "av.auth.provider/1"
#define AV_EXT_AUTH "av.auth/1"

/* Completion callbacks: called exactly once, from any thread. `cx` is the caller's. */
typedef void (*av_auth_done_fn)(void *cx, av_status st);
typedef void (*av_auth_bool_fn)(void *cx, av_status st, bool result);
/* st AV_OK: `secret` is the stored credential text (MongooseIM's multi-SCRAM form,
 * "==MULTI_SCRAM==,..."); AV_E_NOT_FOUND: no such user. secret valid during the call. */
typedef void (*av_auth_secret_fn)(void *cx, av_status st, av_str secret);
/* users valid during the call. */
typedef void (*av_auth_list_fn)(void *cx, av_status st, const av_str *users, size_t n);
typedef void (*av_auth_count_fn)(void *cx, av_status st, int64_t n);

/* OWNERSHIP: provider-owned; valid until the providing module stops. All functions are
 * [any-thread], must not block, and return AV_OK when the callback will be called (any
 * other return: it will not). `user` is the normalized localpart, `server` the vhost. */
typedef struct av_auth_provider_v1 {
  uint32_t struct_size;
  const char *name; /* "internal", "sql", ... as written in auth.methods */
  void *self;
  /* Stored SCRAM credentials (lets the host run SCRAM and verify PLAIN itself).
   * May be NULL for providers that can only check passwords. */
  av_status (*get_secret)(void *self, av_str user, av_str server, av_auth_secret_fn cb,
                          void *cx);
  av_status (*check_password)(void *self, av_str user, av_str server, av_str password,
                              av_auth_bool_fn cb, void *cx);
  av_status (*user_exists)(void *self, av_str user, av_str server, av_auth_bool_fn cb,
                           void *cx);
  /* AV_E_EXISTS through cb when the user exists. */
  av_status (*register_user)(void *self, av_str user, av_str server, av_str password,
                             av_auth_done_fn cb, void *cx);
  /* AV_E_NOT_FOUND through cb when there is no such user. */
  av_status (*remove_user)(void *self, av_str user, av_str server, av_auth_done_fn cb,
                           void *cx);
  av_status (*set_password)(void *self, av_str user, av_str server, av_str password,
                            av_auth_done_fn cb, void *cx);
  av_status (*list_users)(void *self, av_str server, av_auth_list_fn cb, void *cx);
  av_status (*count_users)(void *self, av_str server, av_auth_count_fn cb, void *cx);
} av_auth_provider_v1;

/* Host-provided hashing, so that auth modules store exactly what the host's SASL code
 * verifies. OWNERSHIP: host-owned, valid for the process lifetime. */
typedef struct av_ext_auth_v1 {
  uint32_t struct_size;
  /* [blocking] Make the stored form (SCRAM-SHA-1 and SCRAM-SHA-256, random salt,
   * `iterations` rounds; 0 = the configured default). snprintf-style into buf. */
  size_t (*make_secret)(av_str password, uint32_t iterations, char *buf, size_t cap);
  /* [blocking] True when password matches the stored form. */
  bool (*verify_secret)(av_str secret, av_str password);
  /* [any-thread] Normalize a localpart (nodeprep: lowercase, reject forbidden chars).
   * snprintf-style; returns 0 when the input is not a valid localpart. */
  size_t (*nodeprep)(av_str in, char *buf, size_t cap);
} av_ext_auth_v1;

AV_EXTERN_C_END

#endif
