/* mod_example_c: an Aviary module written in plain C11 against the installed SDK.
 *
 * It answers <iq type='get'><query xmlns='urn:example:echo'/></iq> addressed to a served
 * domain with the configured greeting and an echo of the request's <text/>:
 *
 *   -> <iq type='get' id='e1' to='localhost'>
 *        <query xmlns='urn:example:echo'><text>ping</text></query></iq>
 *   <- <iq type='result' id='e1' from='localhost' to='alice@localhost/pc'>
 *        <query xmlns='urn:example:echo'><greeting>hi</greeting><text>ping</text>
 *        <served-by>localhost</served-by></query></iq>
 *
 * A 'set' gets <feature-not-implemented/>. Everything reaches the host through the
 * av_host_api table and the "av.stanza/1" extension; the only exported symbol is
 * av_module_entry (DESIGN.md B1). */
#include <aviary/aviary.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXAMPLE_NS "urn:example:echo"
#define EXAMPLE_HOOK AV_HOOK_IQ_SERVER_PREFIX EXAMPLE_NS /* "iq/server/urn:example:echo" */

/* Module state, allocated in start() and freed in stop(). */
typedef struct example_state {
  const av_host_api *host;
  av_module *self;
  const av_ext_stanza_v1 *stanza;
  av_str greeting;     /* host-owned option string, valid until the module stops */
  atomic_uint_fast64_t answered;
} example_state;

static bool str_eq(av_str a, const char *b) {
  size_t n = strlen(b);
  return a.ptr != NULL && a.len == n && memcmp(a.ptr, b, n) == 0;
}

static void log_text(const example_state *st, av_log_level lvl, const char *msg) {
  st->host->log(st->self, lvl, av_cstr(msg));
}

/* [any-thread] fold hook iq/server/urn:example:echo (params av_stanza_params, acc av_iq_acc).
 * Builds the whole reply before touching acc, so a failure leaves acc unchanged. */
static av_hook_action on_echo_iq(void *user, const av_hook_ctx *cx, const void *params, void *acc) {
  example_state *st = (example_state *)user;
  const av_stanza_params *p = (const av_stanza_params *)params;
  av_iq_acc *a = (av_iq_acc *)acc;
  const av_ext_stanza_v1 *x = st->stanza;
  const av_xml_el *req, *query, *text;
  av_stanza *reply;
  av_xml_el *root, *q, *el;
  av_str type;

  if (p == NULL || a == NULL || p->struct_size < sizeof(av_stanza_params) ||
      a->struct_size < sizeof(av_iq_acc))
    return AV_HOOK_ERROR;
  if (a->handled) return AV_HOOK_CONTINUE; /* an earlier handler answered already */

  req = x->root(p->stanza);
  type = x->attr(req, av_cstr("type"));
  if (!str_eq(type, "get")) {
    reply = x->make_error(p->stanza, av_cstr("cancel"), av_cstr("feature-not-implemented"),
                          av_cstr("urn:example:echo only answers 'get'"));
  } else {
    reply = x->make_result(p->stanza);
    if (reply == NULL) return AV_HOOK_CONTINUE;
    root = x->mut_root(reply);
    q = root ? x->add_child(root, av_cstr("query"), av_cstr(EXAMPLE_NS)) : NULL;
    el = q ? x->add_child(q, av_cstr("greeting"), av_strn(NULL, 0)) : NULL;
    if (el == NULL || x->add_text(el, st->greeting) != AV_OK) {
      x->release(reply);
      return AV_HOOK_ERROR;
    }
    query = x->child(req, av_cstr("query"), av_cstr(EXAMPLE_NS));
    text = query ? x->child(query, av_cstr("text"), av_strn(NULL, 0)) : NULL;
    if (text != NULL) {
      el = x->add_child(q, av_cstr("text"), av_strn(NULL, 0));
      if (el == NULL || x->add_text(el, x->text(text)) != AV_OK) {
        x->release(reply);
        return AV_HOOK_ERROR;
      }
    }
    if (cx != NULL && cx->vhost != NULL) {
      el = x->add_child(q, av_cstr("served-by"), av_strn(NULL, 0));
      if (el == NULL || x->add_text(el, st->host->vhost_name(cx->vhost)) != AV_OK) {
        x->release(reply);
        return AV_HOOK_ERROR;
      }
    }
  }
  if (reply == NULL) return AV_HOOK_CONTINUE;

  a->handled = true;
  a->reply = reply; /* the host routes it and releases our reference */
  {
    char line[256];
    uint_fast64_t n = atomic_fetch_add(&st->answered, 1) + 1;
    snprintf(line, sizeof line, "answered %s %.*s from %.*s (answer #%llu)", EXAMPLE_NS,
             (int)type.len, type.ptr ? type.ptr : "", (int)p->from.len, p->from.ptr ? p->from.ptr : "",
             (unsigned long long)n);
    log_text(st, AV_LOG_DEBUG, line);
  }
  return AV_HOOK_STOP; /* answered: later handlers of this namespace are skipped */
}

