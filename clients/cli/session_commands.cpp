// `relais session ...`: practice-exchange sessions from the command line,
// and `relais profile`.
#include <google/protobuf/util/json_util.h>

#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include "clients/cli/command_helpers.hpp"
#include "clients/cli/command_registry.hpp"
#include "clients/cli/messages.hpp"
#include "clients/lib/meeting_export.hpp"
#include "protocol/url.hpp"

namespace relais::cli {

namespace asio = boost::asio;
namespace json = boost::json;
using client::client;
namespace exports = relais::client;

std::string proto_json(const google::protobuf::Message& m) {
    std::string out;
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(m, &out, options);
    return out;
}

namespace {

std::uint64_t session_id(const arguments& a) {
    return to_number(a.words.at(1));
}

std::string state_words(v1::MeetingState s) {
    switch (s) {
        case v1::SCHEDULED:
            return tr(words{"à venir", "upcoming"});
        case v1::LIVE:
            return tr(words{"en cours", "live"});
        case v1::ENDED:
            return tr(words{"terminée", "ended"});
        case v1::CANCELLED:
            return tr(words{"annulée", "cancelled"});
        default:
            return "?";
    }
}

std::string minutes_words(std::uint32_t seconds) {
    return std::to_string((seconds + 59) / 60) + " min";
}

std::uint32_t phase_seconds(const v1::PhasePlan& p) {
    return p.planned_seconds() ? p.planned_seconds() : p.planned_minutes() * 60;
}

std::string who(const v1::User& u) {
    return u.display_name().empty() || u.display_name() == u.name()
               ? u.name()
               : u.display_name() + " (" + u.name() + ")";
}

const char* tag_word(v1::HandTag t) {
    switch (t) {
        case v1::INFORMATION:
            return "information";
        case v1::HYPOTHESIS:
            return "hypothesis";
        case v1::ADVICE:
            return "advice";
        default:
            return "";
    }
}

template <class Request>
Request on_session(const arguments& a) {
    Request r;
    r.set_meeting_id(session_id(a));
    return r;
}

asio::awaitable<int> templates(client& c, const arguments& a) {
    auto list = co_await c.ask(v1::ListMeetingTemplates{});
    if (!list) {
        co_return report(list.error());
    }
    for (const auto& t : list->templates()) {
        if (a.json) {
            std::cout << proto_json(t) << "\n";
            continue;
        }
        std::uint32_t total = 0;
        for (const auto& p : t.phases()) {
            total += phase_seconds(p);
        }
        std::cout << t.name() << " — " << t.title() << " (" << t.phases_size() << " phases, "
                  << minutes_words(total) << ")\n";
        int n = 0;
        for (const auto& p : t.phases()) {
            std::cout << "  " << ++n << ". " << p.name();
            if (phase_seconds(p)) {
                std::cout << " (" << minutes_words(phase_seconds(p)) << ")";
            }
            if (p.narrator_silent()) {
                std::cout << tr(words{" — narrateur en silence", " — narrator silent"});
            }
            std::cout << "\n";
        }
    }
    co_return 0;
}

// "Nom:15" is a phase of 15 minutes; a name without minutes is untimed.
v1::PhasePlan phase_of(const std::string& word) {
    v1::PhasePlan p;
    const auto colon = word.rfind(':');
    if (colon != std::string::npos && colon + 1 < word.size()) {
        if (auto minutes = parse_number(std::string_view(word).substr(colon + 1))) {
            p.set_name(word.substr(0, colon));
            p.set_planned_minutes(static_cast<std::uint32_t>(*minutes));
            return p;
        }
    }
    p.set_name(word);
    return p;
}

asio::awaitable<int> create(client& c, const arguments& a) {
    v1::CreateMeeting m;
    *m.mutable_channel() = ref(a, 1);
    m.set_title(option_value(a, "--title").value_or(""));
    const auto start = option_value(a, "--start").value_or("");
    const auto at = exports::parse_moment(start);
    if (!at) {
        throw usage_error("--start " + start + " : 2026-12-15T14:00");
    }
    m.set_start_ms(*at);
    m.set_template_name(option_value(a, "--template").value_or(""));
    for (const auto& phase : option_values(a, "--phase")) {
        *m.add_phases() = phase_of(phase);
    }
    m.set_link(option_value(a, "--link").value_or(""));
    m.set_charter(option_value(a, "--charter").value_or(""));
    m.set_confidential(has_switch(a, "--confidential"));
    m.set_timers_off(has_switch(a, "--no-timers"));
    auto view = co_await c.ask(std::move(m));
    if (!view) {
        co_return report(view.error());
    }
    if (a.json) {
        std::cout << proto_json(*view) << "\n";
    } else {
        std::cout << view->meeting().id() << "\n";
    }
    co_return 0;
}

asio::awaitable<int> list(client& c, const arguments& a) {
    v1::ListMeetings q;
    if (a.words.size() > 1) {
        *q.mutable_channel() = ref(a, 1);
    }
    auto found = co_await c.ask(std::move(q));
    if (!found) {
        co_return report(found.error());
    }
    for (const auto& m : found->meetings()) {
        if (a.json) {
            std::cout << proto_json(m) << "\n";
            continue;
        }
        std::cout << m.id() << "  #" << m.channel_name() << "  "
                  << exports::local_minute(m.start_ms()) << "  [" << state_words(m.state()) << "]  "
                  << m.title() << "\n";
    }
    co_return 0;
}

asio::awaitable<int> show(client& c, const arguments& a) {
    auto view = co_await c.ask(on_session<v1::GetMeeting>(a));
    if (!view) {
        co_return report(view.error());
    }
    if (a.json) {
        std::cout << proto_json(*view) << "\n";
        co_return 0;
    }
    const auto& m = view->meeting();
    std::cout << m.title() << " — #" << m.channel_name() << " — " << state_words(m.state()) << "\n";
    std::cout << tr(words{"Début : ", "Start: "}) << exports::local_minute(m.start_ms()) << "\n";
    if (!m.link().empty()) {
        std::cout << tr(words{"Salle : ", "Room: "}) << m.link() << "\n";
    }
    if (!m.charter().empty()) {
        std::cout << tr(words{"Charte : ", "Charter: "}) << m.charter() << "\n";
    }
    std::cout << tr(words{"Ordre du jour :", "Agenda:"}) << "\n";
    for (int i = 0; i < m.phases_size(); ++i) {
        const auto& p = m.phases(i);
        const bool current = static_cast<std::uint32_t>(i + 1) == m.current_phase();
        std::cout << (current ? "> " : "  ") << i + 1 << ". " << p.plan().name();
        if (phase_seconds(p.plan())) {
            std::cout << " (" << minutes_words(phase_seconds(p.plan())) << ")";
        }
        if (p.actual_seconds()) {
            std::cout << tr(words{" — réel ", " — actual "}) << minutes_words(p.actual_seconds());
        }
        if (current && m.overtime()) {
            std::cout << tr(words{" — DÉPASSEMENT", " — OVERTIME"});
        } else if (current && m.phase_planned_end_ms()) {
            std::cout << tr(words{" — fin prévue ", " — ends "})
                      << exports::local_minute(m.phase_planned_end_ms());
        }
        std::cout << "\n";
    }
    std::cout << tr(words{"Participants :", "Participants:"}) << "\n";
    for (const auto& p : view->participants()) {
        std::cout << "  " << (p.present() ? "● " : "○ ") << who(p.user());
        if (p.roles_size()) {
            google::protobuf::RepeatedField<int> roles(p.roles().begin(), p.roles().end());
            std::cout << " — " << exports::meeting_roles(roles, english());
        }
        if (p.table()) {
            std::cout << " — table " << p.table();
        }
        std::cout << "\n";
    }
    const auto& floor = view->floor();
    if (floor.has_speaker()) {
        std::cout << tr(words{"La parole : ", "Floor: "}) << who(floor.speaker()) << "\n";
    }
    if (floor.queue_size()) {
        std::cout << tr(words{"Mains levées :", "Raised hands:"});
        for (const auto& h : floor.queue()) {
            std::cout << " " << h.user().name();
            if (h.tag()) {
                std::cout << "[" << tag_word(h.tag()) << "]";
            }
        }
        std::cout << "\n";
    }
    for (const auto& poll : view->polls()) {
        std::cout << tr(words{"Sondage ", "Poll "}) << poll.id() << (poll.open() ? "" : " (clos)")
                  << " : " << poll.question() << "\n";
        for (int i = 0; i < poll.options_size(); ++i) {
            std::cout << "  " << i + 1 << ". " << poll.options(i) << " : " << poll.counts(i);
            if (i < poll.names_size() && poll.names(i).users_size()) {
                std::cout << " (";
                for (int j = 0; j < poll.names(i).users_size(); ++j) {
                    std::cout << (j ? ", " : "") << poll.names(i).users(j).name();
                }
                std::cout << ")";
            }
            std::cout << "\n";
        }
    }
    for (const auto& t : view->tables()) {
        std::cout << "Table " << t.number() << " (#" << t.channel_name() << ") :";
        for (const auto& u : t.members()) {
            std::cout << " " << u.name();
        }
        std::cout << "\n";
    }
    for (const auto& n : view->notes()) {
        std::cout << (n.action() ? "[action] " : "[note] ") << n.id() << ". " << n.text();
        if (n.has_who()) {
            std::cout << " — " << n.who().name();
        }
        if (!n.due().empty()) {
            std::cout << ", " << n.due();
        }
        std::cout << "\n";
    }
    co_return 0;
}

asio::awaitable<int> set_state(client& c, const arguments& a, v1::MeetingState state) {
    auto m = on_session<v1::SetMeetingState>(a);
    m.set_state(state);
    co_return co_await ask_done(c, std::move(m));
}
asio::awaitable<int> start(client& c, const arguments& a) {
    co_return co_await set_state(c, a, v1::LIVE);
}
asio::awaitable<int> cancel(client& c, const arguments& a) {
    co_return co_await set_state(c, a, v1::CANCELLED);
}
asio::awaitable<int> end(client& c, const arguments& a) {
    const int code = co_await set_state(c, a, v1::ENDED);
    if (code == 0) {
        std::cout << tr(words{"Séance terminée. Le compte rendu est à relire : relais session "
                              "minutes ",
                              "Session ended. Its minutes are drafted: relais session minutes "})
                  << a.words[1] << "\n";
    }
    co_return code;
}

asio::awaitable<int> join(client& c, const arguments& a) {
    auto m = on_session<v1::JoinMeeting>(a);
    m.set_accept_charter(has_switch(a, "--accept-charter"));
    auto view = co_await c.ask(std::move(m));
    if (!view) {
        if (view.error().code == errc::forbidden && !has_switch(a, "--accept-charter")) {
            if (auto about = co_await c.ask(on_session<v1::GetMeeting>(a))) {
                std::cerr << tr(words{"Charte de la séance :\n", "The session's charter:\n"})
                          << about->meeting().charter() << "\n"
                          << tr(words{"Pour l'accepter et entrer : --accept-charter\n",
                                      "To accept it and join: --accept-charter\n"});
            }
        }
        co_return report(view.error());
    }
    const auto& joined = view->meeting();
    std::cout << tr(words{"Vous êtes dans la séance « ", "You joined « "}) << joined.title()
              << " » (" << joined.present_count()
              << tr(joined.present_count() > 1 ? words{" présent·es)", " present)"}
                                               : words{" présent·e)", " present)"})
              << "\n";
    co_return 0;
}

asio::awaitable<int> leave(client& c, const arguments& a) {
    auto m = on_session<v1::JoinMeeting>(a);
    m.set_leave(true);
    auto view = co_await c.ask(std::move(m));
    co_return view ? 0 : report(view.error());
}

asio::awaitable<int> next(client& c, const arguments& a) {
    co_return co_await ask_done(c, on_session<v1::SetPhase>(a));
}

asio::awaitable<int> phase(client& c, const arguments& a) {
    auto m = on_session<v1::SetPhase>(a);
    m.set_phase(static_cast<std::uint32_t>(to_number(a.words[2])));
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> role(client& c, const arguments& a) {
    auto m = on_session<v1::SetMeetingRole>(a);
    m.set_user(a.words[2]);
    m.set_role(choose<v1::MeetingRole>("ROLE", a.words[3],
                                       {{"facilitator", v1::FACILITATOR},
                                        {"narrator", v1::NARRATOR},
                                        {"timekeeper", v1::TIMEKEEPER},
                                        {"scribe", v1::SCRIBE},
                                        {"host", v1::TABLE_HOST}}));
    m.set_remove(has_switch(a, "--remove"));
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> raise(client& c, const arguments& a) {
    auto m = on_session<v1::RaiseHand>(a);
    if (auto tag = option_value(a, "--tag")) {
        m.set_tag(choose<v1::HandTag>("--tag", *tag,
                                      {{"information", v1::INFORMATION},
                                       {"hypothesis", v1::HYPOTHESIS},
                                       {"advice", v1::ADVICE}}));
    }
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> lower(client& c, const arguments& a) {
    auto m = on_session<v1::RaiseHand>(a);
    m.set_lower(true);
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> give_floor(client& c, const arguments& a) {
    auto m = on_session<v1::GiveFloor>(a);
    if (a.words.size() > 2) {
        m.set_user(a.words[2]);
    }
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> poll(client& c, const arguments& a) {
    auto m = on_session<v1::OpenPoll>(a);
    m.set_question(a.words[2]);
    for (std::size_t i = 3; i < a.words.size(); ++i) {
        m.add_options(a.words[i]);
    }
    m.set_multiple(has_switch(a, "--multiple"));
    m.set_anonymous(has_switch(a, "--anonymous"));
    m.set_from_cases(has_switch(a, "--cases"));
    auto opened = co_await c.ask(std::move(m));
    if (!opened) {
        co_return report(opened.error());
    }
    std::cout << opened->id() << "\n";
    co_return 0;
}

asio::awaitable<int> vote(client& c, const arguments& a) {
    auto m = on_session<v1::Vote>(a);
    m.set_poll_id(static_cast<std::uint32_t>(to_number(a.words[2])));
    for (std::size_t i = 3; i < a.words.size(); ++i) {
        const auto n = to_number(a.words[i]);
        if (n == 0) {
            throw usage_error(tr(
                words{"les options sont numérotées à partir de 1", "options are numbered from 1"}));
        }
        m.add_options(static_cast<std::uint32_t>(n - 1));
    }
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> close_poll(client& c, const arguments& a) {
    auto m = on_session<v1::ClosePoll>(a);
    m.set_poll_id(static_cast<std::uint32_t>(to_number(a.words[2])));
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> arrange(client& c, const arguments& a, v1::ArrangeTables::Action action) {
    auto m = on_session<v1::ArrangeTables>(a);
    m.set_action(action);
    if (action == v1::ArrangeTables::SPLIT) {
        m.set_size(static_cast<std::uint32_t>(to_number(option_value(a, "--size").value_or(""))));
        m.set_random(has_switch(a, "--random"));
    }
    co_return co_await ask_done(c, std::move(m));
}
asio::awaitable<int> tables(client& c, const arguments& a) {
    co_return co_await arrange(c, a, v1::ArrangeTables::SPLIT);
}
asio::awaitable<int> rotate(client& c, const arguments& a) {
    co_return co_await arrange(c, a, v1::ArrangeTables::ROTATE);
}
asio::awaitable<int> harvest(client& c, const arguments& a) {
    co_return co_await arrange(c, a, v1::ArrangeTables::HARVEST);
}

asio::awaitable<int> submit_case(client& c, const arguments& a) {
    v1::SubmitCase m;
    *m.mutable_channel() = ref(a, 1);
    m.set_text(joined_words(a.words, 2));
    auto added = co_await c.ask(std::move(m));
    if (!added) {
        co_return report(added.error());
    }
    std::cout << added->id() << "\n";
    co_return 0;
}

asio::awaitable<int> cases(client& c, const arguments& a) {
    auto list = co_await c.ask(on_session<v1::ListCases>(a));
    if (!list) {
        co_return report(list.error());
    }
    for (const auto& item : list->cases()) {
        if (a.json) {
            std::cout << proto_json(item) << "\n";
            continue;
        }
        std::cout << item.id() << ". " << item.text();
        if (item.has_author()) {
            std::cout << tr(words{" — proposé par ", " — proposed by "}) << item.author().name();
        }
        if (item.chosen_by_meeting()) {
            std::cout << tr(words{" — retenu (séance ", " — chosen (session "})
                      << item.chosen_by_meeting() << ")";
        }
        std::cout << "\n";
    }
    co_return 0;
}

asio::awaitable<int> note(client& c, const arguments& a) {
    auto m = on_session<v1::SetNote>(a);
    m.set_text(joined_words(a.words, 2));
    m.set_action(has_switch(a, "--action"));
    m.set_who(option_value(a, "--who").value_or(""));
    m.set_due(option_value(a, "--due").value_or(""));
    auto added = co_await c.ask(std::move(m));
    if (!added) {
        co_return report(added.error());
    }
    std::cout << added->id() << "\n";
    co_return 0;
}

asio::awaitable<int> minutes(client& c, const arguments& a) {
    const auto file = option_value(a, "--edit");
    const bool publish = has_switch(a, "--publish");
    if (!file && !publish) {
        auto got = co_await c.ask(on_session<v1::GetMinutes>(a));
        if (!got) {
            co_return report(got.error());
        }
        std::cout << got->markdown() << "\n";
        co_return 0;
    }
    auto m = on_session<v1::EditMinutes>(a);
    if (file) {
        std::ifstream in(*file, std::ios::binary);
        if (!in) {
            throw usage_error(*file + tr(words{" : fichier illisible", ": cannot read the file"}));
        }
        std::stringstream text;
        text << in.rdbuf();
        m.set_markdown(text.str());
    }
    m.set_publish(publish);
    auto done = co_await c.ask(std::move(m));
    if (!done) {
        co_return report(done.error());
    }
    if (done->published()) {
        std::cout << tr(words{"Compte rendu publié dans le canal (message ",
                              "Minutes published in the channel (message "})
                  << done->seq() << ")\n";
    }
    co_return 0;
}

asio::awaitable<int> attendance(client& c, const arguments& a) {
    auto sheet = co_await c.ask(on_session<v1::GetAttendance>(a));
    if (!sheet) {
        co_return report(sheet.error());
    }
    std::cout << exports::attendance_csv(*sheet, english());
    co_return 0;
}

asio::awaitable<int> ics(client& c, const arguments& a) {
    auto view = co_await c.ask(on_session<v1::GetMeeting>(a));
    if (!view) {
        co_return report(view.error());
    }
    const auto url = protocol::parse_ws_url(a.server);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    std::cout << exports::meeting_ics(view->meeting(), url ? url->host : "relais", now);
    co_return 0;
}

asio::awaitable<int> activity_report(client& c, const arguments& a) {
    v1::GetMeetingReport m;
    const auto from = option_value(a, "--from").value_or("");
    const auto to = option_value(a, "--to").value_or("");
    const auto from_ms = exports::parse_moment(from);
    const auto to_ms = exports::parse_moment(to);
    if (!from_ms || from.size() != 10) {
        throw usage_error("--from " + from + " : 2026-01-31");
    }
    if (!to_ms || to.size() != 10) {
        throw usage_error("--to " + to + " : 2026-12-31");
    }
    m.set_from_ms(*from_ms);
    // The last day counts whole: up to the next midnight (summer time aside).
    m.set_to_ms(*to_ms + 24 * 3'600'000);
    auto report_rows = co_await c.ask(std::move(m));
    if (!report_rows) {
        co_return report(report_rows.error());
    }
    if (!a.json) {
        std::cout << exports::report_csv(*report_rows);
        co_return 0;
    }
    json::array rows;
    for (const auto& row : report_rows->rows()) {
        json::object o;
        o["date"] = exports::local_minute(row.date_ms()).substr(0, 10);
        o["duree"] = row.duration_minutes();
        o["mediateurs"] = row.mediators();
        o["structures"] = row.structures();
        o["autresActeurs"] = row.other_actors();
        o["typeAnimation"] = row.type();
        o["thematiquesAnimation"] = json::array{json::value(row.theme())};
        o["titre"] = row.title();
        o["canal"] = row.channel_name();
        rows.push_back(std::move(o));
    }
    std::cout << json::serialize(rows) << "\n";
    co_return 0;
}

}  // namespace

const std::vector<std::pair<const char*, action>>& session_actions() {
    static const std::vector<std::pair<const char*, action>> all = {
        {"session templates", templates},
        {"session create", create},
        {"session list", list},
        {"session show", show},
        {"session start", start},
        {"session cancel", cancel},
        {"session end", end},
        {"session join", join},
        {"session leave", leave},
        {"session next", next},
        {"session phase", phase},
        {"session role", role},
        {"session raise", raise},
        {"session lower", lower},
        {"session floor", give_floor},
        {"session poll", poll},
        {"session vote", vote},
        {"session close-poll", close_poll},
        {"session tables", tables},
        {"session rotate", rotate},
        {"session harvest", harvest},
        {"session case", submit_case},
        {"session cases", cases},
        {"session note", note},
        {"session minutes", minutes},
        {"session attendance", attendance},
        {"session ics", ics},
        {"session report", activity_report},
    };
    return all;
}

}  // namespace relais::cli
