// The server's WebSocket frame reader, fed the bytes a client sends in pieces
// of every size: what it hands over, and the close code of each violation.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "protocol/ws_frame_reader.hpp"

namespace {

using relais::protocol::ws_frame_reader;

struct recorded {
    std::vector<std::string> messages;
    std::vector<std::string> pings;
    int close_code = -1;
    std::string close_reason;
    int fail_code = -1;

    void message(std::string_view p) { messages.emplace_back(p); }
    void ping(std::string_view p) { pings.emplace_back(p); }
    void close(std::uint16_t code, std::string_view reason) {
        close_code = code;
        close_reason = std::string(reason);
    }
    void fail(std::uint16_t code, std::string_view) { fail_code = code; }
};

// One client frame, masked with a key that changes every byte.
std::string frame(bool fin, unsigned op, const std::string& payload, unsigned rsv = 0,
                  bool masked = true) {
    std::string out;
    out.push_back(static_cast<char>((fin ? 0x80 : 0) | (rsv << 4) | op));
    const auto mask_bit = masked ? 0x80 : 0;
    if (payload.size() < 126) {
        out.push_back(static_cast<char>(mask_bit | payload.size()));
    } else if (payload.size() <= 0xFFFF) {
        out.push_back(static_cast<char>(mask_bit | 126));
        out.push_back(static_cast<char>(payload.size() >> 8));
        out.push_back(static_cast<char>(payload.size() & 0xFF));
    } else {
        out.push_back(static_cast<char>(mask_bit | 127));
        for (int i = 7; i >= 0; --i) {
            out.push_back(
                static_cast<char>((static_cast<std::uint64_t>(payload.size()) >> (8 * i)) & 0xFF));
        }
    }
    const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    if (masked) {
        out.append(reinterpret_cast<const char*>(key), 4);
    }
    for (std::size_t i = 0; i < payload.size(); ++i) {
        out.push_back(masked ? static_cast<char>(payload[i] ^ key[i & 3]) : payload[i]);
    }
    return out;
}

std::string close_payload(int code, const std::string& reason = {}) {
    return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)} + reason;
}

// Feeds `bytes` in pieces of `piece` bytes, as reads would hand them over.
recorded feed(const std::string& bytes, std::size_t piece, std::size_t max = 1 << 16,
              relais::protocol::ws_role role = relais::protocol::ws_role::server) {
    ws_frame_reader reader(max, role);
    recorded r;
    std::string copy = bytes;
    for (std::size_t at = 0; at < copy.size(); at += piece) {
        const auto n = std::min(piece, copy.size() - at);
        if (!reader.feed(copy.data() + at, n, r)) {
            break;
        }
    }
    return r;
}

TEST(ws_frame_reader, hands_over_messages_pings_and_the_close_in_pieces_of_any_size) {
    const std::string big(70000, 'b');
    const std::string stream =
        frame(true, 0x2, "bonjour") + frame(false, 0x2, "frag") + frame(true, 0x9, "entre deux") +
        frame(false, 0x0, "ment") + frame(true, 0x0, "é") + frame(true, 0xA, "ignoré") +
        frame(true, 0x2, std::string(300, 'm')) + frame(true, 0x2, big) + frame(true, 0x2, "") +
        frame(true, 0x8, close_payload(1000, "fin")) + frame(true, 0x2, "after the close");
    for (std::size_t piece :
         {std::size_t{1}, std::size_t{2}, std::size_t{7}, std::size_t{4096}, stream.size()}) {
        SCOPED_TRACE(piece);
        const auto r = feed(stream, piece, 1 << 17);
        ASSERT_EQ(r.messages.size(), 5u);
        EXPECT_EQ(r.messages[0], "bonjour");
        EXPECT_EQ(r.messages[1], "fragmenté");
        EXPECT_EQ(r.messages[2], std::string(300, 'm'));
        EXPECT_EQ(r.messages[3], big);
        EXPECT_EQ(r.messages[4], "");
        EXPECT_EQ(r.pings, std::vector<std::string>{"entre deux"});
        EXPECT_EQ(r.close_code, 1000);
        EXPECT_EQ(r.close_reason, "fin");
        EXPECT_EQ(r.fail_code, -1);
    }
}

TEST(ws_frame_reader, an_empty_close_frame_has_no_code) {
    const auto r = feed(frame(true, 0x8, ""), 1);
    EXPECT_EQ(r.close_code, 0);
}

