// The relais command-line client against the real server.
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/harness.hpp"

namespace relais::testing {
namespace {

namespace json = boost::json;

class cli : public ::testing::Test {
  protected:
    void SetUp() override {
        server_.add_user("alice");
        server_.add_user("bob");
        server_.start();
    }

    run_result relais(const std::string& user, std::vector<std::string> args,
                      const std::string& input = {}, const std::string& lang = "fr_FR.UTF-8") {
        std::vector<std::string> argv = {cli_binary(), "--server", server_.url(), "--user", user};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_program(argv, input,
                           {"RELAIS_PASSWORD=" + server_process::password_of(user),
                            "LC_ALL=" + lang, "XDG_CONFIG_HOME=" + server_.config_home().string()});
    }

    server_process server_;
};

std::vector<json::object> json_lines(const std::string& out) {
    std::vector<json::object> lines;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        lines.push_back(json::parse(line).as_object());
    }
    return lines;
}

TEST_F(cli, send_edit_delete_and_history_as_json) {
    ASSERT_EQ(relais("alice", {"create", "accueil", "--topic", "Bienvenue"}).exit_code, 0);
    auto sent = relais("alice", {"send", "accueil", "Bonjour", "à", "tous"});
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
    const auto seq = std::stoull(sent.out);
    EXPECT_EQ(relais("alice", {"send", "accueil"}, "depuis l'entrée standard\n").exit_code, 0);
    ASSERT_EQ(relais("bob", {"join", "accueil"}).exit_code, 0);
    auto bob_sent = relais("bob", {"send", "accueil", "à effacer"});
    ASSERT_EQ(bob_sent.exit_code, 0);
    EXPECT_EQ(relais("alice", {"edit", "accueil", std::to_string(seq), "Bonjour", "à", "toutes"})
                  .exit_code,
              0);
    EXPECT_EQ(
        relais("bob", {"delete", "accueil", std::to_string(std::stoull(bob_sent.out))}).exit_code,
        0);

    auto history = relais("bob", {"history", "accueil", "--json"});
    ASSERT_EQ(history.exit_code, 0) << history.err;
    auto lines = json_lines(history.out);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].at("channel").as_string(), "accueil");
    EXPECT_EQ(lines[0].at("seq").as_int64(), static_cast<std::int64_t>(seq));
    EXPECT_EQ(lines[0].at("author").as_string(), "alice");
    EXPECT_EQ(lines[0].at("text").as_string(), "Bonjour à toutes");
    EXPECT_TRUE(lines[0].at("edited").as_bool());
    EXPECT_FALSE(lines[0].at("deleted").as_bool());
    EXPECT_EQ(lines[1].at("text").as_string(), "depuis l'entrée standard");
    EXPECT_TRUE(lines[2].at("deleted").as_bool());
    const std::string sent_at(lines[0].at("sent_at").as_string());
    EXPECT_EQ(sent_at.size(), 24u) << sent_at;  // 2026-11-28T16:05:01.123Z
    EXPECT_EQ(sent_at.back(), 'Z');

    auto limited = relais("bob", {"history", "accueil", "--json", "--limit", "1"});
    EXPECT_EQ(json_lines(limited.out).size(), 1u);
}

TEST_F(cli, errors_are_plain_words_on_stderr_with_a_non_zero_exit) {
    auto missing = relais("alice", {"history", "nulle-part"});
    EXPECT_NE(missing.exit_code, 0);
    EXPECT_NE(missing.err.find("introuvable"), std::string::npos) << missing.err;
    auto english = relais("alice", {"history", "nulle-part"}, "", "en_GB.UTF-8");
    EXPECT_NE(english.err.find("not found"), std::string::npos) << english.err;
    auto wrong =
        run_program({cli_binary(), "--server", server_.url(), "--user", "alice", "channels"}, "",
                    {"RELAIS_PASSWORD=faux", "XDG_CONFIG_HOME=" + server_.config_home().string()});
    EXPECT_NE(wrong.exit_code, 0);
    EXPECT_FALSE(wrong.err.empty());
    auto usage = relais("alice", {"frobnicate"});
    EXPECT_EQ(usage.exit_code, 2);
}

