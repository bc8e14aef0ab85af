// The admin command registry behind "av.commands/1": filled by the host and by modules,
// called by aviaryctl (over the admin socket) and, later, by the GraphQL API.
// Arguments are validated here (unknown, missing, INT/BOOL/JID/JSON types) before a handler
// runs, so every front gets the same errors.
#pragma once

#include "core/executors.hpp"

#include <aviary/ext/commands.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace aviary {

class CommandRegistry {
 public:
  struct Arg {
    std::string name, description;
    av_cmd_arg_type type;
    bool required;
  };
  struct Command {
    av_module* owner;  // nullptr = the host
    std::string category, name, description;
    std::vector<Arg> args;
    av_cmd_fn fn;
    void* user;
  };
  // Called exactly once with the handler's status and text (message, JSON or error).
  using Reply = std::function<void(av_status, std::string)>;

  explicit CommandRegistry(Executors& ex);
  ~CommandRegistry();

  // [main] AV_E_EXISTS when category+name is taken, AV_E_INVALID_ARG for a bad spec.
  av_status add(av_module* owner, const av_cmd_spec* spec);
  // [main] Drop every command of `owner` (module stop).
  void remove_owner(av_module* owner);

  // [any-thread] Validate args and run the command. Returns false when the call itself was
  // refused (unknown category/command/argument, missing or badly typed argument): reply has
  // then been called already with AV_E_INVALID_ARG / AV_E_NOT_FOUND and a one-line message,
  // which fronts show as usage errors. True: the handler runs and replies (now or later).
  bool invoke(const std::string& category, const std::string& name,
              const std::map<std::string, std::string>& args, Reply reply);

  // [any-thread] Copies for help texts.
  std::vector<Command> list() const;

  const av_ext_commands_v1* ext() const;

 private:
  Executors& ex_;
  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const Command>> cmds_;
};

// Checks and normalizes one argument value; returns false with *err when invalid.
bool check_command_arg(av_cmd_arg_type type, std::string& value, std::string* err);

}  // namespace aviary
