// Simulated power cuts under the real store: a child process writes through
// the power-loss VFS and reports each acknowledged message on a pipe; at a
// random moment the "disk" loses what was never synced and the child dies.
// The parent then opens what is left, as a rebooted machine would.
#include <gtest/gtest.h>

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <random>
#include <set>

#include "storage/sqlite/sqlite_store.hpp"
#include "tests/unit/power_loss_vfs.hpp"
#include "tests/unit/temp_dir.hpp"

namespace relais::storage::sqlite {
namespace {

using relais::testing::temp_dir;

constexpr int cut_exit_code = 42;

int cuts_to_simulate(int in_ci) {
    if (const char* n = std::getenv("RELAIS_POWER_CUTS")) {
        return std::atoi(n);
    }
    return in_ci;
}

std::pair<channel_id, user_id> seed_channel(const std::filesystem::path& dir) {
    options o;
    o.data_dir = dir;
    sqlite_store s(o);
    channel_id channel = 0;
    user_id user = 0;
    EXPECT_TRUE(write_now(s, [&](writer& w) {
        account a;
        a.name = "alice";
        a.display_name = "alice";
        a.password_hash = "$argon2id$not-a-real-hash";
        user = w.insert_account(a);
        channel_record c;
        c.name = "accueil";
        channel = w.insert_channel(c);
        w.upsert_member({channel, user, v1::OWNER, 0});
        return true;
    }));
    s.close();
    return {channel, user};
}

// The child: sends messages c<first>, c<first+1>, ... with 32 in flight, as
// the server does for many senders, until the power goes.
[[noreturn]] void write_until_power_cut(const std::filesystem::path& dir,
                                        connection::durability durability, std::uint64_t cut_after,
                                        std::uint64_t seed, int ack_fd, std::uint64_t first,
                                        channel_id channel, user_id user) {
    try {
        testing::install_power_loss_vfs(cut_after, seed, cut_exit_code);
        options o;
        o.data_dir = dir;
        o.durability = durability;
        o.vfs = testing::power_loss_vfs_name;
        o.reader_threads = 1;
        sqlite_store s(o);
        std::mutex mu;
        std::condition_variable cv;
        int in_flight = 0;
        for (std::uint64_t k = first; k < first + 1'000'000; ++k) {
            {
                std::unique_lock lock(mu);
                cv.wait(lock, [&] { return in_flight < 32; });
                ++in_flight;
            }
            write_job job;
            job.apply = [=](writer& w) {
                event_record e;
                e.channel = channel;
                e.kind = event_kind::message;
                e.actor = user;
                e.text = "message " + std::to_string(k);
                e.client_msg_id = "c" + std::to_string(k);
                w.append_event(e);
                return true;
            };
            job.done = [&, k](bool committed) {
                if (committed) {
                    (void)!::write(ack_fd, &k, sizeof k);  // the acknowledgement
                }
                std::lock_guard lock(mu);
                --in_flight;
                cv.notify_one();
            };
            s.write(std::move(job));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
        ::_exit(3);
    }
    ::_exit(2);  // the power never went
}

struct round_result {
    int exit_code = -1;
    std::set<std::uint64_t> acked;
};

round_result run_round(const std::filesystem::path& dir, connection::durability durability,
                       std::uint64_t cut_after, std::uint64_t seed, std::uint64_t first,
                       std::pair<channel_id, user_id> target) {
    int fds[2];
    if (::pipe(fds) != 0) {
        throw std::runtime_error("pipe");
    }
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        write_until_power_cut(dir, durability, cut_after, seed, fds[1], first, target.first,
                              target.second);
    }
    ::close(fds[1]);
    round_result r;
    std::uint64_t k = 0;
    while (::read(fds[0], &k, sizeof k) == static_cast<ssize_t>(sizeof k)) {
        r.acked.insert(k);
    }
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return r;
}

struct database_state {
    std::string integrity;
    std::vector<std::uint64_t> seqs;
    std::multiset<std::string> client_msg_ids;
    std::uint64_t last_seq = 0;
};

// Reads the files as a rebooted machine finds them, with plain SQLite.
database_state inspect(const std::filesystem::path& dir) {
    database_state out;
    sqlite3* db = nullptr;
    const auto path = sqlite_store::database_path(dir).string();
    if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        out.integrity = std::string("cannot open: ") + sqlite3_errmsg(db);
        sqlite3_close(db);
        return out;
    }
    auto each_row = [&](const char* sql, auto fn) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql, -1, &st, nullptr) != SQLITE_OK) {
            out.integrity = std::string(sql) + ": " + sqlite3_errmsg(db);
            return;
        }
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            fn(st);
        }
        if (rc != SQLITE_DONE) {
            out.integrity = std::string(sql) + ": " + sqlite3_errmsg(db);
        }
        sqlite3_finalize(st);
    };
    each_row("PRAGMA integrity_check", [&](sqlite3_stmt* st) {
        out.integrity += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    });
    each_row(
        "SELECT seq, client_msg_id FROM events WHERE kind = 1 ORDER BY seq", [&](sqlite3_stmt* st) {
            out.seqs.push_back(static_cast<std::uint64_t>(sqlite3_column_int64(st, 0)));
            out.client_msg_ids.insert(reinterpret_cast<const char*>(sqlite3_column_text(st, 1)));
        });
    each_row("SELECT last_seq FROM channels", [&](sqlite3_stmt* st) {
        out.last_seq = static_cast<std::uint64_t>(sqlite3_column_int64(st, 0));
    });
    sqlite3_close(db);
    return out;
}

