// Keeping the data: an online backup while 8 senders write, a restore into
// a new folder, a server on it, and clients that were ahead of the backup.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "tests/integration/harness.hpp"
#include "tests/integration/history_checker.hpp"

namespace relais::testing {
namespace {

using client::client;

TEST(backup, taken_under_8_senders_restores_a_gapless_prefix_and_clients_ahead_resync) {
    server_process server(unthrottled);
    const auto bots = server.add_bots("w", 8);
    server.add_user("lea");
    server.start();
    const auto backup_file = (server.data_dir().parent_path() / "sauvegarde.db").string();
    std::vector<std::uint64_t> channels;
    // What each send was acknowledged as: channel -> seq -> client_msg_id.
    std::map<std::uint64_t, std::map<std::uint64_t, std::string>> acked;
    run_result backup;
    run_sync([&]() -> asio::awaitable<void> {
        std::vector<std::unique_ptr<client>> writers;
        for (const auto& [name, token] : bots) {
            writers.push_back(co_await resumed(token, server.client_options()));
        }
        auto lea = co_await logged_in(server, "lea");
        for (const char* name : {"journal-a", "journal-b"}) {
            auto ch = co_await writers[0]->create_channel(name, "", false);
            require(ch, "channel");
            channels.push_back(ch->id());
            for (auto& w : writers) {
                require(co_await w->join(client::by_id(ch->id())), "join");
            }
            require(co_await lea->join(client::by_id(ch->id())), "join");
        }
        std::atomic<bool> stop{false};
        int finished = 0;
        auto writer = [&](client& c, std::size_t who) -> asio::awaitable<void> {
            for (int i = 0; !stop; ++i) {
                const auto channel = channels[(who + static_cast<std::size_t>(i)) % 2];
                const auto id = "w" + std::to_string(who) + "-" + std::to_string(i);
                auto sent = co_await c.send(client::by_id(channel), "message " + id, id);
                if (sent) {
                    acked[channel][sent->event().seq()] = id;
                }
            }
        };
        for (std::size_t i = 0; i < writers.size(); ++i) {
            asio::co_spawn(co_await asio::this_coro::executor, writer(*writers[i], i),
                           [&](std::exception_ptr) { ++finished; });
        }
        // The backup runs beside the server, in a process of its own,
        // while the 8 senders go on.
        co_await wait_until([&] { return acked.size() == 2 && acked[channels[1]].size() > 200; },
                            std::chrono::seconds(30));
        std::atomic<bool> backed_up{false};
        std::thread admin([&] {
            backup = run_program(
                {server_binary(), "backup", "--data", server.data_dir().string(), backup_file});
            backed_up = true;
        });
        co_await wait_until([&] { return backed_up.load(); }, std::chrono::seconds(60));
        admin.join();
        const auto at_backup = acked[channels[0]].size() + acked[channels[1]].size();
        co_await wait_until(
            [&] { return acked[channels[0]].size() + acked[channels[1]].size() > at_backup + 200; },
            std::chrono::seconds(30));
        stop = true;
        co_await wait_until([&] { return finished == 8; }, std::chrono::seconds(30));
        for (auto& w : writers) {
            co_await w->close();
        }
        co_await lea->close();
    }());
    ASSERT_EQ(backup.exit_code, 0) << backup.err;
    EXPECT_NE(backup.out.find("written to " + backup_file), std::string::npos) << backup.out;

    // Not over a running server's data.
    auto refused = run_program(
        {server_binary(), "restore", backup_file, "--data", server.data_dir().string()});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("stop it first"), std::string::npos) << refused.err;

    // Into a new folder: checked, whole, and a server serves it.
    server_process restored(unthrottled);
    auto put = run_program(
        {server_binary(), "restore", backup_file, "--data", restored.data_dir().string()});
    ASSERT_EQ(put.exit_code, 0) << put.err;
    auto check =
        run_program({server_binary(), "integrity", "--data", restored.data_dir().string()});
    ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
    EXPECT_NE(check.out.find("integrity ok"), std::string::npos);
    restored.start();

    std::map<std::uint64_t, std::uint64_t> restored_last;
    run_sync([&]() -> asio::awaitable<void> {
        auto lea = co_await logged_in(restored, "lea");
        for (const auto channel : channels) {
            auto log = co_await read_log(*lea, channel);
            require(log, "the restored log");
            // A gapless prefix of what was acknowledged: seqs 1..n, each
            // message the one acknowledged at its seq, none missing.
            std::uint64_t n = 0;
            for (const auto& e : *log) {
                EXPECT_EQ(e.seq, ++n) << "a gap in channel " << channel;
                if (!e.client_msg_id.empty()) {
                    auto it = acked[channel].find(e.seq);
                    require(it != acked[channel].end(),
                            "seq " + std::to_string(e.seq) + " acknowledged");
                    EXPECT_EQ(it->second, e.client_msg_id);
                }
            }
            restored_last[channel] = n;
            std::size_t messages = 0;
            for (const auto& [seq, id] : acked[channel]) {
                messages += seq <= n;
            }
            EXPECT_GT(messages, 50u) << "the backup holds what came before it";
            EXPECT_LT(n, acked[channel].rbegin()->first) << "and not what came after";
            for (const auto& [seq, id] : acked[channel]) {
                if (seq <= n) {
                    EXPECT_NE(std::find_if(log->begin(), log->end(),
                                           [&](const logged_event& e) { return e.seq == seq; }),
                              log->end());
                }
            }
            // A client that had seen more starts over from the restored end.
            lea->follow(channel, acked[channel].rbegin()->first);
        }
        EXPECT_TRUE(co_await wait_until([&] { return lea->history_resets() == 2; },
                                        std::chrono::seconds(10)));
        co_await lea->close();
    }());

