// A small mutable XML element tree for stanzas, plus escaping and a one-element parser.
// Names keep their prefixes as written ("stream:features"); xmlns/xmlns:p are ordinary attrs.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aviary::xml {

struct Element;

// A child node: an element (el set) or a text node (el null, text unescaped).
struct Child {
  std::unique_ptr<Element> el;
  std::string text;
  bool is_text() const { return !el; }
};

struct Element {
  std::string name;
  std::vector<std::pair<std::string, std::string>> attrs;  // unescaped values, document order
  std::vector<Child> children;                             // document order

  Element() = default;
  explicit Element(std::string n);
  Element(const Element&) = delete;  // deep copies are explicit: clone()
  Element& operator=(const Element&) = delete;
  Element(Element&&) = default;
  Element& operator=(Element&&) = default;

  const std::string* attr(std::string_view key) const;  // nullptr if absent
  std::string_view attr_or(std::string_view key, std::string_view dflt = {}) const;
  void set_attr(std::string_view key, std::string_view value);  // replace if present, else append
  bool remove_attr(std::string_view key);
  std::string_view xmlns() const;  // value of the "xmlns" attr or ""

  // First direct child element named `name` (and with that xmlns attr when xmlns is non-empty).
  Element* child(std::string_view name, std::string_view xmlns = {});
  const Element* child(std::string_view name, std::string_view xmlns = {}) const;
  const Element* first_child_element() const;

  Element& add_child(std::string name, std::string_view xmlns = {});  // sets xmlns attr if non-empty
  Element& add_child(std::unique_ptr<Element> el);                    // null adds an empty element
  void add_text(std::string_view text);  // merges with a preceding text child; "" is a no-op

  std::string text() const;                             // concatenation of direct text children
  std::string child_text(std::string_view name) const;  // text() of child(name) or ""
  std::unique_ptr<Element> clone() const;

  // Appends well-formed XML: <x/> when there are no children, attribute values in single quotes.
  void serialize(std::string& out) const;
  std::string str() const;
};

void escape_text(std::string_view in, std::string& out);  // & < >
void escape_attr(std::string_view in, std::string& out);  // & < > ' "

// Parses ONE complete element (optionally surrounded by whitespace) with RapidXML after the same
// well-formedness and restricted-XML checks the Framer applies (no comments, PIs, DOCTYPE, XML
// declaration or custom entities; valid UTF-8; nesting at most 256 deep). Returns nullptr and sets
// *err on failure. Like the framer, it drops whitespace-only text that directly precedes a tag
// (RapidXML does this): "<a> <b/></a>" gives a with one child, and "<a> </a>" gives an empty a.
std::unique_ptr<Element> parse_element(std::string_view xml, std::string* err = nullptr);

namespace detail {
// RapidXML only, no checks of its own beyond RapidXML's: for bytes the Framer has already
// validated. Thread-safe (per-thread document and scratch buffer).
std::unique_ptr<Element> parse_with_rapidxml(const char* xml, size_t len, std::string* err);
}  // namespace detail

}  // namespace aviary::xml
