// Live conversation, visibility and fan-out through the real server binary.
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <map>
#include <set>
#include <thread>

#include "tests/integration/harness.hpp"

namespace relais::testing {
namespace {

using client::client;

// The next message pushed to `c` that `author` wrote.
asio::awaitable<std::optional<v1::Event>> next_message(client& c, const std::string& author) {
    for (;;) {
        auto push = co_await c.next_push(std::chrono::seconds(10));
        if (!push) {
            co_return std::nullopt;
        }
        if (push->has_event() && push->event().has_message() &&
            push->event().actor().name() == author) {
            co_return push->event();
        }
    }
}

TEST(conversation, two_users_converse_live) {
    server_process server;
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto alice = co_await logged_in(server, "alice");
        auto bob = co_await logged_in(server, "bob");
        auto channel = co_await alice->create_channel("accueil", "Bienvenue", false);
        require(channel, "channel");
        require(co_await bob->join(client::by_name("accueil")), "join accueil");

        require(co_await alice->send(client::by_name("accueil"), "Bonjour Bob !"), "send accueil");
        auto heard = co_await next_message(*bob, "alice");
        require(heard, "heard");
        EXPECT_EQ(heard->message().text(), "Bonjour Bob !");
        EXPECT_EQ(heard->actor().name(), "alice");

        require(co_await bob->send(client::by_name("accueil"), "Salut Alice, ça va ? 👋"),
                "send accueil");
        auto reply = co_await next_message(*alice, "bob");
        require(reply, "reply");
        EXPECT_EQ(reply->message().text(), "Salut Alice, ça va ? 👋");
        EXPECT_EQ(reply->actor().name(), "bob");
        EXPECT_EQ(reply->seq(), heard->seq() + 1);

        auto members = co_await alice->members(client::by_name("accueil"));
        require(members, "members");
        require_eq(members->size(), 2u, "members->size() == 2u");
        EXPECT_TRUE((*members)[0].online() && (*members)[1].online());
        co_await alice->close();
        co_await bob->close();
    }());
}

TEST(conversation, private_channel_stays_invisible_to_a_non_member) {
    server_process server;
    server.add_user("alice");
    server.add_user("mallory");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto alice = co_await logged_in(server, "alice");
        auto mallory = co_await logged_in(server, "mallory");
        auto secret = co_await alice->create_channel("coordination", "", true);
        require(secret, "secret");
        require(co_await alice->send(client::by_name("coordination"), "confidentiel"),
                "send coordination");

        auto list = co_await mallory->list_channels();
        require(list, "list");
        EXPECT_TRUE(list->empty());
        for (auto ref : {client::by_name("coordination"), client::by_id(secret->id())}) {
            auto page = co_await mallory->history(ref, 0, 0, 50);
            require(!(page), "!page");
            EXPECT_EQ(page.error().code, errc::not_found);
            auto joined = co_await mallory->join(ref);
            require(!(joined), "!joined");
            EXPECT_EQ(joined.error().code, errc::not_found);
            auto synced = co_await mallory->sync(ref, 0);
            EXPECT_FALSE(synced);
        }
        auto push = co_await mallory->next_push(std::chrono::milliseconds(300));
        EXPECT_FALSE(push && push->has_event()) << "an event of a private channel leaked";
        co_await alice->close();
        co_await mallory->close();
    }());
}

