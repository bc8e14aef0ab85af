// The host side of "av.stanza/1": refcounted stanzas over xml::Element.
#pragma once

#include "xml/element.hpp"

#include <aviary/ext/stanza.h>
#include <aviary/hooks.h>

#include <atomic>
#include <memory>
#include <utility>

struct av_stanza {
  std::atomic<uint32_t> refs{1};
  aviary::xml::Element root;
};

namespace aviary {

const av_ext_stanza_v1* stanza_ext();
av_stanza* stanza_new(xml::Element&& root);  // refcount 1
void stanza_retain(av_stanza* s);
void stanza_release(av_stanza* s);
av_stanza_kind stanza_kind_of(const xml::Element& e);
// A new error reply (RFC 6120 8.3) or nullptr when req is itself an error.
av_stanza* stanza_error_reply(const xml::Element& req, std::string_view type, std::string_view condition,
                              std::string_view text = {});

inline const xml::Element& el(const av_xml_el* e) { return *reinterpret_cast<const xml::Element*>(e); }
inline xml::Element& el(av_xml_el* e) { return *reinterpret_cast<xml::Element*>(e); }

// Owning smart pointer used inside the host.
class StanzaPtr {
 public:
  StanzaPtr() = default;
  static StanzaPtr adopt(av_stanza* s) { StanzaPtr p; p.s_ = s; return p; }
  static StanzaPtr share(av_stanza* s) { if (s) stanza_retain(s); return adopt(s); }
  static StanzaPtr make(xml::Element&& e) { return adopt(stanza_new(std::move(e))); }
  StanzaPtr(const StanzaPtr& o) : s_(o.s_) { if (s_) stanza_retain(s_); }
  StanzaPtr(StanzaPtr&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  StanzaPtr& operator=(StanzaPtr o) noexcept { std::swap(s_, o.s_); return *this; }
  ~StanzaPtr() { if (s_) stanza_release(s_); }
  av_stanza* get() const { return s_; }
  av_stanza* release() { return std::exchange(s_, nullptr); }
  explicit operator bool() const { return s_ != nullptr; }
  const xml::Element& root() const { return s_->root; }
  xml::Element& mut() { return s_->root; }  // only while not shared
  bool shared() const { return s_->refs.load(std::memory_order_acquire) > 1; }

 private:
  av_stanza* s_ = nullptr;
};

// One run of a stanza fold hook (av_stanza_params / av_stanza_acc) by the host, for the
// av_stanza_acc.replace rule of ABI 1.1 (hooks.h): passed to HookRegistry::run as the
// after-each callback, with itself as the context. References the caller's stanza, params
// and acc, which must outlive the run:
//   av_stanza_acc acc{sizeof(av_stanza_acc), false, nullptr};
//   StanzaReplace r{s, p, acc};
//   host.run_hook(id, vh, &p, &acc, StanzaReplace::adopt, &r);   // s: the final stanza
// adopt: a replacement left by the handler becomes `stanza` (the host's reference: the one
// it held before, the original or an earlier replacement, is released), params.stanza points
// at it, acc.replace is reset to nullptr. So nothing is leaked or released twice, whatever
// the handlers do, as long as each one sets replace to a new reference.
// discard: for hooks that do not honour replace (c2s/nonza): the replacement is released.
// Anything that referenced the original stanza's elements (xml::Element&) may dangle after
// an adopting run: read them from `stanza` again.
struct StanzaReplace {
  StanzaPtr& stanza;
  av_stanza_params& params;
  av_stanza_acc& acc;
  static void adopt(void* self) {
    auto* r = static_cast<StanzaReplace*>(self);
    if (!r->acc.replace) return;
    r->stanza = StanzaPtr::adopt(std::exchange(r->acc.replace, nullptr));
    r->params.stanza = r->stanza.get();
  }
  static void discard(void* self) {
    auto* r = static_cast<StanzaReplace*>(self);
    if (r->acc.replace) stanza_release(std::exchange(r->acc.replace, nullptr));
  }
};

}  // namespace aviary
