// Practice-exchange sessions through the real server binary, the client
// library and the `relais` command: a whole GEASE with 8 people, a world
// café with 12, and a server killed in the middle of a live session.
#include <boost/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tests/integration/harness.hpp"

namespace relais::testing {
namespace {

using client::client;
namespace json = boost::json;

// Accounts with a role and a structure, as an admin makes them.
void add_person(const server_process& server, const std::string& name, const std::string& role,
                const std::string& structure) {
    auto r = run_program({server_binary(), "user", "add", name, "--role", role, "--structure",
                          structure, "--commune", "35238", "--data", server.data_dir().string()},
                         server_process::password_of(name) + "\n");
    if (r.exit_code != 0) {
        throw std::runtime_error("user add " + name + ": " + r.err);
    }
}

// The shipped GEASE, with the information questions timed at 2 seconds, as
// an admin would add a variant of it (relais-server template add).
void add_short_gease(const server_process& server) {
    std::ifstream in(std::string(RELAIS_SOURCE_DIR) +
                     "/storage/templates/analyse-de-pratiques.json");
    std::stringstream text;
    text << in.rdbuf();
    auto t = json::parse(text.str()).as_object();
    t["name"] = "gease-court";
    auto& phase = t["phases"].as_array()[2].as_object();
    phase.erase("planned_minutes");
    phase["planned_seconds"] = 2;
    const auto path = server.data_dir().parent_path() / "gease-court.json";
    std::ofstream(path) << json::serialize(t);
    auto r = run_program(
        {server_binary(), "template", "add", path.string(), "--data", server.data_dir().string()});
    if (r.exit_code != 0) {
        throw std::runtime_error("template add: " + r.err);
    }
}

run_result relais_cli(const server_process& server, const std::string& user,
                      std::vector<std::string> args) {
    std::vector<std::string> argv = {cli_binary(), "--server", server.url(), "--user", user};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, "",
                       {"RELAIS_PASSWORD=" + server_process::password_of(user),
                        "LC_ALL=fr_FR.UTF-8", "XDG_CONFIG_HOME=" + server.config_home().string()});
}

// No failure: what `refused` gives for a request that was served.
constexpr auto served = static_cast<errc>(0);

// What one person's client has received, read as it comes.
struct inbox {
    client* c = nullptr;
    std::vector<v1::Event> events;

    // Reads pushes until `done` holds for one meeting event (true) or the
    // time is up (false).
    template <class Predicate>
    asio::awaitable<bool> until_meeting(
        Predicate done, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (const auto& e : events) {
            if (e.has_meeting() && done(e.meeting())) {
                co_return true;
            }
        }
        while (std::chrono::steady_clock::now() < deadline) {
            auto push = co_await c->next_push(std::chrono::milliseconds(200));
            if (!push || !push->has_event()) {
                continue;
            }
            events.push_back(push->event());
            if (push->event().has_meeting() && done(push->event().meeting())) {
                co_return true;
            }
        }
        co_return false;
    }
    // Reads whatever has come, for `quiet` without anything new.
    asio::awaitable<void> settle(std::chrono::milliseconds quiet = std::chrono::milliseconds(300)) {
        while (auto push = co_await c->next_push(quiet)) {
            if (push->has_event()) {
                events.push_back(push->event());
            }
        }
    }
};

template <class Request>
asio::awaitable<relais::client::answer_to<Request>> must(client& c, Request r,
                                                         const std::string& what) {
    auto answer = co_await c.ask(std::move(r));
    require(answer, what);
    co_return std::move(*answer);
}

template <class Request>
asio::awaitable<errc> refused(client& c, Request r) {
    auto answer = co_await c.ask(std::move(r));
    co_return answer ? served : answer.error().code;
}

template <class Request>
Request for_meeting(std::uint64_t id) {
    Request r;
    r.set_meeting_id(id);
    return r;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        out.push_back(line);
    }
    return out;
}