TEST(conversation, fifty_clients_send_200_each_and_all_see_every_message_once_in_order) {
    constexpr int clients = 50;
    constexpr int per_client = 200;
    server_process server({"--send-rate", "100000", "--send-burst", "100000", "--connection-rate",
                           "100000", "--connection-burst", "100000"});
    // Two at a time: each account costs an Argon2 hash.
    std::vector<std::thread> makers;
    for (int t = 0; t < 2; ++t) {
        makers.emplace_back([&, t] {
            for (int i = t; i < clients; i += 2) {
                server.add_user("user" + std::to_string(i));
            }
        });
    }
    for (auto& m : makers) {
        m.join();
    }
    server.start();

    run_sync([&]() -> asio::awaitable<void> {
        std::vector<std::unique_ptr<client>> all;
        for (int i = 0; i < clients; ++i) {
            all.push_back(co_await logged_in(server, "user" + std::to_string(i)));
        }
        auto channel = co_await all[0]->create_channel("tous", "", false);
        require(channel, "channel");
        for (auto& c : all) {
            auto joined = co_await c->join(client::by_id(channel->id()));
            require(joined, "joined");
            c->follow(channel->id(), joined->last_seq());
        }
        // Everyone sends at once; each waits for its own acks.
        auto sender = [&](client& c, int index) -> asio::awaitable<void> {
            for (int m = 0; m < per_client; ++m) {
                auto sent = co_await c.send(
                    client::by_id(channel->id()),
                    "message " + std::to_string(m) + " de " + std::to_string(index));
                EXPECT_TRUE(sent) << (sent ? "" : sent.error().message);
            }
        };
        auto executor = co_await asio::this_coro::executor;
        int senders_done = 0;
        for (int i = 0; i < clients; ++i) {
            asio::co_spawn(executor, sender(*all[i], i),
                           [&](std::exception_ptr) { ++senders_done; });
        }
        // Each client's view: the message seqs and ids, in arrival order.
        std::vector<std::vector<std::pair<std::uint64_t, std::string>>> seen(clients);
        for (int i = 0; i < clients; ++i) {
            while (seen[i].size() < clients * per_client) {
                auto push = co_await all[i]->next_push(std::chrono::seconds(60));
                if (!push) {
                    break;
                }
                if (push->has_event() && push->event().has_message()) {
                    seen[i].emplace_back(push->event().seq(),
                                         push->event().message().client_msg_id());
                }
            }
        }
        EXPECT_TRUE(
            co_await wait_until([&] { return senders_done == clients; }, std::chrono::seconds(60)));
        std::set<std::string> distinct;
        for (const auto& [seq, id] : seen[0]) {
            distinct.insert(id);
        }
        EXPECT_EQ(distinct.size(), static_cast<std::size_t>(clients * per_client));
        for (int i = 0; i < clients; ++i) {
            require_eq(seen[i].size(), static_cast<std::size_t>(clients * per_client),
                       "messages seen by client " + std::to_string(i));
            for (std::size_t k = 1; k < seen[i].size(); ++k) {
                require(seen[i][k - 1].first < seen[i][k].first,
                        "seq order seen by client " + std::to_string(i));
            }
            EXPECT_EQ(seen[i], seen[0]) << "client " << i << " saw another order";
        }
        for (auto& c : all) {
            co_await c->close();
        }
    }());
}

TEST(conversation, wss_with_a_test_certificate) {
    server_process server({}, true);
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    require_eq(server.url().rfind("wss://", 0), 0u, "url wss://");
    run_sync([&]() -> asio::awaitable<void> {
        auto alice = co_await logged_in(server, "alice");
        auto bob = co_await logged_in(server, "bob");
        require(co_await alice->create_channel("chiffre", "", false), "create_channel chiffre");
        require(co_await bob->join(client::by_name("chiffre")), "join chiffre");
        require(co_await alice->send(client::by_name("chiffre"), "par TLS"), "send chiffre");
        auto heard = co_await next_message(*bob, "alice");
        require(heard, "heard");
        EXPECT_EQ(heard->message().text(), "par TLS");

        // Without the test CA, the certificate is refused.
        auto opts = server.client_options();
        opts.ca_file.clear();
        client untrusting(co_await asio::this_coro::executor, opts);
        auto refused = co_await untrusting.connect();
        EXPECT_FALSE(refused);
        co_await alice->close();
        co_await bob->close();
    }());
}

TEST(conversation, healthz_answers_on_the_websocket_port) {
    server_process server;
    server.start();
    auto response = server.http_get("/healthz");
    EXPECT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
    EXPECT_NE(server.http_get("/nothing").find("404"), std::string::npos);
}

TEST(conversation, websocket_upgrades_from_unlisted_browser_origins_are_refused) {
    server_process server({"--allowed-origin", "https://relais.example.org"});
    server.start();
    auto upgrade = [&](const std::string& origin_header) {
        return server.http_raw(
            "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n" +
            origin_header + "\r\n");
    };
    EXPECT_EQ(upgrade("Origin: https://evil.example\r\n").rfind("HTTP/1.1 403", 0), 0u);
    EXPECT_EQ(upgrade("Origin: https://relais.example.org\r\n").rfind("HTTP/1.1 101", 0), 0u);
    EXPECT_EQ(upgrade("").rfind("HTTP/1.1 101", 0), 0u);  // not a browser
}

TEST(conversation, sigterm_closes_connections_and_exits_zero) {
    server_process server;
    server.add_user("alice");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto opts = server.client_options();
        opts.reconnect = false;
        auto alice = co_await logged_in(server, "alice", opts);
        require(co_await alice->create_channel("fin", "", false), "create_channel fin");
        int exit_code = -1;
        std::thread stopper([&] { exit_code = server.terminate(); });
        // The client keeps running meanwhile, so it answers the close frame.
        EXPECT_TRUE(
            co_await wait_until([&] { return !alice->connected(); }, std::chrono::seconds(20)));
        stopper.join();
        EXPECT_EQ(exit_code, 0);
    }());
}

}  // namespace
}  // namespace relais::testing
