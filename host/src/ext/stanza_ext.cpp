#include "ext/stanza_ext.hpp"

#include <cstring>

namespace aviary {

namespace {

using xml::Element;

std::string_view sv(av_str s) { return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view(); }
av_str mk(std::string_view s) { return av_strn(s.data(), s.size()); }
const av_xml_el* cel(const Element* e) { return reinterpret_cast<const av_xml_el*>(e); }
av_xml_el* mel(Element* e) { return reinterpret_cast<av_xml_el*>(e); }

void x_retain(av_stanza* s) { stanza_retain(s); }
void x_release(av_stanza* s) { stanza_release(s); }

av_stanza* x_parse(av_str xml, const char** err) {
  std::string e;
  auto p = xml::parse_element(sv(xml), &e);
  if (!p) {
    if (err) *err = "malformed XML";
    return nullptr;
  }
  return stanza_new(std::move(*p));
}

av_stanza* x_create(av_str name, av_str xmlns) {
  if (!name.ptr || !name.len) return nullptr;
  Element e{std::string(sv(name))};
  if (xmlns.ptr && xmlns.len) e.set_attr("xmlns", sv(xmlns));
  return stanza_new(std::move(e));
}

av_stanza* x_clone(const av_stanza* s) { return stanza_new(std::move(*s->root.clone())); }
const av_xml_el* x_root(const av_stanza* s) { return cel(&s->root); }
av_stanza_kind x_kind(const av_stanza* s) { return stanza_kind_of(s->root); }
av_str x_name(const av_xml_el* e) { return mk(el(e).name); }

av_str x_attr(const av_xml_el* e, av_str key) {
  const std::string* v = el(e).attr(sv(key));
  return v ? mk(*v) : av_strn(nullptr, 0);
}

av_str x_text(const av_xml_el* e) {
  for (auto& c : el(e).children)
    if (c.is_text()) return mk(c.text);
  return av_strn("", 0);
}

bool matches(const Element& c, av_str name, av_str xmlns) {
  if (name.ptr && c.name != sv(name)) return false;
  if (xmlns.ptr && c.xmlns() != sv(xmlns)) return false;
  return true;
}

const av_xml_el* x_child(const av_xml_el* e, av_str name, av_str xmlns) {
  for (auto& c : el(e).children)
    if (!c.is_text() && matches(*c.el, name, xmlns)) return cel(c.el.get());
  return nullptr;
}

size_t x_child_count(const av_xml_el* e) {
  size_t n = 0;
  for (auto& c : el(e).children) n += c.is_text() ? 0 : 1;
  return n;
}

const av_xml_el* x_child_at(const av_xml_el* e, size_t i) {
  for (auto& c : el(e).children)
    if (!c.is_text() && i-- == 0) return cel(c.el.get());
  return nullptr;
}

av_xml_el* x_mut_root(av_stanza* s) {
  if (s->refs.load(std::memory_order_acquire) > 1) return nullptr;
  return mel(&s->root);
}

av_status x_set_attr(av_xml_el* e, av_str key, av_str value) {
  if (!key.ptr || !key.len) return AV_E_INVALID_ARG;
  if (!value.ptr)
    el(e).remove_attr(sv(key));
  else
    el(e).set_attr(sv(key), sv(value));
  return AV_OK;
}

av_xml_el* x_add_child(av_xml_el* e, av_str name, av_str xmlns) {
  if (!name.ptr || !name.len) return nullptr;
  return mel(&el(e).add_child(std::string(sv(name)), sv(xmlns)));
}

av_status x_add_text(av_xml_el* e, av_str text) {
  el(e).add_text(sv(text));
  return AV_OK;
}

av_status x_add_xml(av_xml_el* e, av_str xml) {
  auto p = xml::parse_element(sv(xml), nullptr);
  if (!p) return AV_E_INVALID_ARG;
  el(e).add_child(std::move(p));
  return AV_OK;
}

av_status x_remove_children(av_xml_el* e, av_str name, av_str xmlns) {
  auto& ch = el(e).children;
  for (size_t i = 0; i < ch.size();) {
    if (!ch[i].is_text() && matches(*ch[i].el, name, xmlns))
      ch.erase(ch.begin() + static_cast<long>(i));
    else
      ++i;
  }
  return AV_OK;
}

size_t x_serialize(const av_xml_el* e, char* buf, size_t cap) {
  std::string out;
  el(e).serialize(out);
  if (buf && cap) {
    size_t n = out.size() < cap - 1 ? out.size() : cap - 1;
    std::memcpy(buf, out.data(), n);
    buf[n] = '\0';
  }
  return out.size();
}

av_stanza* x_make_error(const av_stanza* req, av_str type, av_str condition, av_str text) {
  return stanza_error_reply(req->root, sv(type), sv(condition), sv(text));
}

av_stanza* x_make_result(const av_stanza* req) {
  const Element& r = req->root;
  if (r.attr_or("type") == "error" || r.attr_or("type") == "result") return nullptr;
  Element e{"iq"};
  if (auto* f = r.attr("to")) e.set_attr("from", *f);
  if (auto* t = r.attr("from")) e.set_attr("to", *t);
  e.set_attr("type", "result");
  if (auto* id = r.attr("id")) e.set_attr("id", *id);
  return stanza_new(std::move(e));
}

const av_ext_stanza_v1 kExt = {
    sizeof(av_ext_stanza_v1), x_retain, x_release, x_parse, x_create, x_clone, x_root, x_kind,
    x_name, x_attr, x_text, x_child, x_child_count, x_child_at, x_mut_root, x_set_attr,
    x_add_child, x_add_text, x_add_xml, x_remove_children, x_serialize, x_make_error, x_make_result};

}  // namespace

const av_ext_stanza_v1* stanza_ext() { return &kExt; }

av_stanza* stanza_new(Element&& root) {
  auto* s = new av_stanza;
  s->root = std::move(root);
  return s;
}

void stanza_retain(av_stanza* s) { s->refs.fetch_add(1, std::memory_order_relaxed); }

void stanza_release(av_stanza* s) {
  if (s->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete s;
}

av_stanza_kind stanza_kind_of(const Element& e) {
  if (e.name == "message") return AV_STANZA_MESSAGE;
  if (e.name == "presence") return AV_STANZA_PRESENCE;
  if (e.name == "iq") return AV_STANZA_IQ;
  return AV_STANZA_OTHER;
}

av_stanza* stanza_error_reply(const Element& req, std::string_view type, std::string_view condition,
                              std::string_view text) {
  if (req.attr_or("type") == "error") return nullptr;
  auto copy = req.clone();
  const std::string* from = req.attr("from");
  const std::string* to = req.attr("to");
  std::string f = from ? *from : std::string(), t = to ? *to : std::string();
  copy->remove_attr("from");
  copy->remove_attr("to");
  if (!t.empty()) copy->set_attr("from", t);
  if (!f.empty()) copy->set_attr("to", f);
  copy->set_attr("type", "error");
  Element& err = copy->add_child("error");
  err.set_attr("type", type);
  err.add_child(std::string(condition), "urn:ietf:params:xml:ns:xmpp-stanzas");
  if (!text.empty()) err.add_child("text", "urn:ietf:params:xml:ns:xmpp-stanzas").add_text(text);
  return stanza_new(std::move(*copy));
}

}  // namespace aviary
