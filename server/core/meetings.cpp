#include "server/core/meetings.hpp"

#include <algorithm>
#include <ctime>
#include <map>

namespace relais::core::meetings {

stored::ParticipantRecord* find_participant(stored::MeetingRecord& m, user_id user) {
    for (auto& p : *m.mutable_participants()) {
        if (p.user() == user) {
            return &p;
        }
    }
    return nullptr;
}

const stored::ParticipantRecord* find_participant(const stored::MeetingRecord& m, user_id user) {
    for (const auto& p : m.participants()) {
        if (p.user() == user) {
            return &p;
        }
    }
    return nullptr;
}

stored::ParticipantRecord& participant(stored::MeetingRecord& m, user_id user) {
    if (auto* p = find_participant(m, user)) {
        return *p;
    }
    auto& p = *m.add_participants();
    p.set_user(user);
    return p;
}

bool has_role(const stored::MeetingRecord& m, user_id user, v1::MeetingRole role) {
    const auto* p = find_participant(m, user);
    return p && std::find(p->roles().begin(), p->roles().end(), role) != p->roles().end();
}

bool set_role(stored::MeetingRecord& m, user_id user, v1::MeetingRole role, bool held) {
    if (has_role(m, user, role) == held) {
        return false;
    }
    auto& p = participant(m, user);
    if (held) {
        p.add_roles(role);
    } else {
        auto* roles = p.mutable_roles();
        roles->erase(std::remove(roles->begin(), roles->end(), role), roles->end());
    }
    return true;
}

std::vector<user_id> holders(const stored::MeetingRecord& m, v1::MeetingRole role) {
    std::vector<user_id> out;
    for (const auto& p : m.participants()) {
        if (has_role(m, p.user(), role)) {
            out.push_back(p.user());
        }
    }
    return out;
}

bool is_present(const stored::ParticipantRecord& p) {
    return p.stays_size() > 0 && p.stays(p.stays_size() - 1).to_ms() == 0;
}

std::uint32_t present_count(const stored::MeetingRecord& m) {
    return static_cast<std::uint32_t>(
        std::count_if(m.participants().begin(), m.participants().end(), is_present));
}

bool arrive(stored::MeetingRecord& m, user_id user, std::int64_t now) {
    auto& p = participant(m, user);
    if (is_present(p)) {
        return false;
    }
    p.add_stays()->set_from_ms(now);
    return true;
}

bool depart(stored::MeetingRecord& m, user_id user, std::int64_t now) {
    auto* p = find_participant(m, user);
    if (!p || !is_present(*p)) {
        return false;
    }
    // A stay of no time still ends after it began, so that it reads as closed.
    p->mutable_stays(p->stays_size() - 1)
        ->set_to_ms(std::max(now, p->stays(p->stays_size() - 1).from_ms() + 1));
    lower_hand(m, user);
    if (m.speaker() == user) {
        m.set_speaker(0);
        m.set_speaker_tag(0);
        m.set_speaker_since_ms(0);
    }
    return true;
}

void depart_all(stored::MeetingRecord& m, std::int64_t now) {
    for (const auto& p : m.participants()) {
        if (is_present(p)) {
            depart(m, p.user(), now);
        }
    }
}

std::int64_t ms_present(const stored::ParticipantRecord& p, std::int64_t now) {
    std::int64_t total = 0;
    for (const auto& s : p.stays()) {
        total += std::max<std::int64_t>(0, (s.to_ms() == 0 ? now : s.to_ms()) - s.from_ms());
    }
    return total;
}

std::uint32_t planned_seconds(const v1::PhasePlan& plan) {
    return plan.planned_seconds() != 0 ? plan.planned_seconds() : plan.planned_minutes() * 60;
}

std::int64_t planned_end(const stored::MeetingRecord& m) {
    if (m.timers_off() || m.current_phase() == 0 ||
        m.current_phase() > static_cast<std::uint32_t>(m.phases_size())) {
        return 0;
    }
    const auto& phase = m.phases(static_cast<int>(m.current_phase()) - 1);
    if (phase.planned_seconds() == 0) {
        return 0;
    }
    return m.phase_started_at_ms() + std::int64_t{phase.planned_seconds()} * 1000;
}

void stop_phase(stored::MeetingRecord& m, std::int64_t now) {
    if (m.current_phase() == 0 || m.current_phase() > static_cast<std::uint32_t>(m.phases_size())) {
        return;
    }
    auto& phase = *m.mutable_phases(static_cast<int>(m.current_phase()) - 1);
    const auto ran = std::max<std::int64_t>(0, now - m.phase_started_at_ms());
    phase.set_actual_seconds(phase.actual_seconds() + static_cast<std::uint32_t>(ran / 1000));
    phase.set_ended_at_ms(now);
}

void start_phase(stored::MeetingRecord& m, std::uint32_t number, std::int64_t now) {
    stop_phase(m, now);
    m.set_current_phase(number);
    m.set_phase_started_at_ms(now);
    auto& phase = *m.mutable_phases(static_cast<int>(number) - 1);
    if (phase.started_at_ms() == 0) {
        phase.set_started_at_ms(now);
    }
    // Run again, it has its planned time again.
    phase.set_overtime(false);
    phase.set_ended_at_ms(0);
}

std::int64_t next_timer(const stored::MeetingRecord& m, v1::MeetingState state,
                        std::int64_t start_ms) {
    if (state == v1::SCHEDULED && !m.reminder_sent()) {
        return std::max<std::int64_t>(1, start_ms - reminder_lead_ms);
    }
    if (state == v1::LIVE) {
        const auto end = planned_end(m);
        if (end != 0 && !m.phases(static_cast<int>(m.current_phase()) - 1).overtime()) {
            return end;
        }
    }
    return 0;
}

bool narrator_silent_now(const stored::MeetingRecord& m) {
    return m.current_phase() != 0 &&
           m.current_phase() <= static_cast<std::uint32_t>(m.phases_size()) &&
           m.phases(static_cast<int>(m.current_phase()) - 1).narrator_silent();
}

std::vector<user_id> silenced(const stored::MeetingRecord& m, v1::MeetingState state) {
    if (state != v1::LIVE || !narrator_silent_now(m)) {
        return {};
    }
    return holders(m, v1::NARRATOR);
}

bool raise_hand(stored::MeetingRecord& m, user_id user, v1::HandTag tag, std::int64_t now) {
    for (auto& h : *m.mutable_queue()) {
        if (h.user() == user) {
            if (h.tag() == tag) {
                return false;
            }
            h.set_tag(tag);
            return true;
        }
    }
    auto& h = *m.add_queue();
    h.set_user(user);
    h.set_tag(tag);
    h.set_at_ms(now);
    return true;
}

bool lower_hand(stored::MeetingRecord& m, user_id user) {
    auto* queue = m.mutable_queue();
    for (int i = 0; i < queue->size(); ++i) {
        if (queue->Get(i).user() == user) {
            queue->DeleteSubrange(i, 1);
            return true;
        }
    }
    return false;
}

void give_floor(stored::MeetingRecord& m, user_id user, std::int64_t now) {
    int tag = 0;
    if (user == 0 && m.queue_size() > 0) {
        user = m.queue(0).user();
    }
    for (const auto& h : m.queue()) {
        if (h.user() == user) {
            tag = h.tag();
        }
    }
    if (user != 0) {
        lower_hand(m, user);
    }
    m.set_speaker(user);
    m.set_speaker_tag(tag);
    m.set_speaker_since_ms(user != 0 ? now : 0);
}

stored::PollRecord* find_poll(stored::MeetingRecord& m, std::uint32_t id) {
    for (auto& p : *m.mutable_polls()) {
        if (p.id() == id) {
            return &p;
        }
    }
    return nullptr;
}

tally count_ballots(const stored::PollRecord& poll) {
    tally t;
    t.counts.assign(static_cast<std::size_t>(poll.options_size()), 0);
    t.names.resize(t.counts.size());
    for (const auto& b : poll.ballots()) {
        if (b.options_size() == 0) {
            continue;
        }
        ++t.voters;
        for (auto option : b.options()) {
            if (option < t.counts.size()) {
                ++t.counts[option];
                t.names[option].push_back(b.user());
            }
        }
    }
    return t;
}

void cast_ballot(stored::PollRecord& poll, user_id user, std::vector<std::uint32_t> options,
                 std::int64_t now) {
    stored::BallotRecord* ballot = nullptr;
    for (auto& b : *poll.mutable_ballots()) {
        if (b.user() == user) {
            ballot = &b;
        }
    }
    if (!ballot) {
        ballot = poll.add_ballots();
        ballot->set_user(user);
    }
    std::sort(options.begin(), options.end());
    ballot->clear_options();
    for (auto o : options) {
        ballot->add_options(o);
    }
    ballot->set_at_ms(now);
}

std::optional<std::uint32_t> winner(const stored::PollRecord& poll) {
    auto t = count_ballots(poll);
    std::optional<std::uint32_t> best;
    for (std::uint32_t i = 0; i < t.counts.size(); ++i) {
        if (t.counts[i] > 0 && (!best || t.counts[i] > t.counts[*best])) {
            best = i;
        }
    }
    return best;
}

std::vector<std::vector<user_id>> split_tables(const std::vector<user_id>& people,
                                               std::uint32_t size) {
    if (people.empty() || size == 0) {
        return {};
    }
    const std::size_t count = (people.size() + size - 1) / size;
    std::vector<std::vector<user_id>> tables(count);
    for (std::size_t i = 0; i < people.size(); ++i) {
        tables[i % count].push_back(people[i]);
    }
    return tables;
}

std::uint32_t guest_table(std::uint32_t table, std::uint32_t guest, std::uint32_t round,
                          std::uint32_t tables) {
    if (tables <= 1 || round <= 1) {
        return table;
    }
    // From one round to the next a guest moves by (guest mod (T-1)) + 1
    // tables: never 0, so nobody stays; and the guests of one table move
    // by different steps, so that they meet new people.
    const std::uint64_t step = guest % (tables - 1) + 1;
    return static_cast<std::uint32_t>((table + step * (round - 1)) % tables);
}

void seat_round(stored::MeetingRecord& m) {
    const auto count = static_cast<std::uint32_t>(m.tables_size());
    std::vector<std::vector<user_id>> seated(count);
    for (std::uint32_t t = 0; t < count; ++t) {
        seated[t].push_back(m.tables(static_cast<int>(t)).host());
    }
    for (std::uint32_t t = 0; t < count; ++t) {
        const auto& guests = m.tables(static_cast<int>(t)).first_round();
        for (std::uint32_t j = 0; j < static_cast<std::uint32_t>(guests.size()); ++j) {
            seated[guest_table(t, j, m.round(), count)].push_back(guests.Get(static_cast<int>(j)));
        }
    }
    for (std::uint32_t t = 0; t < count; ++t) {
        auto& table = *m.mutable_tables(static_cast<int>(t));
        table.clear_members();
        for (auto user : seated[t]) {
            table.add_members(user);
            participant(m, user).set_table(t + 1);
        }
    }
}

std::string french_date_time(std::int64_t ms) {
    static const char* const months[] = {"janvier",   "février", "mars",     "avril",
                                         "mai",       "juin",    "juillet",  "août",
                                         "septembre", "octobre", "novembre", "décembre"};
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm local{};
    localtime_r(&t, &local);
    char time_of_day[16];
    std::snprintf(time_of_day, sizeof time_of_day, "%d h %02d", local.tm_hour, local.tm_min);
    return std::to_string(local.tm_mday) + (local.tm_mday == 1 ? "er " : " ") +
           months[local.tm_mon] + " " + std::to_string(local.tm_year + 1900) + " à " + time_of_day;
}

std::string french_duration(std::int64_t seconds) {
    if (seconds > 0 && seconds < 60) {
        return std::to_string(seconds) + " s";
    }
    const auto minutes = (std::max<std::int64_t>(0, seconds) + 30) / 60;
    if (minutes < 60) {
        return std::to_string(minutes) + " min";
    }
    char out[32];
    std::snprintf(out, sizeof out, "%lld h %02lld", static_cast<long long>(minutes / 60),
                  static_cast<long long>(minutes % 60));
    return out;
}

namespace {

std::string with_structure(const person& p) {
    return p.structure.empty() ? p.name : p.name + " (" + p.structure + ")";
}

// A text on one line of a list or a table: its lines joined, '|' escaped.
std::string one_line(std::string_view text, bool in_table = false) {
    std::string out;
    for (char c : text) {
        if (c == '\n' || c == '\r') {
            if (!out.empty() && out.back() != ' ') {
                out += ' ';
            }
        } else if (c == '|' && in_table) {
            out += "\\|";
        } else {
            out += c;
        }
    }
    return out;
}

std::string plural(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n <= 1 ? one : many);
}

}  // namespace