TEST_F(cli, channel_describes_one_channel_with_the_fields_of_the_listing) {
    ASSERT_EQ(relais("alice", {"create", "atelier", "--topic", "Jeudi"}).exit_code, 0);
    ASSERT_EQ(relais("alice", {"send", "atelier", "Bonjour"}).exit_code, 0);
    auto shown = relais("alice", {"channel", "atelier"});
    ASSERT_EQ(shown.exit_code, 0) << shown.err;
    EXPECT_EQ(shown.out, "#atelier  (1 membre, 0 non lus)  Jeudi\n");
    auto outside = relais("bob", {"--json", "channel", "atelier"});
    ASSERT_EQ(outside.exit_code, 0) << outside.err;
    const auto bob_sees = json_lines(outside.out);
    ASSERT_EQ(bob_sees.size(), 1u);
    EXPECT_EQ(bob_sees[0].at("channel").as_string(), "atelier");
    EXPECT_EQ(bob_sees[0].at("topic").as_string(), "Jeudi");
    EXPECT_EQ(bob_sees[0].at("member").as_bool(), false);
    EXPECT_EQ(bob_sees[0].at("members").as_int64(), 1);
    auto listed = json_lines(relais("bob", {"--json", "channels"}).out);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0], bob_sees[0]);
    ASSERT_EQ(relais("alice", {"create", "secret", "--private"}).exit_code, 0);
    auto hidden = relais("bob", {"channel", "secret"});
    EXPECT_EQ(hidden.exit_code, 1);
    EXPECT_NE(hidden.err.find("introuvable"), std::string::npos) << hidden.err;
}

// In a private channel the topic is the moderators' until they open it to
// members; `channel --json` says what members may do.
TEST_F(cli, options_open_a_private_channel_s_topic_to_its_members) {
    ASSERT_EQ(relais("alice", {"create", "atelier", "--private"}).exit_code, 0);
    ASSERT_EQ(relais("alice", {"invite", "atelier", "bob"}).exit_code, 0);
    auto refused = relais("bob", {"topic", "atelier", "Jeudi", "14h"});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("action non autorisée"), std::string::npos) << refused.err;
    auto not_moderator = relais("bob", {"options", "atelier", "topic", "members"});
    EXPECT_EQ(not_moderator.exit_code, 1);
    ASSERT_EQ(relais("alice", {"options", "atelier", "topic", "members"}).exit_code, 0);
    EXPECT_EQ(relais("bob", {"topic", "atelier", "Jeudi", "14h"}).exit_code, 0);
    const auto seen = json_lines(relais("bob", {"--json", "channel", "atelier"}).out);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].at("topic").as_string(), "Jeudi 14h");
    EXPECT_EQ(seen[0].at("members_can_set_topic").as_bool(), true);
    EXPECT_EQ(seen[0].at("members_can_invite").as_bool(), false);
    auto history = relais("bob", {"history", "atelier"});
    EXPECT_NE(
        history.out.find("alice a changé les options : inviter : modération, sujet : membres"),
        std::string::npos)
        << history.out;
}

TEST_F(cli, a_display_name_is_given_at_creation_and_changed_with_rename) {
    ASSERT_EQ(relais("alice", {"create", "echanges", "--display-name", "Échanges de pratiques"})
                  .exit_code,
              0);
    EXPECT_EQ(relais("alice", {"channel", "echanges"}).out,
              "#echanges « Échanges de pratiques »  (1 membre, 0 non lus)\n");
    ASSERT_EQ(relais("alice", {"rename", "echanges", "Ateliers", "du", "jeudi"}).exit_code, 0);
    const auto seen = json_lines(relais("bob", {"--json", "channel", "echanges"}).out);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].at("display_name").as_string(), "Ateliers du jeudi");
    EXPECT_NE(relais("alice", {"history", "echanges"})
                  .out.find("alice a renommé le canal : Ateliers du jeudi"),
              std::string::npos);
    auto invisible = relais("alice", {"rename", "echanges", "Ateliers\u200b"});
    EXPECT_EQ(invisible.exit_code, 1);
    EXPECT_NE(invisible.err.find("U+200B"), std::string::npos) << invisible.err;
}

