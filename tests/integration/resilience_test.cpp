// Reconnection, resync, idempotent retries and kill -9, through the real
// server binary.
#include <map>
#include <set>

#include "protocol/codec.hpp"
#include "protocol/url.hpp"

#include "clients/lib/transport.hpp"
#include "tests/integration/harness.hpp"

namespace relais::testing {
namespace {

using client::client;

// Message seqs pushed to `c` for `channel`, until `count` arrived or a pause.
asio::awaitable<std::vector<std::uint64_t>> collect(client& c, std::uint64_t channel,
                                                    std::size_t count) {
    std::vector<std::uint64_t> seqs;
    while (seqs.size() < count) {
        auto push = co_await c.next_push(std::chrono::seconds(20));
        if (!push) {
            break;
        }
        if (push->has_event() && push->event().channel_id() == channel &&
            push->event().has_message()) {
            seqs.push_back(push->event().seq());
        }
    }
    co_return seqs;
}

void expect_consecutive(const std::vector<std::uint64_t>& seqs, std::uint64_t first,
                        std::size_t count) {
    require_eq(seqs.size(), count, "seqs.size() == count");
    for (std::size_t i = 0; i < seqs.size(); ++i) {
        require_eq(seqs[i], first + i, "gap or duplicate at position " + std::to_string(i));
    }
}

asio::awaitable<std::uint64_t> send_many(client& c, std::uint64_t channel, int count,
                                         const std::string& prefix) {
    std::uint64_t last = 0;
    for (int i = 0; i < count; ++i) {
        auto sent = co_await c.send(client::by_id(channel), prefix + std::to_string(i));
        EXPECT_TRUE(sent) << (sent ? "" : sent.error().message);
        if (sent) {
            last = sent->event().seq();
        }
    }
    co_return last;
}

TEST(resilience, client_misses_1000_messages_and_resyncs_with_no_gap_and_no_duplicate) {
    server_process server(unthrottled);
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto alice = co_await logged_in(server, "alice");
        auto bob = co_await logged_in(server, "bob");
        auto channel = co_await alice->create_channel("reprise", "", false);
        require(channel, "channel");
        require(co_await bob->join(client::by_id(channel->id())),
                "co_await bob->join(client::by_id(channel->id()))");
        auto before = co_await send_many(*alice, channel->id(), 10, "avant ");
        auto seen = co_await collect(*bob, channel->id(), 10);
        require_eq(seen.size(), 10u, "seen.size() == 10u");
        co_await bob->close();  // bob goes away

        co_await send_many(*alice, channel->id(), 1000, "pendant ");

        auto bob_again = co_await logged_in(server, "bob");
        bob_again->follow(channel->id(), before);
        auto missed = co_await collect(*bob_again, channel->id(), 1000);
        expect_consecutive(missed, before + 1, 1000);
        auto extra = co_await bob_again->next_push(std::chrono::milliseconds(300));
        EXPECT_FALSE(extra && extra->has_event() && extra->event().has_message())
            << "a message was delivered twice";
        co_await alice->close();
        co_await bob_again->close();
    }());
}

TEST(resilience, dropped_connection_reconnects_by_itself_and_fills_the_gap) {
    server_process server(unthrottled);
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto alice = co_await logged_in(server, "alice");
        auto bob = co_await logged_in(server, "bob");
        auto channel = co_await alice->create_channel("coupure", "", false);
        require(channel, "channel");
        auto joined = co_await bob->join(client::by_id(channel->id()));
        require(joined, "joined");
        bob->follow(channel->id(), joined->last_seq());
        const auto first = joined->last_seq() + 1;

        int done = 0;
        asio::co_spawn(co_await asio::this_coro::executor,
                       send_many(*alice, channel->id(), 1000, "m"),
                       [&](std::exception_ptr, std::uint64_t) { ++done; });
        co_await wait_until([&] { return bob->last_seq(channel->id()) >= first + 200; },
                            std::chrono::seconds(20));
        bob->drop();  // the network fails in the middle of the stream
        auto seqs = co_await collect(*bob, channel->id(), 1000);
        expect_consecutive(seqs, first, 1000);
        EXPECT_GE(bob->reconnections(), 1u);
        co_await wait_until([&] { return done == 1; }, std::chrono::seconds(30));
        co_await alice->close();
        co_await bob->close();
    }());
}

