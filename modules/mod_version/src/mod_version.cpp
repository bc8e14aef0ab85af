// mod_version: XEP-0092 Software Version for the server itself (iq/server/jabber:iq:version):
// name "Aviary", the SDK's AVIARY_VERSION, and the operating system only with os_info.
// Adds jabber:iq:version to the server's disco#info (hook disco/server-info, by name).
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/disco.h>
#include <aviary/version.h>

#include <sys/utsname.h>

#include "version_payload.hpp"

namespace {

constexpr const char* kNs = "jabber:iq:version";

class ModVersion final : public av::Module {
 public:
  static const av_option_spec* options() {
    static const av_option_spec o[] = {
        {"os_info", AV_OPT_BOOL, "false", 1, 0, nullptr, false, "also report the operating system (<os/>)"},
        {nullptr, 0, nullptr, 0, 0, nullptr, false, nullptr}};
    return o;
  }

  av_status start(av::Context& cx) override {
    std::string os;
    if (cx.option_bool("os_info")) {
      struct utsname u {};
      if (uname(&u) == 0) os = std::string(u.sysname) + " " + u.release;
    }
    const char* ver = AVIARY_VERSION;
    payload_ = mod_version::version_payload("Aviary", ver[0] ? ver : "0.1.0", os);
    hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_SERVER_PREFIX) + kNs, AV_PRIO_NORMAL,
                                                  [this](const av_stanza_params& p, av_iq_acc& acc) { return on_iq(p, acc); });
    hooks_.add_named<av_disco_params, av_disco_acc>(AV_HOOK_DISCO_SERVER_INFO, AV_PRIO_NORMAL,
                                                    [](const av_disco_params& p, av_disco_acc& acc) {
                                                      if (p.node.len == 0) av::add_disco_feature(acc.query, kNs);
                                                      return av::next;
                                                    });
    return AV_OK;
  }

 private:
  av::Next on_iq(const av_stanza_params& p, av_iq_acc& acc) const {
    if (acc.handled) return av::next;
    auto& api = av::stanza_api();
    acc.handled = true;
    if (av::StanzaView(p.stanza).type() != "get") {
      acc.reply = api.make_error(p.stanza, av_cstr("cancel"), av_cstr("not-allowed"), av::str_absent());
      return av::stop;
    }
    av_stanza* r = api.make_result(p.stanza);
    if (r) {
      if (av_xml_el* root = api.mut_root(r)) api.add_xml(root, av::str(payload_));
    }
    acc.reply = r;
    return av::stop;
  }

  std::string payload_;
  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(ModVersion, "mod_version", "0.1.0", "XEP-0092 Software Version for the server")
