// Every kind of bad input gets its typed error or close code, and the server
// keeps serving others.
#include "protocol/codec.hpp"
#include "protocol/url.hpp"

#include "clients/lib/transport.hpp"
#include "tests/integration/harness.hpp"

namespace relais::testing {
namespace {

using client::client;

// A raw WebSocket peer that writes any bytes it likes.
class raw_peer {
  public:
    static asio::awaitable<std::unique_ptr<raw_peer>> open(const server_process& server) {
        // Throws (the test fails) on an address the harness never gives.
        const auto url = relais::protocol::parse_ws_url(server.url()).value();
        auto [ec, t] = co_await relais::client::open_transport(co_await asio::this_coro::executor,
                                                               url, "", 1 << 20);
        EXPECT_FALSE(ec) << ec.message();
        auto peer = std::make_unique<raw_peer>();
        peer->t_ = t;
        co_return peer;
    }

    asio::awaitable<v1::ServerMessage> ask(const std::string& bytes) {
        co_await t_->write(bytes);
        co_return co_await next();
    }
    asio::awaitable<v1::ServerMessage> ask(v1::ClientMessage msg, std::uint64_t id) {
        msg.set_request_id(id);
        co_return co_await ask(protocol::encode(msg));
    }
    // The next answer (pushed events are skipped); an empty message once
    // the connection has ended.
    asio::awaitable<v1::ServerMessage> next() {
        for (;;) {
            auto [ec, data] = co_await t_->read();
            if (ec) {
                co_return v1::ServerMessage{};
            }
            auto msg = protocol::decode_server(data, 1 << 30);
            EXPECT_TRUE(msg);
            if (msg && !msg->has_event() && !msg->has_presence()) {
                co_return *msg;
            }
        }
    }
    relais::client::transport& transport() { return *t_; }

  private:
    std::shared_ptr<relais::client::transport> t_;
};

v1::ClientMessage hello() {
    v1::ClientMessage m;
    m.mutable_hello()->set_protocol_version(1);
    return m;
}

v1::ClientMessage login(const std::string& name) {
    v1::ClientMessage m;
    m.mutable_login()->set_name(name);
    m.mutable_login()->set_password(server_process::password_of(name));
    return m;
}

v1::ClientMessage list_channels() {
    v1::ClientMessage m;
    m.mutable_list_channels();
    return m;
}

v1::ClientMessage send_to(const std::string& channel, const std::string& text,
                          const std::string& id) {
    v1::ClientMessage m;
    auto& s = *m.mutable_send_message();
    s.mutable_channel()->set_name(channel);
    s.set_text(text);
    s.set_client_msg_id(id);
    return m;
}

v1::ErrorCode code(const v1::ServerMessage& m) {
    return m.has_error() ? m.error().code() : v1::ERROR_CODE_UNSPECIFIED;
}

TEST(bad_input, each_bad_request_gets_its_typed_error_and_the_server_keeps_serving) {
    server_process server;
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto owner = co_await logged_in(server, "bob");
        require(co_await owner->create_channel("prive", "", true), "create_channel prive");
        require(co_await owner->create_channel("public", "", false), "create_channel public");

        auto peer = co_await raw_peer::open(server);
        // Before Hello.
        EXPECT_EQ(code(co_await peer->ask(list_channels(), 1)), v1::BAD_REQUEST);
        EXPECT_TRUE((co_await peer->ask(hello(), 2)).has_welcome());
        // Before login.
        auto early = co_await peer->ask(list_channels(), 3);
        EXPECT_EQ(code(early), v1::UNAUTHENTICATED);
        EXPECT_EQ(early.request_id(), 3u);
        EXPECT_TRUE((co_await peer->ask(login("alice"), 4)).has_session());
        // Not protobuf at all.
        EXPECT_EQ(code(co_await peer->ask(std::string("\xff\xfe\xfd garbage", 12))),
                  v1::BAD_REQUEST);
        // A kind this server does not know (a newer client), answered on its id.
        v1::ClientMessage unknown;
        unknown.set_request_id(5);
        auto bytes = protocol::encode(unknown) + std::string("\xfa\x06\x00", 3);
        auto unknown_answer = co_await peer->ask(bytes);
        EXPECT_EQ(code(unknown_answer), v1::BAD_REQUEST);
        EXPECT_EQ(unknown_answer.request_id(), 5u);
        // Invalid UTF-8 inside a text field, answered on its id all the same.
        auto invalid_send = send_to("public", "ok", "u1");
        invalid_send.set_request_id(10);
        auto invalid = protocol::encode(invalid_send);
        auto at = invalid.find("ok");
        invalid[at] = '\xc3';
        invalid[at + 1] = '\x28';
        auto utf8 = co_await peer->ask(invalid);
        EXPECT_EQ(code(utf8), v1::BAD_REQUEST);
        EXPECT_NE(utf8.error().message().find("UTF-8"), std::string::npos);
        EXPECT_EQ(utf8.request_id(), 10u);
        // A private channel it cannot see, and a public one it has not joined.
        EXPECT_EQ(code(co_await peer->ask(send_to("prive", "coucou", "p1"), 6)), v1::NOT_FOUND);
        EXPECT_EQ(code(co_await peer->ask(send_to("public", "coucou", "p2"), 7)), v1::NOT_FOUND);
        // Text over the limit.
        EXPECT_EQ(code(co_await peer->ask(send_to("public", std::string(20000, 'x'), "p3"), 8)),
                  v1::TOO_LARGE);
        // The connection still works after all of that.
        EXPECT_TRUE((co_await peer->ask(list_channels(), 9)).has_channels());

        // Others were served all along.
        EXPECT_TRUE(co_await owner->send(client::by_name("public"), "toujours là"));
        co_await owner->close();
    }());
}