    // The same, as a person sees it with the command-line client.
    const auto ahead = std::to_string(acked[channels[0]].rbegin()->first);
    auto told =
        run_program({cli_binary(), "--server", restored.url(), "--user", "lea", "history",
                     "journal-a", "--after", ahead},
                    "",
                    {"RELAIS_PASSWORD=" + server_process::password_of("lea"), "LC_ALL=fr_FR.UTF-8",
                     "XDG_CONFIG_HOME=" + restored.config_home().string()});
    EXPECT_EQ(told.exit_code, 0) << told.err;
    EXPECT_NE(told.err.find("s'arrête au message " + std::to_string(restored_last[channels[0]]) +
                            " (restauré depuis une sauvegarde)"),
              std::string::npos)
        << told.err;
    auto as_json = run_program({cli_binary(), "--server", restored.url(), "--user", "lea", "--json",
                                "history", "journal-a", "--after", ahead},
                               "",
                               {"RELAIS_PASSWORD=" + server_process::password_of("lea"),
                                "XDG_CONFIG_HOME=" + restored.config_home().string()});
    EXPECT_NE(as_json.out.find("\"full_resync\":true,\"last_seq\":" +
                               std::to_string(restored_last[channels[0]])),
              std::string::npos)
        << as_json.out;
}

TEST(backup, integrity_names_a_gap_and_restore_refuses_what_is_not_whole) {
    server_process server;
    server.add_user("lea");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto lea = co_await logged_in(server, "lea");
        require(co_await lea->create_channel("journal", "", false), "channel");
        for (int i = 0; i < 5; ++i) {
            require(co_await lea->send(client::by_name("journal"), "m" + std::to_string(i)),
                    "send");
        }
        co_await lea->close();
    }());
    const auto file = (server.data_dir().parent_path() / "copie.db").string();
    ASSERT_EQ(run_program({server_binary(), "backup", "--data", server.data_dir().string(), file})
                  .exit_code,
              0);
    // The copy loses an event: integrity names the gap, restore refuses it.
    ASSERT_EQ(run_program({"/usr/bin/python3", "-c",
                           "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
                           "db.execute('DELETE FROM events WHERE seq = 3'); db.commit()",
                           file})
                  .exit_code,
              0);
    const auto elsewhere = server.data_dir().parent_path() / "ailleurs";
    auto refused = run_program({server_binary(), "restore", file, "--data", elsewhere.string()});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("channel 'journal': last seq"), std::string::npos) << refused.err;
    EXPECT_FALSE(std::filesystem::exists(elsewhere / "relais.db"));
    // A folder without a database is not "ok", and is left as it was.
    auto nothing = run_program({server_binary(), "integrity", "--data", elsewhere.string()});
    EXPECT_EQ(nothing.exit_code, 1);
    EXPECT_NE(nothing.err.find("no database in"), std::string::npos) << nothing.err;
    EXPECT_FALSE(std::filesystem::exists(elsewhere / "relais.db"));
    // Not a database at all.
    const auto junk = (server.data_dir().parent_path() / "pas-une-base.db").string();
    std::ofstream(junk) << "bonjour";
    EXPECT_EQ(
        run_program({server_binary(), "restore", junk, "--data", elsewhere.string()}).exit_code, 1);
}

TEST(backup, into_a_folder_keeps_the_newest_dated_copies_and_nothing_else_is_touched) {
    server_process server;
    server.add_user("lea");
    server.start();
    const auto folder = server.data_dir().parent_path() / "sauvegardes";
    std::filesystem::create_directories(folder);
    std::ofstream(folder / "notes-de-l-admin.txt") << "a garder";
    std::ofstream(folder / "relais-ancienne.db") << "pas de la forme datee";
    std::vector<std::string> written;
    for (int i = 0; i < 4; ++i) {
        auto r = run_program({server_binary(), "backup", "--data", server.data_dir().string(),
                              "--keep", "2", folder.string()});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        const auto at = r.out.find(" written to ");
        ASSERT_NE(at, std::string::npos) << r.out;
        written.push_back(r.out.substr(at + 12, r.out.find(" (", at) - at - 12));
        const bool removed_one = r.out.find("older backup removed: ") != std::string::npos;
        EXPECT_EQ(removed_one, i >= 2) << r.out;
    }
    std::vector<std::string> left;
    for (const auto& e : std::filesystem::directory_iterator(folder)) {
        left.push_back(e.path().string());
    }
    std::sort(left.begin(), left.end());
    std::vector<std::string> expected = {(folder / "notes-de-l-admin.txt").string(),
                                         (folder / "relais-ancienne.db").string(), written[2],
                                         written[3]};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(left, expected);
    // Each kept copy restores.
    auto restored = run_program({server_binary(), "restore", written[3], "--data",
                                 (server.data_dir().parent_path() / "restauree").string()});
    EXPECT_EQ(restored.exit_code, 0) << restored.err;
    // --keep with a file is a mistake, said as one.
    auto wrong = run_program({server_binary(), "backup", "--data", server.data_dir().string(),
                              "--keep", "2", (folder / "un-fichier.db").string()});
    EXPECT_EQ(wrong.exit_code, 2);
    EXPECT_NE(wrong.err.find("--keep goes with a folder"), std::string::npos) << wrong.err;
}

}  // namespace
}  // namespace relais::testing