TEST(meetings, a_whole_gease_with_8_people_from_template_to_minutes_and_attendance) {
    server_process server(unthrottled);
    add_person(server, "anim", "coordinator", "Département");
    const std::vector<std::string> names = {"nadia", "paul", "rita", "sami", "tess", "yann", "zoe"};
    for (std::size_t i = 0; i < names.size(); ++i) {
        add_person(server, names[i], "mediator", "Structure " + std::to_string(i % 3 + 1));
    }
    add_short_gease(server);
    server.start();
    std::uint64_t meeting_id = 0;
    run_sync([&]() -> asio::awaitable<void> {
        auto anim = co_await logged_in(server, "anim");
        std::map<std::string, std::unique_ptr<client>> people;
        std::map<std::string, inbox> seen;
        auto channel = co_await anim->create_channel("analyse", "", false);
        require(channel, "channel");
        for (const auto& n : names) {
            people[n] = co_await logged_in(server, n);
            require(co_await people[n]->join(client::by_id(channel->id())), "join " + n);
            seen[n].c = people[n].get();
        }
        inbox anim_seen{anim.get(), {}};

        v1::CreateMeeting create;
        *create.mutable_channel() = client::by_id(channel->id());
        create.set_title("GEASE de décembre");
        create.set_start_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count() +
                            3'600'000);
        create.set_template_name("gease-court");
        create.set_link("https://visio.example.org/gease");
        const auto view = co_await must(*anim, create, "create");
        const auto id = meeting_id = view.meeting().id();
        require_eq(view.meeting().phases_size(), 7, "the template's seven phases");
        require(!view.meeting().charter().empty(), "the template's charter");

        // Start; the charter is accepted to join.
        auto start = for_meeting<v1::SetMeetingState>(id);
        start.set_state(v1::LIVE);
        co_await must(*anim, start, "start");
        EXPECT_EQ(co_await refused(*people["zoe"], for_meeting<v1::JoinMeeting>(id)),
                  errc::forbidden);
        for (const auto& n : names) {
            auto join = for_meeting<v1::JoinMeeting>(id);
            join.set_accept_charter(true);
            co_await must(*people[n], join, "join " + n);
        }
        auto give = [&](const std::string& who, v1::MeetingRole r) -> asio::awaitable<void> {
            auto m = for_meeting<v1::SetMeetingRole>(id);
            m.set_user(who);
            m.set_role(r);
            co_await must(*anim, m, "role");
        };
        co_await give("nadia", v1::NARRATOR);
        co_await give("paul", v1::TIMEKEEPER);
        co_await give("rita", v1::SCRIBE);
        // A participant cannot give roles or move the phases.
        auto grab = for_meeting<v1::SetMeetingRole>(id);
        grab.set_user("sami");
        grab.set_role(v1::FACILITATOR);
        EXPECT_EQ(co_await refused(*people["sami"], grab), errc::forbidden);
        EXPECT_EQ(co_await refused(*people["sami"], for_meeting<v1::SetPhase>(id)),
                  errc::forbidden);

        // Phase 1: rules and the choice of a situation, by a named poll.
        co_await must(*anim, for_meeting<v1::SetPhase>(id), "phase 1");
        auto choice = for_meeting<v1::OpenPoll>(id);
        choice.set_question("Quelle situation analyser ?");
        choice.add_options("Un refus de FranceConnect");
        choice.add_options("Une demande de RSA sans e-mail");
        const auto named = co_await must(*anim, choice, "named poll");
        for (std::size_t i = 0; i < names.size(); ++i) {
            auto ballot = for_meeting<v1::Vote>(id);
            ballot.set_poll_id(named.id());
            ballot.add_options(i < 5 ? 0 : 1);
            co_await must(*people[names[i]], ballot, "vote");
        }
        auto twice = for_meeting<v1::Vote>(id);
        twice.set_poll_id(named.id());
        twice.add_options(0);
        twice.add_options(1);
        EXPECT_EQ(co_await refused(*people["zoe"], twice), errc::bad_request);
        auto close = for_meeting<v1::ClosePoll>(id);
        close.set_poll_id(named.id());
        co_await must(*anim, close, "close");
        auto late = for_meeting<v1::Vote>(id);
        late.set_poll_id(named.id());
        late.add_options(1);
        EXPECT_EQ(co_await refused(*people["zoe"], late), errc::conflict);

        // Phase 2, by the timekeeper: the narrator's account.
        co_await must(*people["paul"], for_meeting<v1::SetPhase>(id), "phase 2");
        auto account =
            co_await people["nadia"]->send(client::by_id(channel->id()), "Voici la situation…");
        require(account, "the narrator tells");
        EXPECT_EQ(account->event().message().meeting_id(), id);
        EXPECT_EQ(account->event().message().meeting_phase(), 2u);

        // Phase 3 is timed at 2 s: everyone is told of the overtime, though
        // nobody sends anything.
        co_await must(*people["paul"], for_meeting<v1::SetPhase>(id), "phase 3");
        for (auto& [n, box] : seen) {
            EXPECT_TRUE(co_await box.until_meeting([](const v1::MeetingEvent& e) {
                return e.change() == v1::MeetingEvent::OVERTIME;
            })) << n;
        }
        // Five hands, served in order.
        const std::vector<std::string> hands = {"sami", "tess", "yann", "zoe", "paul"};
        for (const auto& n : hands) {
            auto raise = for_meeting<v1::RaiseHand>(id);
            raise.set_tag(v1::INFORMATION);
            co_await must(*people[n], raise, "raise");
        }
        std::vector<std::string> speakers;
        for (std::size_t i = 0; i < hands.size(); ++i) {
            co_await must(*anim, for_meeting<v1::GiveFloor>(id), "floor");
            EXPECT_TRUE(co_await seen["rita"].until_meeting([&](const v1::MeetingEvent& e) {
                return e.change() == v1::MeetingEvent::FLOOR && e.floor().has_speaker() &&
                       static_cast<std::size_t>(e.floor().queue_size()) == hands.size() - i - 1;
            }));
            speakers.push_back(seen["rita"].events.back().meeting().floor().speaker().name());
        }
        EXPECT_EQ(speakers, hands);

        // Phase 4: hypotheses; the narrator listens.
        co_await must(*people["paul"], for_meeting<v1::SetPhase>(id), "phase 4");
        auto silent = co_await people["nadia"]->send(client::by_id(channel->id()), "Non, c'est…");
        EXPECT_TRUE(!silent && silent.error().code == errc::forbidden);
        EXPECT_EQ(co_await refused(*people["nadia"], for_meeting<v1::RaiseHand>(id)),
                  errc::forbidden);
        require(co_await people["sami"]->send(client::by_id(channel->id()), "Une hypothèse"),
                "a hypothesis");

        // Zoe drops out; meanwhile a raised hand, an anonymous poll,
        // notes and an action item.
        co_await people["zoe"]->close();
        people.erase("zoe");
        seen.erase("zoe");
        auto raise = for_meeting<v1::RaiseHand>(id);
        co_await must(*people["tess"], raise, "raise again");
        auto mood = for_meeting<v1::OpenPoll>(id);
        mood.set_question("La séance vous aide-t-elle ?");
        mood.add_options("Oui");
        mood.add_options("Non");
        mood.set_anonymous(true);
        const auto anonymous = co_await must(*anim, mood, "anonymous poll");
        for (const auto& n : {"sami", "tess", "yann"}) {
            auto ballot = for_meeting<v1::Vote>(id);
            ballot.set_poll_id(anonymous.id());
            ballot.add_options(0);
            co_await must(*people[n], ballot, "anonymous vote");
        }
        auto add_note = [&](client& by, std::string text, bool action, std::string who,
                            std::string due) -> asio::awaitable<void> {
            auto n = for_meeting<v1::SetNote>(id);
            n.set_text(std::move(text));
            n.set_action(action);
            n.set_who(std::move(who));
            n.set_due(std::move(due));
            co_await must(by, n, "note");
        };
        co_await add_note(*people["rita"], "Hypothèse : la peur de l'erreur en ligne", false, "",
                          "");
        co_await add_note(*anim, "Partager la fiche FranceConnect", true, "paul", "2026-12-15");
        auto by_anyone = for_meeting<v1::SetNote>(id);
        by_anyone.set_text("Ma note");
        EXPECT_EQ(co_await refused(*people["sami"], by_anyone), errc::forbidden);

        // Zoe comes back on a new connection: one snapshot has it all.
        people["zoe"] = co_await logged_in(server, "zoe");
        auto back = for_meeting<v1::JoinMeeting>(id);
        const auto state = co_await must(*people["zoe"], back, "rejoin");
        seen["zoe"].c = people["zoe"].get();
        EXPECT_EQ(state.meeting().current_phase(), 4u);
        EXPECT_TRUE(state.meeting().phases(2).overtime());
        EXPECT_EQ(state.floor().speaker().name(), "paul");
        require_eq(state.floor().queue_size(), 1, "the queue");
        EXPECT_EQ(state.floor().queue(0).user().name(), "tess");
        require_eq(state.polls_size(), 2, "both polls");
        EXPECT_EQ(state.polls(0).counts(0), 5u);
        EXPECT_EQ(state.polls(0).names(1).users_size(), 2);
        EXPECT_EQ(state.polls(1).counts(0), 3u);
        EXPECT_EQ(state.polls(1).names_size(), 0);  // anonymous
        require_eq(state.notes_size(), 2, "the notes");
        EXPECT_EQ(state.notes(1).who().name(), "paul");
        std::map<std::string, std::vector<int>> roles;
        for (const auto& p : state.participants()) {
            roles[p.user().name()].assign(p.roles().begin(), p.roles().end());
        }
        EXPECT_EQ(roles["nadia"], std::vector<int>{v1::NARRATOR});
        EXPECT_EQ(roles["anim"], std::vector<int>{v1::FACILITATOR});
        // Then the live events after the snapshot.
        co_await must(*people["paul"], for_meeting<v1::SetPhase>(id), "phase 5");
        EXPECT_TRUE(co_await seen["zoe"].until_meeting([](const v1::MeetingEvent& e) {
            return e.change() == v1::MeetingEvent::PHASE && e.meeting().current_phase() == 5;
        }));
        // Nothing older than the snapshot was replayed.
        for (const auto& e : seen["zoe"].events) {
            EXPECT_GE(e.seq(), state.as_of_seq());
        }
        // The narrator speaks again.
        require(co_await people["nadia"]->send(client::by_id(channel->id()), "Merci à tous"),
                "the narrator's response");
        co_await must(*people["paul"], for_meeting<v1::SetPhase>(id), "phase 6");
        co_await must(*people["paul"], for_meeting<v1::SetPhase>(id), "phase 7");
        EXPECT_EQ(co_await refused(*people["paul"], for_meeting<v1::SetPhase>(id)), errc::conflict);
        auto end = for_meeting<v1::SetMeetingState>(id);
        end.set_state(v1::ENDED);
        EXPECT_EQ(co_await refused(*people["sami"], end), errc::forbidden);
        co_await must(*anim, end, "end");
        EXPECT_EQ(co_await refused(*people["sami"], for_meeting<v1::RaiseHand>(id)),
                  errc::conflict);
        for (auto& [n, p] : people) {
            co_await p->close();
        }
        co_await anim->close();
    }());

    // The minutes, line by line.
    const auto minutes =
        relais_cli(server, "anim", {"session", "minutes", std::to_string(meeting_id)});
    ASSERT_EQ(minutes.exit_code, 0) << minutes.err;
    const auto md = lines_of(minutes.out);
    auto has = [&](const std::string& line) {
        return std::find(md.begin(), md.end(), line) != md.end();
    };
    EXPECT_EQ(md.at(0), "# Compte rendu — GEASE de décembre");
    EXPECT_TRUE(has("- **Format** : Analyse de pratiques (GEASE)")) << minutes.out;
    EXPECT_TRUE(has("- **Animation** : anim")) << minutes.out;
    EXPECT_TRUE(has("7 participant·es, 3 structures.")) << minutes.out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        EXPECT_TRUE(has("- " + names[i] + " (Structure " + std::to_string(i % 3 + 1) + ")"))
            << names[i];
    }
    EXPECT_TRUE(has("| Phase | Prévu | Réel |"));
    int agenda_rows = 0;
    for (const auto& line : md) {
        agenda_rows += line.starts_with("| ") && line != "| Phase | Prévu | Réel |";
    }
    EXPECT_EQ(agenda_rows, 7);
    bool timed_row = false;
    for (const auto& line : md) {
        timed_row = timed_row || line.starts_with("| 3. Questions d'information | 2 s | ");
    }
    EXPECT_TRUE(timed_row) << minutes.out;
    EXPECT_TRUE(has("### 4. Hypothèses"));
    EXPECT_TRUE(has("- Hypothèse : la peur de l'erreur en ligne"));
    EXPECT_TRUE(has("- [ ] Partager la fiche FranceConnect — paul, pour le 2026-12-15"));
    EXPECT_TRUE(has("### Quelle situation analyser ?"));
    EXPECT_TRUE(has("- Un refus de FranceConnect : 5 (nadia, paul, rita, sami, tess)"))
        << minutes.out;
    EXPECT_TRUE(has("- Une demande de RSA sans e-mail : 2 (yann, zoe)"));
    EXPECT_TRUE(has("### La séance vous aide-t-elle ? (anonyme)"));
    EXPECT_TRUE(has("- Oui : 3"));
    // The notes' writers are named nowhere.
    EXPECT_EQ(minutes.out.find("rita :"), std::string::npos);

    // The attendance sheet, line by line.
    const auto sheet =
        relais_cli(server, "anim", {"session", "attendance", std::to_string(meeting_id)});
    ASSERT_EQ(sheet.exit_code, 0) << sheet.err;
    const auto rows = lines_of(sheet.out);
    ASSERT_EQ(rows.size(), 8u) << sheet.out;
    EXPECT_EQ(rows[0],
              "nom,structure,commune,rôle dans la séance,première arrivée,dernier départ,"
              "minutes de présence");
    std::set<std::string> listed;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        std::vector<std::string> fields;
        std::istringstream in(rows[i]);
        for (std::string f; std::getline(in, f, ',');) {
            fields.push_back(f);
        }
        ASSERT_EQ(fields.size(), 7u) << rows[i];
        listed.insert(fields[0]);
        const auto at = std::find(names.begin(), names.end(), fields[0]) - names.begin();
        EXPECT_EQ(fields[1], "Structure " + std::to_string(at % 3 + 1)) << rows[i];
        EXPECT_EQ(fields[2], "35238");
        EXPECT_EQ(fields[3], fields[0] == "nadia"  ? "narration"
                             : fields[0] == "paul" ? "gardien·ne du temps"
                             : fields[0] == "rita" ? "secrétaire"
                                                   : "participant·e")
            << rows[i];
        EXPECT_EQ(fields[4].size(), 16u) << rows[i];  // 2026-12-01 14:05
        EXPECT_EQ(fields[5].size(), 16u) << rows[i];
        EXPECT_LE(fields[4], fields[5]);
        EXPECT_EQ(fields[6], "0") << rows[i];  // the test lasts seconds
    }
    EXPECT_EQ(listed, std::set<std::string>(names.begin(), names.end()));
}

