#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "sqlite_store.hpp"
#include "temp_dir.hpp"

namespace relais::storage::sqlite {
namespace {

using relais::testing::temp_dir;

options at(const temp_dir& dir) {
    options o;
    o.data_dir = dir.path();
    return o;
}

account sample_account(const std::string& name) {
    account a;
    a.name = name;
    a.display_name = name;
    a.password_hash = "$argon2id$not-a-real-hash";
    a.created_at_ms = 1;
    return a;
}

event_record message(channel_id channel, user_id author, const std::string& text,
                     const std::string& client_msg_id = {}) {
    event_record e;
    e.channel = channel;
    e.kind = event_kind::message;
    e.actor = author;
    e.text = text;
    e.client_msg_id = client_msg_id;
    e.at_ms = 1000;
    return e;
}

// A channel with one member, the way core sets it up.
std::pair<channel_id, user_id> seed(store& s) {
    channel_id channel = 0;
    user_id user = 0;
    EXPECT_TRUE(write_now(s, [&](writer& w) {
        user = w.insert_account(sample_account("alice"));
        channel_record c;
        c.name = "accueil";
        c.created_at_ms = 1;
        channel = w.insert_channel(c);
        w.upsert_member({channel, user, v1::OWNER, 0});
        return true;
    }));
    return {channel, user};
}

TEST(sqlite_store, opens_every_older_schema_version_and_keeps_its_data) {
    for (int version = 0; version < latest_schema_version(); ++version) {
        temp_dir dir;
        {
            connection db(sqlite_store::database_path(dir.path()).string(),
                          connection::durability::full);
            migrate(db, version);
            ASSERT_EQ(db.user_version(), version);
            if (version >= 1) {
                db.exec(
                    "INSERT INTO accounts(name, display_name, role, password_hash, created_at_ms) "
                    "VALUES('old', 'Old', 1, 'h', 5)");
            }
        }
        sqlite_store s(at(dir));
        read_now(s, [&](reader& r) {
            EXPECT_EQ(r.find_account("old").has_value(), version >= 1) << "from v" << version;
            // Every table of the latest schema answers.
            EXPECT_TRUE(r.list_channels().empty());
        });
        connection check(sqlite_store::database_path(dir.path()).string(),
                         connection::durability::full);
        EXPECT_EQ(check.user_version(), latest_schema_version());
    }
}

TEST(sqlite_store, refuses_a_database_newer_than_itself) {
    temp_dir dir;
    {
        connection db(sqlite_store::database_path(dir.path()).string(),
                      connection::durability::full);
        db.exec("PRAGMA user_version = 999");
    }
    EXPECT_THROW(sqlite_store s(at(dir)), sqlite_error);
}

TEST(sqlite_store, seq_is_gapless_per_channel) {
    temp_dir dir;
    sqlite_store s(at(dir));
    auto [first, user] = seed(s);
    channel_id second = 0;
    write_now(s, [&](writer& w) {
        channel_record c;
        c.name = "second";
        second = w.insert_channel(c);
        return true;
    });
    std::vector<seq_t> a, b;
    for (int i = 0; i < 5; ++i) {
        write_now(s, [&](writer& w) {
            auto e1 = message(first, user, "a");
            auto e2 = message(second, user, "b");
            a.push_back(w.append_event(e1));
            b.push_back(w.append_event(e2));
            return true;
        });
    }
    EXPECT_EQ(a, (std::vector<seq_t>{1, 2, 3, 4, 5}));
    EXPECT_EQ(b, (std::vector<seq_t>{1, 2, 3, 4, 5}));
}

TEST(sqlite_store, group_commit_acknowledges_every_job_and_a_failing_job_alone_is_rolled_back) {
    temp_dir dir;
    sqlite_store s(at(dir));
    auto [channel, user] = seed(s);
    constexpr int jobs = 500;
    std::atomic<int> acknowledged{0};
    std::promise<void> all_done;
    std::atomic<int> remaining{jobs};
    for (int i = 0; i < jobs; ++i) {
        s.write({[&, i](writer& w) {
                     auto e =
                         message(channel, user, "m" + std::to_string(i), "id" + std::to_string(i));
                     w.append_event(e);
                     if (i % 50 == 7) {
                         throw std::runtime_error("injected");  // rolls back this job only
                     }
                     return i % 50 != 9;  // declined: rolled back, nothing to report
                 },
                 [&, i](bool committed) {
                     if (committed && i % 50 != 9) {
                         acknowledged++;
                     }
                     if (--remaining == 0) {
                         all_done.set_value();
                     }
                 }});
    }
    all_done.get_future().wait();
    EXPECT_EQ(acknowledged.load(), jobs - 2 * (jobs / 50));
    read_now(s, [&](reader& r) {
        auto rows = r.events_after(channel, 0, 1000);
        ASSERT_EQ(rows.size(), static_cast<std::size_t>(acknowledged.load()));
        for (std::size_t i = 0; i < rows.size(); ++i) {
            EXPECT_EQ(rows[i].seq, i + 1) << "seq has a gap";
        }
        EXPECT_FALSE(r.find_sent(user, "id7").has_value());
        EXPECT_TRUE(r.find_sent(user, "id8").has_value());
    });
}

TEST(sqlite_store, restart_keeps_accounts_channels_members_history_markers_and_counters) {
    temp_dir dir;
    channel_id channel = 0;
    user_id user = 0;
    {
        sqlite_store s(at(dir));
        std::tie(channel, user) = seed(s);
        write_now(s, [&](writer& w) {
            for (int i = 0; i < 3; ++i) {
                auto e = message(channel, user, "avant", "c" + std::to_string(i));
                w.append_event(e);
            }
            w.set_read_marker(channel, user, 2);
            w.insert_session({"tokenhash", user, 9});
            return true;
        });
        s.close();
    }
    sqlite_store s(at(dir));
    read_now(s, [&](reader& r) {
        EXPECT_TRUE(r.find_account("alice"));
        EXPECT_TRUE(r.find_session("tokenhash"));
        auto m = r.find_membership(channel, user);
        ASSERT_TRUE(m);
        EXPECT_EQ(m->last_read_seq, 2u);
        EXPECT_EQ(r.find_channel(channel)->last_seq, 3u);
        EXPECT_EQ(r.find_sent(user, "c1")->seq, 2u);
    });
    seq_t next = 0;
    write_now(s, [&](writer& w) {
        auto e = message(channel, user, "après");
        next = w.append_event(e);
        return true;
    });
    EXPECT_EQ(next, 4u);
}

TEST(sqlite_store, read_marker_never_moves_backward) {
    temp_dir dir;
    sqlite_store s(at(dir));
    auto [channel, user] = seed(s);
    write_now(s, [&](writer& w) {
        w.set_read_marker(channel, user, 5);
        w.set_read_marker(channel, user, 3);
        return true;
    });
    read_now(s, [&](reader& r) { EXPECT_EQ(r.find_membership(channel, user)->last_read_seq, 5u); });
}

TEST(sqlite_store, client_msg_id_is_unique_per_author) {
    temp_dir dir;
    sqlite_store s(at(dir));
    auto [channel, user] = seed(s);
    EXPECT_TRUE(write_now(s, [&](writer& w) {
        auto e = message(channel, user, "one", "same");
        w.append_event(e);
        return true;
    }));
    // A second row with the same key is refused by the database itself.
    EXPECT_FALSE(write_now(s, [&](writer& w) {
        auto e = message(channel, user, "two", "same");
        w.append_event(e);
        return true;
    }));
    read_now(s, [&](reader& r) { EXPECT_EQ(r.events_after(channel, 0, 10).size(), 1u); });
}

TEST(sqlite_store, history_pages_read_both_ways) {
    temp_dir dir;
    sqlite_store s(at(dir));
    auto [channel, user] = seed(s);
    write_now(s, [&](writer& w) {
        for (int i = 1; i <= 10; ++i) {
            auto e = message(channel, user, std::to_string(i));
            w.append_event(e);
        }
        return true;
    });
    read_now(s, [&](reader& r) {
        auto newest = r.events_before(channel, 11, 3);
        ASSERT_EQ(newest.size(), 3u);
        EXPECT_EQ(newest.front().seq, 8u);
        EXPECT_EQ(newest.back().seq, 10u);
        auto oldest = r.events_after(channel, 0, 3);
        EXPECT_EQ(oldest.front().seq, 1u);
        EXPECT_EQ(oldest.back().seq, 3u);
        EXPECT_EQ(r.count_unread(channel, 4, user + 1), 6u);
        EXPECT_EQ(r.count_unread(channel, 4, user), 0u);
    });
}

TEST(sqlite_store, every_connection_runs_in_wal_mode_with_the_asked_synchronous_level) {
    temp_dir dir;
    connection full(sqlite_store::database_path(dir.path()).string(), connection::durability::full);
    auto st = full.prepare("PRAGMA synchronous");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.integer(0), 2);
    auto jm = full.prepare("PRAGMA journal_mode");
    ASSERT_TRUE(jm.step());
    EXPECT_EQ(jm.text(0), "wal");
}

// SQLite's dot-file locking VFS has no shared memory, so WAL cannot be used:
// the store must refuse to run instead of committing in another journal mode.
TEST(sqlite_store, refuses_to_run_where_the_journal_cannot_be_wal) {
    temp_dir dir;
    options o = at(dir);
    o.vfs = "unix-dotfile";
    try {
        sqlite_store s(o);
        FAIL() << "the store opened without WAL";
    } catch (const sqlite_error& e) {
        EXPECT_NE(std::string(e.what()).find("not what the durability setting requires"),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace relais::storage::sqlite
