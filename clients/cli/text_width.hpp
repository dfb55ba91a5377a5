#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace relais::cli {

// UTF-8 <-> code points, and how many terminal columns they take.
std::u32string to_u32(std::string_view utf8);
std::string to_utf8(std::u32string_view text);
int column_width(char32_t c);
int column_width(std::u32string_view text);

// Splits text into rows of at most `width` columns: at spaces when it can,
// inside a word when it must, and at every newline.
std::vector<std::u32string> wrap(std::u32string_view text, int width);

}  // namespace relais::cli
