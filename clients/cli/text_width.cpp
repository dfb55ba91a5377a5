#include "clients/cli/text_width.hpp"

#include <wchar.h>

namespace relais::cli {

std::u32string to_u32(std::string_view utf8) {
    std::u32string out;
    out.reserve(utf8.size());
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(utf8[k]); };
    for (std::size_t i = 0; i < utf8.size();) {
        const unsigned char c = byte(i);
        const int extra = c < 0x80             ? 0
                          : (c & 0xE0) == 0xC0 ? 1
                          : (c & 0xF0) == 0xE0 ? 2
                          : (c & 0xF8) == 0xF0 ? 3
                                               : -1;
        char32_t cp = extra <= 0 ? c : c & (0x3F >> extra);
        bool ok = extra >= 0 && i + static_cast<std::size_t>(extra) < utf8.size();
        for (int k = 1; ok && k <= extra; ++k) {
            ok = (byte(i + k) & 0xC0) == 0x80;
            cp = (cp << 6) | (byte(i + k) & 0x3F);
        }
        if (!ok) {
            // Text from the server is valid UTF-8; anything else shows as U+FFFD.
            out.push_back(U'\uFFFD');
            ++i;
            continue;
        }
        out.push_back(cp);
        i += static_cast<std::size_t>(extra) + 1;
    }
    return out;
}

std::string to_utf8(std::u32string_view text) {
    std::string out;
    for (char32_t c : text) {
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if (c < 0x800) {
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else if (c < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | (c >> 12)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | (c >> 18)));
            out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

int column_width(char32_t c) {
    if (c == U'\t') {
        return 1;
    }
    int w = ::wcwidth(static_cast<wchar_t>(c));
    if (w >= 0) {
        return w;
    }
    // Without a UTF-8 locale wcwidth knows nothing: emoji and CJK are wide.
    return (c >= 0x1100 && (c <= 0x115F || (c >= 0x2E80 && c <= 0xA4CF) ||
                            (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
                            (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
                            (c >= 0x1F300 && c <= 0x1FAFF) || (c >= 0x20000 && c <= 0x3FFFD)))
               ? 2
               : 1;
}

int column_width(std::u32string_view text) {
    int total = 0;
    for (char32_t c : text) {
        total += column_width(c);
    }
    return total;
}

std::vector<std::u32string> wrap(std::u32string_view text, int width) {
    std::vector<std::u32string> rows;
    if (width < 1) {
        width = 1;
    }
    std::u32string row;
    int row_width = 0;
    std::size_t last_space = std::u32string::npos;
    for (char32_t c : text) {
        if (c == U'\n') {
            rows.push_back(row);
            row.clear();
            row_width = 0;
            last_space = std::u32string::npos;
            continue;
        }
        int w = column_width(c);
        if (row_width + w > width) {
            if (last_space != std::u32string::npos && c != U' ') {
                // Move the word being written to the next row.
                std::u32string rest = row.substr(last_space + 1);
                row.resize(last_space);
                rows.push_back(row);
                row = rest;
                row_width = column_width(row);
            } else {
                rows.push_back(row);
                row.clear();
                row_width = 0;
            }
            last_space = std::u32string::npos;
            if (c == U' ') {
                continue;
            }
        }
        if (c == U' ') {
            last_space = row.size();
        }
        row.push_back(c);
        row_width += w;
    }
    rows.push_back(row);
    return rows;
}

}  // namespace relais::cli
