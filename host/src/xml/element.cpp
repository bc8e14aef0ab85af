#include "xml/element.hpp"

#include "xml/framer.hpp"

#include <rapidxml/rapidxml.hpp>

#include <climits>
#include <cstdint>
#include <new>

namespace aviary::xml {

Element::Element(std::string n) : name(std::move(n)) {}

const std::string* Element::attr(std::string_view key) const {
  for (const auto& a : attrs)
    if (a.first == key) return &a.second;
  return nullptr;
}

std::string_view Element::attr_or(std::string_view key, std::string_view dflt) const {
  const std::string* v = attr(key);
  return v ? std::string_view(*v) : dflt;
}

void Element::set_attr(std::string_view key, std::string_view value) {
  for (auto& a : attrs) {
    if (a.first == key) {
      a.second.assign(value);
      return;
    }
  }
  attrs.emplace_back(std::string(key), std::string(value));
}

bool Element::remove_attr(std::string_view key) {
  for (auto it = attrs.begin(); it != attrs.end(); ++it) {
    if (it->first == key) {
      attrs.erase(it);
      return true;
    }
  }
  return false;
}

std::string_view Element::xmlns() const { return attr_or("xmlns"); }

const Element* Element::child(std::string_view n, std::string_view ns) const {
  for (const auto& c : children)
    if (c.el && c.el->name == n && (ns.empty() || c.el->xmlns() == ns)) return c.el.get();
  return nullptr;
}

Element* Element::child(std::string_view n, std::string_view ns) {
  return const_cast<Element*>(static_cast<const Element*>(this)->child(n, ns));
}

const Element* Element::first_child_element() const {
  for (const auto& c : children)
    if (c.el) return c.el.get();
  return nullptr;
}

Element& Element::add_child(std::string n, std::string_view ns) {
  Element& e = add_child(std::make_unique<Element>(std::move(n)));
  if (!ns.empty()) e.set_attr("xmlns", ns);
  return e;
}

Element& Element::add_child(std::unique_ptr<Element> el) {
  if (!el) el = std::make_unique<Element>();
  children.push_back(Child{std::move(el), {}});
  return *children.back().el;
}

void Element::add_text(std::string_view t) {
  if (t.empty()) return;
  if (!children.empty() && children.back().is_text())
    children.back().text.append(t);
  else
    children.push_back(Child{nullptr, std::string(t)});
}

std::string Element::text() const {
  std::string out;
  for (const auto& c : children)
    if (!c.el) out += c.text;
  return out;
}

std::string Element::child_text(std::string_view n) const {
  const Element* c = child(n);
  return c ? c->text() : std::string();
}

std::unique_ptr<Element> Element::clone() const {
  auto e = std::make_unique<Element>(name);
  e->attrs = attrs;
  e->children.reserve(children.size());
  for (const auto& c : children)
    e->children.push_back(c.el ? Child{c.el->clone(), {}} : Child{nullptr, c.text});
  return e;
}

void Element::serialize(std::string& out) const {
  out += '<';
  out += name;
  for (const auto& a : attrs) {
    out += ' ';
    out += a.first;
    out += "='";
    escape_attr(a.second, out);
    out += '\'';
  }
  if (children.empty()) {
    out += "/>";
    return;
  }
  out += '>';
  for (const auto& c : children) {
    if (c.el)
      c.el->serialize(out);
    else
      escape_text(c.text, out);
  }
  out += "</";
  out += name;
  out += '>';
}

std::string Element::str() const {
  std::string s;
  serialize(s);
  return s;
}

namespace {

template <bool Attr>
void escape(std::string_view in, std::string& out) {
  size_t run = 0;  // start of the pending unescaped run
  for (size_t i = 0; i < in.size(); ++i) {
    const char* rep;
    switch (in[i]) {
      case '&': rep = "&amp;"; break;
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '\'':
        if (!Attr) continue;
        rep = "&apos;";
        break;
      case '"':
        if (!Attr) continue;
        rep = "&quot;";
        break;
      default: continue;
    }
    out.append(in.data() + run, i - run);
    out.append(rep);
    run = i + 1;
  }
  out.append(in.data() + run, in.size() - run);
}

using Doc = rapidxml::xml_document<char>;
using Node = rapidxml::xml_node<char>;
constexpr int kRapidFlags = rapidxml::parse_validate_closing_tags | rapidxml::parse_no_element_values;
constexpr unsigned kParseElementMaxDepth = 256;

bool convert(const Node* n, Element& out, std::string* err) {
  out.name.assign(n->name(), n->name_size());
  for (auto* a = n->first_attribute(); a; a = a->next_attribute()) {
    std::string_view key(a->name(), a->name_size());
    for (const auto& prev : out.attrs) {
      if (prev.first == key) {
        if (err) *err = "duplicate attribute '" + std::string(key) + "'";
        return false;
      }
    }
    out.attrs.emplace_back(std::string(key), std::string(a->value(), a->value_size()));
  }
  for (auto* c = n->first_node(); c; c = c->next_sibling()) {
    switch (c->type()) {
      case rapidxml::node_element:
        if (!convert(c, out.add_child(std::string()), err)) return false;
        break;
      case rapidxml::node_data:
      case rapidxml::node_cdata:
        out.add_text(std::string_view(c->value(), c->value_size()));
        break;
      default:
        if (err) *err = "unexpected node type";
        return false;
    }
  }
  return true;
}

}  // namespace

void escape_text(std::string_view in, std::string& out) { escape<false>(in, out); }
void escape_attr(std::string_view in, std::string& out) { escape<true>(in, out); }

namespace detail {

std::unique_ptr<Element> parse_with_rapidxml(const char* xml, size_t len, std::string* err) {
  // The document embeds a 64 KiB pool: keep one per thread, on the heap rather than in TLS.
  thread_local std::unique_ptr<Doc> doc;
  thread_local std::string scratch;  // RapidXML parses in place and needs a NUL terminator
  try {
    if (!doc) doc = std::make_unique<Doc>();
    scratch.assign(xml, len);
    doc->clear();
    doc->parse<kRapidFlags>(&scratch[0]);
    const Node* root = nullptr;
    for (auto* n = doc->first_node(); n; n = n->next_sibling()) {
      if (n->type() != rapidxml::node_element || root) {
        if (err) *err = "expected exactly one element";
        return nullptr;
      }
      root = n;
    }
    if (!root) {
      if (err) *err = "no element";
      return nullptr;
    }
    auto el = std::make_unique<Element>();
    bool ok = convert(root, *el, err);
    doc->clear();  // frees pool blocks a big element may have added
    if (scratch.capacity() > (256u << 10)) std::string().swap(scratch);
    if (!ok) return nullptr;
    return el;
  } catch (const rapidxml::parse_error& e) {
    if (err) *err = std::string("rapidxml: ") + e.what();
  } catch (const std::bad_alloc&) {
    if (err) *err = "out of memory";
  }
  return nullptr;
}

}  // namespace detail

std::unique_ptr<Element> parse_element(std::string_view xml, std::string* err) {
  struct Collect : Framer::Handler {
    std::unique_ptr<Element> el;
    size_t count = 0;
    void on_stream_open(Element&&) override {}
    void on_element(std::unique_ptr<Element> e) override {
      if (count++ == 0) el = std::move(e);
    }
    void on_stream_close() override {}
  } collect;

  Limits lim;
  lim.max_stanza_size = SIZE_MAX;
  lim.max_depth = kParseElementMaxDepth;
  lim.max_attrs = UINT_MAX;
  Framer f(lim, true);
  std::string diag;
  f.diag_ = &diag;
  StreamError e = f.feed(xml.data(), xml.size(), collect);
  const char* msg = nullptr;
  if (e != StreamError::none) {
    if (err) {
      *err = !diag.empty() ? diag
                           : std::string(stream_error_name(e)) + " at byte " + std::to_string(f.fail_at_);
    }
    return nullptr;
  }
  if (f.in_unit_ || f.state_ != Framer::St::top)
    msg = "unexpected end of input";
  else if (collect.count == 0)
    msg = "no element";
  else if (collect.count > 1)
    msg = "more than one element";
  if (msg) {
    if (err) *err = msg;
    return nullptr;
  }
  return std::move(collect.el);
}

}  // namespace aviary::xml