TEST(resilience, client_ahead_of_a_restored_server_follows_it_again) {
    server_process server(unthrottled);
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto alice = co_await logged_in(server, "alice");
        auto bob = co_await logged_in(server, "bob");
        auto channel = co_await alice->create_channel("restaure", "", false);
        require(channel, "channel");
        auto joined = co_await bob->join(client::by_id(channel->id()));
        require(joined, "joined");
        // Bob saw seq 500 before the server was restored from a backup.
        bob->follow(channel->id(), joined->last_seq() + 500);
        require(co_await wait_until([&] { return bob->history_resets() == 1; },
                                    std::chrono::seconds(10)),
                "bob is told the cursor is unknown");
        require_eq(bob->last_seq(channel->id()), joined->last_seq(),
                   "followed from the server's end");
        auto sent = co_await alice->send(client::by_id(channel->id()), "après restauration");
        require(sent, "sent");
        auto seen = co_await collect(*bob, channel->id(), 1);
        expect_consecutive(seen, sent->event().seq(), 1);
        co_await alice->close();
        co_await bob->close();
    }());
}

// A send whose ack was lost: the server stored it, the client never heard.
asio::awaitable<void> send_and_lose_the_ack(const server_process& server, std::uint64_t channel,
                                            const std::string& client_msg_id) {
    // Throws (the test fails) on an address the harness never gives.
    const auto url = relais::protocol::parse_ws_url(server.url()).value();
    auto [ec, t] = co_await relais::client::open_transport(co_await asio::this_coro::executor, url,
                                                           "", 1 << 20);
    EXPECT_FALSE(ec);
    v1::ClientMessage hello;
    hello.mutable_hello()->set_protocol_version(1);
    co_await t->write(protocol::encode(hello));
    co_await t->read();
    v1::ClientMessage login;
    login.set_request_id(1);
    login.mutable_login()->set_name("alice");
    login.mutable_login()->set_password(server_process::password_of("alice"));
    co_await t->write(protocol::encode(login));
    co_await t->read();
    v1::ClientMessage send;
    send.set_request_id(2);
    send.mutable_send_message()->mutable_channel()->set_id(channel);
    send.mutable_send_message()->set_client_msg_id(client_msg_id);
    send.mutable_send_message()->set_text("une seule fois");
    co_await t->write(protocol::encode(send));
    // Give the server time to commit, then vanish before reading the ack.
    asio::steady_timer pause(co_await asio::this_coro::executor, std::chrono::milliseconds(300));
    co_await pause.async_wait(asio::use_awaitable);
    t->cut();
}

TEST(resilience, send_retried_with_the_same_client_msg_id_is_stored_once) {
    server_process server;
    server.add_user("alice");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto alice = co_await logged_in(server, "alice");
        auto channel = co_await alice->create_channel("une-fois", "", false);
        require(channel, "channel");
        const auto ref = client::by_id(channel->id());

        // 1. The ack was lost with the connection; the retry finds the original.
        co_await send_and_lose_the_ack(server, channel->id(), "lost-ack");
        auto retry = co_await alice->send(ref, "une seule fois", "lost-ack");
        require(retry, "retry");
        EXPECT_TRUE(retry->duplicate());

        // 2. Acked, then the connection drops; the app retries after reconnecting.
        auto first = co_await alice->send(ref, "deux", "after-drop");
        require(first, "first");
        alice->drop();
        auto again = co_await alice->send(ref, "deux", "after-drop");
        require(again, "again");
        EXPECT_TRUE(again->duplicate());
        EXPECT_EQ(again->event().seq(), first->event().seq());

        // 3. The connection drops while the send is in flight: the library
        // resends it by itself.
        bool in_flight_done = false;
        outcome<v1::Sent> in_flight = fail(errc::internal, "not finished");
        asio::co_spawn(co_await asio::this_coro::executor, alice->send(ref, "trois", "in-flight"),
                       [&](std::exception_ptr, outcome<v1::Sent> r) {
                           in_flight = std::move(r);
                           in_flight_done = true;
                       });
        alice->drop();
        co_await wait_until([&] { return in_flight_done; }, std::chrono::seconds(20));
        require(in_flight, "the send in flight during the drop");

        auto page = co_await alice->history(ref, 0, 0, 100);
        require(page, "page");
        std::map<std::string, int> stored;
        for (const auto& e : page->events()) {
            if (e.has_message()) {
                stored[e.message().client_msg_id()]++;
            }
        }
        EXPECT_EQ(stored["lost-ack"], 1);
        EXPECT_EQ(stored["after-drop"], 1);
        EXPECT_EQ(stored["in-flight"], 1);
        co_await alice->close();
    }());
}