static av_status fail(const av_host_api *host, av_module *self, example_state *st, av_status code,
                      const char *why) {
  host->set_error(self, why);
  free(st);
  return code;
}

/* [main] */
static av_status example_start(const av_host_api *host, av_module *self, void **out_state) {
  example_state *st;
  av_value v;
  av_hook_id hook;
  av_hook_reg reg;
  av_status rc;
  char line[256];

  /* Everything used here exists since ABI 1.0, so min_host_minor is 0; a newer member
   * would be tested with AV_HOST_HAS(host, av_host_api, member) first. */
  if (!AV_HOST_HAS(host, av_host_api, vhost_name)) return AV_E_ABI_MISMATCH;
  st = (example_state *)calloc(1, sizeof *st);
  if (st == NULL) return AV_E_NOMEM;
  st->host = host;
  st->self = self;
  atomic_init(&st->answered, 0);

  st->stanza = (const av_ext_stanza_v1 *)host->get_extension(self, AV_EXT_STANZA);
  if (st->stanza == NULL || st->stanza->struct_size < sizeof(av_ext_stanza_v1))
    return fail(host, self, st, AV_E_NOT_FOUND, "the host offers no " AV_EXT_STANZA);

  memset(&v, 0, sizeof v);
  rc = host->get_option(self, NULL, "greeting", AV_OPT_STRING, &v);
  if (rc != AV_OK || !v.present) return fail(host, self, st, rc != AV_OK ? rc : AV_E_INVALID_ARG, "option greeting is unreadable");
  st->greeting = v.s;

  rc = host->hook_resolve(EXAMPLE_HOOK, &hook);
  if (rc != AV_OK) return fail(host, self, st, rc, "cannot resolve hook " EXAMPLE_HOOK);
  rc = host->hook_add(self, hook, NULL, AV_PRIO_NORMAL, on_echo_iq, st, &reg);
  if (rc != AV_OK) return fail(host, self, st, rc, "cannot register on hook " EXAMPLE_HOOK);

  snprintf(line, sizeof line, "answering %s queries with greeting '%.*s'", EXAMPLE_NS,
           (int)st->greeting.len, st->greeting.ptr ? st->greeting.ptr : "");
  log_text(st, AV_LOG_INFO, line);
  *out_state = st;
  return AV_OK;
}

/* [main] The host removed our handler before calling this. */
static void example_stop(void *state) {
  example_state *st = (example_state *)state;
  char line[128];
  snprintf(line, sizeof line, "stopping after %llu answer(s)",
           (unsigned long long)atomic_load(&st->answered));
  log_text(st, AV_LOG_INFO, line);
  free(st);
}

static const av_option_spec example_options[] = {
    {"greeting", AV_OPT_STRING, "Hello from mod_example_c", 1, 0, NULL, false,
     "text of the <greeting/> element in urn:example:echo answers"},
    {NULL, 0, NULL, 0, 0, NULL, false, NULL}};

AV_EXPORT const av_module_desc *av_module_entry(void);
AV_EXPORT const av_module_desc *av_module_entry(void) {
  static const av_module_desc desc = {
      sizeof(av_module_desc), AV_ABI_MAJOR, AV_ABI_MINOR, 0 /* min_host_minor */, 0,
      "mod_example_c", "0.1.0", "Example C module: answers urn:example:echo IQs with a greeting",
      NULL /* deps */, example_options, example_start, example_stop, NULL /* get_extension */};
  return &desc;
}