std::string render_minutes(const minutes_input& in) {
    std::string md = "# Compte rendu — " + in.title + "\n\n";
    md += "- **Date** : " + french_date_time(in.started_at_ms) + "\n";
    md += "- **Durée** : " + french_duration((in.ended_at_ms - in.started_at_ms) / 1000) + "\n";
    if (!in.template_title.empty()) {
        md += "- **Format** : " + in.template_title + "\n";
    }
    std::string facilitators;
    for (const auto& f : in.facilitators) {
        facilitators += (facilitators.empty() ? "" : ", ") + f.name;
    }
    md += "- **Animation** : " + facilitators + "\n";
    md += "- **Canal** : #" + in.channel + "\n\n";

    md += "## Participants\n\n";
    std::vector<std::string> structures;
    for (const auto& p : in.participants) {
        if (!p.structure.empty() &&
            std::find(structures.begin(), structures.end(), p.structure) == structures.end()) {
            structures.push_back(p.structure);
        }
    }
    md += plural(in.participants.size(), "participant·e", "participant·es") + ", " +
          plural(structures.size(), "structure", "structures") + ".";
    if (in.confidential) {
        md += " Séance confidentielle : les noms ne figurent pas au compte rendu.\n\n";
    } else {
        md += "\n\n";
        for (const auto& p : in.participants) {
            md += "- " + with_structure(p) + "\n";
        }
        md += "\n";
    }

    md += "## Déroulé\n\n| Phase | Prévu | Réel |\n|---|---|---|\n";
    for (std::size_t i = 0; i < in.phases.size(); ++i) {
        const auto& p = in.phases[i];
        md += "| " + std::to_string(i + 1) + ". " + one_line(p.name, true) + " | " +
              (p.planned_seconds ? french_duration(p.planned_seconds) : std::string("—")) + " | " +
              (p.actual_seconds ? french_duration(p.actual_seconds) : std::string("—")) + " |\n";
    }
    md += "\n";

    bool any_note =
        std::any_of(in.notes.begin(), in.notes.end(), [](const auto& n) { return !n.action; });
    if (any_note) {
        md += "## Notes\n\n";
        // By phase in agenda order; a phase's own notes, then each table's.
        std::map<std::pair<std::uint32_t, std::uint32_t>, std::vector<const minutes_input::note*>>
            grouped;
        for (const auto& n : in.notes) {
            if (!n.action) {
                grouped[{n.phase, n.table}].push_back(&n);
            }
        }
        std::uint32_t phase_shown = UINT32_MAX;
        for (const auto& [key, notes] : grouped) {
            const auto [phase, table] = key;
            if (phase != phase_shown) {
                phase_shown = phase;
                md += "### " +
                      (phase == 0 || phase > in.phases.size()
                           ? std::string("Séance")
                           : std::to_string(phase) + ". " + in.phases[phase - 1].name) +
                      "\n\n";
            }
            if (table != 0) {
                md += "**Table " + std::to_string(table) + "**\n\n";
            }
            for (const auto* n : notes) {
                md += "- " + one_line(n->text) + "\n";
            }
            md += "\n";
        }
    }

    bool any_action =
        std::any_of(in.notes.begin(), in.notes.end(), [](const auto& n) { return n.action; });
    if (any_action) {
        md += "## Actions\n\n";
        for (const auto& n : in.notes) {
            if (!n.action) {
                continue;
            }
            md += "- [ ] " + one_line(n.text);
            if (!n.who.empty()) {
                md += " — " + n.who;
            }
            if (!n.due.empty()) {
                md += ", pour le " + n.due;
            }
            md += "\n";
        }
        md += "\n";
    }

    if (!in.polls.empty()) {
        md += "## Sondages\n\n";
        for (const auto& p : in.polls) {
            md += "### " + one_line(p.question) + (p.anonymous ? " (anonyme)" : "") + "\n\n";
            for (const auto& o : p.options) {
                md += "- " + one_line(o.text) + " : " + std::to_string(o.count);
                if (!p.anonymous && !o.names.empty()) {
                    std::string names;
                    for (const auto& n : o.names) {
                        names += (names.empty() ? "" : ", ") + n;
                    }
                    md += " (" + names + ")";
                }
                md += "\n";
            }
            md += "\n" + plural(p.voters, "votant·e", "votant·es") + ".\n\n";
        }
    }

    if (!in.resources.empty()) {
        md += "## Ressources partagées\n\n";
        for (const auto& r : in.resources) {
            md += r.link.empty() ? "- " + one_line(r.title) + "\n"
                                 : "- [" + one_line(r.title) + "](" + r.link + ")\n";
        }
        md += "\n";
    }
    while (md.size() > 1 && md[md.size() - 1] == '\n' && md[md.size() - 2] == '\n') {
        md.pop_back();
    }
    return md;
}

}  // namespace relais::core::meetings
