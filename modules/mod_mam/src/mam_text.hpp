// Full-text search text (MongooseIM normalises bodies into search_body): ASCII letters
// lowercased, ASCII punctuation and white space turned into single spaces, other bytes (UTF-8
// letters) kept. A query matches when every one of its words occurs in the text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mod_mam {

// " hello world " style: words separated and surrounded by one space ("" for no words).
std::string normalize_search(std::string_view text);
std::vector<std::string> search_words(std::string_view text);

}  // namespace mod_mam
