// Threads, unread counts and reactions through the real server binary and
// the client library, with many clients at once.
#include <map>
#include <random>
#include <set>

#include "tests/integration/harness.hpp"

namespace relais::testing {
namespace {

using client::client;

asio::awaitable<outcome<v1::Sent>> reply(client& c, std::uint64_t channel, std::uint64_t root,
                                         std::string text) {
    v1::SendMessage send;
    *send.mutable_channel() = client::by_id(channel);
    send.set_text(std::move(text));
    send.set_thread_seq(root);
    send.set_client_msg_id(client::new_message_id());
    co_return co_await c.ask(std::move(send));
}

TEST(threads, a_thread_of_300_replies_from_5_people_reads_back_by_pages_without_gap_or_duplicate) {
    server_process server(unthrottled);
    for (int i = 0; i < 5; ++i) {
        server.add_user("p" + std::to_string(i));
    }
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        std::vector<std::unique_ptr<client>> people;
        for (int i = 0; i < 5; ++i) {
            people.push_back(co_await logged_in(server, "p" + std::to_string(i)));
        }
        auto channel = co_await people[0]->create_channel("atelier", "", false);
        require(channel, "channel");
        for (auto& p : people) {
            require(co_await p->join(client::by_id(channel->id())), "join");
        }
        auto root = co_await people[0]->send(client::by_id(channel->id()), "Le fil");
        require(root, "root");
        const auto root_seq = root->event().seq();
        // Five writers at once, with channel messages in between.
        std::set<std::uint64_t> sent;
        int finished = 0;
        auto writer = [&](client& c, int who) -> asio::awaitable<void> {
            for (int i = 0; i < 60; ++i) {
                auto r = co_await reply(c, channel->id(), root_seq,
                                        "réponse " + std::to_string(who) + "-" + std::to_string(i));
                EXPECT_TRUE(r) << (r ? "" : r.error().message);
                if (r) {
                    sent.insert(r->event().seq());
                }
                if (i % 10 == 0) {
                    co_await c.send(client::by_id(channel->id()), "dans le canal");
                }
            }
        };
        for (int i = 0; i < 5; ++i) {
            asio::co_spawn(co_await asio::this_coro::executor, writer(*people[i], i),
                           [&](std::exception_ptr) { ++finished; });
        }
        co_await wait_until([&] { return finished == 5; }, std::chrono::seconds(120));
        require_eq(sent.size(), std::size_t{300}, "replies acknowledged");

        for (const bool forward : {true, false}) {
            std::vector<std::uint64_t> read;
            std::uint64_t cursor = forward ? root_seq : 0;
            for (;;) {
                v1::GetThread get;
                *get.mutable_channel() = client::by_id(channel->id());
                get.set_root_seq(root_seq);
                get.set_limit(37);
                (forward ? get.set_after_seq(cursor) : get.set_before_seq(cursor));
                auto page = co_await people[3]->ask(std::move(get));
                require(page, "page");
                EXPECT_EQ(page->root().message().thread().reply_count(), 300u);
                std::vector<std::uint64_t> seqs;
                for (const auto& e : page->replies()) {
                    EXPECT_EQ(e.message().thread_seq(), root_seq);
                    seqs.push_back(e.seq());
                }
                read.insert(forward ? read.end() : read.begin(), seqs.begin(), seqs.end());
                if (!page->has_more()) {
                    break;
                }
                cursor = forward ? seqs.back() : seqs.front();
            }
            EXPECT_EQ(read, std::vector<std::uint64_t>(sent.begin(), sent.end()))
                << (forward ? "forward" : "backward");
        }
        for (auto& p : people) {
            co_await p->close();
        }
    }());
}

