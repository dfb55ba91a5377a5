#pragma once

// What a meeting gives outside Relais: its attendance sheet and the
// coordinator's report as CSV, and an iCalendar event for calendars.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/relais.pb.h"

namespace relais::client {

// A role inside a meeting in words: "animation", "facilitator".
std::string meeting_role_name(v1::MeetingRole role, bool english);
// The participant's roles joined by " + ", or "participant·e".
std::string meeting_roles(const google::protobuf::RepeatedField<int>& roles, bool english);

// "2026-12-01 14:05", in the local time zone; empty for 0.
std::string local_minute(std::int64_t ms);
// A moment as people and scripts write it: "2026-12-15T14:00",
// "2026-12-15 14:00" (local time), with seconds, with "Z" or "+01:00";
// or a day "2026-12-15" (local midnight). Nothing if it is none of them.
std::optional<std::int64_t> parse_moment(std::string_view text);

// One field of a CSV line (RFC 4180): quoted when it holds a comma, a
// quote or a line break.
std::string csv_field(std::string_view text);
// A header line, then one line per person who came: name, structure,
// commune, roles, first join, last leave, minutes present.
std::string attendance_csv(const v1::Attendance& sheet, bool english);
// La Coop's "Animation" fields, one line per meeting.
std::string report_csv(const v1::MeetingReport& report);

// The meeting as an iCalendar object (RFC 5545) with one VEVENT: CRLF line
// ends, lines folded at 75 octets, text escaped. `host` makes the UID
// unique across servers; `now_ms` is its DTSTAMP.
std::string meeting_ics(const v1::Meeting& meeting, std::string_view host, std::int64_t now_ms);

}  // namespace relais::client
