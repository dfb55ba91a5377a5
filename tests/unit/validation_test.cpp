// The rules for what a person types, field by field: what is refused, with
// which code (BAD_REQUEST for content, TOO_LARGE for a length over its
// limit), at each boundary.
#include <gtest/gtest.h>

#include "server/core/validation.hpp"

namespace relais::core {
namespace {

const protocol::limits limits{};

template <class T>
errc code_of(const outcome<T>& r) {
    return r ? errc{} : r.error().code;
}

TEST(validation, a_channel_or_user_name_is_a_strict_ascii_slug) {
    for (auto check : {check_channel_name, check_user_name}) {
        EXPECT_TRUE(check("accueil", limits));
        EXPECT_TRUE(check("atelier-2.0_bis", limits));
        EXPECT_TRUE(check("9", limits));
        EXPECT_TRUE(check(std::string(limits.max_name_bytes, 'a'), limits));
        EXPECT_EQ(code_of(check(std::string(limits.max_name_bytes + 1, 'a'), limits)),
                  errc::too_large);
        EXPECT_EQ(code_of(check("", limits)), errc::bad_request);
        // Look-alikes of another name, accents, emoji, spaces, capitals.
        for (const char* refused : {"lobby\u200b", "\u200blobby", "l\u043ebby" /* Cyrillic o */,
                                    "\xc3\x89quipe", "chat\xf0\x9f\x98\x80", "mon canal", "Accueil",
                                    "-accueil", ".accueil", "accueil\n", "a/b", "caf\xc3\xa9"}) {
            SCOPED_TRACE(refused);
            const auto r = check(refused, limits);
            ASSERT_FALSE(r);
            EXPECT_EQ(r.error().code, errc::bad_request);
            EXPECT_NE(r.error().message.find("lowercase ASCII"), std::string::npos);
        }
    }
}

TEST(validation, client_msg_id_is_visible_ascii_and_too_long_is_too_large) {
    EXPECT_TRUE(check_client_msg_id("a", limits));
    EXPECT_TRUE(check_client_msg_id("!~{}[]-_.:0123456789", limits));
    EXPECT_TRUE(check_client_msg_id(std::string(limits.max_client_msg_id_bytes, 'x'), limits));
    EXPECT_EQ(
        code_of(check_client_msg_id(std::string(limits.max_client_msg_id_bytes + 1, 'x'), limits)),
        errc::too_large);
    EXPECT_EQ(code_of(check_client_msg_id("", limits)), errc::bad_request);
    EXPECT_EQ(code_of(check_client_msg_id("a b", limits)), errc::bad_request);
    EXPECT_EQ(code_of(check_client_msg_id("\x7f", limits)), errc::bad_request);
    EXPECT_EQ(code_of(check_client_msg_id("\xc3\xa9t\xc3\xa9", limits)), errc::bad_request);
}

TEST(validation, texts_over_their_limit_are_too_large_and_broken_ones_bad_requests) {
    EXPECT_TRUE(check_text(std::string(limits.max_text_bytes, 'x'), limits));
    EXPECT_EQ(code_of(check_text(std::string(limits.max_text_bytes + 1, 'x'), limits)),
              errc::too_large);
    EXPECT_EQ(code_of(check_text("", limits)), errc::bad_request);
    EXPECT_EQ(code_of(check_text(std::string("a\0b", 3), limits)), errc::bad_request);
    EXPECT_EQ(code_of(check_text("\xc3\x28", limits)), errc::bad_request);
    EXPECT_TRUE(check_topic("", limits));
    EXPECT_TRUE(check_topic(std::string(limits.max_topic_bytes, 'x'), limits));
    EXPECT_EQ(code_of(check_topic(std::string(limits.max_topic_bytes + 1, 'x'), limits)),
              errc::too_large);
}

// One rule for every name a person reads: what looks alike is stored alike,
// and what cannot be seen is refused.
TEST(validation, a_display_name_is_normalised_to_nfc_trimmed_and_free_of_invisible_characters) {
    const std::string composed = "\u00c9changes de pratiques";     // É, one code point
    const std::string decomposed = "E\u0301changes de pratiques";  // E + combining acute
    EXPECT_EQ(check_display_name(composed, limits).value(), composed);
    EXPECT_EQ(check_display_name(decomposed, limits).value(), composed);
    EXPECT_EQ(check_display_name("  Agn\xc3\xa8s Dupont\xc2\xa0 ", limits).value(),
              "Agn\xc3\xa8s Dupont");
    EXPECT_EQ(check_display_name("", limits).value(), "");
    EXPECT_EQ(check_display_name("   ", limits).value(), "");
    EXPECT_EQ(check_display_name("\xf0\x9f\x93\x9a Biblioth\xc3\xa8que", limits).value(),
              "\xf0\x9f\x93\x9a Biblioth\xc3\xa8que");  // emoji are visible
    for (const std::string& refused : {
             std::string("lobby\xe2\x80\x8b"),  // zero-width space (Cf)
             std::string("a\xe2\x80\x8d"
                         "b"),  // zero-width joiner
             std::string("\xe2\x80\xae"
                         "evil"),  // right-to-left override
             std::string("soft\xc2\xad"
                         "hyphen"),  // soft hyphen (Cf)
             std::string("new\nline"), std::string("tab\there"), std::string("nul\0x", 5),
             std::string("\xe2\x80\xa8"
                         "line"),  // line separator
             std::string("\xee\x80\x80"
                         "private"),  // private use
             std::string("\xef\xbb\xbf"
                         "bom"),  // byte order mark
             std::string("\xe1\x85\x9f"
                         "filler"),  // Hangul filler (ignorable)
         }) {
        SCOPED_TRACE(refused);
        const auto r = check_display_name(refused, limits);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, errc::bad_request);
        EXPECT_NE(r.error().message.find("U+"), std::string::npos) << r.error().message;
    }
    EXPECT_EQ(code_of(check_display_name("\xc3\x28", limits)), errc::bad_request);
    EXPECT_TRUE(check_display_name(std::string(limits.max_name_bytes, 'x'), limits));
    EXPECT_EQ(code_of(check_display_name(std::string(limits.max_name_bytes + 1, 'x'), limits)),
              errc::too_large);
    // Measured once normalised: 32 decomposed é are 96 bytes, 64 composed.
    std::string many;
    for (int i = 0; i < 32; ++i) {
        many += "e\xcc\x81";
    }
    EXPECT_EQ(check_display_name(many, limits).value().size(), 64u);
}

}  // namespace
}  // namespace relais::core
