#include "mam_text.hpp"

namespace mod_mam {

namespace {
bool word_byte(unsigned char c) {
  return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
}  // namespace

std::vector<std::string> search_words(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (unsigned char c : text) {
    if (word_byte(c)) {
      cur += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string normalize_search(std::string_view text) {
  // One pass, one allocation (this runs for every archived message).
  std::string out;
  out.reserve(text.size() + 2);
  bool in_word = false;
  for (unsigned char c : text) {
    if (word_byte(c)) {
      if (!in_word) out += ' ';
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      in_word = true;
    } else {
      in_word = false;
    }
  }
  if (!out.empty()) out += ' ';
  return out;
}

}  // namespace mod_mam
