// Where host work runs: the main thread, the network threads, the blocking pool.
// av_executor values (sdk types.h) name them across the C ABI.
#pragma once

#include <aviary/types.h>

#include <functional>

namespace aviary {

class Executors {
 public:
  virtual ~Executors() = default;
  // [any-thread] Run fn on `ex`. AV_E_INVALID_ARG for an unknown executor, AV_E_BUSY when
  // the target's queue is full (fn is then not run and is destroyed).
  virtual av_status post(av_executor ex, std::function<void()> fn) = 0;
  // [any-thread] The executor of the calling thread (AV_EXEC_MAIN, AV_EXEC_BLOCKING, a
  // network thread AV_EXEC_IO_BASE + i) or 0 for a thread the host does not own.
  virtual av_executor current() const = 0;
};

}  // namespace aviary
