// The interactive client, driven in a real terminal (tmux) against the real
// server: what the screen shows and what the server stored.
#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "clients/lib/files.hpp"
#include "tests/integration/harness.hpp"

namespace relais::testing {
namespace {

using client::client;
using namespace std::chrono_literals;

// A detached tmux session running one command, on a tmux server of its own.
class terminal {
  public:
    terminal(const server_process& server, const std::string& command, int width = 80,
             int height = 24)
        : socket_((server.config_home().parent_path() / "tmux.sock").string()) {
        auto r = tmux({"new-session", "-d", "-s", "relais", "-x", std::to_string(width), "-y",
                       std::to_string(height), command});
        EXPECT_EQ(r.exit_code, 0) << r.err;
    }
    ~terminal() { tmux({"kill-server"}); }
    terminal(const terminal&) = delete;
    terminal& operator=(const terminal&) = delete;

    void type(const std::string& text) { tmux({"send-keys", "-t", "relais", "-l", text}); }
    void press(const std::string& key) { tmux({"send-keys", "-t", "relais", key}); }
    std::string screen() { return tmux({"capture-pane", "-t", "relais", "-p"}).out; }
    bool alive() { return tmux({"has-session", "-t", "relais"}).exit_code == 0; }

    // Waits until the screen shows `needle`; the screen is in the failure message.
    bool shows(const std::string& needle, std::chrono::milliseconds timeout = 15s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        std::string last;
        while (std::chrono::steady_clock::now() < deadline) {
            last = screen();
            if (last.find(needle) != std::string::npos) {
                return true;
            }
            std::this_thread::sleep_for(100ms);
        }
        ADD_FAILURE() << "the screen never showed '" << needle << "':\n" << last;
        return false;
    }

