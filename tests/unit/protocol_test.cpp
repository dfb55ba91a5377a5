#include <gtest/gtest.h>

#include "protocol/codec.hpp"
#include "protocol/limits.hpp"
#include "protocol/url.hpp"

namespace relais::protocol {
namespace {

constexpr std::size_t max_frame = 64 * 1024;

v1::ClientMessage send_with_text(const std::string& text) {
    v1::ClientMessage msg;
    msg.set_request_id(7);
    auto& send = *msg.mutable_send_message();
    send.mutable_channel()->set_name("accueil");
    send.set_client_msg_id("abc");
    send.set_text(text);
    return msg;
}

TEST(codec, client_message_round_trips) {
    auto bytes = encode(send_with_text("Bonjour à tous 👋"));
    auto decoded = decode_client(bytes, max_frame);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->request_id(), 7u);
    EXPECT_EQ(decoded->send_message().text(), "Bonjour à tous 👋");
}

TEST(codec, server_message_is_encoded_once_into_a_shared_frame) {
    v1::ServerMessage msg;
    msg.mutable_event()->set_seq(42);
    frame f = encode(msg);
    auto decoded = decode_server(*f, max_frame);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->event().seq(), 42u);
}

TEST(codec, frame_at_the_limit_is_accepted_and_one_byte_over_is_too_large) {
    // The envelope around the text takes a few bytes: find the text length
    // that makes the frame exactly max_frame long.
    std::size_t text_size = max_frame;
    while (encode(send_with_text(std::string(text_size, 'x'))).size() > max_frame) {
        --text_size;
    }
    auto bytes = encode(send_with_text(std::string(text_size, 'x')));
    ASSERT_EQ(bytes.size(), max_frame);
    EXPECT_TRUE(decode_client(bytes, max_frame));
    auto over = encode(send_with_text(std::string(text_size + 1, 'x')));
    ASSERT_EQ(over.size(), max_frame + 1);
    auto rejected = decode_client(over, max_frame);
    ASSERT_FALSE(rejected);
    EXPECT_EQ(rejected.error().code, errc::too_large);
}

TEST(codec, garbage_is_a_bad_request) {
    auto r = decode_client(std::string("\xff\xff\xff\xff\xff", 5), max_frame);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_request);
}

TEST(codec, empty_envelope_is_a_bad_request) {
    auto r = decode_client("", max_frame);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_request);
    EXPECT_NE(r.error().message.find("message kind"), std::string::npos);
}

TEST(codec, unknown_body_from_a_newer_client_is_a_bad_request) {
    v1::ClientMessage msg;
    msg.set_request_id(3);
    std::string bytes = encode(msg);
    bytes += std::string("\xfa\x06\x00", 3);  // field 111, length-delimited, empty
    auto r = decode_client(bytes, max_frame);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_request);
}

TEST(codec, unknown_fields_inside_a_known_body_are_ignored) {
    std::string bytes = encode(send_with_text("salut"));
    // Append field 99 (varint) at the envelope level: an added field.
    bytes += std::string("\x98\x06\x01", 3);
    auto r = decode_client(bytes, max_frame);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->send_message().text(), "salut");
}

TEST(codec, invalid_utf8_text_is_a_bad_request_that_says_so) {
    auto bytes = encode(send_with_text("ok"));
    auto pos = bytes.find("ok");
    ASSERT_NE(pos, std::string::npos);
    bytes[pos] = '\xc3';
    bytes[pos + 1] = '\x28';
    auto r = decode_client(bytes, max_frame);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, errc::bad_request);
    EXPECT_NE(r.error().message.find("UTF-8"), std::string::npos);
}

