// RFC 6455 conformance of the server, frame by frame over a raw socket:
// framing, reserved bits and opcodes, fragmentation, ping/pong, the close
// handshake and its codes, UTF-8 in text and close frames, oversized
// messages. (Autobahn|Testsuite cannot run here; these are its core cases.)

#include <optional>
#include <random>

#include "protocol/codec.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/raw_ws.hpp"

namespace relais::testing {
namespace {

std::string hello_bytes() {
    v1::ClientMessage m;
    m.mutable_hello()->set_protocol_version(1);
    return protocol::encode(m);
}

std::string close_payload(int code, const std::string& reason = {}) {
    std::string p;
    p.push_back(static_cast<char>(code >> 8));
    p.push_back(static_cast<char>(code & 0xff));
    return p + reason;
}

// The answer to Hello arrives as one binary frame holding a Welcome.
void expect_welcome(raw_ws& ws) {
    auto f = ws.receive();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->op, binary);
    EXPECT_TRUE(f->fin);
    auto msg = protocol::decode_server(f->payload, 1 << 20);
    ASSERT_TRUE(msg);
    EXPECT_TRUE(msg->has_welcome());
}

class websocket_conformance : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        server_ = new server_process({"--max-frame-bytes", "65536"});
        server_->start();
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    static server_process* server_;
};
server_process* websocket_conformance::server_ = nullptr;

TEST_F(websocket_conformance, a_message_in_one_binary_frame_is_answered) {
    raw_ws ws(*server_);
    ws.send({true, 0, binary, hello_bytes()});
    expect_welcome(ws);
}

TEST_F(websocket_conformance, a_fragmented_message_with_a_ping_between_fragments_is_reassembled) {
    raw_ws ws(*server_);
    const auto hello = hello_bytes();
    ws.send({false, 0, binary, hello.substr(0, 2)});
    ws.send({true, 0, ping, "entre deux"});
    ws.send({false, 0, continuation, hello.substr(2, 1)});
    ws.send({true, 0, continuation, hello.substr(3)});
    auto pong_frame = ws.receive();
    ASSERT_TRUE(pong_frame);
    EXPECT_EQ(pong_frame->op, pong);
    EXPECT_EQ(pong_frame->payload, "entre deux");
    expect_welcome(ws);
}

TEST_F(websocket_conformance,
       ping_gets_a_pong_with_the_same_payload_and_unsolicited_pong_is_ignored) {
    raw_ws ws(*server_);
    ws.send({true, 0, pong, "personne n'a demandé"});
    ws.send({true, 0, ping, std::string(125, 'p')});
    auto f = ws.receive();
    ASSERT_TRUE(f);
    EXPECT_EQ(f->op, pong);
    EXPECT_EQ(f->payload, std::string(125, 'p'));
    ws.send({true, 0, binary, hello_bytes()});
    expect_welcome(ws);
}

TEST_F(websocket_conformance, close_handshake_echoes_the_code_then_ends_the_connection) {
    raw_ws ws(*server_);
    ws.send({true, 0, close, close_payload(1000, "au revoir")});
    EXPECT_EQ(ws.close_code(), 1000);
    EXPECT_TRUE(ws.ended());
}

TEST_F(websocket_conformance, empty_close_frame_is_answered) {
    raw_ws ws(*server_);
    ws.send({true, 0, close, ""});
    const int code = ws.close_code();
    EXPECT_TRUE(code == 1000 || code == 1005) << code;
    EXPECT_TRUE(ws.ended());
}

struct protocol_violation {
    const char* name;
    std::vector<ws_frame> frames;
    bool masked = true;
    int expected_code = 1002;
};