// Every command the help lists is one the client runs: with its arguments
// missing it answers its usage line, and a command without arguments runs.
TEST_F(cli, every_command_the_help_lists_runs) {
    auto help = relais("alice", {"help"}, "", "en_GB.UTF-8");
    ASSERT_EQ(help.exit_code, 0);
    std::istringstream lines(help.out);
    std::string line;
    int commands = 0;
    while (std::getline(lines, line)) {
        if (!line.starts_with("  ")) {
            continue;
        }
        auto name = line.substr(2, line.find(' ', 2) - 2);
        std::vector<std::string> command_words = {name};
        // A command of two words: the second is a lowercase word too.
        const auto second =
            line.substr(3 + name.size(), line.find(' ', 3 + name.size()) - 3 - name.size());
        if (!second.empty() && second[0] != '-' &&
            std::all_of(second.begin(), second.end(),
                        [](char ch) { return (ch >= 'a' && ch <= 'z') || ch == '-'; })) {
            command_words.push_back(second);
            name += " " + second;
        }
        SCOPED_TRACE(name);
        ++commands;
        auto bare = relais("alice", command_words, "", "en_GB.UTF-8");
        // Nothing to give but options in brackets: it runs bare.
        const auto given = line.substr(2 + name.size(), line.find(" — ") - 2 - name.size());
        bool needs_words = false;
        int depth = 0;
        for (char ch : given) {
            depth += ch == '[' ? 1 : ch == ']' ? -1 : 0;
            needs_words = needs_words || (depth == 0 && ch != ' ' && ch != ']');
        }
        if (!needs_words && name.starts_with("invitation ")) {
            // It runs, and alice, a mediator, is told who may.
            EXPECT_EQ(bare.exit_code, 1) << bare.err;
            EXPECT_NE(bare.err.find("only coordinators and admins"), std::string::npos) << bare.err;
        } else if (!needs_words && name == "audit") {
            EXPECT_EQ(bare.exit_code, 1) << bare.err;  // alice is no admin
            EXPECT_NE(bare.err.find("only admins"), std::string::npos) << bare.err;
        } else if (name == "password change") {
            // Without a terminal, the new password must come from somewhere.
            EXPECT_EQ(bare.exit_code, 2) << bare.err;
            EXPECT_NE(bare.err.find("password"), std::string::npos) << bare.err;
        } else if (!needs_words) {
            EXPECT_EQ(bare.exit_code, 0) << bare.err;  // no argument to give
        } else if (name == "help") {
            EXPECT_EQ(bare.exit_code, 0) << bare.err;
        } else {
            EXPECT_EQ(bare.exit_code, 2) << bare.err;
            EXPECT_TRUE(bare.err.starts_with("relais: usage: " + name)) << bare.err;
        }
    }
    EXPECT_GE(commands, 17);
}

// bash's Tab completion, from the same registry: commands, choices, options,
// and channel names from the server when a session is cached.
TEST_F(cli, bash_completion_offers_commands_choices_options_and_channels) {
    auto complete = [&](std::vector<std::string> line) {
        // As bash gives them: the index of the word completed (the last),
        // counting the program's name, then every word.
        std::vector<std::string> argv = {cli_binary(), "__complete", std::to_string(line.size()),
                                         "relais"};
        argv.insert(argv.end(), line.begin(), line.end());
        return run_program(argv, "",
                           {"RELAIS_SERVER=" + server_.url(),
                            "XDG_CONFIG_HOME=" + server_.config_home().string()});
    };
    EXPECT_EQ(complete({"jo"}).out, "join\n");
    EXPECT_EQ(complete({"role", "atelier", "bob", "m"}).out, "moderator\nmember\n");
    EXPECT_EQ(complete({"history", "atelier", "--l"}).out, "--limit\n");
    EXPECT_EQ(complete({"--j"}).out, "--json\n");
    EXPECT_EQ(complete({"--user", "al"}).out, "");  // a value: nothing to offer
    // No session cached yet: no channel names, and no password asked for.
    EXPECT_EQ(complete({"--user", "alice", "join", "acc"}).out, "");
    ASSERT_EQ(relais("alice", {"create", "accueil"}).exit_code, 0);
    ASSERT_EQ(relais("alice", {"create", "atelier"}).exit_code, 0);
    EXPECT_EQ(complete({"--user", "alice", "join", "a"}).out, "accueil\natelier\n");
    EXPECT_EQ(complete({"--user", "alice", "send", "acc"}).out, "accueil\n");

    // The script bash sources installs it for `relais`.
    auto script = relais("alice", {"completion", "bash"});
    ASSERT_EQ(script.exit_code, 0);
    auto installed = run_program({"/bin/bash", "-c", script.out + "\ncomplete -p relais"}, "", {});
    EXPECT_EQ(installed.exit_code, 0) << installed.err;
    EXPECT_EQ(installed.out, "complete -o default -F _relais relais\n");
}

