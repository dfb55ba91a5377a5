#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include <sqlite3.h>

#include "storage/sqlite/maintenance.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "tests/unit/temp_dir.hpp"

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

// A disk whose flushes of the WAL wait while `hold()` is in force: a slow
// fsync, on demand. SQLite's default VFS does the work; only the WAL files'
// xSync is wrapped.
class held_sync_vfs {
  public:
    static constexpr const char* name = "relais-held-sync";

    static held_sync_vfs& instance() {
        static held_sync_vfs vfs;
        return vfs;
    }
    void hold() {
        std::lock_guard lock(mu_);
        holding_ = true;
    }
    void release() {
        {
            std::lock_guard lock(mu_);
            holding_ = false;
        }
        cv_.notify_all();
    }
    // A slow disk: every WAL flush takes this long.
    void slow_down(std::chrono::milliseconds each_flush) {
        std::lock_guard lock(mu_);
        each_flush_ = each_flush;
    }
    // Flushes waiting now.
    int waiting() {
        std::lock_guard lock(mu_);
        return waiting_;
    }

  private:
    held_sync_vfs() {
        real_ = sqlite3_vfs_find(nullptr);
        vfs_ = *real_;
        vfs_.zName = name;
        vfs_.pNext = nullptr;
        vfs_.xOpen = &open;
        sqlite3_vfs_register(&vfs_, 0);
    }
    static int open(sqlite3_vfs*, sqlite3_filename path, sqlite3_file* file, int flags,
                    int* out_flags) {
        auto& self = instance();
        int rc = self.real_->xOpen(self.real_, path, file, flags, out_flags);
        if (rc == SQLITE_OK && (flags & SQLITE_OPEN_WAL) && file->pMethods) {
            std::lock_guard lock(self.mu_);
            if (!self.real_methods_) {
                self.real_methods_ = file->pMethods;
                self.methods_ = *file->pMethods;
                self.methods_.xSync = &sync;
            }
            if (file->pMethods == self.real_methods_) {
                file->pMethods = &self.methods_;
            }
        }
        return rc;
    }
    static int sync(sqlite3_file* file, int flags) {
        auto& self = instance();
        std::chrono::milliseconds each_flush{};
        {
            std::unique_lock lock(self.mu_);
            ++self.waiting_;
            self.cv_.wait(lock, [&] { return !self.holding_; });
            --self.waiting_;
            each_flush = self.each_flush_;
        }
        std::this_thread::sleep_for(each_flush);
        return self.real_methods_->xSync(file, flags);
    }

    sqlite3_vfs* real_ = nullptr;
    sqlite3_vfs vfs_{};
    const sqlite3_io_methods* real_methods_ = nullptr;
    sqlite3_io_methods methods_{};
    std::mutex mu_;
    std::condition_variable cv_;
    bool holding_ = false;
    int waiting_ = 0;
    std::chrono::milliseconds each_flush_{};
};

