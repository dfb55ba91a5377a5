// The close reason check reads the frames a client sends, masked, in any
// pieces, and notices only a close frame whose reason is not UTF-8.
#include <gtest/gtest.h>

#include <string>

#include "close_reason_check.hpp"

namespace {

using relais::net::close_reason_check;

// A masked client frame, as a browser sends it.
std::string client_frame(unsigned char opcode, const std::string& payload) {
    std::string f;
    f.push_back(static_cast<char>(0x80 | opcode));
    const unsigned char mask[4] = {0x12, 0x34, 0x56, 0x78};
    if (payload.size() < 126) {
        f.push_back(static_cast<char>(0x80 | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        f.push_back(static_cast<char>(0x80 | 126));
        f.push_back(static_cast<char>(payload.size() >> 8));
        f.push_back(static_cast<char>(payload.size() & 0xFF));
    } else {
        f.push_back(static_cast<char>(0x80 | 127));
        for (int i = 7; i >= 0; --i) {
            f.push_back(static_cast<char>((payload.size() >> (8 * i)) & 0xFF));
        }
    }
    f.append(reinterpret_cast<const char*>(mask), 4);
    for (std::size_t i = 0; i < payload.size(); ++i) {
        f.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
    }
    return f;
}

std::string close_payload(int code, const std::string& reason) {
    return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + reason;
}

bool feed_all(close_reason_check& check, const std::string& bytes, std::size_t piece) {
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        const auto n = std::min(piece, bytes.size() - at);
        check.feed(reinterpret_cast<const unsigned char*>(bytes.data() + at), n);
    }
    return check.saw_invalid_close_reason();
}

TEST(close_reason_check, notices_a_close_reason_that_is_not_utf8_in_any_pieces) {
    const auto bytes =
        client_frame(0x2, "hello") + client_frame(0x8, close_payload(1000, "\xff\xfe"));
    for (std::size_t piece : {1, 2, 3, 7, 1000}) {
        SCOPED_TRACE(piece);
        close_reason_check check;
        EXPECT_TRUE(feed_all(check, bytes, piece));
    }
}

TEST(close_reason_check, lets_french_reasons_and_everything_else_pass) {
    close_reason_check check;
    EXPECT_FALSE(feed_all(check, client_frame(0x8, close_payload(1000, "à bientôt")), 3));
    EXPECT_FALSE(feed_all(check, client_frame(0x8, close_payload(1001, "")), 1));
    EXPECT_FALSE(feed_all(check, client_frame(0x8, ""), 1));
    // Invalid UTF-8 in a text frame is Beast's to refuse (1007), not ours.
    EXPECT_FALSE(feed_all(check, client_frame(0x1, "caf\xc3\x28"), 2));
    EXPECT_FALSE(feed_all(check, client_frame(0x9, "\xff"), 1));
}

TEST(close_reason_check, follows_frames_with_16_and_64_bit_lengths) {
    const auto big =
        client_frame(0x2, std::string(70000, '\xff')) + client_frame(0x2, std::string(300, '\xfe'));
    close_reason_check valid;
    EXPECT_FALSE(feed_all(valid, big + client_frame(0x8, close_payload(1000, "ok")), 4096));
    close_reason_check invalid;
    EXPECT_TRUE(feed_all(invalid, big + client_frame(0x8, close_payload(1000, "\xc3")), 4096));
}

}  // namespace
