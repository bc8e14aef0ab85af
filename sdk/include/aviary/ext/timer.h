/* Extension "av.timer/1" (host-provided): one-shot timers on a host thread. C11. */
#ifndef AVIARY_EXT_TIMER_H
#define AVIARY_EXT_TIMER_H

#include "../types.h"

AV_EXTERN_C_BEGIN

#define AV_EXT_TIMER "av.timer/1"

/* One pending timer; 0 means "no timer". Ids are never reused within a process. */
typedef uint64_t av_timer_id;

/* OWNERSHIP: host-owned table, valid for the process lifetime. `arg` stays the caller's:
 * the host never frees it. A module cancels its timers in stop(); a timer still pending
 * at shutdown is dropped without being called. */
typedef struct av_ext_timer_v1 {
  uint32_t struct_size;
  /* [any-thread] Call fn(arg) once, about delay_ms milliseconds from now, on executor `ex`
   * (AV_EXEC_MAIN, AV_EXEC_IO_ANY or a network thread such as a session's executor; not
   * AV_EXEC_BLOCKING). Returns 0 (and fn is never called) on an invalid executor. */
  av_timer_id (*start)(av_executor ex, uint64_t delay_ms, void (*fn)(void *arg), void *arg);
  /* [any-thread] true: the timer was pending and fn will not be called. false: it already
   * ran or is running (or the id is unknown). */
  bool (*cancel)(av_timer_id id);
  /* [any-thread] A monotonic clock in milliseconds (same clock as the timers). */
  uint64_t (*now_ms)(void);
} av_ext_timer_v1;

AV_EXTERN_C_END

#endif