TEST(meetings, a_world_cafe_of_12_keeps_each_tables_talk_inside_and_its_host_in_place) {
    server_process server(unthrottled);
    add_person(server, "anim", "coordinator", "Département");
    std::vector<std::string> names;
    for (int i = 0; i < 11; ++i) {
        names.push_back("g" + std::to_string(i));
        add_person(server, names.back(), "mediator", "Structure");
    }
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto anim = co_await logged_in(server, "anim");
        auto channel = co_await anim->create_channel("cafe", "", false);
        require(channel, "channel");
        std::map<std::string, std::unique_ptr<client>> people;
        std::map<std::string, inbox> seen;
        for (const auto& n : names) {
            people[n] = co_await logged_in(server, n);
            require(co_await people[n]->join(client::by_id(channel->id())), "join");
            seen[n].c = people[n].get();
        }
        v1::CreateMeeting create;
        *create.mutable_channel() = client::by_id(channel->id());
        create.set_title("World café : l'accueil");
        create.set_start_ms(1'800'000'000'000);
        create.set_template_name("world-cafe");
        const auto id = (co_await must(*anim, create, "create")).meeting().id();
        auto start = for_meeting<v1::SetMeetingState>(id);
        start.set_state(v1::LIVE);
        co_await must(*anim, start, "start");
        for (const auto& n : names) {
            co_await must(*people[n], for_meeting<v1::JoinMeeting>(id), "join");
        }
        co_await must(*anim, for_meeting<v1::SetPhase>(id), "welcome");
        co_await must(*anim, for_meeting<v1::SetPhase>(id), "the rounds");
        auto split = for_meeting<v1::ArrangeTables>(id);
        split.set_size(4);
        split.set_random(true);
        co_await must(*anim, split, "split");

        // Who sits where at each round, from the snapshot.
        std::vector<std::map<std::string, std::uint32_t>> seating;
        std::map<std::uint32_t, std::string> hosts;
        std::map<std::uint32_t, std::uint64_t> table_channel;
        std::map<std::string, std::size_t> checked;  // inbox events already looked at
        auto play_round = [&]() -> asio::awaitable<void> {
            const auto state = co_await must(*anim, for_meeting<v1::GetMeeting>(id), "state");
            require_eq(state.tables_size(), 3, "3 tables of 4, 4 and 3");
            auto& round = seating.emplace_back();
            const auto number = seating.size();
            for (const auto& t : state.tables()) {
                if (hosts.count(t.number())) {
                    EXPECT_EQ(t.host().name(), hosts[t.number()]) << "hosts stay";
                }
                hosts[t.number()] = t.host().name();
                table_channel[t.number()] = t.channel_id();
                EXPECT_EQ(t.members(0).name(), t.host().name());
                for (const auto& m : t.members()) {
                    round[m.name()] = t.number();
                }
            }
            require_eq(round.size(), names.size(), "everyone seated");
            // Everyone says something at their table.
            for (const auto& [n, table] : round) {
                require(co_await people[n]->send(client::by_id(table_channel[table]),
                                                 "round " + std::to_string(number) + " table " +
                                                     std::to_string(table) + " " + n),
                        "table message");
            }
            // This round's words reached the table and nobody else; what a
            // newcomer reads of earlier rounds is the table's own
            // (the tablecloth stays on the table).
            for (auto& [n, box] : seen) {
                co_await box.settle();
                std::set<std::string> got;
                for (auto i = checked[n]; i < box.events.size(); ++i) {
                    const auto& e = box.events[i];
                    if (!e.has_message() || e.channel_id() == channel->id()) {
                        continue;
                    }
                    const auto& text = e.message().text();
                    got.insert(text);
                    const auto at = text.find("table ") + 6;
                    const auto table = std::stoul(text.substr(at, text.find(' ', at) - at));
                    EXPECT_EQ(round.at(n), table)
                        << n << " got a message of another table: " << text;
                }
                checked[n] = box.events.size();
                for (const auto& [other, table] : round) {
                    if (table == round.at(n)) {
                        EXPECT_TRUE(got.count("round " + std::to_string(number) + " table " +
                                              std::to_string(table) + " " + other))
                            << n << " missed " << other << " at round " << number;
                    }
                }
            }
        };
        co_await play_round();
        for (int r = 0; r < 2; ++r) {
            auto rotate = for_meeting<v1::ArrangeTables>(id);
            rotate.set_action(v1::ArrangeTables::ROTATE);
            co_await must(*anim, rotate, "rotate");
            co_await play_round();
            for (const auto& [n, table] : seating.back()) {
                const bool host = hosts[table] == n;
                EXPECT_EQ(seating[seating.size() - 2].at(n) == table, host)
                    << n << ": hosts stay, the others move";
            }
        }
        auto harvest = for_meeting<v1::ArrangeTables>(id);
        harvest.set_action(v1::ArrangeTables::HARVEST);
        co_await must(*anim, harvest, "harvest");
        EXPECT_TRUE((co_await must(*anim, for_meeting<v1::GetMeeting>(id), "state")).harvested());
        for (auto& [n, p] : people) {
            co_await p->close();
        }
        co_await anim->close();
    }());
}

