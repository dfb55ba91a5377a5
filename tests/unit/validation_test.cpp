// The rules for what a person types, field by field: what is refused, with
// which code (BAD_REQUEST for content, TOO_LARGE for a length over its
// limit), at each boundary.
#include <gtest/gtest.h>

#include "server/core/validation.hpp"

namespace relais::core {
namespace {

const protocol::limits limits{};

errc code_of(const outcome<void>& r) {
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
    EXPECT_TRUE(check_display_name("Agn\xc3\xa8s Dupont", limits));
    EXPECT_EQ(code_of(check_display_name(std::string(limits.max_name_bytes + 1, 'x'), limits)),
              errc::too_large);
}

}  // namespace
}  // namespace relais::core
