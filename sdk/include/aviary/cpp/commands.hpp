// Aviary C++ layer: admin commands over "av.commands/1".
#pragma once

#include <aviary/cpp/guard.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace av {

// One invocation. reply() must be called exactly once (now or later, any thread).
class CommandCall {
 public:
  CommandCall(const av_ext_commands_v1* x, av_cmd_call* c) : x_(x), c_(c) {}
  std::string_view arg(const char* name) const { return sv(x_->arg(c_, name)); }
  bool has(const char* name) const { return x_->arg(c_, name).ptr != nullptr; }
  void ok(std::string_view result) const { x_->reply(c_, AV_OK, str(result)); }
  void fail(av_status st, std::string_view message) const { x_->reply(c_, st, str(message)); }

 private:
  const av_ext_commands_v1* x_;
  av_cmd_call* c_;
};

using CommandFn = std::function<void(const CommandCall&)>;

// Registers commands; the host removes them when the module stops, so the handlers must
// outlive the module's start..stop span only (keep the Commands object in the module).
class Commands {
 public:
  void add(const char* category, const char* name, const char* description,
           std::vector<av_cmd_arg> args, CommandFn fn) {
    if (!x_) x_ = require_extension<av_ext_commands_v1>(AV_EXT_COMMANDS);
    args.push_back(av_cmd_arg{nullptr, 0, false, nullptr});
    auto e = std::make_unique<Entry>(Entry{this, std::move(args), std::move(fn), name});
    av_cmd_spec spec{sizeof(av_cmd_spec), category, name, description, e->args.data(), &trampoline, e.get()};
    av_status st = x_->add(self(), &spec);
    if (st != AV_OK) throw Error(st, std::string("cannot register command ") + category + " " + name);
    entries_.push_back(std::move(e));
  }

 private:
  struct Entry {
    Commands* owner;
    std::vector<av_cmd_arg> args;
    CommandFn fn;
    std::string name;
  };
  static void trampoline(void* user, av_cmd_call* call) {
    auto* e = static_cast<Entry*>(user);
    CommandCall c(e->owner->x_, call);
    bool ok = detail::guard<bool>(e->name.c_str(), false, [&] { e->fn(c); return true; });
    if (!ok) c.fail(AV_E_EXCEPTION, "internal error in command " + e->name);
  }
  const av_ext_commands_v1* x_ = nullptr;
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace av