// A channel with one member, the way core sets it up.
// About `bytes` of words that vary from one message to the next, as people
// write: the search indexes grow with them as they would in use.
std::string varied_text(int i, std::size_t bytes) {
    std::string text = "message " + std::to_string(i);
    for (int k = 0; text.size() < bytes; ++k) {
        text += " mot" + std::to_string((i * 131 + k * 7919) % 5000);
    }
    return text;
}

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
                // One channel of each kind, as the schema of that version
                // stores it.
                db.exec(
                    "INSERT INTO channels(name, topic, kind, created_at_ms) "
                    "VALUES('ouvert', '', 1, 5), ('ferme', '', 2, 5)");
                // Messages written before search existed, one deleted.
                db.exec(
                    "INSERT INTO events(channel_id, seq, kind, at_ms, actor_id, text, deleted) "
                    "VALUES(1, 1, 1, 5, 1, 'La démarche CAF', 0), "
                    "(1, 2, 1, 6, 1, '', 1), (1, 3, 1, 7, 1, 'FranceConnect', 0)");
                db.exec("UPDATE channels SET last_seq = 3 WHERE id = 1");
                if (version >= 6) {
                    // As a version 6 server wrote them: numbered for search,
                    // waiting to be indexed.
                    db.exec(
                        "UPDATE events SET doc = rowid WHERE kind = 1; INSERT INTO "
                        "search_pending(doc, indexed) SELECT doc, NULL FROM events WHERE doc "
                        "IS NOT NULL");
                }
            }
        }
        sqlite_store s(at(dir));
        read_now(s, [&](reader& r) {
            EXPECT_EQ(r.find_account("old").has_value(), version >= 1) << "from v" << version;
            // Every table of the latest schema answers.
            EXPECT_EQ(r.list_channels().size(), version >= 1 ? 2u : 0u);
            // The shipped meeting templates come with migration 7.
            EXPECT_EQ(r.meeting_templates().size(), 5u);
            EXPECT_EQ(r.count_live_meetings(), 0u);
            EXPECT_EQ(r.next_meeting_timer(), 0);
            if (version >= 1) {
                EXPECT_EQ(r.find_account("old")->structure, "");
                // Private channels leave invitations and the topic to their
                // moderators, however old; public ones keep them open.
                const auto open = r.find_channel("ouvert");
                const auto closed = r.find_channel("ferme");
                ASSERT_TRUE(open && closed);
                EXPECT_TRUE(open->members_can_invite && open->members_can_set_topic);
                if (version < 4) {
                    // Migration 4 applied the private defaults (a version
                    // 4 server wrote its options itself).
                    EXPECT_FALSE(closed->members_can_invite || closed->members_can_set_topic);
                }
                EXPECT_EQ(closed->display_name, "");
                // Found by search, by word and inside a word.
                search_query q;
                q.channels = {open->id};
                q.words = {"demarche"};
                ASSERT_EQ(r.search(q).size(), 1u);
                EXPECT_EQ(r.search(q)[0].seq, 1u);
                q.words = {"connect"};
                ASSERT_EQ(r.search(q).size(), 1u);
                EXPECT_EQ(r.search(q)[0].seq, 3u);
            }
        });
        // What the migration indexed comes out of the index exactly.
        write_now(s, [&](writer& w) {
            w.update_message(1, 1, "autre chose", 9, false);
            w.update_message(1, 3, "", 9, true);
            return true;
        });
        read_now(s, [&](reader& r) {
            search_query q;
            q.channels = {1};
            q.words = {"caf"};
            EXPECT_TRUE(r.search(q).empty());
            q.words = {"connect"};
            EXPECT_TRUE(r.search(q).empty());
        });
        s.close();
        connection check(sqlite_store::database_path(dir.path()).string(),
                         connection::durability::full);
        EXPECT_EQ(check.user_version(), latest_schema_version());
        // And it passes `relais-server integrity`'s checks.
        EXPECT_EQ(integrity_problems(sqlite_store::database_path(dir.path())),
                  std::vector<std::string>{})
            << "from v" << version;
    }
}

