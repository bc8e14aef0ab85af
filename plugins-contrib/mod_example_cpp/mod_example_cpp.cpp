// mod_example_cpp: an Aviary module written with the header-only C++17 layer, built
// against the installed SDK.
//
// It counts the messages local users send (hook c2s/user-send-message, which also sees
// messages sent with `aviaryctl stanza sendMessage`) and registers two admin commands in
// the category "example" through "av.commands/1":
//
//   $ aviaryctl example hello --name Alice
//   Hello, Alice! mod_example_cpp has seen 3 message(s), 2 with a body.
//   $ aviaryctl example messageCount
//   {"messages": 3, "withBody": 2, "dropped": 0}
//
// Exceptions never cross the C boundary: AV_MODULE's trampolines, HookSet's handlers and
// Commands' handlers all run inside av::detail::guard.
#include <aviary/aviary.hpp>

#include <atomic>
#include <cstdint>
#include <string>

namespace {

class ExampleCpp final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"salutation", AV_OPT_STRING, "Hello", 1, 0, nullptr, false, "first word of `aviaryctl example hello`"},
        {"count_dropped", AV_OPT_BOOL, "false", 1, 0, nullptr, false,
         "also count messages an earlier handler dropped (acc.drop)"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    salutation_ = cx.option_string("salutation");
    count_dropped_ = cx.option_bool("count_dropped");

    // LATE: run after modules that may drop the message, so acc.drop is already decided.
    hooks_.add(av::hooks::user_send_message, AV_PRIO_LATE,
               [this](const av_stanza_params& p, av_stanza_acc& acc) { return on_message(p, acc); });

    commands_.add("example", "hello", "Greet someone and show how many messages mod_example_cpp counted",
                  {{"name", AV_ARG_STRING, true, "Who to greet"}},
                  [this](const av::CommandCall& call) { hello(call); });
    commands_.add("example", "messageCount", "Messages counted on c2s/user-send-message (JSON)", {},
                  [this](const av::CommandCall& call) { message_count(call); });
    av::log_info("ready: commands 'example hello' and 'example messageCount'");
    return AV_OK;
  }

  void stop() override {
    av::log_info("stopping after " + std::to_string(messages_.load()) + " message(s)");
  }

 private:
  // [session] fold hook c2s/user-send-message; only observes (never changes acc).
  av::Next on_message(const av_stanza_params& p, const av_stanza_acc& acc) {
    if (acc.drop && !count_dropped_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return av::next;
    }
    messages_.fetch_add(1, std::memory_order_relaxed);
    if (av::StanzaView(p.stanza).child("body")) with_body_.fetch_add(1, std::memory_order_relaxed);
    return av::next;
  }

  // [any-thread] `aviaryctl example hello --name X`
  void hello(const av::CommandCall& call) const {
    std::string name(call.arg("name"));
    if (name.empty()) return call.fail(AV_E_INVALID_ARG, "--name must not be empty");
    call.ok(salutation_ + ", " + name + "! mod_example_cpp has seen " + std::to_string(messages_.load()) +
            " message(s), " + std::to_string(with_body_.load()) + " with a body.");
  }

  // [any-thread] `aviaryctl example messageCount`: a JSON object.
  void message_count(const av::CommandCall& call) const {
    call.ok("{\"messages\": " + std::to_string(messages_.load()) + ", \"withBody\": " +
            std::to_string(with_body_.load()) + ", \"dropped\": " + std::to_string(dropped_.load()) + "}");
  }

  std::string salutation_;
  bool count_dropped_ = false;
  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> with_body_{0};
  std::atomic<uint64_t> dropped_{0};
  av::HookSet hooks_;      // unregisters on destruction (the host also does it on stop)
  av::Commands commands_;  // the host removes the commands when the module stops
};

}  // namespace

AV_MODULE(ExampleCpp, "mod_example_cpp", "0.1.0", "Example C++ module: counts sent messages, adds `aviaryctl example` commands")
