// Readers behind a proxy that keeps cutting their connections (mid-frame,
// mid-backlog, mid-handshake) while writers send: every reader's log must
// equal the committed log. RELAIS_DISCONNECTS sets how many cuts (README,
// "Long runs").
#include <cstdlib>

#include "tests/integration/chaos_proxy.hpp"
#include "tests/integration/harness.hpp"
#include "tests/integration/history_checker.hpp"

namespace relais::testing {
namespace {

using client::client;

TEST(resync, random_disconnects_leave_every_reader_with_the_committed_log) {
    const char* env = std::getenv("RELAIS_DISCONNECTS");
    const std::size_t disconnects = env ? std::strtoul(env, nullptr, 10) : 1000;
    constexpr int writers = 3;
    constexpr int readers = 6;
    server_process server(unthrottled, /*tls=*/true);
    const auto bots = server.add_bots("r", writers + readers);
    server.start();

    history_checker checker;
    run_sync([&]() -> asio::awaitable<void> {
        const auto port =
            static_cast<std::uint16_t>(std::stoi(server.url().substr(server.url().rfind(':') + 1)));
        chaos_proxy proxy(co_await asio::this_coro::executor, port, 20261128);

        auto direct = server.client_options();
        std::vector<std::unique_ptr<client>> writing;
        for (int i = 0; i < writers; ++i) {
            writing.push_back(co_await resumed(bots[static_cast<std::size_t>(i)].second, direct));
        }
        // Two channels: two writers in the first, one in the second.
        std::vector<std::uint64_t> channels;
        for (const char* name : {"resync-a", "resync-b"}) {
            auto ch = co_await writing[0]->create_channel(name, "", false);
            require(ch, "channel");
            channels.push_back(ch->id());
        }
        require(co_await writing[1]->join(client::by_id(channels[0])), "join");
        require(co_await writing[2]->join(client::by_id(channels[1])), "join");

        auto through_proxy = server.client_options();
        through_proxy.url = "wss://127.0.0.1:" + std::to_string(proxy.port());
        through_proxy.min_backoff = std::chrono::milliseconds(1);
        through_proxy.max_backoff = std::chrono::milliseconds(20);
        proxy.set_cutting(false);
        struct reader_state {
            std::unique_ptr<client> c;
            std::map<std::uint64_t, std::uint64_t> followed_from;
            std::map<std::uint64_t, std::vector<logged_event>> log;
        };
        std::vector<reader_state> reading(readers);
        for (int i = 0; i < readers; ++i) {
            auto& r = reading[static_cast<std::size_t>(i)];
            r.c =
                co_await resumed(bots[static_cast<std::size_t>(writers + i)].second, through_proxy);
            for (auto channel : channels) {
                auto joined = co_await r.c->join(client::by_id(channel));
                require(joined, "reader join");
                r.followed_from[channel] = joined->last_seq();
                r.c->follow(channel, joined->last_seq());
            }
        }
        proxy.set_cutting(true);

        bool stop_writing = false, stop_reading = false;
        int finished = 0;
        std::size_t failed_sends = 0;
        auto writer = [&](int i, std::uint64_t channel) -> asio::awaitable<void> {
            asio::steady_timer pace(co_await asio::this_coro::executor);
            for (int n = 0; !stop_writing; ++n) {
                const auto id = "r" + std::to_string(i) + "-" + std::to_string(n);
                auto sent = co_await writing[static_cast<std::size_t>(i)]->send(
                    client::by_id(channel), "resync " + id + std::string(n % 7 * 40, '.'), id);
                if (sent) {
                    checker.acknowledged(channel, id, sent->event().seq());
                } else {
                    ++failed_sends;
                }
                pace.expires_after(std::chrono::milliseconds(4));
                co_await pace.async_wait(asio::use_awaitable);
            }
        };
        auto reader = [&](reader_state& r) -> asio::awaitable<void> {
            while (!stop_reading) {
                auto push = co_await r.c->next_push(std::chrono::milliseconds(50));
                // The reader's own join reaches it before its answer does,
                // so before the follow: the log starts after the join.
                if (push && push->has_event() &&
                    push->event().seq() > r.followed_from[push->event().channel_id()]) {
                    r.log[push->event().channel_id()].push_back(as_logged(push->event()));
                }
            }
        };
        auto count_finished = [&](std::exception_ptr) { ++finished; };
        for (int i = 0; i < writers; ++i) {
            asio::co_spawn(co_await asio::this_coro::executor, writer(i, channels[i == 2 ? 1 : 0]),
                           count_finished);
        }
        for (auto& r : reading) {
            asio::co_spawn(co_await asio::this_coro::executor, reader(r), count_finished);
        }

        const auto started = std::chrono::steady_clock::now();
        co_await wait_until([&] { return proxy.cuts() >= disconnects; }, std::chrono::seconds(600));
        const auto cutting_time = std::chrono::steady_clock::now() - started;
        EXPECT_GE(proxy.cuts(), disconnects);
        proxy.set_cutting(false);
        stop_writing = true;
        co_await wait_until([&] { return finished == writers; }, std::chrono::seconds(60));

        auto f = co_await checker.check(*writing[0]);
        EXPECT_TRUE(f.clean()) << f.summary();
        EXPECT_EQ(failed_sends, 0u);
        // Every reader catches up with the committed log, then must hold it
        // exactly: no gap, no duplicate, the same order.
        auto caught_up = [&] {
            for (auto& r : reading) {
                for (auto channel : channels) {
                    const auto& log = checker.committed(channel);
                    if (log.empty() || r.c->last_seq(channel) < log.back().seq) {
                        return false;
                    }
                }
            }
            return true;
        };
        EXPECT_TRUE(co_await wait_until(caught_up, std::chrono::seconds(60)));
        co_await wait_until([] { return false; }, std::chrono::milliseconds(200));
        stop_reading = true;
        co_await wait_until([&] { return finished == writers + readers; },
                            std::chrono::seconds(10));
        std::size_t delivered = 0, reconnections = 0;
        for (auto& r : reading) {
            reconnections += r.c->reconnections();
            for (auto channel : channels) {
                delivered += r.log[channel].size();
                EXPECT_EQ(
                    checker.compare_delivered(channel, r.followed_from[channel], r.log[channel]),
                    "");
            }
        }
        std::printf(
            "resync: %zu disconnects (%zu during handshakes) in %.1f s, %zu reconnections,"
            " %zu events delivered to %d readers; %s\n",
            proxy.cuts(), proxy.early_cuts(), std::chrono::duration<double>(cutting_time).count(),
            reconnections, delivered, readers, f.summary().c_str());
        EXPECT_GE(reconnections, disconnects / 2);
        for (auto& w : writing) {
            co_await w->close();
        }
        for (auto& r : reading) {
            co_await r.c->close();
        }
    }());
}

}  // namespace
}  // namespace relais::testing