  private:
    run_result tmux(std::vector<std::string> args) {
        args.insert(args.begin(), {"/usr/bin/tmux", "-S", socket_, "-f", "/dev/null"});
        return run_program(args);
    }
    std::string socket_;
};

std::string tui_command(const server_process& server, const std::string& user,
                        const std::string& lang) {
    return "env LANG=" + lang +
           " LC_ALL= LC_MESSAGES= XDG_CONFIG_HOME=" + server.config_home().string() +
           " RELAIS_PASSWORD=" + server_process::password_of(user) + " " + cli_binary() +
           " --server " + server.url() + " --user " + user;
}

// Runs one action of another client to its end, on a fresh io_context.
int as(const server_process& server, const std::string& user,
       const std::function<asio::awaitable<int>(client&)>& body) {
    return run_sync([&]() -> asio::awaitable<int> {
        auto c = co_await logged_in(server, user);
        int result = co_await body(*c);
        co_await c->close();
        co_return result;
    }());
}

int count_stored(const server_process& server, const std::string& text) {
    return as(server, "bob", [&](client& c) -> asio::awaitable<int> {
        auto page = co_await c.history(client::by_name("accueil"), 0, 0, 500);
        require(page, "history");
        int n = 0;
        for (const auto& e : page->events()) {
            n += e.has_message() && e.message().text() == text;
        }
        co_return n;
    });
}

TEST(tui, converses_scrolls_back_and_survives_a_server_restart) {
    server_process server({"--send-rate", "1000", "--send-burst", "1000"});
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    as(server, "bob", [](client& c) -> asio::awaitable<int> {
        require(co_await c.create_channel("accueil", "Bienvenue", false), "create accueil");
        for (int i = 0; i < 150; ++i) {
            char text[32];
            std::snprintf(text, sizeof text, "historique %03d", i);
            require(co_await c.send(client::by_name("accueil"), text), text);
        }
        co_return 0;
    });

    terminal term(server, tui_command(server, "alice", "fr_FR.UTF-8"));
    ASSERT_TRUE(term.shows("[connecté] alice"));
    term.type("/join acc");
    term.press("Tab");  // completes nothing (not a member yet): the name is typed out
    term.type("ueil");
    term.press("Enter");
    ASSERT_TRUE(term.shows("historique 149"));
    EXPECT_NE(term.screen().find("#accueil"), std::string::npos);

    // A message from another client appears live, and so does their typing.
    as(server, "bob", [](client& c) -> asio::awaitable<int> {
        co_await c.typing(client::by_name("accueil"));
        co_return 0;
    });
    EXPECT_TRUE(term.shows("bob écrit…"));
    as(server, "bob", [](client& c) -> asio::awaitable<int> {
        require(co_await c.send(client::by_name("accueil"), "Bonjour Alice"), "send");
        co_return 0;
    });
    ASSERT_TRUE(term.shows("bob: Bonjour Alice"));

    // What alice types reaches the server and the others.
    term.type("Salut Bob, ça va ? 👋");
    term.press("Enter");
    ASSERT_TRUE(term.shows("alice: Salut Bob, ça va ? 👋"));
    EXPECT_EQ(count_stored(server, "Salut Bob, ça va ? 👋"), 1);

    // Page Up goes back past the first page loaded, to the very beginning.
    for (int i = 0; i < 30 && term.screen().find("historique 000") == std::string::npos; ++i) {
        term.press("PPage");
        std::this_thread::sleep_for(150ms);
    }
    EXPECT_TRUE(term.shows("historique 000"));
    EXPECT_TRUE(term.shows("début du canal"));
    term.press("NPage");
    for (int i = 0; i < 30; ++i) {
        term.press("NPage");
    }
    EXPECT_TRUE(term.shows("alice: Salut Bob"));

    // The server dies; what alice types meanwhile is sent once it is back.
    server.kill_hard();
    ASSERT_TRUE(term.shows("[déconnecté"));
    term.type("écrit pendant la coupure");
    term.press("Enter");
    server.start();
    ASSERT_TRUE(term.shows("[connecté]", 30s));
    as(server, "bob", [](client& c) -> asio::awaitable<int> {
        require(co_await c.send(client::by_name("accueil"), "de retour"), "send");
        co_return 0;
    });
    EXPECT_TRUE(term.shows("bob: de retour"));
    EXPECT_TRUE(term.shows("alice: écrit pendant la coupure"));
    std::this_thread::sleep_for(500ms);
    EXPECT_EQ(count_stored(server, "écrit pendant la coupure"), 1);

    term.type("/quit");
    term.press("Enter");
    for (int i = 0; i < 50 && term.alive(); ++i) {
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_FALSE(term.alive());
}

TEST(tui, speaks_english_when_the_locale_says_so_and_fits_80x24) {
    server_process server;
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    terminal term(server, tui_command(server, "alice", "en_GB.UTF-8"));
    ASSERT_TRUE(term.shows("[connected] alice"));
    EXPECT_TRUE(term.shows("no channel: /join NAME"));
    term.type("/create atelier --private Ateliers du jeudi");
    term.press("Enter");
    ASSERT_TRUE(term.shows("#atelier · Ateliers du jeudi"));
    term.type("/help");
    term.press("Enter");
    EXPECT_TRUE(term.shows("Commands (Tab completes"));
    term.type("/frobnicate");
    term.press("Enter");
    EXPECT_TRUE(term.shows("unknown command: /frobnicate"));
    // Tab completes commands, then each argument as the command declares it.
    term.type("/cha");
    term.press("Tab");
    term.press("Enter");
    EXPECT_TRUE(term.shows("#atelier  (1 member, 0 unread, private)"));
    term.type("/role alice m");
    term.press("Tab");
    EXPECT_TRUE(term.shows("> /role alice moderator"));
    term.press("C-u");
    term.type("/invite");
    term.press("Enter");
    EXPECT_TRUE(term.shows("usage: /invite USER"));
    // A number past 64 bits is not a number, not an internal error.
    term.type("/delete 99999999999999999999");
    term.press("Enter");
    EXPECT_TRUE(term.shows("not a valid number: 99999999999999999999"));
    // A display name shows beside the channel's name, and its change in
    // the conversation.
    term.type("/rename Jeudi");
    term.press("Enter");
    EXPECT_TRUE(term.shows("alice renamed the channel: Jeudi"));
    EXPECT_TRUE(term.shows("#atelier « Jeudi » · Ateliers du jeudi"));
    // A topic may start with "--": only a command's own options are options.
    term.type("/topic --urgent");
    term.press("Enter");
    EXPECT_TRUE(term.shows("#atelier « Jeudi » · --urgent"));
    EXPECT_TRUE(term.shows("online: alice"));

    // A channel alice is added to appears, with its unread and mention counts.
    as(server, "bob", [](client& c) -> asio::awaitable<int> {
        require(co_await c.create_channel("entraide", "", false), "create");
        require(co_await c.invite(client::by_name("entraide"), "alice"), "invite");
        require(co_await c.send(client::by_name("entraide"), "@alice tu as vu ?"), "send");
        require(co_await c.send(client::by_name("entraide"), "et ceci"), "send");
        co_return 0;
    });
    EXPECT_TRUE(term.shows("#entraide   2 @1"));
    term.press("C-n");  // switch to it: read, so the counts go
    EXPECT_TRUE(term.shows("bob: @alice tu as vu ?"));
    bool cleared = false;
    for (int i = 0; i < 50 && !cleared; ++i) {
        cleared = term.screen().find("2 @1") == std::string::npos;
        std::this_thread::sleep_for(100ms);
    }
    EXPECT_TRUE(cleared) << term.screen();
    auto screen = term.screen();
    int rows = 0;
    for (char c : screen) {
        rows += c == '\n';
    }
    EXPECT_EQ(rows, 24);
}

TEST(tui, shows_resources_as_cards_and_threads_in_a_pane_with_search_and_reactions) {
    server_process server({"--send-rate", "1000", "--send-burst", "1000"});
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    std::uint64_t resource = 0, question = 0;
    as(server, "bob", [&](client& c) -> asio::awaitable<int> {
        require(co_await c.create_channel("outils", "", false), "create");
        v1::PostResource post;
        *post.mutable_channel() = client::by_name("outils");
        post.set_client_msg_id("res-1");
        post.mutable_resource()->set_title("Simulateur CAF");
        post.mutable_resource()->set_link("https://www.caf.fr");
        post.mutable_resource()->set_kind(v1::TOOL);
        post.mutable_resource()->add_tags("logement");
        post.mutable_resource()->set_description("Pour estimer l'APL");
        auto sent = co_await c.ask(post);
        require(sent, "post");
        resource = sent->event().seq();
        auto asked = co_await c.send(client::by_name("outils"), "Qui l'a essayé ?");
        require(asked, "send");
        question = asked->event().seq();
        // A file shows as its name and size.
        const auto path = server.config_home().parent_path() / "guide-caf.pdf";
        std::ofstream(path, std::ios::binary) << "%PDF-1.4\n" << std::string(3063, 'x');
        auto upload = co_await relais::client::upload_file(c, path);
        require(upload, "upload");
        v1::SendMessage with_file;
        *with_file.mutable_channel() = client::by_name("outils");
        with_file.set_text("le guide");
        with_file.set_client_msg_id("file-1");
        with_file.set_attachment_upload_id(upload->upload_id());
        require(co_await c.ask(with_file), "send with a file");
        co_return 0;
    });
    terminal term(server, tui_command(server, "alice", "fr_FR.UTF-8"), 100, 30);
    ASSERT_TRUE(term.shows("[connecté] alice"));
    term.type("/join outils");
    term.press("Enter");
    // A card: title, kind, tags, link, description.
    ASSERT_TRUE(term.shows("bob: ▌ Simulateur CAF"));
    EXPECT_TRUE(
        term.shows("▌ outil · #" + std::to_string(resource) + " · logement · https://www.caf.fr"));
    EXPECT_TRUE(term.shows("▌ Pour estimer l'APL"));
    EXPECT_TRUE(term.shows("bob: le guide 📎 guide-caf.pdf (3,0 Ko)"));

    // The thread opens in the pane; what is typed there is a reply.
    term.type("/thread " + std::to_string(question));
    term.press("Enter");
    ASSERT_TRUE(term.shows("Fil du message " + std::to_string(question)));
    term.type("Moi, en atelier @bob");
    term.press("Enter");
    EXPECT_TRUE(term.shows("alice: Moi, en atelier @bob"));
    term.press("Escape");
    EXPECT_TRUE(term.shows("↳ 1 réponse · /thread " + std::to_string(question)));
    std::uint64_t reply_seq = 0;
    as(server, "bob", [&](client& c) -> asio::awaitable<int> {
        v1::GetThread get;
        *get.mutable_channel() = client::by_name("outils");
        get.set_root_seq(question);
        auto thread = co_await c.ask(get);
        require(thread, "thread");
        require_eq(thread->replies_size(), 1, "one reply stored in the thread");
        reply_seq = thread->replies(0).seq();
        // Bob answers in the thread: alice follows it since she replied.
        v1::SendMessage again;
        *again.mutable_channel() = client::by_name("outils");
        again.set_text("Merci Alice");
        again.set_thread_seq(question);
        again.set_client_msg_id("reply-2");
        require(co_await c.ask(again), "reply");
        co_return 0;
    });
    EXPECT_TRUE(term.shows("↳ 2 réponses"));
    EXPECT_TRUE(term.shows("#outils") && term.shows("↳1"));  // unread in a followed thread

    // Reactions show under the message.
    term.type("/react " + std::to_string(resource) + " 👍");
    term.press("Enter");
    EXPECT_TRUE(term.shows("👍 1"));

    // Search and the library open as lists; Escape goes back.
    term.type("/search simul");
    term.press("Enter");
    EXPECT_TRUE(term.shows("Recherche : simul"));
    EXPECT_TRUE(term.shows("#outils " + std::to_string(resource)));
    term.press("Escape");
    term.type("/resources");
    term.press("Enter");
    EXPECT_TRUE(term.shows("▌ Simulateur CAF  — #outils " + std::to_string(resource)));
    term.press("Escape");
    term.type("/threads");
    term.press("Enter");
    EXPECT_TRUE(term.shows("Fils suivis"));
    EXPECT_TRUE(term.shows("#outils " + std::to_string(question) + " bob: Qui l'a essayé ?"));
    term.press("Escape");
    EXPECT_GT(reply_seq, 0u);
}

TEST(tui, follows_a_session_in_its_panel_raises_a_hand_with_f2_and_votes) {
    server_process server({"--send-rate", "1000", "--send-burst", "1000"});
    server.add_user("alice");
    auto added = run_program({server_binary(), "user", "add", "anim", "--role", "coordinator",
                              "--data", server.data_dir().string()},
                             server_process::password_of("anim") + "\n");
    ASSERT_EQ(added.exit_code, 0) << added.err;
    server.start();
    std::uint64_t id = 0;
    as(server, "anim", [&](client& c) -> asio::awaitable<int> {
        require(co_await c.create_channel("echanges", "", false), "create");
        v1::CreateMeeting create;
        *create.mutable_channel() = client::by_name("echanges");
        create.set_title("Tour de table de décembre");
        create.set_start_ms(1'800'000'000'000);
        create.set_charter("Bienveillance et confidentialité.");
        v1::PhasePlan first, second;
        first.set_name("Présentations");
        first.set_planned_seconds(3);
        second.set_name("Échanges libres");
        *create.add_phases() = first;
        *create.add_phases() = second;
        auto view = co_await c.ask(create);
        require(view, "create meeting");
        id = view->meeting().id();
        co_return 0;
    });
    terminal term(server, tui_command(server, "alice", "fr_FR.UTF-8"), 120, 30);
    ASSERT_TRUE(term.shows("[connecté] alice"));
    term.type("/join echanges");
    term.press("Enter");
    ASSERT_TRUE(term.shows("a programmé la séance « Tour de table de décembre »"));
    auto anim_does = [&](auto request) {
        as(server, "anim", [&](client& c) -> asio::awaitable<int> {
            request.set_meeting_id(id);
            require(co_await c.ask(request), "anim's request");
            co_return 0;
        });
    };
    v1::SetMeetingState start;
    start.set_state(v1::LIVE);
    anim_does(start);
    ASSERT_TRUE(term.shows("commence : /session " + std::to_string(id)));
    // The charter first, then the panel.
    term.type("/session " + std::to_string(id));
    term.press("Enter");
    ASSERT_TRUE(term.shows("Bienveillance et confidentialité."));
    term.type("/accept");
    term.press("Enter");
    ASSERT_TRUE(term.shows("◆ en cours — Tour de table de décembre"));
    EXPECT_TRUE(term.shows("1 présent·es"));
    anim_does(v1::SetPhase{});
    EXPECT_TRUE(term.shows("◆ 00:0"));
    EXPECT_TRUE(term.shows("restantes · 1/2 Présentations — Tour de table de décembre"));
    // Its time runs out on the screen, with nobody typing anything.
    EXPECT_TRUE(term.shows("DÉPASSEMENT +"));
    // F2 raises the hand; the facilitator sees it and gives the floor.
    term.press("F2");
    ASSERT_TRUE(term.shows("(votre main est levée)"));
    anim_does(v1::GiveFloor{});
    EXPECT_TRUE(term.shows("Parole : alice"));
    v1::OpenPoll poll;
    poll.set_question("On continue ?");
    poll.add_options("Oui");
    poll.add_options("Non");
    anim_does(poll);
    ASSERT_TRUE(term.shows("Sondage 1 : On continue ?  1) Oui 0  2) Non 0  — /vote 1 N"));
    term.type("/vote 1 2");
    term.press("Enter");
    EXPECT_TRUE(term.shows("2) Non 1✓"));
    as(server, "anim", [&](client& c) -> asio::awaitable<int> {
        v1::GetMeeting get;
        get.set_meeting_id(id);
        auto view = co_await c.ask(get);
        require(view, "view");
        EXPECT_EQ(view->polls(0).counts(1), 1u);
        EXPECT_EQ(view->floor().speaker().name(), "alice");
        co_return 0;
    });
    // Quitting leaves the session.
    term.type("/quit");
    term.press("Enter");
    as(server, "anim", [&](client& c) -> asio::awaitable<int> {
        v1::GetMeeting get;
        get.set_meeting_id(id);
        for (int i = 0; i < 50; ++i) {
            auto view = co_await c.ask(get);
            require(view, "view");
            if (view->meeting().present_count() == 0) {
                break;
            }
            asio::steady_timer t(co_await asio::this_coro::executor, 100ms);
            co_await t.async_wait(asio::use_awaitable);
        }
        auto view = co_await c.ask(get);
        EXPECT_EQ(view->meeting().present_count(), 0u);
        co_return 0;
    });
}

}  // namespace
}  // namespace relais::testing
