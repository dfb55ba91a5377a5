// What a session gives outside Relais: CSV fields, iCalendar lines and the
// moments people type.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "clients/lib/meeting_export.hpp"

namespace relais::testing {
namespace {

TEST(meeting_export, csv_fields_are_quoted_only_when_they_need_it) {
    EXPECT_EQ(client::csv_field("Centre social"), "Centre social");
    EXPECT_EQ(client::csv_field("Mairie, accueil"), "\"Mairie, accueil\"");
    EXPECT_EQ(client::csv_field("dit \"oui\""), "\"dit \"\"oui\"\"\"");
    EXPECT_EQ(client::csv_field("deux\nlignes"), "\"deux\nlignes\"");
}

TEST(meeting_export, the_attendance_sheet_has_a_header_and_a_line_per_person) {
    v1::Attendance sheet;
    auto& row = *sheet.add_rows();
    row.mutable_user()->set_name("nina");
    row.mutable_user()->set_display_name("Nina Roux");
    row.set_structure("France Services, Vitré");
    row.set_commune("35360");
    row.add_roles(v1::NARRATOR);
    row.add_roles(v1::SCRIBE);
    row.set_minutes_present(42);
    const auto csv = client::attendance_csv(sheet, false);
    std::istringstream lines(csv);
    std::string header, line;
    std::getline(lines, header);
    std::getline(lines, line);
    EXPECT_EQ(header,
              "nom,structure,commune,rôle dans la séance,première arrivée,dernier départ,"
              "minutes de présence");
    EXPECT_EQ(line, "Nina Roux,\"France Services, Vitré\",35360,narration + secrétaire,,,42");
    EXPECT_EQ(client::attendance_csv(sheet, true).substr(0, 40),
              "name,structure,commune,session role,firs");
}

TEST(meeting_export, icalendar_lines_end_in_crlf_fold_at_75_octets_and_escape_text) {
    v1::Meeting m;
    m.set_id(7);
    m.set_title("Analyse de pratiques; cas, suite");
    m.set_channel_name("echanges");
    m.set_start_ms(1'796'000'400'000);
    m.set_link("https://visio.example.org/gease");
    for (int i = 0; i < 6; ++i) {
        auto& p = *m.add_phases()->mutable_plan();
        p.set_name("Phase numéro " + std::to_string(i + 1) + " : échanges d'expériences");
        p.set_planned_minutes(10);
    }
    const auto ics = client::meeting_ics(m, "relais.example.org", 1'796'000'000'000);
    EXPECT_EQ(ics.substr(0, 17), "BEGIN:VCALENDAR\r\n");
    EXPECT_NE(ics.find("UID:relais-session-7@relais.example.org\r\n"), std::string::npos);
    EXPECT_NE(ics.find("DTSTART:20261130T010000Z\r\n"), std::string::npos) << ics;
    EXPECT_NE(ics.find("DTEND:20261130T020000Z\r\n"), std::string::npos) << ics;  // 6 × 10 min
    EXPECT_NE(ics.find("SUMMARY:Analyse de pratiques\\; cas\\, suite\r\n"), std::string::npos);
    EXPECT_NE(ics.find("URL:https://visio.example.org/gease\r\n"), std::string::npos);
    std::size_t at = 0;
    while (at < ics.size()) {
        const auto end = ics.find("\r\n", at);
        ASSERT_NE(end, std::string::npos) << "every line ends in CRLF";
        EXPECT_LE(end - at, 75u) << ics.substr(at, end - at);
        // A fold never cuts a UTF-8 sequence: a line never starts with a
        // continuation byte.
        const auto first = ics[at] == ' ' && end > at + 1 ? ics[at + 1] : ics[at];
        EXPECT_NE(static_cast<unsigned char>(first) & 0xC0, 0x80);
        at = end + 2;
    }
    // Unfolded, the description holds the agenda.
    std::string unfolded;
    for (std::size_t i = 0; i < ics.size(); ++i) {
        if (ics.compare(i, 3, "\r\n ") == 0) {
            i += 2;
            continue;
        }
        unfolded += ics[i];
    }
    EXPECT_NE(unfolded.find("\\n6. Phase numéro 6 : échanges d'expériences (10 min)"),
              std::string::npos)
        << unfolded;
}

TEST(meeting_export, moments_are_read_as_people_write_them) {
    // Paris time as a POSIX rule: no time zone database needed.
    ::setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
    ::tzset();
    EXPECT_EQ(client::parse_moment("2026-12-15T14:00"), 1'797'339'600'000);
    EXPECT_EQ(client::parse_moment("2026-12-15 14:00"), 1'797'339'600'000);
    EXPECT_EQ(client::parse_moment("2026-12-15T13:00:00Z"), 1'797'339'600'000);
    EXPECT_EQ(client::parse_moment("2026-12-15T14:00:00+01:00"), 1'797'339'600'000);
    EXPECT_EQ(client::parse_moment("2026-07-15T14:00"), 1'784'116'800'000);  // summer time
    EXPECT_EQ(client::parse_moment("2026-12-15"), 1'797'289'200'000);
    for (const char* bad : {"", "15/12/2026", "2026-13-01", "2026-12-15T25:00", "2026-12-15T14",
                            "2026-12-15T14:00+0100", "demain"}) {
        EXPECT_FALSE(client::parse_moment(bad)) << bad;
    }
    EXPECT_EQ(client::local_minute(1'797'339'600'000), "2026-12-15 14:00");
}

}  // namespace
}  // namespace relais::testing
