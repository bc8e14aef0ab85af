// A small owned copy of an element tree (name, xmlns, attributes, text, children), so that the
// request parsers and reply builders are pure functions testable without a host.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mod_mam {

struct Node {
  Node() = default;
  Node(std::string n, std::string xmlns) : name(std::move(n)), ns(std::move(xmlns)) {}
  std::string name, ns, text;
  std::vector<std::pair<std::string, std::string>> attrs;
  std::vector<Node> kids;

  const Node* child(std::string_view n, std::string_view xmlns = {}) const {
    for (auto& k : kids)
      if (k.name == n && (xmlns.empty() || k.ns == xmlns)) return &k;
    return nullptr;
  }
  std::string_view attr(std::string_view k) const {
    for (auto& a : attrs)
      if (a.first == k) return a.second;
    return {};
  }
  bool has_attr(std::string_view k) const {
    for (auto& a : attrs)
      if (a.first == k) return true;
    return false;
  }
  // Test helpers: Node{"x", "ns"}.with("a", "v").add(Node{...}).
  Node& with(std::string k, std::string v) {
    attrs.emplace_back(std::move(k), std::move(v));
    return *this;
  }
  Node& add(Node k) {
    kids.push_back(std::move(k));
    return *this;
  }
  Node& set_text(std::string t) {
    text = std::move(t);
    return *this;
  }
};

}  // namespace mod_mam
