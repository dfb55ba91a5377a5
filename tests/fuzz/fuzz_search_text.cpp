// libFuzzer target: what search does with text it is given, a query's and a
// message's: words, folding, matching and snippets, on any bytes. The
// snippet's highlights must lie inside it, and a snippet of valid UTF-8
// must be valid UTF-8 (never cut inside a character).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/codec.hpp"
#include "storage/text/search_text.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    // The first byte splits the rest into the query and the text.
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    const auto split = std::min<std::size_t>(data[0], rest.size());
    const auto query = rest.substr(0, split);
    const auto text = rest.substr(split);
    using namespace relais::search_text;
    const auto words_of_query = words(query);
    for (const auto& w : words_of_query) {
        if (w.empty() || length(w) == 0) {
            __builtin_trap();  // words are never empty
        }
    }
    (void)fold(text);
    (void)matches(text, words_of_query);
    const auto cut = make_snippet(text, words_of_query, 1 + data[0] % 250);
    for (const auto& [start, length] : cut.highlights) {
        if (start + length > cut.text.size()) {
            __builtin_trap();
        }
    }
    if (relais::protocol::valid_utf8(text) && !relais::protocol::valid_utf8(cut.text)) {
        __builtin_trap();
    }
    return 0;
}
