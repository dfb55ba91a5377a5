#pragma once

// What a practice-exchange meeting is, apart from storage and the wire: the
// rules of its record (stored.MeetingRecord) that the handlers apply, and
// its minutes. Pure functions, unit-tested on their own.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/relais.pb.h"
#include "server/core/meeting_record.pb.h"

namespace relais::core::meetings {

inline constexpr int max_phases = 30;
inline constexpr int min_poll_options = 2;
inline constexpr int max_poll_options = 10;
// Members get a reminder this long before the scheduled start.
inline constexpr std::int64_t reminder_lead_ms = 15 * 60 * 1000;

using user_id = std::uint64_t;

// Participants.
stored::ParticipantRecord* find_participant(stored::MeetingRecord& m, user_id user);
const stored::ParticipantRecord* find_participant(const stored::MeetingRecord& m, user_id user);
stored::ParticipantRecord& participant(stored::MeetingRecord& m, user_id user);
bool has_role(const stored::MeetingRecord& m, user_id user, v1::MeetingRole role);
// Gives or takes back a role; returns whether anything changed.
bool set_role(stored::MeetingRecord& m, user_id user, v1::MeetingRole role, bool held);
std::vector<user_id> holders(const stored::MeetingRecord& m, v1::MeetingRole role);
bool is_present(const stored::ParticipantRecord& p);
std::uint32_t present_count(const stored::MeetingRecord& m);
// A stay begins (false: already there) or ends (false: not there).
bool arrive(stored::MeetingRecord& m, user_id user, std::int64_t now);
bool depart(stored::MeetingRecord& m, user_id user, std::int64_t now);
// Everyone present leaves (the meeting ends).
void depart_all(stored::MeetingRecord& m, std::int64_t now);
// Time present, open stay included up to `now`.
std::int64_t ms_present(const stored::ParticipantRecord& p, std::int64_t now);

// Phases and timers.
std::uint32_t planned_seconds(const v1::PhasePlan& plan);
// The current phase's planned end; 0 when untimed, timers off, or none.
std::int64_t planned_end(const stored::MeetingRecord& m);
// The current phase stops running: its time is added up.
void stop_phase(stored::MeetingRecord& m, std::int64_t now);
// Starts phase `number` (1-based), stopping the current one.
void start_phase(stored::MeetingRecord& m, std::uint32_t number, std::int64_t now);
// When the server must act on the meeting by itself next (the reminder, an
// overtime), given its state; 0: never.
std::int64_t next_timer(const stored::MeetingRecord& m, v1::MeetingState state,
                        std::int64_t start_ms);
// Who may not talk now: the narrators, in a phase where they listen.
std::vector<user_id> silenced(const stored::MeetingRecord& m, v1::MeetingState state);
bool narrator_silent_now(const stored::MeetingRecord& m);

// The speaking queue. Raising again changes the tag and keeps the place.
bool raise_hand(stored::MeetingRecord& m, user_id user, v1::HandTag tag, std::int64_t now);
bool lower_hand(stored::MeetingRecord& m, user_id user);
// The floor to `user` (taken out of the queue), to the first in line
// (user 0), or to nobody when the queue is empty.
void give_floor(stored::MeetingRecord& m, user_id user, std::int64_t now);

// Polls.
stored::PollRecord* find_poll(stored::MeetingRecord& m, std::uint32_t id);
struct tally {
    std::vector<std::uint32_t> counts;        // per option
    std::vector<std::vector<user_id>> names;  // per option, in ballot order
    std::uint32_t voters = 0;
};
tally count_ballots(const stored::PollRecord& poll);
// Replaces the user's ballot.
void cast_ballot(stored::PollRecord& poll, user_id user, std::vector<std::uint32_t> options,
                 std::int64_t now);
// The option with most votes, the first one on a tie; nothing without votes.
std::optional<std::uint32_t> winner(const stored::PollRecord& poll);

// World café. `people` split into tables of at most `size`, as even as
// can be; the first of each table hosts it.
std::vector<std::vector<user_id>> split_tables(const std::vector<user_id>& people,
                                               std::uint32_t size);
// The table (0-based) where guest `guest` of table `table` at the split
// sits in round `round` (1: the split). Each guest changes table at every
// round, and guests who sat together spread out.
std::uint32_t guest_table(std::uint32_t table, std::uint32_t guest, std::uint32_t round,
                          std::uint32_t tables);
// Seats everyone for m.round(): members of each table, host first.
void seat_round(stored::MeetingRecord& m);

// Minutes, in French Markdown. What they need besides the record.
struct person {
    std::string name;  // display name, or login name
    std::string structure;
};
struct minutes_input {
    std::string title;
    std::string channel;
    std::string template_title;
    std::int64_t started_at_ms = 0;
    std::int64_t ended_at_ms = 0;
    bool confidential = false;
    std::vector<person> facilitators;
    std::vector<person> participants;  // who came, in order of arrival
    struct phase {
        std::string name;
        std::uint32_t planned_seconds = 0;
        std::uint32_t actual_seconds = 0;
    };
    std::vector<phase> phases;
    struct note {
        std::uint32_t phase = 0;  // 1-based; 0: the meeting
        std::uint32_t table = 0;
        std::string text;
        bool action = false;
        std::string who;
        std::string due;
    };
    std::vector<note> notes;
    struct poll {
        std::string question;
        bool anonymous = false;
        struct option {
            std::string text;
            std::uint32_t count = 0;
            std::vector<std::string> names;
        };
        std::vector<option> options;
        std::uint32_t voters = 0;
    };
    std::vector<poll> polls;
    struct resource {
        std::string title;
        std::string link;
    };
    std::vector<resource> resources;
};
std::string render_minutes(const minutes_input& in);

// "1 décembre 2026 à 14 h 05", in the server's time zone.
std::string french_date_time(std::int64_t ms);
// "1 h 05", "45 min".
std::string french_duration(std::int64_t seconds);

}  // namespace relais::core::meetings
