// A minimal C++ module through the header-only layer.
#include <aviary/aviary.hpp>

namespace {
class Probe final : public av::Module {
 public:
  av_status start(av::Context&) override { return AV_OK; }
};
}  // namespace

AV_MODULE(Probe, "mod_sdk_probe_cpp", "0.1.0", "SDK probe (C++)")
