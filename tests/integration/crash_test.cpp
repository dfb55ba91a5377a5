// kill -9 at random moments under load, retries of every kind, and random
// disconnects while readers follow: checked against the committed history.
// The CI runs a short version; RELAIS_CRASH_ROUNDS and RELAIS_DISCONNECTS set
// the long one (README, "Long runs").
#include <cstdlib>
#include <random>

#include "tests/integration/harness.hpp"
#include "tests/integration/history_checker.hpp"

namespace relais::testing {
namespace {

using client::client;

int from_env(const char* name, int otherwise) {
    const char* value = std::getenv(name);
    return value ? std::atoi(value) : otherwise;
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

TEST(crash, kill_9_at_random_moments_loses_no_acknowledged_message_and_stores_each_once) {
    const int rounds = from_env("RELAIS_CRASH_ROUNDS", 5);
    constexpr int writers = 50;
    constexpr int channels = 5;
    constexpr auto pace = std::chrono::milliseconds(25);  // 40 msg/s each, 2,000 in all
    server_process server(unthrottled);
    const auto bots = server.add_bots("w", writers);
    require_eq(bots.size(), static_cast<std::size_t>(writers), "bots");
    server.start();
    std::mt19937_64 random(from_env("RELAIS_SEED", 1128));

    history_checker checker;
    std::size_t failed_sends = 0;
    run_sync([&]() -> asio::awaitable<void> {
        auto opts = server.client_options();
        opts.min_backoff = std::chrono::milliseconds(20);
        opts.max_backoff = std::chrono::milliseconds(200);
        std::vector<std::unique_ptr<client>> all, twins;
        for (const auto& [name, token] : bots) {
            all.push_back(co_await resumed(token, opts));
        }
        // Five writers also have a second connection, as a user with a phone
        // and a laptop has.
        for (int i = 0; i < channels; ++i) {
            twins.push_back(co_await resumed(bots[i].second, opts));
        }
        std::vector<std::uint64_t> channel_ids;
        for (int c = 0; c < channels; ++c) {
            auto ch = co_await all[0]->create_channel("crash-" + std::to_string(c), "", false);
            require(ch, "channel");
            channel_ids.push_back(ch->id());
        }
        for (int i = 0; i < writers; ++i) {
            require(co_await all[i]->join(client::by_id(channel_ids[i % channels])), "join");
        }

        bool stop = false;
        int finished = 0;
        std::map<int, std::pair<std::uint64_t, std::string>> last_acked;
        auto retry = [&](int i, std::uint64_t channel, const std::string& id,
                         int how) -> asio::awaitable<void> {
            auto& c = *all[i];
            const auto ref = client::by_id(channel);
            const std::string text = "crash " + id;
            outcome<v1::Sent> again = fail(errc::internal, "not retried");
            switch (how) {
                case 0:  // the same connection, at once
                    again = co_await c.send(ref, text, id);
                    break;
                case 1:  // the same account on another connection
                    again = co_await twins[static_cast<std::size_t>(i)]->send(ref, text, id);
                    break;
                case 2:  // after the connection dropped
                    c.drop();
                    again = co_await c.send(ref, text, id);
                    break;
            }
            if (again) {
                checker.retried(channel, id, again->event().seq());
            } else {
                ++failed_sends;
            }
        };
        auto writer = [&](int i) -> asio::awaitable<void> {
            auto& c = *all[i];
            const auto channel = channel_ids[static_cast<std::size_t>(i % channels)];
            const auto ref = client::by_id(channel);
            for (int n = 0; !stop; ++n) {
                const auto id = "w" + std::to_string(i) + "-" + std::to_string(n);
                const std::string text = "crash " + id;
                if (n % 10 == 3) {
                    // The same id sent twice at once: one store, one seq.
                    outcome<v1::Sent> first = fail(errc::internal, "unfinished");
                    bool first_done = false;
                    asio::co_spawn(co_await asio::this_coro::executor, c.send(ref, text, id),
                                   [&](std::exception_ptr, outcome<v1::Sent> r) {
                                       first = std::move(r);
                                       first_done = true;
                                   });
                    auto second = co_await c.send(ref, text, id);
                    co_await wait_until([&] { return first_done; }, std::chrono::seconds(60));
                    for (auto* r : {&first, &second}) {
                        if (*r) {
                            checker.acknowledged(channel, id, (*r)->event().seq());
                        } else {
                            ++failed_sends;
                        }
                    }
                } else {
                    auto sent = co_await c.send(ref, text, id);
                    if (!sent) {
                        ++failed_sends;
                    } else {
                        checker.acknowledged(channel, id, sent->event().seq());
                        last_acked[i] = {channel, id};
                        if (n % 10 == 7) {
                            co_await retry(i, channel, id, i < channels ? (n / 10) % 3 : 0);
                        }
                    }
                }
                co_await sleep_for(pace);
            }
        };
        for (int i = 0; i < writers; ++i) {
            asio::co_spawn(co_await asio::this_coro::executor, writer(i),
                           [&](std::exception_ptr e) {
                               ++finished;
                               if (e) {
                                   ++failed_sends;
                               }
                           });
        }
        std::uniform_int_distribution<int> moment(300, 1500);
        for (int r = 0; r < rounds; ++r) {
            co_await sleep_for(std::chrono::milliseconds(moment(random)));
            server.kill_hard();
            server.start();
            // After the restart, the last acknowledged message of some
            // writers is sent again: the retry must find the original.
            for (int i = 0; i < writers; i += 10) {
                if (auto it = last_acked.find(i); it != last_acked.end()) {
                    const auto [channel, id] = it->second;
                    auto again = co_await all[static_cast<std::size_t>(i)]->send(
                        client::by_id(channel), "crash " + id, id);
                    if (again) {
                        checker.retried(channel, id, again->event().seq());
                    } else {
                        ++failed_sends;
                    }
                }
            }
        }
        co_await sleep_for(std::chrono::milliseconds(500));
        stop = true;
        co_await wait_until([&] { return finished == writers; }, std::chrono::seconds(120));
        require_eq(finished, writers, "every writer finished");

        auto f = co_await checker.check(*all[0]);
        std::printf("crash: %d kill -9, %s\n", rounds, f.summary().c_str());
        EXPECT_TRUE(f.clean()) << f.summary();
        EXPECT_GT(f.acknowledged, static_cast<std::size_t>(rounds) * 200);
        EXPECT_GT(f.retries, 0u);
        EXPECT_EQ(failed_sends, 0u);
        for (auto& c : all) {
            co_await c->close();
        }
        for (auto& c : twins) {
            co_await c->close();
        }
    }());
}

}  // namespace
}  // namespace relais::testing