TEST(ws_frame_reader, every_violation_fails_with_the_code_the_rfc_names) {
    struct violation {
        const char* name;
        std::string bytes;
        int code;
    };
    const std::vector<violation> cases = {
        {"reserved bit", frame(true, 0x2, "x", 4), 1002},
        {"reserved data opcode", frame(true, 0x3, "x"), 1002},
        {"reserved control opcode", frame(true, 0xB, ""), 1002},
        {"unmasked", frame(true, 0x2, "x", 0, false), 1002},
        {"continuation of nothing", frame(true, 0x0, "x"), 1002},
        {"new message inside a fragmented one", frame(false, 0x2, "a") + frame(true, 0x2, "b"),
         1002},
        {"fragmented ping", frame(false, 0x9, "a"), 1002},
        {"ping over 125 bytes", frame(true, 0x9, std::string(126, 'p')), 1002},
        {"one-byte close", frame(true, 0x8, "x"), 1002},
        {"close code 1005", frame(true, 0x8, close_payload(1005)), 1002},
        {"close code 1016", frame(true, 0x8, close_payload(1016)), 1002},
        {"close code 2999", frame(true, 0x8, close_payload(2999)), 1002},
        {"close reason not UTF-8", frame(true, 0x8, close_payload(1000, "\xff")), 1007},
        {"text not UTF-8", frame(false, 0x1, "ok") + frame(true, 0x0, "\xed\xa0\x80"), 1007},
        {"valid text", frame(true, 0x1, "bonjour"), 1003},
        {"over the size limit", frame(true, 0x2, std::string(1025, 'x')), 1009},
        {"fragments over the size limit",
         frame(false, 0x2, std::string(600, 'x')) + frame(true, 0x0, std::string(600, 'x')), 1009},
    };
    for (const auto& c : cases) {
        for (std::size_t piece : {std::size_t{1}, c.bytes.size()}) {
            SCOPED_TRACE(std::string(c.name) + ", pieces of " + std::to_string(piece));
            const auto r = feed(c.bytes, piece, 1024);
            EXPECT_EQ(r.fail_code, c.code);
            EXPECT_TRUE(r.messages.empty());
        }
    }
}

TEST(ws_frame_reader, a_frame_announcing_4_gib_is_refused_from_its_header_alone) {
    std::string header = frame(true, 0x2, std::string(70000, 'x')).substr(0, 14);
    header[2 + 3] = 0x01;  // 4 GiB more, in the 64-bit length
    ws_frame_reader reader(1 << 16, relais::protocol::ws_role::server);
    recorded r;
    EXPECT_FALSE(reader.feed(header.data(), header.size(), r));
    EXPECT_EQ(r.fail_code, 1009);
}

TEST(ws_frame_reader, close_codes_for_applications_pass) {
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999}) {
        SCOPED_TRACE(code);
        const auto r = feed(frame(true, 0x8, close_payload(code, "au revoir")), 3);
        EXPECT_EQ(r.close_code, code);
        EXPECT_EQ(r.fail_code, -1);
    }
}

TEST(ws_frame_reader, a_client_reads_unmasked_frames_and_refuses_masked_ones) {
    using relais::protocol::ws_role;
    const auto server_frames =
        frame(true, 0x2, "événement", 0, false) + frame(true, 0x9, "p", 0, false);
    for (std::size_t piece : {1u, 3u, 1000u}) {
        auto r = feed(server_frames, piece, 1 << 16, ws_role::client);
        ASSERT_EQ(r.messages, std::vector<std::string>{"événement"}) << piece;
        EXPECT_EQ(r.pings, std::vector<std::string>{"p"});
        EXPECT_EQ(r.fail_code, -1);
    }
    EXPECT_EQ(feed(frame(true, 0x2, "x"), 1000, 1 << 16, ws_role::client).fail_code, 1002);
}

// What one end writes, the other end's reader reads back, at every length
// encoding's edges (7 bits, 16 bits, 64 bits).
TEST(ws_frame_reader, frames_written_by_either_end_read_back_at_every_length_edge) {
    using relais::protocol::ws_role;
    const char mask[4] = {'\x12', '\x34', '\x56', '\x78'};
    for (std::size_t size : {0u, 1u, 125u, 126u, 65535u, 65536u, 70000u}) {
        std::string payload(size, 'a');
        for (std::size_t i = 0; i < size; ++i) {
            payload[i] = static_cast<char>('a' + i % 26);
        }
        std::string from_server;
        relais::protocol::append_frame(from_server, 0x2, payload);
        std::string from_client;
        relais::protocol::append_masked_frame(from_client, 0x2, payload, mask);
        auto read_by_client = feed(from_server, 4096, 1 << 20, ws_role::client);
        auto read_by_server = feed(from_client, 4096, 1 << 20, ws_role::server);
        ASSERT_EQ(read_by_client.messages.size(), 1u) << size;
        ASSERT_EQ(read_by_server.messages.size(), 1u) << size;
        EXPECT_EQ(read_by_client.messages[0], payload);
        EXPECT_EQ(read_by_server.messages[0], payload);
        // The masked frame is the unmasked one plus 4 key bytes, in every case.
        EXPECT_EQ(from_client.size(), from_server.size() + 4);
    }
}

}  // namespace