struct campaign {
    int cuts = 0;
    std::size_t acked = 0;
    std::size_t lost = 0;
    std::size_t duplicates = 0;
    std::size_t gaps = 0;
    int broken = 0;  // integrity_check not ok, or the store would not reopen
};

campaign cut_power_repeatedly(connection::durability durability, int cuts, std::uint64_t seed) {
    temp_dir dir;
    const auto target = seed_channel(dir.path());
    std::mt19937_64 random(seed);
    std::uniform_int_distribution<std::uint64_t> cut_point(20, 3000);
    std::set<std::uint64_t> acked;
    std::uint64_t next = 1;
    campaign c;
    for (int round = 0; round < cuts; ++round) {
        auto r = run_round(dir.path(), durability, cut_point(random), random(), next, target);
        SCOPED_TRACE("round " + std::to_string(round) + " (seed " + std::to_string(seed) + ")");
        EXPECT_TRUE(r.exit_code == cut_exit_code || r.exit_code == 2)
            << "the writer failed with exit code " << r.exit_code;
        c.cuts += r.exit_code == cut_exit_code;
        acked.insert(r.acked.begin(), r.acked.end());
        next += 1'000'000;  // fresh ids for each round

        auto db = inspect(dir.path());
        if (db.integrity != "ok") {
            ++c.broken;
            ADD_FAILURE() << "integrity_check: " << db.integrity;
            break;
        }
        for (std::size_t i = 0; i < db.seqs.size(); ++i) {
            c.gaps += db.seqs[i] != i + 1;
        }
        for (const auto& id : db.client_msg_ids) {
            c.duplicates += db.client_msg_ids.count(id) > 1;
        }
        for (auto k : acked) {
            c.lost += db.client_msg_ids.count("c" + std::to_string(k)) == 0;
        }
        if (!db.seqs.empty() && db.last_seq != db.seqs.back()) {
            ++c.gaps;
        }
    }
    c.acked = acked.size();
    return c;
}

TEST(power_loss, no_acknowledged_message_is_lost_with_full_durability) {
    const int cuts = cuts_to_simulate(20);
    auto c = cut_power_repeatedly(connection::durability::full, cuts, 20261128);
    std::printf(
        "power cuts: %d simulated, %zu acknowledged messages, %zu lost, %zu duplicates, "
        "%zu seq gaps, %d broken databases\n",
        c.cuts, c.acked, c.lost, c.duplicates, c.gaps, c.broken);
    EXPECT_GE(c.cuts, cuts * 9 / 10);  // almost every round ends in a cut
    EXPECT_GT(c.acked, static_cast<std::size_t>(cuts));
    EXPECT_EQ(c.lost, 0u);
    EXPECT_EQ(c.duplicates, 0u);
    EXPECT_EQ(c.gaps, 0u);
    EXPECT_EQ(c.broken, 0);
}

// The simulation must be able to fail: without a sync per commit, acknowledged
// messages sit in the volatile cache and a cut takes some of them.
TEST(power_loss, normal_durability_loses_acknowledged_messages_so_the_test_can_tell) {
    auto c = cut_power_repeatedly(connection::durability::normal, 5, 7);
    EXPECT_GT(c.lost, 0u);
    EXPECT_EQ(c.broken, 0);
    EXPECT_EQ(c.duplicates, 0u);
}

}  // namespace
}  // namespace relais::storage::sqlite