// Wrong words are told at once, in the command's usage line, before any
// password is asked for or any connection made.
TEST_F(cli, wrong_words_get_the_usage_line_of_their_command_without_connecting) {
    auto run = [](std::vector<std::string> args) {
        std::vector<std::string> argv = {cli_binary(), "--server", "ws://127.0.0.1:1", "--user",
                                         "alice"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_program(argv, "", {"LC_ALL=en_GB.UTF-8"});
    };
    auto missing = run({"invite", "atelier"});
    EXPECT_EQ(missing.exit_code, 2);
    EXPECT_EQ(missing.err, "relais: usage: invite NAME USER\n");
    auto extra = run({"leave", "atelier", "maintenant"});
    EXPECT_EQ(extra.exit_code, 2);
    EXPECT_EQ(extra.err, "relais: usage: leave NAME\n");
    auto choice = run({"role", "atelier", "bob", "admin"});
    EXPECT_EQ(choice.exit_code, 2);
    EXPECT_NE(choice.err.find("moderator|member"), std::string::npos) << choice.err;
    auto number = run({"delete", "atelier", "dernier"});
    EXPECT_EQ(number.exit_code, 2);
    EXPECT_EQ(number.err, "relais: not a valid number: dernier\n");
    auto past_64_bits = run({"delete", "atelier", "99999999999999999999"});
    EXPECT_EQ(past_64_bits.exit_code, 2);
    EXPECT_EQ(past_64_bits.err, "relais: not a valid number: 99999999999999999999\n");
    auto other_option = run({"channels", "--limit", "3"});
    EXPECT_EQ(other_option.exit_code, 2);
    EXPECT_EQ(other_option.err, "relais: usage: channels\n");
    auto help = run_program({cli_binary(), "help", "history"}, "", {"LC_ALL=en_GB.UTF-8"});
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_EQ(help.out,
              "history NAME [--limit N] [--before SEQ] [--after SEQ] — the last messages "
              "(--limit 50 by default)\n");
}

TEST_F(cli, tail_follows_live_messages_and_stops_after_count) {
    ASSERT_EQ(relais("alice", {"create", "direct", "--private"}).exit_code, 0);
    ASSERT_EQ(relais("alice", {"invite", "direct", "bob"}).exit_code, 0);
    run_result tail;
    std::atomic<bool> tail_ended{false};
    std::thread follower([&] {
        tail = relais("bob", {"tail", "direct", "--count", "2", "--json"});
        tail_ended = true;
    });
    // Keep sending until the follower has seen two messages and exited.
    for (int i = 0; i < 100 && !tail_ended; ++i) {
        relais("alice", {"send", "direct", "message " + std::to_string(i)});
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    follower.join();
    ASSERT_EQ(tail.exit_code, 0) << tail.err;
    auto lines = json_lines(tail.out);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0].at("author").as_string(), "alice");
    EXPECT_LT(lines[0].at("seq").as_int64(), lines[1].at("seq").as_int64());
}

