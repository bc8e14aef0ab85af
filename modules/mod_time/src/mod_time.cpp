// mod_time: XEP-0202 Entity Time for the server itself (iq/server/urn:xmpp:time), and the
// feature urn:xmpp:time in the server's disco#info (hook disco/server-info, by name).
#include <aviary/aviary.hpp>
#include <aviary/ext/draft/disco.h>

#include <chrono>

#include "time_format.hpp"

namespace {

constexpr const char* kNs = "urn:xmpp:time";

class ModTime final : public av::Module {
 public:
  av_status start(av::Context&) override {
    hooks_.add_named<av_stanza_params, av_iq_acc>(std::string(AV_HOOK_IQ_SERVER_PREFIX) + kNs, AV_PRIO_NORMAL,
                                                  [](const av_stanza_params& p, av_iq_acc& acc) { return on_iq(p, acc); });
    hooks_.add_named<av_disco_params, av_disco_acc>(AV_HOOK_DISCO_SERVER_INFO, AV_PRIO_NORMAL,
                                                    [](const av_disco_params& p, av_disco_acc& acc) {
                                                      if (p.node.len == 0) av::add_disco_feature(acc.query, kNs);
                                                      return av::next;
                                                    });
    return AV_OK;
  }

 private:
  static av::Next on_iq(const av_stanza_params& p, av_iq_acc& acc) {
    if (acc.handled) return av::next;
    auto& api = av::stanza_api();
    av::StanzaView req(p.stanza);
    acc.handled = true;
    if (req.type() != "get") {
      acc.reply = api.make_error(p.stanza, av_cstr("cancel"), av_cstr("not-allowed"), av::str_absent());
      return av::stop;
    }
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    av_stanza* r = api.make_result(p.stanza);
    if (r) {
      if (av_xml_el* root = api.mut_root(r)) api.add_xml(root, av::str(mod_time::time_payload(us)));
    }
    acc.reply = r;
    return av::stop;
  }

  av::HookSet hooks_;
};

}  // namespace

AV_MODULE(ModTime, "mod_time", "0.1.0", "XEP-0202 Entity Time for the server")
