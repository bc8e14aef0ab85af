/* Aviary module SDK: status codes. C11. */
#ifndef AVIARY_STATUS_H
#define AVIARY_STATUS_H

#include "abi.h"

AV_EXTERN_C_BEGIN

/* 0 = success, negative = failure. Treat unknown negative codes as a generic failure;
 * details travel as text (host->log, host->set_error), not as more codes. Values are
 * never renumbered. */
typedef int32_t av_status;
enum {
  AV_OK = 0,
  AV_E_INVALID_ARG = -1,
  AV_E_NOMEM = -2,
  AV_E_NOT_FOUND = -3,
  AV_E_UNSUPPORTED = -4,
  AV_E_ABI_MISMATCH = -5,
  AV_E_BUSY = -6,
  AV_E_TIMEOUT = -7,
  AV_E_IO = -8,
  AV_E_EXCEPTION = -9,
  AV_E_INTERNAL = -10,
  /* Added beyond DESIGN.md's list: account and command APIs must tell "already exists"
   * and "not allowed" apart from other failures to produce the right user-facing error. */
  AV_E_EXISTS = -11,
  AV_E_DENIED = -12
};

AV_EXTERN_C_END

#endif
