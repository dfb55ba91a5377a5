#include "clients/lib/meeting_export.hpp"

#include <cstdio>
#include <ctime>

namespace relais::client {

std::string meeting_role_name(v1::MeetingRole role, bool english) {
    switch (role) {
        case v1::FACILITATOR:
            return english ? "facilitator" : "animation";
        case v1::NARRATOR:
            return english ? "narrator" : "narration";
        case v1::TIMEKEEPER:
            return english ? "timekeeper" : "gardien·ne du temps";
        case v1::SCRIBE:
            return english ? "scribe" : "secrétaire";
        case v1::TABLE_HOST:
            return english ? "table host" : "hôte de table";
        default:
            return english ? "participant" : "participant·e";
    }
}

std::string meeting_roles(const google::protobuf::RepeatedField<int>& roles, bool english) {
    std::string out;
    for (auto r : roles) {
        out += (out.empty() ? "" : " + ") +
               meeting_role_name(static_cast<v1::MeetingRole>(r), english);
    }
    return out.empty() ? meeting_role_name(v1::MEETING_ROLE_UNSPECIFIED, english) : out;
}

std::string local_minute(std::int64_t ms) {
    if (ms == 0) {
        return {};
    }
    const auto t = static_cast<std::time_t>(ms / 1000);
    std::tm local{};
    localtime_r(&t, &local);
    char out[32];
    std::strftime(out, sizeof out, "%Y-%m-%d %H:%M", &local);
    return out;
}

std::optional<std::int64_t> parse_moment(std::string_view text) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    std::size_t at = 0;
    auto digits = [&](std::size_t n, int& out) {
        if (at + n > text.size()) {
            return false;
        }
        out = 0;
        for (std::size_t i = 0; i < n; ++i) {
            const char c = text[at + i];
            if (c < '0' || c > '9') {
                return false;
            }
            out = out * 10 + (c - '0');
        }
        at += n;
        return true;
    };
    auto expect = [&](char c) {
        if (at < text.size() && text[at] == c) {
            ++at;
            return true;
        }
        return false;
    };
    if (!digits(4, year) || !expect('-') || !digits(2, month) || !expect('-') || !digits(2, day)) {
        return std::nullopt;
    }
    if (at < text.size()) {
        if (!(expect('T') || expect(' ')) || !digits(2, hour) || !expect(':') ||
            !digits(2, minute)) {
            return std::nullopt;
        }
        if (expect(':') && !digits(2, second)) {
            return std::nullopt;
        }
    }
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    if (at == text.size()) {
        tm.tm_isdst = -1;  // local time: the zone says whether it is summer
        const auto t = std::mktime(&tm);
        return t == -1 ? std::nullopt : std::optional<std::int64_t>(std::int64_t{t} * 1000);
    }
    int offset_minutes = 0;
    if (expect('Z')) {
        offset_minutes = 0;
    } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
        const int sign = text[at++] == '-' ? -1 : 1;
        int oh = 0, om = 0;
        if (!digits(2, oh) || !expect(':') || !digits(2, om)) {
            return std::nullopt;
        }
        offset_minutes = sign * (oh * 60 + om);
    } else {
        return std::nullopt;
    }
    if (at != text.size()) {
        return std::nullopt;
    }
    const auto utc = timegm(&tm);
    return (std::int64_t{utc} - offset_minutes * 60) * 1000;
}

std::string csv_field(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
        return std::string(text);
    }
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') {
            out += '"';
        }
        out += c;
    }
    return out + "\"";
}

std::string attendance_csv(const v1::Attendance& sheet, bool english) {
    std::string out = english ? "name,structure,commune,session role,first join,last leave,"
                                "minutes present\n"
                              : "nom,structure,commune,rôle dans la séance,première arrivée,"
                                "dernier départ,minutes de présence\n";
    for (const auto& row : sheet.rows()) {
        const auto& user = row.user();
        google::protobuf::RepeatedField<int> roles;
        for (auto r : row.roles()) {
            roles.Add(r);
        }
        out += csv_field(user.display_name().empty() ? user.name() : user.display_name()) + "," +
               csv_field(row.structure()) + "," + csv_field(row.commune()) + "," +
               csv_field(meeting_roles(roles, english)) + "," + local_minute(row.first_join_ms()) +
               "," + local_minute(row.last_leave_ms()) + "," +
               std::to_string(row.minutes_present()) + "\n";
    }
    return out;
}