TEST(bad_input, a_flood_beyond_the_rate_limit_is_refused_with_a_retry_delay) {
    server_process server({"--send-rate", "10", "--send-burst", "50"});
    server.add_user("alice");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto alice = co_await logged_in(server, "alice");
        require(co_await alice->create_channel("flot", "", false), "create_channel flot");
        auto peer = co_await raw_peer::open(server);
        co_await peer->ask(hello(), 1);
        require((co_await peer->ask(login("alice"), 2)).has_session(), "ask alice");
        constexpr int flood = 200;
        auto started = std::chrono::steady_clock::now();
        for (int i = 0; i < flood; ++i) {
            auto m = send_to("flot", "spam", "s" + std::to_string(i));
            m.set_request_id(100 + static_cast<std::uint64_t>(i));
            co_await peer->transport().write(protocol::encode(m));
        }
        int accepted = 0, limited = 0;
        for (int i = 0; i < flood; ++i) {
            auto answer = co_await peer->next();
            if (answer.has_sent()) {
                ++accepted;
            } else if (code(answer) == v1::RATE_LIMITED) {
                ++limited;
                EXPECT_GT(answer.error().retry_after_ms(), 0u);
            }
        }
        double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        EXPECT_EQ(accepted + limited, flood);
        EXPECT_LE(accepted, 50 + static_cast<int>(10 * seconds) + 1);
        EXPECT_GT(limited, 0);
        // Another account is not slowed by it.
        auto bob_ok = co_await alice->list_channels();
        EXPECT_TRUE(bob_ok);
        co_await alice->close();
    }());
}

TEST(bad_input, oversized_frame_and_text_frame_are_closed_with_their_codes) {
    server_process server;
    server.add_user("alice");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        // The server closes with 1009 as soon as it reads the frame's header;
        // the rest of the frame, still unread, can make the kernel reset the
        // connection before the close frame is read. Try a few times: the
        // code must come through, and the connection must always end.
        int close_code = 0;
        for (int attempt = 0; attempt < 5 && close_code != 1009; ++attempt) {
            auto big = co_await raw_peer::open(server);
            co_await big->ask(hello(), 1);
            co_await big->transport().write(std::string(70 * 1024, 'x'));
            auto after_big = co_await big->next();
            EXPECT_EQ(after_big.body_case(), v1::ServerMessage::BODY_NOT_SET);
            close_code = big->transport().close_code();
        }
        EXPECT_EQ(close_code, 1009);

        auto text = co_await raw_peer::open(server);
        co_await text->ask(hello(), 1);
        co_await text->transport().write(R"({"list_channels": {}})", true);
        auto after_text = co_await text->next();
        EXPECT_EQ(after_text.body_case(), v1::ServerMessage::BODY_NOT_SET);
        EXPECT_EQ(text->transport().close_code(), 1003);

        // And the server still serves.
        auto alice = co_await logged_in(server, "alice");
        EXPECT_TRUE(co_await alice->list_channels());
        co_await alice->close();
    }());
}

}  // namespace
}  // namespace relais::testing
