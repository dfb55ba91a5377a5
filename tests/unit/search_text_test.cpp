// How text is folded, split into words and cut into snippets for search.
#include <gtest/gtest.h>

#include "protocol/codec.hpp"
#include "storage/text/search_text.hpp"

namespace relais::search_text {
namespace {

TEST(search_text, folding_removes_case_and_accents_but_keeps_the_letters) {
    EXPECT_EQ(fold("Démarche"), "demarche");
    EXPECT_EQ(fold("SÉCU"), "secu");
    EXPECT_EQ(fold("Ça coûte œuvre"), "ca coute œuvre");
    EXPECT_EQ(fold("ﬁche"), "fiche");
    EXPECT_EQ(fold("e\u0301te\u0301"), "ete");        // decomposed accents
    EXPECT_EQ(fold("\xff\xfe ABC"), "\xff\xfe abc");  // not UTF-8: ASCII only
}

TEST(search_text, words_are_runs_of_letters_and_digits_and_nothing_else) {
    EXPECT_EQ(words("NEAR(\"aide\" AND l'État*) -- 2024"),
              (std::vector<std::string>{"near", "aide", "and", "l", "etat", "2024"}));
    EXPECT_TRUE(words("*** -- \"\" ()").empty());
    EXPECT_EQ(length("etat"), 4u);
    EXPECT_EQ(length("été"), 3u);
}

TEST(search_text, a_snippet_highlights_what_matched_as_it_was_written) {
    auto s = make_snippet("Le simulateur de la CAF, SÉCU", {"simul", "secu"});
    EXPECT_EQ(s.text, "Le simulateur de la CAF, SÉCU");
    ASSERT_EQ(s.highlights.size(), 2u);
    EXPECT_EQ(s.text.substr(s.highlights[0].first, s.highlights[0].second), "simul");
    EXPECT_EQ(s.text.substr(s.highlights[1].first, s.highlights[1].second), "SÉCU");
}

TEST(search_text, a_long_text_is_cut_around_the_match_between_characters) {
    std::string text;
    for (int i = 0; i < 100; ++i) {
        text += "été ";
    }
    text += "FranceConnect ";
    for (int i = 0; i < 100; ++i) {
        text += "hiver ";
    }
    auto s = make_snippet(text, {"connect"}, 120);
    EXPECT_LE(s.text.size(), 130u);
    EXPECT_TRUE(s.text.starts_with("…"));
    EXPECT_TRUE(s.text.ends_with("…"));
    ASSERT_EQ(s.highlights.size(), 1u);
    EXPECT_EQ(s.text.substr(s.highlights[0].first, s.highlights[0].second), "Connect");
    // Never half a character.
    EXPECT_TRUE(protocol::valid_utf8(s.text));
    EXPECT_NE(fold(s.text).find("franceconnect"), std::string::npos);
}

}  // namespace
}  // namespace relais::search_text
