/* A minimal pure-C module: proves the C ABI needs no C++ and exports one symbol. */
#include <aviary/aviary.h>

static av_status probe_start(const av_host_api *host, av_module *self, void **out) {
  (void)host; (void)self;
  *out = NULL;
  return AV_OK;
}
static void probe_stop(void *state) { (void)state; }
static const void *probe_ext(void *state, const char *id) { (void)state; (void)id; return NULL; }
int probe_helper_should_be_hidden(void);
int probe_helper_should_be_hidden(void) { return 1; }

AV_EXPORT const av_module_desc *av_module_entry(void);
AV_EXPORT const av_module_desc *av_module_entry(void) {
  static const av_module_desc d = {sizeof(av_module_desc), AV_ABI_MAJOR, AV_ABI_MINOR, 0, 0,
                                   "mod_sdk_probe_c", "0.1.0", "SDK probe (C)", NULL, NULL,
                                   probe_start, probe_stop, probe_ext};
  return &d;
}