// Twenty people reply, edit and delete in a channel and a thread while a
// reader who follows the thread drops off and comes back at random and
// marks things read. Every count the server gives must be what the history
// says, exactly.
TEST(threads, unread_counts_stay_exact_through_20_writers_and_a_reader_reconnecting_at_random) {
    server_process server(unthrottled);
    const int writers = 20;
    for (int i = 0; i < writers; ++i) {
        server.add_user("w" + std::to_string(i));
    }
    server.add_user("reader");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto reader = co_await logged_in(server, "reader");
        auto channel = co_await reader->create_channel("atelier", "", false);
        require(channel, "channel");
        const auto id = channel->id();
        auto root = co_await reader->send(client::by_id(id), "Mon fil");
        require(root, "root");
        const auto root_seq = root->event().seq();
        std::vector<std::unique_ptr<client>> all;
        for (int i = 0; i < writers; ++i) {
            all.push_back(co_await logged_in(server, "w" + std::to_string(i)));
            require(co_await all.back()->join(client::by_id(id)), "join");
        }
        int finished = 0;
        auto writer = [&](client& c, int who) -> asio::awaitable<void> {
            std::mt19937 rng(static_cast<unsigned>(who));
            std::vector<std::uint64_t> mine;
            asio::steady_timer pace(co_await asio::this_coro::executor);
            for (int i = 0; i < 25; ++i) {
                // As people type: the reader's drops fall in the middle.
                pace.expires_after(std::chrono::milliseconds(20 + rng() % 40));
                co_await pace.async_wait(asio::use_awaitable);
                const int action = static_cast<int>(rng() % 10);
                if (action < 4) {
                    auto s = co_await c.send(client::by_id(id), "canal " + std::to_string(i));
                    if (s) {
                        mine.push_back(s->event().seq());
                    }
                } else if (action < 8) {
                    auto r = co_await reply(c, id, root_seq, "fil " + std::to_string(i));
                    if (r) {
                        mine.push_back(r->event().seq());
                    }
                } else if (!mine.empty() && action == 8) {
                    (void)co_await c.edit(client::by_id(id), mine[rng() % mine.size()],
                                          "corrigé " + std::to_string(i));
                } else if (!mine.empty()) {
                    const auto k = rng() % mine.size();
                    (void)co_await c.erase(client::by_id(id), mine[k]);
                    mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(k));
                }
            }
        };
        for (int i = 0; i < writers; ++i) {
            asio::co_spawn(co_await asio::this_coro::executor, writer(*all[i], i),
                           [&](std::exception_ptr) { ++finished; });
        }
        // The reader: drops off, comes back, marks what it has seen.
        std::mt19937 rng(7);
        std::uint64_t channel_mark = root_seq, thread_mark = 0;
        while (finished < writers) {
            asio::steady_timer pause(co_await asio::this_coro::executor);
            pause.expires_after(std::chrono::milliseconds(20 + rng() % 60));
            co_await pause.async_wait(asio::use_awaitable);
            if (rng() % 3 == 0 || reader->reconnections() == 0) {
                reader->drop();
                co_await wait_until([&] { return reader->connected(); }, std::chrono::seconds(10));
            }
            auto ch = co_await reader->ask([&] {
                v1::GetChannel g;
                *g.mutable_channel() = client::by_id(id);
                return g;
            }());
            if (!ch) {
                continue;  // the link dropped again under the request
            }
            const auto seen = ch->last_seq();
            if (rng() % 2 == 0 && (co_await reader->mark_read(client::by_id(id), seen))) {
                channel_mark = std::max(channel_mark, seen);
            } else {
                v1::MarkThreadRead m;
                *m.mutable_channel() = client::by_id(id);
                m.set_root_seq(root_seq);
                m.set_seq(seen);
                if (co_await reader->ask(std::move(m))) {
                    thread_mark = std::max(thread_mark, seen);
                }
            }
        }
        // What the history says.
        std::uint64_t channel_unread = 0, thread_unread = 0, after = 0;
        for (;;) {
            auto page = co_await reader->sync(client::by_id(id), after);
            require(page, "sync");
            for (const auto& e : page->events()) {
                after = e.seq();
                if (!e.has_message() || e.message().deleted() || e.actor().name() == "reader") {
                    continue;
                }
                if (e.message().thread_seq() == 0 && e.seq() > channel_mark) {
                    ++channel_unread;
                }
                if (e.message().thread_seq() == root_seq && e.seq() > thread_mark) {
                    ++thread_unread;
                }
            }
            if (!page->has_more()) {
                break;
            }
        }
        // From a device that was never disconnected, and from a new one.
        auto other_device = co_await logged_in(server, "reader");
        for (client* c : {reader.get(), other_device.get()}) {
            auto list = co_await c->list_channels();
            require(list, "channels");
            for (const auto& ch : *list) {
                if (ch.id() == id) {
                    EXPECT_EQ(ch.unread_count(), channel_unread);
                    EXPECT_EQ(ch.last_read_seq(), channel_mark);
                    EXPECT_EQ(ch.thread_unread_count(), thread_unread);
                }
            }
            auto threads = co_await c->ask(v1::ListThreads{});
            require(threads, "threads");
            require_eq(threads->threads_size(), 1, "followed threads");
            EXPECT_EQ(threads->threads(0).unread_count(), thread_unread);
        }
        EXPECT_GT(reader->reconnections(), 0u);
        for (auto& c : all) {
            co_await c->close();
        }
        co_await other_device->close();
        co_await reader->close();
    }());
}

