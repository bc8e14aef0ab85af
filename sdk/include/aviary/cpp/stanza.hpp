// Aviary C++ layer: stanza views and owning references over "av.stanza/1".
#pragma once

#include <aviary/cpp/guard.hpp>

#include <cstddef>
#include <string>
#include <utility>

namespace av {

namespace detail {
inline const av_ext_stanza_v1*& stanza_ext_slot() {
  static const av_ext_stanza_v1* p = nullptr;
  return p;
}
}  // namespace detail

// The stanza extension of this module (fetched before start()).
inline const av_ext_stanza_v1& stanza_api() {
  auto* p = detail::stanza_ext_slot();
  if (!p) throw Error(AV_E_NOT_FOUND, "av.stanza/1 is not available");
  return *p;
}

// A borrowed element.
class ElementView {
 public:
  explicit ElementView(const av_xml_el* e = nullptr) : e_(e) {}
  explicit operator bool() const { return e_ != nullptr; }
  const av_xml_el* raw() const { return e_; }
  std::string_view name() const { return e_ ? sv(stanza_api().name(e_)) : std::string_view(); }
  std::string_view attr(std::string_view k) const { return e_ ? sv(stanza_api().attr(e_, str(k))) : std::string_view(); }
  bool has_attr(std::string_view k) const { return e_ && stanza_api().attr(e_, str(k)).ptr != nullptr; }
  std::string_view text() const { return e_ ? sv(stanza_api().text(e_)) : std::string_view(); }
  ElementView child(std::string_view name, std::string_view xmlns = {}) const {
    if (!e_) return ElementView();
    return ElementView(stanza_api().child(e_, name.empty() ? str_absent() : str(name),
                                          xmlns.empty() ? str_absent() : str(xmlns)));
  }
  size_t child_count() const { return e_ ? stanza_api().child_count(e_) : 0; }
  ElementView child_at(size_t i) const { return ElementView(e_ ? stanza_api().child_at(e_, i) : nullptr); }
  std::string xml() const {
    if (!e_) return {};
    // One pass for small elements; a second only when the first buffer was too small.
    std::string out(512, '\0');
    size_t n = stanza_api().serialize(e_, out.data(), out.size());
    if (n >= out.size()) {
      out.assign(n + 1, '\0');
      stanza_api().serialize(e_, out.data(), out.size());
    }
    out.resize(n);
    return out;
  }

 private:
  const av_xml_el* e_;
};

// An owned reference to a stanza (retain/release).
class StanzaRef {
 public:
  StanzaRef() = default;
  static StanzaRef adopt(av_stanza* s) { StanzaRef r; r.s_ = s; return r; }     // takes a new reference
  static StanzaRef share(av_stanza* s) { if (s) stanza_api().retain(s); return adopt(s); }
  static StanzaRef parse(std::string_view xml) {
    const char* err = nullptr;
    av_stanza* s = stanza_api().parse(str(xml), &err);
    if (!s) throw Error(AV_E_INVALID_ARG, std::string("malformed XML: ") + (err ? err : "?"));
    return adopt(s);
  }
  StanzaRef(const StanzaRef& o) : s_(o.s_) { if (s_) stanza_api().retain(s_); }
  StanzaRef(StanzaRef&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  StanzaRef& operator=(StanzaRef o) noexcept { std::swap(s_, o.s_); return *this; }
  ~StanzaRef() { if (s_) stanza_api().release(s_); }

  explicit operator bool() const { return s_ != nullptr; }
  av_stanza* get() const { return s_; }
  av_stanza* release() { return std::exchange(s_, nullptr); }
  ElementView root() const { return ElementView(s_ ? stanza_api().root(s_) : nullptr); }

 private:
  av_stanza* s_ = nullptr;
};

// Since ABI 1.1: hand a modified copy of the stanza back from a stanza fold-hook handler
// (c2s/user-send-packet, -message, -presence, -iq, router/filter-local-packet,
// c2s/user-receive-packet): the host routes / delivers it instead of params.stanza, and
// later handlers see it as their params.stanza (hooks.h, av_stanza_acc.replace):
//   auto copy = av::StanzaRef::adopt(av::stanza_api().clone(p.stanza));
//   av_xml_el* root = av::stanza_api().mut_root(copy.get());  // edit it ...
//   av::replace_stanza(acc, std::move(copy));
// Takes `s` over. Returns false, releasing `s`, on a 1.0 host (its accumulator has no
// `replace`): the original stanza then goes on unchanged. An empty `s` cancels a
// replacement set earlier in the same call.
// Ownership rule (the same as the C field's): the host takes acc.replace over when the
// handler returns and resets it to nullptr, and it releases a replacement it already took
// over when a later handler replaces it again. So a non-null acc.replace here was set
// earlier in this same call, not yet taken over: this function releases it before storing
// `s`. Never release or modify a stanza after handing it over.
inline bool replace_stanza(av_stanza_acc& acc, StanzaRef s) {
  if (acc.struct_size < offsetof(av_stanza_acc, replace) + sizeof(av_stanza*)) return false;
  if (acc.replace) stanza_api().release(acc.replace);
  acc.replace = s.release();
  return true;
}

// Adds <feature var='var'/> to the <query/> of a disco#info reply being built (the `query`
// of the disco hooks' accumulator, ext/draft/disco.h). Does nothing when query is NULL or
// shared.
inline void add_disco_feature(av_stanza* query, const char* var) {
  auto& api = stanza_api();
  av_xml_el* root = query ? api.mut_root(query) : nullptr;
  if (!root) return;
  av_xml_el* f = api.add_child(root, av_cstr("feature"), str_absent());
  if (f) api.set_attr(f, av_cstr("var"), av_cstr(var));
}

// Read-only view of a borrowed stanza (hook params).
class StanzaView {
 public:
  explicit StanzaView(const av_stanza* s) : s_(s) {}
  av_stanza_kind kind() const { return stanza_api().kind(s_); }
  ElementView root() const { return ElementView(stanza_api().root(s_)); }
  std::string_view type() const { return root().attr("type"); }
  std::string_view from() const { return root().attr("from"); }
  std::string_view to() const { return root().attr("to"); }
  std::string_view id() const { return root().attr("id"); }
  ElementView child(std::string_view n, std::string_view ns = {}) const { return root().child(n, ns); }
  std::string xml() const { return root().xml(); }

 private:
  const av_stanza* s_;
};

}  // namespace av