TEST_F(cli, the_session_token_is_cached_privately_so_the_password_is_asked_once) {
    ASSERT_EQ(relais("alice", {"channels"}).exit_code, 0);
    auto sessions = server_.config_home() / "relais" / "sessions";
    ASSERT_TRUE(std::filesystem::exists(sessions));
    EXPECT_EQ(std::filesystem::status(sessions).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    const std::vector<std::string> no_password = {"XDG_CONFIG_HOME=" +
                                                  server_.config_home().string()};
    // No password anywhere, no terminal to ask on: the cached token serves.
    auto cached = run_program(
        {cli_binary(), "--server", server_.url(), "--user", "alice", "create", "sans-mot-de-passe"},
        "", no_password);
    EXPECT_EQ(cached.exit_code, 0) << cached.err;
    // The config file names the server and the user.
    {
        std::ofstream config(server_.config_home() / "relais" / "config");
        config << "server = " << server_.url() << "\nuser = alice\n";
    }
    auto from_config = run_program({cli_binary(), "channels"}, "", no_password);
    EXPECT_EQ(from_config.exit_code, 0) << from_config.err;
    EXPECT_NE(from_config.out.find("sans-mot-de-passe"), std::string::npos);
    // A password change ends the session: the cached token is refused.
    auto passwd = run_program(
        {server_binary(), "user", "passwd", "alice", "--data", server_.data_dir().string()},
        "autre\n");
    ASSERT_EQ(passwd.exit_code, 0) << passwd.err;
    auto refused = run_program({cli_binary(), "channels"}, "", no_password);
    EXPECT_NE(refused.exit_code, 0);
}

TEST_F(cli, the_owner_names_moderators) {
    ASSERT_EQ(relais("alice", {"create", "atelier"}).exit_code, 0);
    ASSERT_EQ(relais("bob", {"join", "atelier"}).exit_code, 0);
    EXPECT_NE(relais("bob", {"role", "atelier", "alice", "member"}).exit_code, 0);
    EXPECT_EQ(relais("bob", {"role", "atelier", "bob", "king"}).exit_code, 2);
    ASSERT_EQ(relais("alice", {"role", "atelier", "bob", "moderator"}).exit_code, 0);
    auto members = json_lines(relais("alice", {"members", "atelier", "--json"}).out);
    ASSERT_EQ(members.size(), 2u);
    EXPECT_EQ(members[0].at("user").as_string(), "alice");
    EXPECT_EQ(members[0].at("role").as_string(), "owner");
    EXPECT_EQ(members[1].at("role").as_string(), "moderator");
    EXPECT_NE(relais("bob", {"kick", "atelier", "alice"}).exit_code, 0);  // owners stay
}

TEST_F(cli, dm_and_channels_list) {
    auto dm = relais("alice", {"dm", "bob", "coucou"});
    ASSERT_EQ(dm.exit_code, 0) << dm.err;
    auto list = relais("bob", {"channels", "--json"});
    auto lines = json_lines(list.out);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].at("channel").as_string(), "alice");
    EXPECT_EQ(lines[0].at("kind").as_string(), "direct");
    EXPECT_EQ(lines[0].at("unread").as_int64(), 1);
}

}  // namespace
}  // namespace relais::testing

namespace relais::testing {
namespace {

TEST_F(cli, resources_threads_reactions_pins_and_search_with_json_listings) {
    ASSERT_EQ(relais("alice", {"create", "outils"}).exit_code, 0);
    ASSERT_EQ(relais("bob", {"join", "outils"}).exit_code, 0);
    auto posted = relais("alice", {"post-resource", "outils",
                                   "--title",       "Simulateur CAF",
                                   "--link",        "https://www.caf.fr/simulateur",
                                   "--kind",        "tool",
                                   "--tag",         "Aides",
                                   "--tag",         "logement",
                                   "--theme",       "demarches-logement",
                                   "--audience",    "jeunes",
                                   "--licence",     "etalab-2.0",
                                   "Pour",          "estimer",
                                   "l'APL",         "@bob"});
    ASSERT_EQ(posted.exit_code, 0) << posted.err;
    const auto resource = posted.out.substr(0, posted.out.size() - 1);
    auto mentions = relais("bob", {"mentions", "--json"});
    auto lines = json_lines(mentions.out);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].at("seq").as_int64(), std::stoll(resource));
    EXPECT_TRUE(lines[0].at("unread").as_bool());
    EXPECT_EQ(relais("alice", {"post-resource", "outils", "--link", "https://x.fr"}).exit_code, 2);
    auto bad_link =
        relais("alice", {"post-resource", "outils", "--title", "T", "--link", "ftp://x.fr"});
    EXPECT_EQ(bad_link.exit_code, 1);
    EXPECT_NE(bad_link.err.find("http"), std::string::npos) << bad_link.err;
    EXPECT_EQ(relais("alice", {"resources", "--kind", "poster"}).exit_code, 2);

