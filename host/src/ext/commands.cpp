#include "ext/commands.hpp"

#include "core/jid.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>

// One invocation: its validated arguments and the reply channel. Freed by reply().
struct av_cmd_call {
  std::shared_ptr<const aviary::CommandRegistry::Command> cmd;  // keeps the spec alive
  std::map<std::string, std::string> args;
  aviary::CommandRegistry::Reply reply;
  std::atomic<bool> done{false};
};

namespace aviary {

namespace {

bool valid_ident(const char* s) {
  if (!s || !*s) return false;
  for (const char* p = s; *p; ++p)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) return false;
  return true;
}

av_str x_arg(av_cmd_call* call, const char* name) {
  if (!call || !name) return av_strn(nullptr, 0);
  auto it = call->args.find(name);
  if (it == call->args.end()) return av_strn(nullptr, 0);
  return av_strn(it->second.data(), it->second.size());
}

void x_reply(av_cmd_call* call, av_status st, av_str result) {
  if (!call || call->done.exchange(true)) return;
  std::unique_ptr<av_cmd_call> own(call);
  try {
    own->reply(st, result.ptr ? std::string(result.ptr, result.len) : std::string());
  } catch (...) {
  }
}

CommandRegistry* g_registry = nullptr;

av_status x_add(av_module* m, const av_cmd_spec* spec) {
  if (!g_registry) return AV_E_INTERNAL;
  try {
    return g_registry->add(m, spec);
  } catch (...) {
    return AV_E_INTERNAL;
  }
}

const av_ext_commands_v1 kExt = {sizeof(av_ext_commands_v1), x_add, x_arg, x_reply};

}  // namespace

bool check_command_arg(av_cmd_arg_type type, std::string& v, std::string* err) {
  switch (type) {
    case AV_ARG_INT: {
      size_t i = (!v.empty() && (v[0] == '-' || v[0] == '+')) ? 1 : 0;
      bool ok = i < v.size() && v.size() <= 19 &&
                std::all_of(v.begin() + static_cast<long>(i), v.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!ok) *err = "expected an integer, got '" + v + "'";
      return ok;
    }
    case AV_ARG_BOOL:
      if (v == "true" || v == "false") return true;
      *err = "expected true or false, got '" + v + "'";
      return false;
    case AV_ARG_JID: {
      auto j = parse_jid(v);
      if (!j) {
        *err = "'" + v + "' is not a valid JID";
        return false;
      }
      v = j->full();
      return true;
    }
    case AV_ARG_JSON:
      if (!nlohmann::json::accept(v)) {
        *err = "expected JSON, got '" + v + "'";
        return false;
      }
      return true;
    default:
      return true;
  }
}

namespace {
bool refuse(const CommandRegistry::Reply& reply, av_status st, std::string message) {
  reply(st, std::move(message));
  return false;
}
}  // namespace

CommandRegistry::CommandRegistry(Executors& ex) : ex_(ex) { g_registry = this; }
CommandRegistry::~CommandRegistry() {
  if (g_registry == this) g_registry = nullptr;
}

const av_ext_commands_v1* CommandRegistry::ext() const { return &kExt; }

av_status CommandRegistry::add(av_module* owner, const av_cmd_spec* spec) {
  if (!spec || spec->struct_size < sizeof(uint32_t) || !spec->fn || !valid_ident(spec->category) ||
      !valid_ident(spec->name))
    return AV_E_INVALID_ARG;
  auto c = std::make_shared<Command>();
  c->owner = owner;
  c->category = spec->category;
  c->name = spec->name;
  c->description = spec->description ? spec->description : "";
  c->fn = spec->fn;
  c->user = spec->user;
  for (const av_cmd_arg* a = spec->args; a && a->name; ++a) {
    if (!valid_ident(a->name)) return AV_E_INVALID_ARG;
    c->args.push_back(Arg{a->name, a->description ? a->description : "", a->type, a->required});
  }
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& e : cmds_)
    if (e->category == c->category && e->name == c->name) return AV_E_EXISTS;
  cmds_.push_back(std::move(c));
  return AV_OK;
}

void CommandRegistry::remove_owner(av_module* owner) {
  std::lock_guard<std::mutex> lk(mu_);
  cmds_.erase(std::remove_if(cmds_.begin(), cmds_.end(), [&](auto& c) { return c->owner == owner; }), cmds_.end());
}

std::vector<CommandRegistry::Command> CommandRegistry::list() const {
  std::lock_guard<std::mutex> lk(mu_);
  std::vector<Command> out;
  for (auto& c : cmds_) out.push_back(*c);
  return out;
}

bool CommandRegistry::invoke(const std::string& category, const std::string& name,
                             const std::map<std::string, std::string>& args, Reply reply) {
  std::shared_ptr<const Command> cmd;
  bool category_known = false;
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (auto& c : cmds_) {
      if (c->category == category) category_known = true;
      if (c->category == category && c->name == name) cmd = c;
    }
  }
  if (!category_known) return refuse(reply, AV_E_NOT_FOUND, "Unknown category '" + category + "'");
  if (!cmd) return refuse(reply, AV_E_NOT_FOUND, "Unknown command '" + name + "' in category '" + category + "'");
  auto call = std::make_unique<av_cmd_call>();
  call->cmd = cmd;
  for (auto& [k, v] : args) {
    auto a = std::find_if(cmd->args.begin(), cmd->args.end(), [&](const Arg& x) { return x.name == k; });
    if (a == cmd->args.end()) return refuse(reply, AV_E_INVALID_ARG, "Unknown argument --" + k + " for " + category + " " + name);
    std::string value = v, err;
    if (!check_command_arg(a->type, value, &err)) return refuse(reply, AV_E_INVALID_ARG, "Argument --" + k + ": " + err);
    call->args[k] = value;
  }
  for (auto& a : cmd->args)
    if (a.required && !call->args.count(a.name))
      return refuse(reply, AV_E_INVALID_ARG, "Missing required argument --" + a.name + " for " + category + " " + name);
  call->reply = std::move(reply);
  av_cmd_call* raw = call.release();
  cmd->fn(cmd->user, raw);  // the handler owns the call until it replies
  return true;
}

}  // namespace aviary
