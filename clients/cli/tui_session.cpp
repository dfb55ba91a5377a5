// The terminal client's session panel: a practice-exchange session's phase
// and time left, roles, the speaking queue, open polls and the user's table,
// above the conversation; and the commands that act on it.
#include <ncurses.h>

#include <algorithm>
#include <chrono>

#include "clients/cli/command_registry.hpp"
#include "clients/cli/terminal_ui.hpp"
#include "clients/cli/text_width.hpp"
#include "clients/lib/meeting_export.hpp"

namespace relais::cli {

namespace {

std::int64_t wall_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// "04:32", "1:02:05".
std::string clock_text(std::int64_t ms) {
    const auto s = std::max<std::int64_t>(0, ms) / 1000;
    char out[32];
    if (s >= 3600) {
        std::snprintf(out, sizeof out, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                      static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
    } else {
        std::snprintf(out, sizeof out, "%02lld:%02lld", static_cast<long long>(s / 60),
                      static_cast<long long>(s % 60));
    }
    return out;
}

const char* tag_short(v1::HandTag t) {
    switch (t) {
        case v1::INFORMATION:
            return "?";
        case v1::HYPOTHESIS:
            return "~";
        case v1::ADVICE:
            return "!";
        default:
            return "";
    }
}

std::string display(const v1::User& u) {
    return u.display_name().empty() ? u.name() : u.display_name();
}

}  // namespace

template <class Request>
asio::awaitable<void> terminal_ui::session_request(Request r) {
    if (!session_) {
        note(tr(words{"aucune séance ouverte : /session NUMÉRO", "no session open: /session ID"}));
        co_return;
    }
    r.set_meeting_id(session_->view.meeting().id());
    auto done = co_await client_.ask(std::move(r));
    if (!done) {
        co_await report(done.error());
    }
}

asio::awaitable<void> terminal_ui::open_session(std::uint64_t id, bool accept_charter) {
    v1::JoinMeeting join;
    join.set_meeting_id(id);
    join.set_accept_charter(accept_charter);
    session_panel panel;
    if (session_ && session_->view.meeting().id() == id) {
        panel.early = std::move(session_->early);
    }
    session_ = std::move(panel);
    session_->view.mutable_meeting()->set_id(id);
    auto joined = co_await client_.ask(std::move(join));
    if (!joined && joined.error().code == errc::conflict) {
        // Not live (yet, or any more): the panel shows it all the same.
        v1::GetMeeting get;
        get.set_meeting_id(id);
        auto view = co_await client_.ask(std::move(get));
        if (view) {
            joined = std::move(view);
            note(tr(words{"la séance n'est pas en cours : vous la voyez sans y être",
                          "the session is not live: you see it without being in it"}));
        }
    }
    if (!joined) {
        if (joined.error().code == errc::forbidden && !accept_charter) {
            v1::GetMeeting get;
            get.set_meeting_id(id);
            if (auto about = co_await client_.ask(std::move(get))) {
                charter_shown_for_ = id;
                show_list(tr(words{"Charte de la séance", "The session's charter"}) +
                              std::string(" « ") + about->meeting().title() + " »",
                          {about->meeting().charter(), "",
                           tr(words{"Pour l'accepter et entrer : /accept",
                                    "To accept it and join: /accept"})});
                session_.reset();
                co_return;
            }
        }
        session_.reset();
        co_await report(joined.error());
        co_return;
    }
    auto early = std::move(session_->early);
    session_->view = std::move(*joined);
    session_->loaded = true;
    reconnections_seen_ = client_.reconnections();
    for (const auto& e : early) {
        apply_meeting(e);
    }
    draw();
}

asio::awaitable<void> terminal_ui::reload_session() {
    if (!session_) {
        co_return;
    }
    const auto id = session_->view.meeting().id();
    const bool was_present = [&] {
        for (const auto& p : session_->view.participants()) {
            if (p.user().name() == user_) {
                return p.present();
            }
        }
        return false;
    }();
    if (was_present) {
        co_await open_session(id, false);
        co_return;
    }
    v1::GetMeeting get;
    get.set_meeting_id(id);
    if (auto view = co_await client_.ask(std::move(get)); view && session_) {
        session_->view = std::move(*view);
        session_->loaded = true;
    }
}

void terminal_ui::apply_meeting(const v1::Event& e) {
    if (!session_ || e.meeting().meeting_id() != session_->view.meeting().id()) {
        return;
    }
    if (!session_->loaded) {
        session_->early.push_back(e);
        return;
    }
    auto& view = session_->view;
    if (e.seq() <= view.as_of_seq() && e.channel_id() == view.meeting().channel_id()) {
        return;  // already in the snapshot
    }
    const auto& m = e.meeting();
    if (m.has_meeting()) {
        *view.mutable_meeting() = m.meeting();
    }
    if (m.has_participant()) {
        bool found = false;
        for (auto& p : *view.mutable_participants()) {
            if (p.user().id() == m.participant().user().id()) {
                p = m.participant();
                found = true;
            }
        }
        if (!found) {
            *view.add_participants() = m.participant();
        }
        int present = 0;
        for (const auto& p : view.participants()) {
            present += p.present();
        }
        view.mutable_meeting()->set_present_count(static_cast<std::uint32_t>(present));
    }
    if (m.has_floor()) {
        *view.mutable_floor() = m.floor();
    }
    if (m.has_poll()) {
        bool found = false;
        for (auto& p : *view.mutable_polls()) {
            if (p.id() == m.poll().id()) {
                auto mine = p.my_choice();
                p = m.poll();
                *p.mutable_my_choice() = mine;
                found = true;
            }
        }
        if (!found) {
            *view.add_polls() = m.poll();
        }
    }
    if (m.has_note()) {
        auto* notes = view.mutable_notes();
        auto it = std::find_if(notes->begin(), notes->end(),
                               [&](const v1::Note& n) { return n.id() == m.note().id(); });
        if (m.note().removed()) {
            if (it != notes->end()) {
                notes->erase(it);
            }
        } else if (it != notes->end()) {
            *it = m.note();
        } else {
            *notes->Add() = m.note();
        }
    }
    if (m.change() == v1::MeetingEvent::TABLES) {
        *view.mutable_tables() = m.tables();
        view.set_round(m.round());
        view.set_harvested(m.harvested());
        for (auto& p : *view.mutable_participants()) {
            p.set_table(0);
            for (const auto& t : m.tables()) {
                for (const auto& u : t.members()) {
                    if (u.id() == p.user().id()) {
                        p.set_table(t.number());
                    }
                }
            }
        }
    }
    if (m.change() == v1::MeetingEvent::CASE) {
        view.set_case_count(m.case_count());
    }
}

// Lines are appended piece by piece: GCC 12 at -O3 misreads
// `"lit" + std::string&&` as an overlapping copy (GCC bug 105329).
int terminal_ui::draw_session(int top, int left, int width) {
    if (!session_ || !session_->loaded) {
        return 0;
    }
    const auto& view = session_->view;
    const auto& m = view.meeting();
    int row = top;
    auto line = [&](const std::string& text, attr_t attributes = A_NORMAL) {
        attron(attributes);
        put(row++, left, to_u32(text), width);
        attroff(attributes);
    };
    // The time first, so that a narrow screen never cuts it; then the
    // phase, then the title.
    std::string head = "◆ ";
    bool alert = false;
    if (m.state() == v1::LIVE && m.current_phase() > 0 &&
        m.current_phase() <= static_cast<std::uint32_t>(m.phases_size())) {
        const auto& phase = m.phases(static_cast<int>(m.current_phase()) - 1);
        if (m.phase_planned_end_ms() != 0) {
            const auto left_ms = m.phase_planned_end_ms() - wall_ms();
            if (left_ms >= 0 && !m.overtime()) {
                head += clock_text(left_ms) + tr(words{" restantes · ", " left · "});
            } else {
                head += std::string(tr(words{"DÉPASSEMENT +", "OVERTIME +"})) +
                        clock_text(-left_ms) + " · ";
                alert = true;
            }
        }
        head += std::to_string(m.current_phase()) + "/" + std::to_string(m.phases_size()) + " " +
                phase.plan().name();
        if (phase.plan().narrator_silent()) {
            head += tr(words{" (narration en silence)", " (narrator silent)"});
        }
    } else {
        head += m.state() == v1::LIVE        ? tr(words{"en cours", "live"})
                : m.state() == v1::SCHEDULED ? tr(words{"à venir", "upcoming"})
                : m.state() == v1::ENDED     ? tr(words{"terminée", "ended"})
                                             : tr(words{"annulée", "cancelled"});
    }
    head += " — " + m.title();
    line(head, alert ? A_BOLD | A_REVERSE : A_BOLD);
    // The floor and the queue.
    std::string floor = tr(words{"Parole : ", "Floor: "});
    floor += view.floor().has_speaker() ? display(view.floor().speaker()) : "—";
    if (view.floor().queue_size() > 0) {
        floor += tr(words{" · mains levées :", " · hands:"});
        for (const auto& h : view.floor().queue()) {
            floor += ' ';
            floor += display(h.user());
            floor += tag_short(h.tag());
        }
    }
    bool my_hand = false;
    for (const auto& h : view.floor().queue()) {
        my_hand = my_hand || h.user().name() == user_;
    }
    if (my_hand) {
        floor += tr(words{"  (votre main est levée)", "  (your hand is up)"});
    }
    line(floor);
    // Roles, and the user's table.
    std::string roles = tr(words{"Rôles :", "Roles:"});
    std::uint32_t my_table = 0;
    for (const auto& p : view.participants()) {
        if (p.user().name() == user_) {
            my_table = p.table();
        }
        if (p.roles_size() == 0) {
            continue;
        }
        google::protobuf::RepeatedField<int> held(p.roles().begin(), p.roles().end());
        roles += ' ';
        roles += display(p.user());
        roles += " (";
        roles += relais::client::meeting_roles(held, english());
        roles += ')';
    }
    roles += " · ";
    roles += std::to_string(m.present_count());
    roles += tr(words{" présent·es", " present"});
    line(roles);
    if (my_table != 0 && !view.harvested()) {
        for (const auto& t : view.tables()) {
            if (t.number() == my_table) {
                std::string at = tr(words{"Votre table : ", "Your table: "});
                at += std::to_string(t.number()) + " (#" + t.channel_name() + ")";
                for (const auto& u : t.members()) {
                    at += ' ';
                    at += display(u);
                }
                line(at);
            }
        }
    }
    // Open polls, with how to vote.
    for (const auto& poll : view.polls()) {
        if (!poll.open()) {
            continue;
        }
        std::string text =
            tr(words{"Sondage ", "Poll "}) + std::to_string(poll.id()) + " : " + poll.question();
        for (int i = 0; i < poll.options_size(); ++i) {
            const bool mine = std::find(poll.my_choice().begin(), poll.my_choice().end(),
                                        static_cast<std::uint32_t>(i)) != poll.my_choice().end();
            text += "  " + std::to_string(i + 1) + ") " + poll.options(i) + " " +
                    std::to_string(i < poll.counts_size() ? poll.counts(i) : 0) + (mine ? "✓" : "");
        }
        text += "  — /vote " + std::to_string(poll.id()) + " N";
        line(text);
    }
    attron(A_DIM);
    put(row++, left, std::u32string(static_cast<std::size_t>(std::max(width, 0)), U'─'), width);
    attroff(A_DIM);
    return row - top;
}

std::map<std::string, terminal_ui::command_action> terminal_ui::session_actions() {
    auto numbers = [](const std::string& line, std::size_t from) {
        std::vector<std::uint64_t> out;
        auto words = split_words(line);
        for (std::size_t i = from; i < words.size(); ++i) {
            if (auto n = parse_number(words[i])) {
                out.push_back(*n);
            }
        }
        return out;
    };
    return {
        {"session",
         [this, numbers](const std::string& line) -> asio::awaitable<void> {
             co_await open_session(numbers(line, 1).at(0), false);
         }},
        {"accept",
         [this](const std::string&) -> asio::awaitable<void> {
             if (charter_shown_for_ == 0) {
                 note(tr(words{"aucune charte à accepter : /session NUMÉRO",
                               "no charter to accept: /session ID"}));
                 co_return;
             }
             list_.reset();
             co_await open_session(std::exchange(charter_shown_for_, 0), true);
         }},
        {"leavesession",
         [this](const std::string&) -> asio::awaitable<void> {
             v1::JoinMeeting leave;
             leave.set_leave(true);
             co_await session_request(std::move(leave));
             session_.reset();
         }},
        {"raise",
         [this](const std::string& line) -> asio::awaitable<void> {
             v1::RaiseHand raise;
             const auto words_given = split_words(line);
             if (words_given.size() > 1) {
                 const auto& t = words_given[1];
                 raise.set_tag(t == "information"  ? v1::INFORMATION
                               : t == "hypothesis" ? v1::HYPOTHESIS
                                                   : v1::ADVICE);
             }
             co_await session_request(std::move(raise));
         }},
        {"lower",
         [this](const std::string&) -> asio::awaitable<void> {
             v1::RaiseHand lower;
             lower.set_lower(true);
             co_await session_request(std::move(lower));
         }},
        {"next",
         [this](const std::string&) -> asio::awaitable<void> {
             co_await session_request(v1::SetPhase{});
         }},
        {"phase",
         [this, numbers](const std::string& line) -> asio::awaitable<void> {
             v1::SetPhase phase;
             phase.set_phase(static_cast<std::uint32_t>(numbers(line, 1).at(0)));
             co_await session_request(std::move(phase));
         }},
        {"floor",
         [this](const std::string& line) -> asio::awaitable<void> {
             v1::GiveFloor floor;
             const auto words_given = split_words(line);
             if (words_given.size() > 1) {
                 floor.set_user(words_given[1][0] == '@' ? words_given[1].substr(1)
                                                         : words_given[1]);
             }
             co_await session_request(std::move(floor));
         }},
        {"poll",
         [this](const std::string& line) -> asio::awaitable<void> {
             v1::OpenPoll poll;
             std::string rest;
             for (const auto& w : split_words(after_words(line, 1))) {
                 if (w == "--anonymous") {
                     poll.set_anonymous(true);
                 } else if (w == "--multiple") {
                     poll.set_multiple(true);
                 } else {
                     rest += (rest.empty() ? "" : " ") + w;
                 }
             }
             // "Question | option | option": parts trimmed.
             std::vector<std::string> parts;
             std::size_t from = 0;
             while (from <= rest.size()) {
                 auto bar = rest.find('|', from);
                 if (bar == std::string::npos) {
                     bar = rest.size();
                 }
                 auto part = rest.substr(from, bar - from);
                 part.erase(0, part.find_first_not_of(' '));
                 part.erase(part.find_last_not_of(' ') + 1);
                 parts.push_back(part);
                 from = bar + 1;
             }
             poll.set_question(parts.front());
             for (std::size_t i = 1; i < parts.size(); ++i) {
                 poll.add_options(parts[i]);
             }
             co_await session_request(std::move(poll));
         }},
        {"vote",
         [this, numbers](const std::string& line) -> asio::awaitable<void> {
             const auto given = numbers(line, 1);
             v1::Vote vote;
             vote.set_poll_id(static_cast<std::uint32_t>(given.at(0)));
             for (std::size_t i = 1; i < given.size(); ++i) {
                 if (given[i] == 0) {
                     note(tr(words{"les options sont numérotées à partir de 1",
                                   "options are numbered from 1"}));
                     co_return;
                 }
                 vote.add_options(static_cast<std::uint32_t>(given[i] - 1));
             }
             co_await session_request(vote);
             // The panel shows the user's own choice.
             if (session_) {
                 for (auto& p : *session_->view.mutable_polls()) {
                     if (p.id() == vote.poll_id()) {
                         *p.mutable_my_choice() = vote.options();
                     }
                 }
             }
         }},
        {"closepoll",
         [this, numbers](const std::string& line) -> asio::awaitable<void> {
             v1::ClosePoll close;
             close.set_poll_id(static_cast<std::uint32_t>(numbers(line, 1).at(0)));
             co_await session_request(std::move(close));
         }},
        {"note",
         [this](const std::string& line) -> asio::awaitable<void> {
             v1::SetNote n;
             std::string text;
             for (const auto& w : split_words(after_words(line, 1))) {
                 if (w == "--action") {
                     n.set_action(true);
                 } else {
                     text += (text.empty() ? "" : " ") + w;
                 }
             }
             n.set_text(text);
             // A host's notes go to their table.
             if (session_) {
                 for (const auto& p : session_->view.participants()) {
                     const bool hosts = std::find(p.roles().begin(), p.roles().end(),
                                                  v1::TABLE_HOST) != p.roles().end();
                     if (p.user().name() == user_ && hosts && !session_->view.harvested()) {
                         n.set_table(p.table());
                     }
                 }
             }
             co_await session_request(std::move(n));
         }},
        {"tables",
         [this, numbers](const std::string& line) -> asio::awaitable<void> {
             v1::ArrangeTables split;
             split.set_size(static_cast<std::uint32_t>(numbers(line, 1).at(0)));
             split.set_random(line.find("--random") != std::string::npos);
             co_await session_request(std::move(split));
         }},
        {"rotate",
         [this](const std::string&) -> asio::awaitable<void> {
             v1::ArrangeTables rotate;
             rotate.set_action(v1::ArrangeTables::ROTATE);
             co_await session_request(std::move(rotate));
         }},
        {"harvest",
         [this](const std::string&) -> asio::awaitable<void> {
             v1::ArrangeTables harvest;
             harvest.set_action(v1::ArrangeTables::HARVEST);
             co_await session_request(std::move(harvest));
         }},
        {"endsession",
         [this](const std::string&) -> asio::awaitable<void> {
             v1::SetMeetingState end;
             end.set_state(v1::ENDED);
             co_await session_request(std::move(end));
         }},
    };
}

}  // namespace relais::cli