TEST(threads, reaction_counts_are_exact_under_concurrent_adds_from_20_clients) {
    server_process server(unthrottled);
    for (int i = 0; i < 20; ++i) {
        server.add_user("r" + std::to_string(i));
    }
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        std::vector<std::unique_ptr<client>> all;
        for (int i = 0; i < 20; ++i) {
            all.push_back(co_await logged_in(server, "r" + std::to_string(i)));
        }
        auto channel = co_await all[0]->create_channel("atelier", "", false);
        require(channel, "channel");
        for (auto& c : all) {
            require(co_await c->join(client::by_id(channel->id())), "join");
        }
        auto target = co_await all[0]->send(client::by_id(channel->id()), "Bravo à tous");
        require(target, "message");
        int finished = 0;
        // Everyone adds 👍 three times at once; the even ones add 🎉 and
        // the multiples of four take it back.
        auto reacting = [&](client& c, int who) -> asio::awaitable<void> {
            for (int k = 0; k < 3; ++k) {
                v1::React r;
                *r.mutable_channel() = client::by_id(channel->id());
                r.set_seq(target->event().seq());
                r.set_emoji("👍");
                EXPECT_TRUE(co_await c.ask(r));
                if (who % 2 == 0) {
                    r.set_emoji("🎉");
                    r.set_remove(k == 2 && who % 4 == 0);
                    EXPECT_TRUE(co_await c.ask(r));
                }
            }
        };
        for (int i = 0; i < 20; ++i) {
            asio::co_spawn(co_await asio::this_coro::executor, reacting(*all[i], i),
                           [&](std::exception_ptr) { ++finished; });
        }
        co_await wait_until([&] { return finished == 20; }, std::chrono::seconds(60));
        auto page = co_await all[5]->history(client::by_id(channel->id()), 0, 0, 0);
        require(page, "history");
        std::map<std::string, std::uint32_t> counts;
        std::map<std::string, int> events;
        for (const auto& e : page->events()) {
            if (e.seq() == target->event().seq()) {
                for (const auto& r : e.message().reactions()) {
                    counts[r.emoji()] = r.count();
                    EXPECT_EQ(r.users_size(), static_cast<int>(r.count()));
                }
            }
            if (e.has_reaction()) {
                events[e.reaction().emoji()] += e.reaction().added() ? 1 : -1;
            }
        }
        EXPECT_EQ(counts["👍"], 20u);
        EXPECT_EQ(counts["🎉"], 5u);
        // Each change is one event: adding twice stored nothing twice.
        EXPECT_EQ(events["👍"], 20);
        EXPECT_EQ(events["🎉"], 5);
        for (auto& c : all) {
            co_await c->close();
        }
    }());
}

}  // namespace
}  // namespace relais::testing