TEST(resilience, kill_9_right_after_acks_loses_no_acknowledged_message) {
    server_process server(unthrottled);
    constexpr int writers = 8;
    constexpr int per_writer = 150;
    for (int i = 0; i < writers; ++i) {
        server.add_user("w" + std::to_string(i));
    }
    server.start();
    std::map<std::string, std::uint64_t> acknowledged;  // client_msg_id -> seq
    std::uint64_t channel_id = 0;
    run_sync([&]() -> asio::awaitable<void> {
        std::vector<std::unique_ptr<client>> all;
        for (int i = 0; i < writers; ++i) {
            auto opts = server.client_options();
            opts.reconnect = false;
            all.push_back(co_await logged_in(server, "w" + std::to_string(i), opts));
        }
        auto channel = co_await all[0]->create_channel("durable", "", false);
        require(channel, "channel");
        channel_id = channel->id();
        for (auto& c : all) {
            require(co_await c->join(client::by_id(channel_id)),
                    "co_await c->join(client::by_id(channel_id))");
        }
        int finished = 0;
        auto writer = [&](client& c, int index) -> asio::awaitable<void> {
            for (int m = 0; m < per_writer; ++m) {
                auto id = "w" + std::to_string(index) + "-" + std::to_string(m);
                auto sent = co_await c.send(client::by_id(channel_id), "durable " + id, id);
                if (sent) {
                    acknowledged[id] = sent->event().seq();
                }
            }
        };
        for (int i = 0; i < writers; ++i) {
            asio::co_spawn(co_await asio::this_coro::executor, writer(*all[i], i),
                           [&](std::exception_ptr) { ++finished; });
        }
        co_await wait_until([&] { return finished == writers; }, std::chrono::seconds(60));
        // The moment the last ack is in, the server dies without warning.
        server.kill_hard();
    }());
    require_eq(acknowledged.size(), static_cast<std::size_t>(writers * per_writer),
               "acknowledged.size() == static_cast<std::size_t>(writers * per_writer)");

    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto reader = co_await logged_in(server, "w0");
        std::map<std::string, std::uint64_t> stored;
        std::uint64_t after = 0;
        for (;;) {
            auto page = co_await reader->sync(client::by_id(channel_id), after);
            require(page, "page");
            for (const auto& e : page->events()) {
                EXPECT_EQ(e.seq(), after + 1) << "seq gap after restart";
                after = e.seq();
                if (e.has_message()) {
                    stored[e.message().client_msg_id()] = e.seq();
                }
            }
            if (!page->has_more()) {
                break;
            }
        }
        for (const auto& [id, seq] : acknowledged) {
            auto it = stored.find(id);
            require(it != stored.end(), "acknowledged message " + id + " was lost");
            EXPECT_EQ(it->second, seq);
        }
        co_await reader->close();
    }());
}

}  // namespace
}  // namespace relais::testing

namespace relais::testing {
namespace {

TEST(resilience, disabling_an_account_or_changing_its_password_closes_its_connections) {
    server_process server;
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    auto admin = [&](std::vector<std::string> args, const std::string& input = {}) {
        args.insert(args.begin(), server_binary());
        args.insert(args.end(), {"--data", server.data_dir().string()});
        return run_program(args, input).exit_code;
    };
    run_sync([&]() -> asio::awaitable<void> {
        auto alice = co_await logged_in(server, "alice");
        auto bob = co_await logged_in(server, "bob");
        require_eq(admin({"user", "disable", "alice"}), 0, "user disable");
        auto started = std::chrono::steady_clock::now();
        EXPECT_TRUE(
            co_await wait_until([&] { return alice->signed_out(); }, std::chrono::seconds(10)));
        EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
        EXPECT_FALSE(alice->connected());
        EXPECT_FALSE(co_await alice->list_channels());

        require_eq(admin({"user", "passwd", "bob"}, "nouveau\n"), 0, "user passwd");
        EXPECT_TRUE(
            co_await wait_until([&] { return bob->signed_out(); }, std::chrono::seconds(10)));
        co_await alice->close();
        co_await bob->close();
    }());
}

}  // namespace
}  // namespace relais::testing
