/* Aviary module SDK: string views. C11. */
#ifndef AVIARY_STR_H
#define AVIARY_STR_H

#include "abi.h"

AV_EXTERN_C_BEGIN

/* A borrowed, not necessarily NUL-terminated UTF-8 string. ptr == NULL means "absent"
 * (distinct from the empty string {"", 0}).
 * OWNERSHIP: never owns. Each function that returns one documents how long it stays valid. */
typedef struct av_str {
  const char *ptr;
  size_t len;
} av_str;

/* [any-thread] View of a NUL-terminated string (NULL stays absent). */
static inline av_str av_cstr(const char *s) {
  av_str r;
  size_t n = 0;
  if (s) while (s[n]) ++n;
  r.ptr = s;
  r.len = n;
  return r;
}

/* [any-thread] View of ptr/len. */
static inline av_str av_strn(const char *p, size_t n) {
  av_str r;
  r.ptr = p;
  r.len = n;
  return r;
}

AV_EXTERN_C_END

#endif
