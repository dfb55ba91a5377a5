#pragma once

// How text is compared for search: one folding for the index and the
// query, and the snippets shown with each hit. Pure functions, shared by
// storage (which indexes) and core (which shows hits).

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace relais::search_text {

// Lower case, accents and other marks removed, compatibility forms
// unfolded ("ﬁ" is "fi"): "Démarche" and "DEMARCHE" both fold to
// "demarche". Invalid UTF-8 is folded byte by byte as ASCII.
std::string fold(std::string_view text);

// The words of a text, folded: runs of letters and digits (with their
// marks). Everything else separates words, quotes and operators included.
std::vector<std::string> words(std::string_view text);

// The number of characters (code points) of a folded word.
std::size_t length(std::string_view word);

// Whether `text` matches every one of `words` (folded) as a search does:
// a word of three letters or more anywhere, even inside a longer word;
// a shorter one as a whole word; a one-letter word only when it is alone.
bool matches(std::string_view text, const std::vector<std::string>& words);

// What the index holds for a resource: its title, description and tags.
std::string resource_body(std::string_view title, std::string_view description,
                          const std::vector<std::string>& tags);

// A piece of `text` around the first place where one of `words` (folded)
// appears inside it, at most about `max_bytes` long, cut between
// characters, with "…" where it was cut; and the byte ranges of the
// snippet that matched.
struct snippet {
    std::string text;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> highlights;  // start, length
};
snippet make_snippet(std::string_view text, const std::vector<std::string>& words,
                     std::size_t max_bytes = 200);

}  // namespace relais::search_text