    auto asked = relais("bob", {"send", "outils", "Quelqu'un a essayé ce simulateur ?"});
    ASSERT_EQ(asked.exit_code, 0);
    auto replied = relais("bob", {"reply", "outils", resource, "Oui,", "il", "marche"});
    ASSERT_EQ(replied.exit_code, 0) << replied.err;
    const auto reply_seq = replied.out.substr(0, replied.out.size() - 1);
    EXPECT_EQ(relais("alice", {"reply", "outils", resource}, "Merci Bob\n").exit_code, 0);

    // Bob wrote in the channel after it: he has read the mention.
    EXPECT_FALSE(json_lines(relais("bob", {"mentions", "--json"}).out)[0].at("unread").as_bool());
    auto library = relais("bob", {"resources", "--tag", "aides", "--json"});
    ASSERT_EQ(library.exit_code, 0) << library.err;
    lines = json_lines(library.out);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].at("title").as_string(), "Simulateur CAF");
    EXPECT_EQ(lines[0].at("kind").as_string(), "tool");
    EXPECT_EQ(lines[0].at("licence").as_string(), "etalab-2.0");
    EXPECT_EQ(lines[0].at("replies").as_int64(), 2);
    EXPECT_EQ(lines[0].at("tags").as_array().size(), 2u);
    EXPECT_EQ(json_lines(relais("bob", {"resources", "--tag", "absent", "--json"}).out).size(), 0u);

    auto found = relais("bob", {"search", "simul", "--json"});
    ASSERT_EQ(found.exit_code, 0) << found.err;
    lines = json_lines(found.out);
    ASSERT_GE(lines.size(), 2u);  // the resource and the question
    EXPECT_EQ(lines[0].at("channel").as_string(), "outils");
    EXPECT_EQ(relais("bob", {"search", "NEAR(\"x", "*"}).exit_code, 0);

    auto thread = relais("bob", {"thread", "outils", resource, "--json"});
    ASSERT_EQ(thread.exit_code, 0) << thread.err;
    lines = json_lines(thread.out);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[1].at("thread_seq").as_int64(), std::stoll(resource));
    EXPECT_EQ(lines[2].at("text").as_string(), "Merci Bob");

    // Bob replied, so he follows, and Alice's reply came after his; Alice
    // posted it, so she follows too, and read Bob's reply when she replied.
    for (const auto& [who, unread] : {std::pair{"alice", 0}, std::pair{"bob", 1}}) {
        auto threads = relais(who, {"threads", "--json"});
        ASSERT_EQ(threads.exit_code, 0) << threads.err;
        lines = json_lines(threads.out);
        ASSERT_EQ(lines.size(), 1u) << who;
        EXPECT_EQ(lines[0].at("unread").as_int64(), unread) << who;
    }
    EXPECT_EQ(relais("alice", {"unfollow", "outils", resource}).exit_code, 0);
    EXPECT_EQ(json_lines(relais("alice", {"threads", "--json"}).out).size(), 0u);

    EXPECT_EQ(relais("bob", {"react", "outils", reply_seq, "👍"}).exit_code, 0);
    EXPECT_EQ(relais("alice", {"react", "outils", reply_seq, "👍"}).exit_code, 0);
    EXPECT_EQ(relais("alice", {"unreact", "outils", reply_seq, "👍"}).exit_code, 0);
    EXPECT_EQ(relais("alice", {"react", "outils", reply_seq, "bravo"}).exit_code, 1);
    EXPECT_EQ(relais("bob", {"pin", "outils", resource}).exit_code, 1);  // not a moderator
    EXPECT_EQ(relais("alice", {"pin", "outils", resource}).exit_code, 0);
    auto pins = relais("bob", {"pins", "outils", "--json"});
    lines = json_lines(pins.out);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].at("pinned_by").as_string(), "alice");

    const auto question = asked.out.substr(0, asked.out.size() - 1);
    auto answer = relais("alice", {"reply", "outils", question, "Oui, très bien"});
    const auto answer_seq = answer.out.substr(0, answer.out.size() - 1);
    EXPECT_EQ(relais("bob", {"solve", "outils", question, reply_seq}).exit_code, 1);  // elsewhere
    EXPECT_EQ(relais("bob", {"solve", "outils", question, answer_seq}).exit_code, 0);
    auto questions = relais("alice", {"questions", "outils", "--json"});
    ASSERT_EQ(questions.exit_code, 0) << questions.err;
    lines = json_lines(questions.out);
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0].at("solved_seq").as_int64(), std::stoll(answer_seq));
    EXPECT_EQ(relais("alice", {"questions", "outils", "--unsolved", "--json"}).out, "");
    EXPECT_EQ(relais("bob", {"unsolve", "outils", question}).exit_code, 0);
    // Asked as a plain message, solving made it a question; it stays one.
    EXPECT_EQ(
        json_lines(relais("alice", {"questions", "outils", "--unsolved", "--json"}).out).size(),
        1u);
}