TEST(meetings, a_server_killed_mid_session_restarts_with_phases_ballots_notes_and_attendance) {
    server_process server(unthrottled);
    add_person(server, "anim", "coordinator", "Département");
    for (const auto* n : {"a1", "a2", "a3"}) {
        add_person(server, n, "mediator", "CCAS");
    }
    server.start();
    std::uint64_t id = 0, channel_id = 0;
    std::int64_t planned_end = 0;
    run_sync([&]() -> asio::awaitable<void> {
        auto anim = co_await logged_in(server, "anim");
        auto channel = co_await anim->create_channel("veille", "", false);
        require(channel, "channel");
        channel_id = channel->id();
        std::vector<std::unique_ptr<client>> people;
        for (const auto* n : {"a1", "a2", "a3"}) {
            people.push_back(co_await logged_in(server, n));
            require(co_await people.back()->join(client::by_id(channel_id)), "join");
        }
        v1::CreateMeeting create;
        *create.mutable_channel() = client::by_id(channel_id);
        create.set_title("Cas pratique");
        create.set_start_ms(1'800'000'000'000);
        v1::PhasePlan first, second;
        first.set_name("Présentation");
        first.set_planned_seconds(3);
        second.set_name("Analyse");
        *create.add_phases() = first;
        *create.add_phases() = second;
        id = (co_await must(*anim, create, "create")).meeting().id();
        auto start = for_meeting<v1::SetMeetingState>(id);
        start.set_state(v1::LIVE);
        co_await must(*anim, start, "start");
        for (auto& p : people) {
            co_await must(*p, for_meeting<v1::JoinMeeting>(id), "join");
        }
        co_await must(*anim, for_meeting<v1::SetPhase>(id), "phase 1");
        auto poll = for_meeting<v1::OpenPoll>(id);
        poll.set_question("On continue ?");
        poll.add_options("Oui");
        poll.add_options("Non");
        const auto opened = co_await must(*anim, poll, "poll");
        for (int i = 0; i < 3; ++i) {
            auto ballot = for_meeting<v1::Vote>(id);
            ballot.set_poll_id(opened.id());
            ballot.add_options(i == 2 ? 1 : 0);
            co_await must(*people[i], ballot, "vote");
        }
        auto note = for_meeting<v1::SetNote>(id);
        note.set_text("Une note acquittée");
        co_await must(*anim, note, "note");
        auto raise = for_meeting<v1::RaiseHand>(id);
        co_await must(*people[1], raise, "raise");
        const auto state = co_await must(*anim, for_meeting<v1::GetMeeting>(id), "state");
        planned_end = state.meeting().phase_planned_end_ms();
    }());
    // Killed before the phase's end: the overtime comes after the restart.
    server.kill_hard();
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto anim = co_await logged_in(server, "anim");
        inbox box{anim.get(), {}};
        anim->follow(channel_id, 0);
        const auto state = co_await must(*anim, for_meeting<v1::GetMeeting>(id), "state");
        EXPECT_EQ(state.meeting().state(), v1::LIVE);
        EXPECT_EQ(state.meeting().current_phase(), 1u);
        EXPECT_EQ(state.meeting().phase_planned_end_ms(), planned_end);
        require_eq(state.polls_size(), 1, "the poll");
        EXPECT_EQ(state.polls(0).counts(0), 2u);
        EXPECT_EQ(state.polls(0).counts(1), 1u);
        EXPECT_TRUE(state.polls(0).open());
        require_eq(state.notes_size(), 1, "the note");
        EXPECT_EQ(state.notes(0).text(), "Une note acquittée");
        require_eq(state.floor().queue_size(), 1, "the queue");
        EXPECT_EQ(state.floor().queue(0).user().name(), "a2");
        int present = 0;
        for (const auto& p : state.participants()) {
            present += p.present();
        }
        EXPECT_EQ(present, 3);  // still there: they may come back
        EXPECT_TRUE(co_await box.until_meeting(
            [](const v1::MeetingEvent& e) { return e.change() == v1::MeetingEvent::OVERTIME; },
            std::chrono::seconds(15)));
        auto end = for_meeting<v1::SetMeetingState>(id);
        end.set_state(v1::ENDED);
        co_await must(*anim, end, "end");
        auto attendance = co_await must(*anim, for_meeting<v1::GetAttendance>(id), "attendance");
        EXPECT_EQ(attendance.rows_size(), 3);
        for (const auto& row : attendance.rows()) {
            EXPECT_GT(row.last_leave_ms(), row.first_join_ms());
        }
        co_await anim->close();
    }());
}

}  // namespace
}  // namespace relais::testing