TEST_F(websocket_conformance, protocol_violations_close_with_the_code_the_rfc_names) {
    const auto hello = hello_bytes();
    const std::vector<protocol_violation> cases = {
        {"reserved bit 1 without an extension", {{true, 4, binary, hello}}},
        {"reserved bit 2", {{true, 2, binary, hello}}},
        {"reserved bit 3", {{true, 1, binary, hello}}},
        {"reserved bits on a ping", {{true, 7, ping, "x"}}},
        {"reserved data opcode 3", {{true, 0, 0x3, "x"}}},
        {"reserved data opcode 7", {{true, 0, 0x7, "x"}}},
        {"reserved control opcode 0xB", {{true, 0, 0xB, ""}}},
        {"reserved control opcode 0xF", {{true, 0, 0xF, ""}}},
        {"unmasked client frame", {{true, 0, binary, hello}}, false},
        {"continuation with nothing to continue", {{true, 0, continuation, hello}}},
        {"new data frame inside a fragmented message",
         {{false, 0, binary, hello.substr(0, 2)}, {true, 0, binary, hello}}},
        {"fragmented ping", {{false, 0, ping, "a"}, {true, 0, continuation, "b"}}},
        {"control frame over 125 bytes", {{true, 0, ping, std::string(126, 'p')}}},
        {"close frame with a one-byte payload", {{true, 0, close, "x"}}},
        {"close code 999", {{true, 0, close, close_payload(999)}}},
        {"close code 1005 (never sent)", {{true, 0, close, close_payload(1005)}}},
        {"close code 1006 (never sent)", {{true, 0, close, close_payload(1006)}}},
        {"close code 1015 (never sent)", {{true, 0, close, close_payload(1015)}}},
        {"close code 1016 (unassigned)", {{true, 0, close, close_payload(1016)}}},
        {"close code 2999 (unassigned)", {{true, 0, close, close_payload(2999)}}},
        {"text frame with invalid UTF-8", {{true, 0, text, "caf\xc3\x28"}}, true, 1007},
        {"fragmented text with invalid UTF-8",
         {{false, 0, text, "ok"}, {true, 0, continuation, "\xed\xa0\x80"}},
         true,
         1007},
        // Boost.Beast 1.81 answers 1002 here; the write combiner makes it 1007.
        {"close reason with invalid UTF-8",
         {{true, 0, close, close_payload(1000, "\xff\xfe")}},
         true,
         1007},
        {"close reason turning invalid in its last byte",
         {{true, 0, close, close_payload(1001, "au revoir \xc3")}},
         true,
         1007},
        {"valid text frame (this protocol is binary)", {{true, 0, text, "bonjour"}}, true, 1003},
        {"message over the size limit", {{true, 0, binary, std::string(65537, 'x')}}, true, 1009},
        {"fragments adding up over the size limit",
         {{false, 0, binary, std::string(40000, 'x')},
          {true, 0, continuation, std::string(40000, 'x')}},
         true,
         1009},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        raw_ws ws(*server_);
        for (const auto& f : c.frames) {
            ws.send(f, c.masked);
        }
        EXPECT_EQ(ws.close_code(), c.expected_code) << "reason: " << ws.close_reason();
    }
}

TEST_F(websocket_conformance, close_codes_for_applications_are_accepted) {
    for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 4999}) {
        SCOPED_TRACE(code);
        raw_ws ws(*server_);
        ws.send({true, 0, close, close_payload(code)});
        EXPECT_EQ(ws.close_code(), code);  // echoed, as the RFC suggests
    }
}

TEST_F(websocket_conformance, server_still_serves_after_every_violation) {
    raw_ws ws(*server_);
    ws.send({true, 0, binary, hello_bytes()});
    expect_welcome(ws);
}

}  // namespace
}  // namespace relais::testing

namespace relais::testing {
namespace {

TEST(websocket_handshake, other_versions_and_malformed_keys_are_refused) {
    server_process server;
    server.start();
    auto upgrade = [&](const std::string& headers) {
        return server.http_raw(
            "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            headers + "\r\n");
    };
    const auto old_version =
        upgrade("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n");
    EXPECT_EQ(old_version.rfind("HTTP/1.1 426", 0), 0u) << old_version;
    EXPECT_NE(old_version.find("Sec-WebSocket-Version: 13"), std::string::npos) << old_version;
    EXPECT_EQ(upgrade("Sec-WebSocket-Version: 13\r\n").rfind("HTTP/1.1 400", 0), 0u);
    EXPECT_EQ(upgrade("Sec-WebSocket-Key: trop-court\r\nSec-WebSocket-Version: 13\r\n")
                  .rfind("HTTP/1.1 400", 0),
              0u);
    const auto good =
        upgrade("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
    EXPECT_EQ(good.rfind("HTTP/1.1 101", 0), 0u) << good;
    // RFC 6455's own example key and answer.
    EXPECT_NE(good.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos);
}

// With --idle-timeout 2: a ping after a second of silence, the connection
// cut after two; a client that answers stays connected.
TEST(websocket_idle, a_silent_client_is_pinged_then_cut_and_one_that_answers_stays) {
    server_process server({"--idle-timeout", "2"});
    server.start();
    {
        raw_ws silent(server);
        auto ping_frame = silent.receive();
        ASSERT_TRUE(ping_frame);
        EXPECT_EQ(ping_frame->op, ping);
        while (auto f = silent.receive()) {
            EXPECT_EQ(f->op, ping);
        }
        // Cut: the socket is at its end (a connection still open would let
        // the reads above wait 10 s for nothing, and this one 5 more).
        EXPECT_TRUE(silent.ended()) << "still connected after the idle timeout";
    }
    raw_ws answering(server);
    for (int i = 0; i < 4; ++i) {
        auto f = answering.receive();
        ASSERT_TRUE(f) << "cut after " << i << " answered pings";
        ASSERT_EQ(f->op, ping);
        answering.send({true, 0, pong, f->payload});
    }
    answering.send({true, 0, binary, hello_bytes()});
    expect_welcome(answering);
}

}  // namespace
}  // namespace relais::testing