TEST(admin, user_commands_check_names_and_take_effect_while_the_server_runs) {
    server_process server;
    server.add_user("alice");
    server.start();
    const std::string data = server.data_dir().string();
    auto admin = [&](std::vector<std::string> args, const std::string& input = {}) {
        args.insert(args.begin(), server_binary());
        args.insert(args.end(), {"--data", data});
        return run_program(args, input);
    };
    auto channels_as_alice = [&](const std::string& password) {
        return run_program(
            {cli_binary(), "--server", server.url(), "--user", "alice", "channels"}, "",
            {"RELAIS_PASSWORD=" + password, "XDG_CONFIG_HOME=" + server.config_home().string()});
    };

    auto duplicate = admin({"user", "add", "alice"}, "x\n");
    EXPECT_NE(duplicate.exit_code, 0);
    EXPECT_NE(duplicate.err.find("already exists"), std::string::npos) << duplicate.err;
    auto invalid = admin({"user", "add", "Pas Valide"}, "x\n");
    EXPECT_NE(invalid.exit_code, 0);
    EXPECT_NE(invalid.err.find("lowercase"), std::string::npos) << invalid.err;
    auto bad_role = admin({"user", "add", "carol", "--role", "king"}, "x\n");
    EXPECT_NE(bad_role.exit_code, 0);

    auto added = admin({"user", "add", "dora", "--role", "coordinator", "--display-name",
                        "Dora (France Services)"},
                       "pw-dora\n");
    EXPECT_EQ(added.exit_code, 0) << added.err;
    auto list = admin({"user", "list"});
    EXPECT_NE(list.out.find("alice\tmediator\tactive"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("dora\tcoordinator\tactive\tDora (France Services)"), std::string::npos)
        << list.out;

    EXPECT_EQ(channels_as_alice("pw-alice").exit_code, 0);
    EXPECT_EQ(admin({"user", "passwd", "alice"}, "nouveau-secret\n").exit_code, 0);
    EXPECT_NE(channels_as_alice("pw-alice").exit_code, 0);
    EXPECT_EQ(channels_as_alice("nouveau-secret").exit_code, 0);

    EXPECT_EQ(admin({"user", "disable", "alice"}).exit_code, 0);
    EXPECT_NE(channels_as_alice("nouveau-secret").exit_code, 0);
    EXPECT_NE(admin({"user", "list"}).out.find("alice\tmediator\tdisabled"), std::string::npos);
    EXPECT_EQ(admin({"user", "enable", "alice"}).exit_code, 0);
    EXPECT_EQ(channels_as_alice("nouveau-secret").exit_code, 0);
    EXPECT_NE(admin({"user", "disable", "nobody"}).exit_code, 0);
}

// A second server on a port already taken (a dev server left running) says
// so in one line an admin can act on, and exits non-zero.
TEST(admin, an_admin_adds_themes_and_audiences_that_resources_may_then_carry) {
    server_process server;
    server.add_user("alice");
    auto admin = [&](std::vector<std::string> args) {
        args.insert(args.begin(), server_binary());
        args.push_back("--data");
        args.push_back(server.data_dir().string());
        return run_program(args);
    };
    auto added = admin({"vocabulary", "add", "theme", "france-services", "--fr", "France Services",
                        "--en", "France Services"});
    ASSERT_EQ(added.exit_code, 0) << added.err;
    EXPECT_EQ(admin({"vocabulary", "add", "theme", "Pas Un Slug", "--fr", "x"}).exit_code, 2);
    EXPECT_EQ(admin({"vocabulary", "add", "colour", "rouge", "--fr", "Rouge"}).exit_code, 2);
    EXPECT_EQ(admin({"vocabulary", "add", "theme", "vide", "--fr", " "}).exit_code, 2);
    auto listed = admin({"vocabulary", "list"});
    ASSERT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_NE(listed.out.find("theme\tfrance-services\tFrance Services"), std::string::npos);
    EXPECT_NE(listed.out.find("audience\tseniors\tSeniors"), std::string::npos);
    server.start();
    auto relais = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {cli_binary(), "--server", server.url(), "--user", "alice"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_program(argv, "",
                           {"RELAIS_PASSWORD=" + server_process::password_of("alice"),
                            "XDG_CONFIG_HOME=" + server.config_home().string()});
    };
    ASSERT_EQ(relais({"create", "outils"}).exit_code, 0);
    auto posted = relais({"post-resource", "outils", "--title", "Carte des France Services",
                          "--theme", "france-services"});
    EXPECT_EQ(posted.exit_code, 0) << posted.err;
    EXPECT_EQ(relais({"post-resource", "outils", "--title", "T", "--theme", "inconnu"}).exit_code,
              1);
    EXPECT_NE(relais({"resources", "--theme", "france-services"}).out.find("Carte des France"),
              std::string::npos);
}

TEST(admin, serving_on_a_taken_port_fails_in_one_plain_line) {
    server_process first;
    first.start();
    const auto port = first.url().substr(first.url().rfind(':') + 1);
    server_process second_data;  // only for its empty data folder
    auto second = run_program({server_binary(), "serve", "--data", second_data.data_dir().string(),
                               "--listen", "127.0.0.1:" + port});
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_EQ(second.err,
              "relais-server: cannot listen on 127.0.0.1:" + port +
                  ": Address already in use (another server already uses this port: stop it or "
                  "pass --listen)\n");
}

TEST(admin, serve_refuses_an_unknown_log_level_and_names_the_allowed_ones) {
    server_process unused;  // only for its data folder
    auto r = run_program({server_binary(), "serve", "--data", unused.data_dir().string(),
                          "--listen", "127.0.0.1:0", "--log-level", "bavard"});
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("--log-level must be debug, info, warn or error, not 'bavard'"),
              std::string::npos)
        << r.err;
}