// Every refused frame is answered on its request id when it holds one.
TEST(codec, the_request_id_is_read_from_a_frame_that_does_not_decode) {
    auto bytes = encode(send_with_text("ok"));
    const auto pos = bytes.find("ok");
    bytes[pos] = '\xc3';
    bytes[pos + 1] = '\x28';
    ASSERT_FALSE(decode_client(bytes, max_frame));
    EXPECT_EQ(request_id_of(bytes), 7u);
    // An unknown body, and a body cut short, after the id.
    v1::ClientMessage bare;
    bare.set_request_id(1ull << 63);
    EXPECT_EQ(request_id_of(encode(bare) + std::string("\xfa\x06\x00", 3)), 1ull << 63);
    EXPECT_EQ(request_id_of(encode(bare) + std::string("\x82\x01\x7f", 3)), 1ull << 63);
    // The id after the body, and an id given twice (the last one wins, as
    // when protobuf decodes it).
    auto body_first = encode(send_with_text("salut"));
    body_first = body_first.substr(2) + body_first.substr(0, 2);
    EXPECT_EQ(request_id_of(body_first), 7u);
    EXPECT_EQ(request_id_of(encode(bare) + std::string("\x08\x09", 2)), 9u);
    // None to read.
    EXPECT_EQ(request_id_of(""), 0u);
    EXPECT_EQ(request_id_of(std::string("\xff\xfe\xfd garbage", 12)), 0u);
    EXPECT_EQ(request_id_of(std::string("\x08", 1)), 0u);
}

TEST(utf8, accepts_french_and_emoji_and_rejects_broken_sequences) {
    EXPECT_TRUE(valid_utf8("Médiation numérique à Bourg-en-Bresse"));
    EXPECT_TRUE(valid_utf8("\xf0\x9f\x91\x8b"));   // U+1F44B
    EXPECT_TRUE(valid_utf8("\xf4\x8f\xbf\xbf"));   // U+10FFFF
    EXPECT_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    EXPECT_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
    EXPECT_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate
    EXPECT_FALSE(valid_utf8("\xe2\x82"));          // truncated
    EXPECT_FALSE(valid_utf8("\x80"));              // lone continuation
}

TEST(limits, welcome_carries_every_limit) {
    limits l;
    v1::Limits wire;
    to_wire(l, wire);
    EXPECT_EQ(wire.max_frame_bytes(), l.max_frame_bytes);
    EXPECT_EQ(wire.max_text_bytes(), l.max_text_bytes);
    EXPECT_EQ(wire.max_page_size(), l.max_page_size);
    EXPECT_EQ(wire.send_burst(), l.send_burst);
    EXPECT_LT(l.max_frame_bytes, 16u * 1024 * 1024);
}

TEST(errors, every_code_maps_to_the_same_wire_code) {
    for (int c = 1; c <= 9; ++c) {
        auto code = static_cast<errc>(c);
        EXPECT_EQ(static_cast<int>(to_wire(code)), c) << to_string(code);
    }
    EXPECT_EQ(to_wire(errc::not_found), v1::NOT_FOUND);
    EXPECT_EQ(to_wire(errc::rate_limited), v1::RATE_LIMITED);
}

TEST(ws_url, addresses_a_person_types_are_read_and_others_refused) {
    auto plain = parse_ws_url("ws://127.0.0.1:7680");
    ASSERT_TRUE(plain);
    EXPECT_FALSE(plain->tls);
    EXPECT_EQ(plain->host, "127.0.0.1");
    EXPECT_EQ(plain->port, "7680");
    EXPECT_EQ(plain->path, "/");
    auto tls = parse_ws_url("wss://relais.example.org/chat");
    ASSERT_TRUE(tls);
    EXPECT_TRUE(tls->tls);
    EXPECT_EQ(tls->host, "relais.example.org");
    EXPECT_EQ(tls->port, "443");
    EXPECT_EQ(tls->path, "/chat");
    auto v6 = parse_ws_url("ws://[::1]:8080/");
    ASSERT_TRUE(v6);
    EXPECT_EQ(v6->host, "::1");
    EXPECT_EQ(v6->port, "8080");
    EXPECT_EQ(parse_ws_url("ws://relais")->port, "80");
    for (const char* bad :
         {"http://relais:80", "relais:7680", "ws://", "ws://:7680", "ws://[::1", "ws://host:"}) {
        EXPECT_FALSE(parse_ws_url(bad)) << bad;
    }
}

}  // namespace
}  // namespace relais::protocol
