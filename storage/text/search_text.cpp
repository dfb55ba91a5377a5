#include "storage/text/search_text.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

namespace relais::search_text {
namespace {

constexpr auto fold_options =
    static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE |
                                   UTF8PROC_STRIPMARK | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE);

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

bool is_word_character(utf8proc_int32_t cp) {
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_MN:
        case UTF8PROC_CATEGORY_MC:
        case UTF8PROC_CATEGORY_ME:
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
            return true;
        default:
            return false;
    }
}

// Calls fn(code point, start, size) for each code point; an invalid byte
// is passed as itself, alone.
template <class Fn>
void each_code_point(std::string_view text, Fn fn) {
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    const auto size = static_cast<utf8proc_ssize_t>(text.size());
    for (utf8proc_ssize_t at = 0; at < size;) {
        utf8proc_int32_t cp = 0;
        auto n = utf8proc_iterate(p + at, size - at, &cp);
        if (n <= 0) {
            cp = p[at];
            n = 1;
        }
        fn(cp, static_cast<std::size_t>(at), static_cast<std::size_t>(n));
        at += n;
    }
}

std::string fold_code_point(utf8proc_int32_t cp) {
    utf8proc_uint8_t encoded[4];
    const auto n = utf8proc_encode_char(cp, encoded);
    return fold(
        std::string_view(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n)));
}

}  // namespace

std::string fold(std::string_view text) {
    utf8proc_uint8_t* mapped = nullptr;
    const auto size =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                     static_cast<utf8proc_ssize_t>(text.size()), &mapped, fold_options);
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(mapped, &std::free);
    if (size < 0) {
        return ascii_lower(text);
    }
    return std::string(reinterpret_cast<const char*>(mapped), static_cast<std::size_t>(size));
}

std::vector<std::string> words(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    bool in_word = false;
    auto finish = [&](std::size_t end) {
        if (in_word) {
            auto w = fold(text.substr(start, end - start));
            if (!w.empty()) {
                out.push_back(std::move(w));
            }
        }
        in_word = false;
    };
    each_code_point(text, [&](utf8proc_int32_t cp, std::size_t at, std::size_t) {
        if (is_word_character(cp)) {
            if (!in_word) {
                start = at;
                in_word = true;
            }
        } else {
            finish(at);
        }
    });
    finish(text.size());
    return out;
}

std::size_t length(std::string_view word) {
    std::size_t n = 0;
    each_code_point(word, [&](utf8proc_int32_t, std::size_t, std::size_t) { ++n; });
    return n;
}

bool matches(std::string_view text, const std::vector<std::string>& wanted) {
    const auto folded = fold(text);
    std::vector<std::string> tokens;
    bool tokens_read = false;
    for (const auto& w : wanted) {
        const auto letters = length(w);
        if (letters == 1 && wanted.size() > 1) {
            continue;
        }
        if (letters >= 3) {
            if (folded.find(w) == std::string::npos) {
                return false;
            }
            continue;
        }
        if (!tokens_read) {
            tokens = words(text);
            tokens_read = true;
        }
        if (std::find(tokens.begin(), tokens.end(), w) == tokens.end()) {
            return false;
        }
    }
    return true;
}

std::string resource_body(std::string_view title, std::string_view description,
                          const std::vector<std::string>& tags) {
    std::string body(title);
    body += "\n";
    body += description;
    for (const auto& t : tags) {
        body += "\n";
        body += t;
    }
    return body;
}

snippet make_snippet(std::string_view text, const std::vector<std::string>& wanted,
                     std::size_t max_bytes) {
    // The folded text, and for each of its bytes the original code point.
    std::string folded;
    std::vector<std::pair<std::size_t, std::size_t>> origin;  // start, end in text
    each_code_point(text, [&](utf8proc_int32_t cp, std::size_t at, std::size_t n) {
        auto f = fold_code_point(cp);
        folded += f;
        origin.insert(origin.end(), f.size(), {at, at + n});
    });
    std::vector<std::pair<std::size_t, std::size_t>> found;  // in text: start, end
    for (const auto& w : wanted) {
        if (w.empty()) {
            continue;
        }
        for (auto at = folded.find(w); at != std::string::npos; at = folded.find(w, at + 1)) {
            found.emplace_back(origin[at].first, origin[at + w.size() - 1].second);
        }
    }
    std::sort(found.begin(), found.end());
    std::vector<std::pair<std::size_t, std::size_t>> merged;
    for (const auto& r : found) {
        if (!merged.empty() && r.first <= merged.back().second) {
            merged.back().second = std::max(merged.back().second, r.second);
        } else {
            merged.push_back(r);
        }
    }
    auto char_start = [&](std::size_t i) {
        while (i > 0 && i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) {
            --i;
        }
        return i;
    };
    // A little context before the first match, then as much as fits.
    std::size_t begin = 0;
    if (!merged.empty() && merged.front().first > max_bytes / 3) {
        begin = char_start(merged.front().first - max_bytes / 3);
        // Start at a word when one starts nearby.
        const auto space = text.find(' ', begin);
        if (space != std::string_view::npos && space < merged.front().first) {
            begin = space + 1;
        }
    }
    std::size_t end = text.size();
    if (end - begin > max_bytes) {
        end = char_start(begin + max_bytes);
        const auto space = text.rfind(' ', end);
        if (space != std::string_view::npos && space > begin + max_bytes / 2) {
            end = space;
        }
    }
    snippet out;
    const std::string ellipsis = "…";
    if (begin > 0) {
        out.text = ellipsis;
    }
    const auto offset = out.text.size();
    out.text.append(text.substr(begin, end - begin));
    if (end < text.size()) {
        out.text += ellipsis;
    }
    for (const auto& [s, e] : merged) {
        if (s < begin || s >= end) {
            continue;
        }
        const auto stop = std::min(e, end);
        out.highlights.emplace_back(static_cast<std::uint32_t>(s - begin + offset),
                                    static_cast<std::uint32_t>(stop - s));
    }
    return out;
}

}  // namespace relais::search_text