TEST(sqlite_store, refuses_a_database_newer_than_itself) {
    temp_dir dir;
    {
        connection db(sqlite_store::database_path(dir.path()).string(),
                      connection::durability::full);
        db.exec("PRAGMA user_version = 999");
    }
    try {
        sqlite_store s(at(dir));
        ADD_FAILURE() << "a database from a newer version was opened";
    } catch (const sqlite_error& e) {
        EXPECT_NE(std::string(e.what()).find("database schema version 999 is newer than this "
                                             "relais-server"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("restore a backup taken before the upgrade"),
                  std::string::npos)
            << e.what();
    }
}

// Search sees every change at once: before the writer has brought the
// indexes up to date (the documents are pending, matched on their text)
// and after (matched by the indexes), the answers are the same.
TEST(sqlite_store, search_sees_each_change_at_once_before_and_after_the_indexes_catch_up) {
    temp_dir dir;
    sqlite_store s(at(dir));
    auto [channel, user] = seed(s);
    auto found = [&](const std::string& word) {
        return read_now(s, [&](reader& r) {
            search_query q;
            q.channels = {channel};
            q.words = {word};
            std::vector<seq_t> seqs;
            for (const auto& row : r.search(q)) {
                seqs.push_back(row.seq);
            }
            return seqs;
        });
    };
    connection look(sqlite_store::database_path(dir.path()).string(), connection::durability::full);
    auto caught_up = [&] {
        for (int i = 0; i < 1000; ++i) {
            auto st = look.prepare("SELECT count(*) FROM search_pending");
            if (st.step() && st.int64(0) == 0) {
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    };
    // More than one batch of the writer's, so that it catches up in steps.
    seq_t seq = 0;
    ASSERT_TRUE(write_now(s, [&](writer& w) {
        for (int i = 0; i < 2500; ++i) {
            auto e = message(channel, user, varied_text(i, 60));
            w.append_event(e);
        }
        auto e = message(channel, user, "alpha bravo");
        seq = w.append_event(e);
        return true;
    }));
    const std::vector<seq_t> one{seq}, none;
    EXPECT_EQ(found("alpha"), one);
    EXPECT_EQ(found("ravo"), one);
    ASSERT_TRUE(caught_up());
    EXPECT_EQ(found("alpha"), one);
    EXPECT_EQ(found("ravo"), one);
    EXPECT_EQ(found("mot42").size(), 20u);  // the older ones are indexed too

    ASSERT_TRUE(write_now(s, [&](writer& w) {
        w.update_message(channel, seq, "charlie", 9, false);
        return true;
    }));
    EXPECT_EQ(found("alpha"), none);
    EXPECT_EQ(found("charlie"), one);
    ASSERT_TRUE(caught_up());
    EXPECT_EQ(found("alpha"), none);
    EXPECT_EQ(found("charlie"), one);

    ASSERT_TRUE(write_now(s, [&](writer& w) {
        w.update_message(channel, seq, "", 9, true);
        return true;
    }));
    EXPECT_EQ(found("charlie"), none);
    ASSERT_TRUE(caught_up());
    EXPECT_EQ(found("charlie"), none);
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

// The server opens a delivery batch around each group's completions, so that
// a group's events leave together: every completion of a group runs inside
// one call of the scope, after the commit; so does each read job.
TEST(sqlite_store, a_group_completes_inside_one_callback_scope) {
    temp_dir dir;
    auto o = at(dir);
    thread_local int open_scope = 0;
    std::atomic<int> scopes{0};
    o.callback_scope = [&](const std::function<void()>& callbacks) {
        open_scope = ++scopes;
        callbacks();
        open_scope = 0;
    };
    sqlite_store s(o);
    auto [channel, user] = seed(s);
    const int seeded_scopes = scopes.load();
    std::promise<void> all_queued, first_running;
    auto queued = all_queued.get_future().share();
    constexpr int jobs = 200;
    std::vector<int> scope_of(jobs, -1);
    std::promise<void> all_done;
    std::atomic<int> remaining{jobs};
    for (int i = 0; i < jobs; ++i) {
        s.write({[&, i, queued](writer& w) {
                     if (i == 0) {
                         first_running.set_value();
                         queued.wait();  // the others queue up behind this group
                     }
                     auto e = message(channel, user, "m" + std::to_string(i));
                     w.append_event(e);
                     return true;
                 },
                 [&, i](bool committed) {
                     EXPECT_TRUE(committed);
                     scope_of[static_cast<std::size_t>(i)] = open_scope;
                     if (--remaining == 0) {
                         all_done.set_value();
                     }
                 }});
        if (i == 0) {
            first_running.get_future().wait();
        }
    }
    all_queued.set_value();
    all_done.get_future().wait();
    EXPECT_EQ(scopes.load() - seeded_scopes, 2);
    int read_scope = 0;
    read_now(s, [&](reader&) { read_scope = open_scope; });
    EXPECT_EQ(read_scope, seeded_scopes + 3) << "a read job runs in a scope of its own";
    EXPECT_EQ(scope_of[0], seeded_scopes + 1);
    for (int i = 1; i < jobs; ++i) {
        EXPECT_EQ(scope_of[static_cast<std::size_t>(i)], seeded_scopes + 2) << "job " << i;
    }
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
            w.insert_session({"tokenhash", user, 9, "", "", 0});
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

// What may end a live session moves the count the server polls, whichever
// process (or connection) writes; a login does not.
TEST(sqlite_store, auth_changes_count_ended_sessions_and_disabled_accounts_from_any_process) {
    temp_dir dir;
    sqlite_store s(at(dir));
    auto [channel, user] = seed(s);
    (void)channel;
    auto changes = [&] {
        std::int64_t n = -1;
        read_now(s, [&](reader& r) { n = r.auth_changes(); });
        return n;
    };
    const auto start = changes();
    write_now(s, [&](writer& w) {
        w.insert_session({"a", user, 1, "", "", 0});
        w.insert_session({"b", user, 2, "", "", 0});
        w.set_password_hash(user, "h");
        return true;
    });
    EXPECT_EQ(changes(), start);
    write_now(s, [&](writer& w) {
        w.delete_session("a");
        return true;
    });
    EXPECT_EQ(changes(), start + 1);
    // Another process: the administration command line's own connection.
    {
        connection other(sqlite_store::database_path(dir.path()).string(),
                         connection::durability::full);
        other.exec("UPDATE accounts SET disabled = 1");
        other.exec("UPDATE accounts SET disabled = 1");  // no change: not counted
    }
    EXPECT_EQ(changes(), start + 2);
    write_now(s, [&](writer& w) {
        w.delete_sessions_of(user);
        w.set_account_disabled(user, false);
        return true;
    });
    EXPECT_EQ(changes(), start + 4);
}

// A checkpoint first flushes the WAL. While that flush waits for a slow
// disk, messages are still acknowledged: the checkpoint is not the writer's.
TEST(sqlite_store, a_slow_flush_during_a_checkpoint_holds_up_no_acknowledgement) {
    auto& disk = held_sync_vfs::instance();
    temp_dir dir;
    options o = at(dir);
    o.vfs = held_sync_vfs::name;
    o.durability = connection::durability::normal;
    // The cap, 16 times as many pages, lies beyond what the test writes
    // while the flush is held (about 11 pages a message, and the search
    // indexes' merges).
    o.checkpoint_pages = 1000;
    int acknowledged = 0;
    {
        sqlite_store s(o);
        auto [channel, user] = seed(s);
        disk.hold();
        struct release_on_exit {
            held_sync_vfs& disk;
            ~release_on_exit() { disk.release(); }
        } released{disk};
        auto acknowledged_in_time = [&] {
            auto answer = std::make_shared<std::promise<bool>>();
            auto future = answer->get_future();
            s.write({[&](writer& w) {
                         auto e = message(channel, user, varied_text(acknowledged, 2000));
                         w.append_event(e);
                         return true;
                     },
                     [answer](bool committed) { answer->set_value(committed); }});
            // Liveness, not timing: a writer stuck behind the held flush
            // never answers.
            return future.wait_for(std::chrono::seconds(30)) == std::future_status::ready &&
                   future.get();
        };
        while (disk.waiting() == 0 && acknowledged < 3000) {
            ASSERT_TRUE(acknowledged_in_time()) << "after " << acknowledged << " messages";
            ++acknowledged;
        }
        ASSERT_GT(disk.waiting(), 0) << "no checkpoint flushed the WAL";
        for (int i = 0; i < 300; ++i) {
            ASSERT_TRUE(acknowledged_in_time()) << "while a checkpoint waited for the disk";
            ++acknowledged;
        }
        EXPECT_GT(disk.waiting(), 0);
    }
    sqlite_store reopened(at(dir));
    read_now(reopened, [&](reader& r) {
        EXPECT_EQ(r.events_after(1, 0, 10000).size(), static_cast<std::size_t>(acknowledged));
    });
    connection check(sqlite_store::database_path(dir.path()).string(),
                     connection::durability::full);
    auto st = check.prepare("PRAGMA integrity_check");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.text(0), "ok");
}

// SQLite writes the WAL over from its start once it starts over: the file is
// as large as the WAL ever was.
std::uintmax_t largest_wal_bytes(const std::filesystem::path& dir) {
    return std::filesystem::file_size(sqlite_store::database_path(dir).string() + "-wal");
}

void write_messages(sqlite_store& s, channel_id channel, user_id user, int count) {
    for (int i = 0; i < count; ++i) {
        ASSERT_TRUE(write_now(s, [&](writer& w) {
            auto e = message(channel, user, varied_text(i, 1000));
            w.append_event(e);
            return true;
        }));
    }
}

// 16 times the checkpoint threshold, and one commit's pages: its messages,
// and the search indexes' merge step. FTS5 merges its segments a piece at a
// time, 64 pages per level every 64 pages it writes (about 700 pages at
// most here).
constexpr std::uintmax_t wal_bound_bytes(std::uintmax_t checkpoint_pages) {
    constexpr std::uintmax_t frame_bytes = 24 + 4096;
    return (16 * checkpoint_pages + 1000) * frame_bytes + 32;
}

// Commits that never pause leave a background checkpoint no moment at which
// the WAL is fully copied, the only moment it can start over; the writer
// then finishes the copy itself.
TEST(sqlite_store, the_wal_stays_bounded_under_continuous_writes) {
    temp_dir dir;
    options o = at(dir);
    o.durability = connection::durability::normal;
    o.checkpoint_pages = 50;
    sqlite_store s(o);
    auto [channel, user] = seed(s);
    write_messages(s, channel, user, 4000);
    EXPECT_LE(largest_wal_bytes(dir.path()), wal_bound_bytes(50));
}

// A disk slower than the writer: each checkpointer pass lets thousands of
// pages pile up. At the cap the writer waits for the pass instead of letting
// the WAL grow (it reached 8.3 MB here before).
TEST(sqlite_store, the_wal_stays_bounded_when_the_disk_is_slower_than_the_writer) {
    auto& disk = held_sync_vfs::instance();
    disk.slow_down(std::chrono::milliseconds(100));
    struct fast_again_on_exit {
        held_sync_vfs& disk;
        ~fast_again_on_exit() { disk.slow_down({}); }
    } fast_again{disk};
    temp_dir dir;
    options o = at(dir);
    o.vfs = held_sync_vfs::name;
    o.durability = connection::durability::normal;
    o.checkpoint_pages = 50;
    int stored = 0;
    {
        sqlite_store s(o);
        auto [channel, user] = seed(s);
        write_messages(s, channel, user, 1500);
        // Before the store closes: the last connection to close removes
        // the WAL.
        EXPECT_LE(largest_wal_bytes(dir.path()), wal_bound_bytes(50));
        read_now(s, [&](reader& r) {
            stored = static_cast<int>(r.events_after(channel, 0, 10000).size());
        });
    }
    EXPECT_EQ(stored, 1500);
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

TEST(sqlite_store, meetings_are_found_by_channel_state_timer_and_table) {
    temp_dir dir;
    sqlite_store s(at(dir));
    const auto [channel, user] = seed(s);
    std::uint64_t live = 0, later = 0, table_channel = 0;
    ASSERT_TRUE(write_now(s, [&](writer& w) {
        meeting_record m;
        m.channel = channel;
        m.state = v1::SCHEDULED;
        m.start_ms = 5'000;
        m.created_by = user;
        m.next_timer_ms = 4'000;
        m.record = std::string("\x00\x01 binary", 9);
        later = w.insert_meeting(m);
        m.start_ms = 1'000;
        m.next_timer_ms = 0;
        live = w.insert_meeting(m);
        m.id = live;
        m.state = v1::LIVE;
        m.started_at_ms = 1'100;
        m.current_phase = 4;
        m.silenced = {user, 77};
        m.next_timer_ms = 2'000;
        w.update_meeting(m);
        channel_record c;
        c.name = "table-1-1";
        c.kind = v1::PRIVATE;
        table_channel = w.insert_channel(c);
        w.add_meeting_table(table_channel, live, 1);
        return true;
    }));
    read_now(s, [&](reader& r) {
        const auto found = r.find_meeting(later);
        ASSERT_TRUE(found);
        EXPECT_EQ(found->record, std::string("\x00\x01 binary", 9));  // bytes kept whole
        auto link = r.live_meeting_at(channel);
        ASSERT_TRUE(link);
        EXPECT_EQ(link->meeting, live);
        EXPECT_EQ(link->phase, 4u);
        EXPECT_EQ(link->silenced, (std::vector<user_id>{user, 77}));
        link = r.live_meeting_at(table_channel);
        ASSERT_TRUE(link);
        EXPECT_EQ(link->table, 1u);
        EXPECT_TRUE(link->silenced.empty());
        EXPECT_EQ(r.count_live_meetings(), 1u);
        EXPECT_EQ(r.next_meeting_timer(), 2'000);
        EXPECT_EQ(r.due_meetings(3'000), std::vector<std::uint64_t>{live});
        EXPECT_EQ(r.due_meetings(4'000), (std::vector<std::uint64_t>{live, later}));
        // Live first, then upcoming.
        const auto listed = r.meetings_in({channel}, {v1::SCHEDULED, v1::LIVE}, 10);
        ASSERT_EQ(listed.size(), 2u);
        EXPECT_EQ(listed[0].id, live);
        EXPECT_EQ(r.meetings_in({channel}, {v1::ENDED}, 10).size(), 0u);
        EXPECT_EQ(r.meetings_started({channel}, 1'000, 1'200).size(), 1u);
        EXPECT_EQ(r.meetings_started({channel}, 1'200, 9'000).size(), 0u);
    });
    // Cases and templates.
    ASSERT_TRUE(write_now(s, [&](writer& w) {
        const auto id = w.insert_case({0, channel, user, 10, "Un cas", 0});
        w.set_case_chosen(id, live);
        w.put_meeting_template({"mon-modele", "{\"name\":\"mon-modele\"}"});
        EXPECT_TRUE(w.remove_meeting_template("tour-de-table"));
        EXPECT_FALSE(w.remove_meeting_template("tour-de-table"));
        return true;
    }));
    read_now(s, [&](reader& r) {
        const auto cases = r.cases_of(channel);
        ASSERT_EQ(cases.size(), 1u);
        EXPECT_EQ(cases[0].chosen_by, live);
        const auto templates = r.meeting_templates();
        ASSERT_EQ(templates.size(), 5u);
        EXPECT_EQ(templates.back().name, "mon-modele");
        EXPECT_FALSE(r.find_meeting_template("tour-de-table"));
    });
}

// The audit log takes inserts only, even from a program that opens the file
// behind the server's back.
TEST(storage, the_audit_log_refuses_updates_and_deletes_from_anyone) {
    temp_dir dir;
    {
        sqlite_store s(at(dir));
        write_now(s, [](writer& w) {
            audit_record a;
            a.at_ms = 5;
            a.action = "ban";
            a.reason = "spam";
            w.append_audit(a);
            return true;
        });
        s.close();
    }
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir.path() / "relais.db").c_str(), &db), SQLITE_OK);
    for (const char* sql :
         {"UPDATE audit_log SET reason = 'rien'", "DELETE FROM audit_log WHERE id = 1"}) {
        char* error = nullptr;
        EXPECT_NE(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK) << sql;
        EXPECT_STREQ(error, "the audit log is append-only");
        sqlite3_free(error);
    }
    sqlite3_close(db);
    sqlite_store s(at(dir));
    auto log = read_now(s, [](reader& r) { return r.audit_log(0, 10); });
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].reason, "spam");
    s.close();
}

}  // namespace
}  // namespace relais::storage::sqlite