TEST(admin, check_config_names_each_error_with_its_line_and_serve_refuses_on_the_same_words) {
    server_process unused;  // only for its folders
    const auto shipped = std::string(RELAIS_SOURCE_DIR) + "/deploy/relais.conf";
    auto ok = run_program({server_binary(), "check-config", shipped});
    EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
    EXPECT_EQ(ok.out, shipped + ": ok\n");
    const auto file = (unused.data_dir().parent_path() / "relais.conf").string();
    std::ofstream(file) << "# a config with mistakes\n"
                           "data = "
                        << unused.data_dir().string()
                        << "\n"
                           "listne = 127.0.0.1:0\n"
                           "durability = toujours\n"
                           "\n"
                           "max-frame-bytes = beaucoup\n"
                           "log-level = info\n"
                           "log-level = debug\n"
                           "tls-cert = /nulle/part.pem\n";
    auto checked = run_program({server_binary(), "check-config", file});
    EXPECT_EQ(checked.exit_code, 1);
    const std::string expected =
        file + ":3: unknown option 'listne' (relais-server serve --help lists them)\n" + file +
        ":4: durability must be one of full, normal, not 'toujours'\n" + file +
        ":6: max-frame-bytes = beaucoup: not a whole number\n" + file +
        ":8: log-level is set twice (first at line 7)\n" + file +
        ":9: tls-cert = /nulle/part.pem: cannot read that file\n" + file +
        ":9: tls-cert and tls-key go together\n";
    EXPECT_EQ(checked.out, expected);
    auto served = run_program({server_binary(), "serve", "--config", file});
    EXPECT_EQ(served.exit_code, 2);
    std::istringstream want(expected);
    for (std::string line; std::getline(want, line);) {
        EXPECT_NE(served.err.find("relais-server: " + line + "\n"), std::string::npos) << line;
    }
    EXPECT_EQ(served.out.find("listening"), std::string::npos);
}

}  // namespace
}  // namespace relais::testing