std::string report_csv(const v1::MeetingReport& report) {
    std::string out =
        "date,duree,mediateurs,structures,autresActeurs,typeAnimation,thematiquesAnimation,"
        "titre,canal\n";
    for (const auto& row : report.rows()) {
        out += local_minute(row.date_ms()).substr(0, 10) + "," +
               std::to_string(row.duration_minutes()) + "," + std::to_string(row.mediators()) +
               "," + std::to_string(row.structures()) + "," + std::to_string(row.other_actors()) +
               "," + csv_field(row.type()) + "," + csv_field(row.theme()) + "," +
               csv_field(row.title()) + "," + csv_field(row.channel_name()) + "\n";
    }
    return out;
}

namespace {

std::string ics_time(std::int64_t ms) {
    const auto t = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&t, &utc);
    char out[32];
    std::strftime(out, sizeof out, "%Y%m%dT%H%M%SZ", &utc);
    return out;
}

// TEXT values escape backslashes, semicolons, commas and line breaks.
std::string ics_text(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '\\':
            case ';':
            case ',':
                out += '\\';
                out += c;
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                break;
            default:
                out += c;
        }
    }
    return out;
}

// A content line folded at 75 octets, never inside a UTF-8 sequence; each
// continuation starts with a space.
std::string ics_line(const std::string& line) {
    std::string out;
    std::size_t at = 0;
    std::size_t room = 75;
    while (line.size() - at > room) {
        std::size_t end = at + room;
        while (end > at && (static_cast<unsigned char>(line[end]) & 0xC0) == 0x80) {
            --end;
        }
        out += line.substr(at, end - at) + "\r\n ";
        at = end;
        room = 74;
    }
    return out + line.substr(at) + "\r\n";
}

}  // namespace

std::string meeting_ics(const v1::Meeting& meeting, std::string_view host, std::int64_t now_ms) {
    std::int64_t planned = 0;
    std::string agenda = "Ordre du jour :";
    int n = 0;
    for (const auto& p : meeting.phases()) {
        const auto seconds = p.plan().planned_seconds() ? p.plan().planned_seconds()
                                                        : p.plan().planned_minutes() * 60;
        planned += seconds;
        // Appended piece by piece: GCC 12 at -O3 misreads `"\n" + std::string`
        // as an overlapping copy (GCC bug 105329, -Wrestrict).
        agenda += '\n';
        agenda += std::to_string(++n);
        agenda += ". ";
        agenda += p.plan().name();
        if (seconds) {
            agenda += " (";
            agenda += std::to_string((seconds + 59) / 60);
            agenda += " min)";
        }
    }
    if (!meeting.link().empty()) {
        agenda += "\n\nSalle : " + meeting.link();
    }
    agenda += "\nCanal Relais : #" + meeting.channel_name();
    const auto end = meeting.start_ms() + (planned > 0 ? planned * 1000 : 3'600'000);
    std::string out =
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Relais//relais//FR\r\n"
        "CALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\n";
    out += ics_line("UID:relais-session-" + std::to_string(meeting.id()) + "@" + std::string(host));
    out += ics_line("DTSTAMP:" + ics_time(now_ms));
    out += ics_line("DTSTART:" + ics_time(meeting.start_ms()));
    out += ics_line("DTEND:" + ics_time(end));
    out += ics_line("SUMMARY:" + ics_text(meeting.title()));
    out += ics_line("DESCRIPTION:" + ics_text(agenda));
    if (!meeting.link().empty()) {
        out += ics_line("LOCATION:" + ics_text(meeting.link()));
        out += ics_line("URL:" + meeting.link());
    }
    out += ics_line(std::string("STATUS:") +
                    (meeting.state() == v1::CANCELLED ? "CANCELLED" : "CONFIRMED"));
    out += "END:VEVENT\r\nEND:VCALENDAR\r\n";
    return out;
}

}  // namespace relais::client
