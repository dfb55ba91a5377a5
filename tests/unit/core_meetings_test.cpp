// Practice-exchange meetings in the core: templates, the life of a session,
// who may do what inside one, timers on a fake clock, polls, tables, notes,
// minutes, attendance and the report; and the pure rules of meetings.hpp.
#include <thread>

#include "server/core/meetings.hpp"
#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

class meetings_test : public core_test {
  protected:
    void SetUp() override {
        core_test::SetUp();
        core::accounts accounts(store(), clock_, protocol::limits{});
        ASSERT_TRUE(accounts.add("coco", "secret-coco", v1::COORDINATOR, "Coco"));
        coco_ = open();
        ASSERT_TRUE(login(coco_, "coco", "secret-coco").has_session());
        ASSERT_TRUE(create(coco_, "echanges").has_channel());
        for (const char* name : {"nina", "paul", "rita", "sam", "tom"}) {
            people_[name] = user(name);
            ASSERT_TRUE(join(people_[name], "echanges").has_channel());
        }
        outsider_ = user("zoe");
    }

    conn_ptr& p(const std::string& name) { return people_.at(name); }

    v1::ServerMessage create_meeting(const conn_ptr& c, const std::string& template_name,
                                     std::vector<v1::PhasePlan> phases = {},
                                     const std::string& charter = "") {
        v1::ClientMessage m;
        auto& in = *m.mutable_create_meeting();
        *in.mutable_channel() = ref("echanges");
        in.set_title("Analyse de pratiques de décembre");
        in.set_start_ms(clock_.now_ms() + 3'600'000);
        in.set_template_name(template_name);
        in.set_charter(charter);
        for (auto& phase : phases) {
            *in.add_phases() = phase;
        }
        return call(c, m);
    }
    std::uint64_t gease() {
        auto created = create_meeting(coco_, "analyse-de-pratiques");
        EXPECT_TRUE(created.has_meeting()) << created.DebugString();
        return created.meeting().meeting().id();
    }
    v1::ServerMessage set_state(const conn_ptr& c, std::uint64_t id, v1::MeetingState s) {
        v1::ClientMessage m;
        m.mutable_set_meeting_state()->set_meeting_id(id);
        m.mutable_set_meeting_state()->set_state(s);
        return call(c, m);
    }
    v1::ServerMessage join_meeting(const conn_ptr& c, std::uint64_t id, bool accept = true) {
        v1::ClientMessage m;
        m.mutable_join_meeting()->set_meeting_id(id);
        m.mutable_join_meeting()->set_accept_charter(accept);
        return call(c, m);
    }
    v1::ServerMessage leave_meeting(const conn_ptr& c, std::uint64_t id) {
        v1::ClientMessage m;
        m.mutable_join_meeting()->set_meeting_id(id);
        m.mutable_join_meeting()->set_leave(true);
        return call(c, m);
    }
    v1::ServerMessage phase(const conn_ptr& c, std::uint64_t id, std::uint32_t n = 0) {
        v1::ClientMessage m;
        m.mutable_set_phase()->set_meeting_id(id);
        m.mutable_set_phase()->set_phase(n);
        return call(c, m);
    }
    v1::ServerMessage role(const conn_ptr& c, std::uint64_t id, const std::string& who,
                           v1::MeetingRole r, bool remove = false) {
        v1::ClientMessage m;
        auto& in = *m.mutable_set_meeting_role();
        in.set_meeting_id(id);
        in.set_user(who);
        in.set_role(r);
        in.set_remove(remove);
        return call(c, m);
    }
    v1::ServerMessage raise(const conn_ptr& c, std::uint64_t id,
                            v1::HandTag tag = v1::HAND_TAG_UNSPECIFIED, bool lower = false) {
        v1::ClientMessage m;
        m.mutable_raise_hand()->set_meeting_id(id);
        m.mutable_raise_hand()->set_tag(tag);
        m.mutable_raise_hand()->set_lower(lower);
        return call(c, m);
    }
    v1::ServerMessage floor(const conn_ptr& c, std::uint64_t id, const std::string& who = "") {
        v1::ClientMessage m;
        m.mutable_give_floor()->set_meeting_id(id);
        m.mutable_give_floor()->set_user(who);
        return call(c, m);
    }
    v1::ServerMessage poll(const conn_ptr& c, std::uint64_t id, std::vector<std::string> options,
                           bool anonymous = false, bool multiple = false) {
        v1::ClientMessage m;
        auto& in = *m.mutable_open_poll();
        in.set_meeting_id(id);
        in.set_question("Quelle situation ?");
        for (auto& o : options) {
            in.add_options(o);
        }
        in.set_anonymous(anonymous);
        in.set_multiple(multiple);
        return call(c, m);
    }
    v1::ServerMessage vote(const conn_ptr& c, std::uint64_t id, std::uint32_t poll_id,
                           std::vector<std::uint32_t> options) {
        v1::ClientMessage m;
        m.mutable_vote()->set_meeting_id(id);
        m.mutable_vote()->set_poll_id(poll_id);
        for (auto o : options) {
            m.mutable_vote()->add_options(o);
        }
        return call(c, m);
    }
    v1::ServerMessage close_poll(const conn_ptr& c, std::uint64_t id, std::uint32_t poll_id) {
        v1::ClientMessage m;
        m.mutable_close_poll()->set_meeting_id(id);
        m.mutable_close_poll()->set_poll_id(poll_id);
        return call(c, m);
    }
    v1::ServerMessage note(const conn_ptr& c, std::uint64_t id, const std::string& text,
                           bool action = false, const std::string& who = "",
                           const std::string& due = "") {
        v1::ClientMessage m;
        auto& in = *m.mutable_set_note();
        in.set_meeting_id(id);
        in.set_text(text);
        in.set_action(action);
        in.set_who(who);
        in.set_due(due);
        return call(c, m);
    }
    v1::MeetingView view(const conn_ptr& c, std::uint64_t id) {
        v1::ClientMessage m;
        m.mutable_get_meeting()->set_meeting_id(id);
        auto answer = call(c, m);
        EXPECT_TRUE(answer.has_meeting()) << answer.DebugString();
        return answer.meeting();
    }
    // Meeting events `c` received so far.
    static std::vector<v1::MeetingEvent> meeting_events(const conn_ptr& c) {
        std::vector<v1::MeetingEvent> out;
        for (const auto& e : c->events()) {
            if (e.has_meeting()) {
                out.push_back(e.meeting());
            }
        }
        return out;
    }
    // Waits (the timers run on the writer) until `c` got a meeting event of `kind`.
    static bool wait_for(const conn_ptr& c, v1::MeetingEvent::Change kind) {
        for (int i = 0; i < 200; ++i) {
            for (const auto& e : meeting_events(c)) {
                if (e.change() == kind) {
                    return true;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
    // A live GEASE with nina as narrator and everyone present.
    std::uint64_t live_gease() {
        const auto id = gease();
        EXPECT_TRUE(set_state(coco_, id, v1::LIVE).has_ok());
        for (auto& [name, conn] : people_) {
            EXPECT_TRUE(join_meeting(conn, id).has_meeting()) << name;
        }
        EXPECT_TRUE(role(coco_, id, "nina", v1::NARRATOR).has_ok());
        return id;
    }

    conn_ptr coco_, outsider_;
    std::map<std::string, conn_ptr> people_;
};

TEST_F(meetings_test, the_shipped_templates_are_listed_in_french_with_their_phases) {
    v1::ClientMessage m;
    m.mutable_list_meeting_templates();
    const auto answer = call(p("nina"), m);
    ASSERT_TRUE(answer.has_meeting_templates()) << answer.DebugString();
    std::map<std::string, v1::MeetingTemplate> by_name;
    for (const auto& t : answer.meeting_templates().templates()) {
        by_name[t.name()] = t;
    }
    ASSERT_EQ(by_name.size(), 5u);
    const auto& gease = by_name.at("analyse-de-pratiques");
    ASSERT_EQ(gease.phases_size(), 7);
    EXPECT_EQ(gease.phases(1).name(), "Récit du narrateur");
    EXPECT_TRUE(gease.phases(3).narrator_silent());
    EXPECT_FALSE(gease.charter().empty());
    ASSERT_EQ(by_name.at("codeveloppement").phases_size(), 6);
    EXPECT_NE(by_name.at("codeveloppement").phases(5).rules().find("appréciation"),
              std::string::npos);
    EXPECT_TRUE(by_name.at("world-cafe").phases(1).tables());
    EXPECT_TRUE(by_name.at("world-cafe").phases(2).harvest());
    EXPECT_TRUE(by_name.count("tour-de-table") && by_name.count("cas-pratique"));
}

TEST_F(meetings_test, a_session_is_created_scheduled_and_announced_to_the_channel) {
    const auto created = create_meeting(coco_, "analyse-de-pratiques");
    ASSERT_TRUE(created.has_meeting()) << created.DebugString();
    const auto& meeting = created.meeting().meeting();
    EXPECT_EQ(meeting.state(), v1::SCHEDULED);
    EXPECT_EQ(meeting.phases_size(), 7);
    EXPECT_EQ(meeting.phases(0).plan().planned_minutes(), 15u);
    EXPECT_EQ(meeting.charter().substr(0, 16), "Confidentialité");
    ASSERT_EQ(created.meeting().participants_size(), 1);
    EXPECT_EQ(created.meeting().participants(0).roles(0), v1::FACILITATOR);
    // Every member is told.
    const auto told = meeting_events(p("tom"));
    ASSERT_EQ(told.size(), 1u);
    EXPECT_EQ(told[0].change(), v1::MeetingEvent::CREATED);
    EXPECT_EQ(told[0].meeting().title(), "Analyse de pratiques de décembre");
    // Listed as upcoming in the channel and across the member's channels.
    v1::ClientMessage list;
    list.mutable_list_meetings()->set_which(v1::ListMeetings::UPCOMING);
    auto listed = call(p("tom"), list);
    ASSERT_EQ(listed.meetings().meetings_size(), 1);
    EXPECT_EQ(listed.meetings().meetings(0).channel_name(), "echanges");
    list.mutable_list_meetings()->set_which(v1::ListMeetings::PAST);
    EXPECT_EQ(call(p("tom"), list).meetings().meetings_size(), 0);
    // Not a member of the channel: not listed, and not found.
    list.mutable_list_meetings()->set_which(v1::ListMeetings::ALL);
    EXPECT_EQ(call(outsider_, list).meetings().meetings_size(), 0);
    v1::ClientMessage get;
    get.mutable_get_meeting()->set_meeting_id(meeting.id());
    EXPECT_EQ(code(call(outsider_, get)), v1::NOT_FOUND);
}

TEST_F(meetings_test, plain_members_cannot_create_and_agendas_are_checked) {
    EXPECT_EQ(code(create_meeting(p("nina"), "analyse-de-pratiques")), v1::FORBIDDEN);
    EXPECT_EQ(code(create_meeting(coco_, "pas-de-tel-modele")), v1::NOT_FOUND);
    EXPECT_EQ(code(create_meeting(coco_, "")), v1::BAD_REQUEST);  // 0 phases
    std::vector<v1::PhasePlan> many(31);
    for (auto& phase : many) {
        phase.set_name("Phase");
    }
    EXPECT_EQ(code(create_meeting(coco_, "", many)), v1::BAD_REQUEST);
    many.resize(30);
    EXPECT_TRUE(create_meeting(coco_, "", many).has_meeting());
    std::vector<v1::PhasePlan> unnamed(1);
    EXPECT_EQ(code(create_meeting(coco_, "", unnamed)), v1::BAD_REQUEST);
    // Nothing else was stored: one meeting.
    v1::ClientMessage list;
    list.mutable_list_meetings();
    EXPECT_EQ(call(coco_, list).meetings().meetings_size(), 1);
}

TEST_F(meetings_test, joining_needs_the_charter_accepted_and_keeps_the_attendance) {
    const auto id = gease();
    EXPECT_EQ(code(join_meeting(p("nina"), id)), v1::CONFLICT);  // not started
    ASSERT_TRUE(set_state(coco_, id, v1::LIVE).has_ok());
    EXPECT_EQ(code(join_meeting(p("nina"), id, false)), v1::FORBIDDEN);
    EXPECT_FALSE(view(coco_, id).participants_size() > 1);
    auto joined = join_meeting(p("nina"), id);
    ASSERT_TRUE(joined.has_meeting());
    EXPECT_EQ(joined.meeting().meeting().present_count(), 1u);
    clock_.advance(10 * 60'000);
    ASSERT_TRUE(leave_meeting(p("nina"), id).has_meeting());
    clock_.advance(5 * 60'000);
    // Accepted once: the second join needs no acceptance.
    ASSERT_TRUE(join_meeting(p("nina"), id, false).has_meeting());
    clock_.advance(20 * 60'000);
    ASSERT_TRUE(set_state(coco_, id, v1::ENDED).has_ok());
    v1::ClientMessage m;
    m.mutable_get_attendance()->set_meeting_id(id);
    EXPECT_EQ(code(call(p("nina"), m)), v1::FORBIDDEN);
    const auto sheet = call(coco_, m);
    ASSERT_EQ(sheet.attendance().rows_size(), 1) << sheet.DebugString();
    const auto& row = sheet.attendance().rows(0);
    EXPECT_EQ(row.user().name(), "nina");
    EXPECT_EQ(row.minutes_present(), 30u);
    EXPECT_EQ(row.last_leave_ms() - row.first_join_ms(), 35 * 60'000);
}

TEST_F(meetings_test, participants_cannot_run_the_session_and_nothing_changes) {
    const auto id = live_gease();
    const auto before = view(coco_, id);
    EXPECT_EQ(code(phase(p("paul"), id)), v1::FORBIDDEN);
    EXPECT_EQ(code(floor(p("paul"), id)), v1::FORBIDDEN);
    EXPECT_EQ(code(poll(p("paul"), id, {"a", "b"})), v1::FORBIDDEN);
    EXPECT_EQ(code(role(p("paul"), id, "paul", v1::FACILITATOR)), v1::FORBIDDEN);
    v1::ClientMessage tables;
    tables.mutable_arrange_tables()->set_meeting_id(id);
    tables.mutable_arrange_tables()->set_size(2);
    EXPECT_EQ(code(call(p("paul"), tables)), v1::FORBIDDEN);
    EXPECT_EQ(code(set_state(p("paul"), id, v1::ENDED)), v1::FORBIDDEN);
    EXPECT_EQ(code(note(p("paul"), id, "Ma note")), v1::FORBIDDEN);
    const auto after = view(coco_, id);
    EXPECT_EQ(after.as_of_seq(), before.as_of_seq());
    EXPECT_EQ(after.SerializeAsString(), before.SerializeAsString());
    // A timekeeper moves the phases; a scribe writes notes.
    ASSERT_TRUE(role(coco_, id, "paul", v1::TIMEKEEPER).has_ok());
    EXPECT_TRUE(phase(p("paul"), id).has_ok());
    ASSERT_TRUE(role(coco_, id, "rita", v1::SCRIBE).has_ok());
    EXPECT_TRUE(note(p("rita"), id, "Règles rappelées").has_note());
    // The last facilitator keeps the role.
    EXPECT_EQ(code(role(coco_, id, "coco", v1::FACILITATOR, true)), v1::CONFLICT);
}

TEST_F(meetings_test, phases_carry_their_planned_end_and_run_into_overtime_on_the_clock) {
    std::vector<v1::PhasePlan> agenda(2);
    agenda[0].set_name("Tour de table");
    agenda[0].set_planned_minutes(10);
    agenda[1].set_name("Libre");
    const auto created = create_meeting(coco_, "", agenda);
    const auto id = created.meeting().meeting().id();
    ASSERT_TRUE(set_state(coco_, id, v1::LIVE).has_ok());
    ASSERT_TRUE(phase(coco_, id).has_ok());
    const auto now = clock_.now_ms();
    auto events = meeting_events(p("tom"));
    ASSERT_EQ(events.back().change(), v1::MeetingEvent::PHASE);
    EXPECT_EQ(events.back().meeting().current_phase(), 1u);
    EXPECT_EQ(events.back().meeting().phase_planned_end_ms(), now + 600'000);
    // Nobody sends anything; the clock passes the end.
    clock_.advance(599'000);
    service_->tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(meeting_events(p("tom")).back().change() == v1::MeetingEvent::OVERTIME);
    clock_.advance(2'000);
    service_->tick();
    ASSERT_TRUE(wait_for(p("tom"), v1::MeetingEvent::OVERTIME));
    EXPECT_TRUE(view(coco_, id).meeting().overtime());
    // Once only.
    clock_.advance(60'000);
    service_->tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    int overtimes = 0;
    for (const auto& e : meeting_events(p("tom"))) {
        overtimes += e.change() == v1::MeetingEvent::OVERTIME;
    }
    EXPECT_EQ(overtimes, 1);
    // The next phase is untimed; the actual time of the first is kept.
    ASSERT_TRUE(phase(coco_, id).has_ok());
    EXPECT_EQ(view(coco_, id).meeting().phases(0).actual_seconds(), 661u);
    EXPECT_EQ(view(coco_, id).meeting().phase_planned_end_ms(), 0);
    EXPECT_EQ(code(phase(coco_, id)), v1::CONFLICT);  // past the last
    EXPECT_EQ(code(phase(coco_, id, 3)), v1::BAD_REQUEST);
}

TEST_F(meetings_test, timers_can_be_switched_off_and_members_get_a_reminder) {
    v1::ClientMessage m;
    auto& in = *m.mutable_create_meeting();
    *in.mutable_channel() = ref("echanges");
    in.set_title("Codéveloppement");
    in.set_start_ms(clock_.now_ms() + 3'600'000);
    in.set_template_name("codeveloppement");
    in.set_timers_off(true);
    const auto id = call(coco_, m).meeting().meeting().id();
    clock_.advance(44 * 60'000);
    service_->tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(meeting_events(p("sam")).size(), 1u);  // CREATED only
    clock_.advance(61'000);
    service_->tick();
    ASSERT_TRUE(wait_for(p("sam"), v1::MeetingEvent::REMINDER));
    ASSERT_TRUE(set_state(coco_, id, v1::LIVE).has_ok());
    EXPECT_EQ(meeting_events(p("sam")).back().change(), v1::MeetingEvent::STARTED);
    ASSERT_TRUE(phase(coco_, id).has_ok());
    EXPECT_EQ(view(coco_, id).meeting().phase_planned_end_ms(), 0);
    clock_.advance(3'600'000);
    service_->tick();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(meeting_events(p("sam")).back().change(), v1::MeetingEvent::PHASE);
}

TEST_F(meetings_test, the_queue_is_served_in_order_and_the_narrator_listens_in_silence) {
    const auto id = live_gease();
    ASSERT_TRUE(raise(p("paul"), id, v1::INFORMATION).has_ok());
    ASSERT_TRUE(raise(p("rita"), id).has_ok());
    ASSERT_TRUE(raise(p("sam"), id, v1::ADVICE).has_ok());
    // Raising again changes the tag, not the place.
    ASSERT_TRUE(raise(p("paul"), id, v1::HYPOTHESIS).has_ok());
    ASSERT_TRUE(raise(p("rita"), id, v1::HAND_TAG_UNSPECIFIED, true).has_ok());
    auto floor_now = meeting_events(p("tom")).back().floor();
    ASSERT_EQ(floor_now.queue_size(), 2);
    EXPECT_EQ(floor_now.queue(0).user().name(), "paul");
    EXPECT_EQ(floor_now.queue(0).tag(), v1::HYPOTHESIS);
    ASSERT_TRUE(floor(coco_, id).has_ok());
    floor_now = meeting_events(p("tom")).back().floor();
    EXPECT_EQ(floor_now.speaker().name(), "paul");
    EXPECT_EQ(floor_now.speaker_tag(), v1::HYPOTHESIS);
    ASSERT_EQ(floor_now.queue_size(), 1);
    ASSERT_TRUE(floor(coco_, id, "tom").has_ok());
    EXPECT_EQ(meeting_events(p("tom")).back().floor().speaker().name(), "tom");
    ASSERT_TRUE(floor(coco_, id).has_ok());  // sam, the last in line
    ASSERT_TRUE(floor(coco_, id).has_ok());  // nobody left
    EXPECT_FALSE(meeting_events(p("tom")).back().floor().has_speaker());
    EXPECT_EQ(code(floor(coco_, id, "zoe")), v1::NOT_FOUND);

    // Phase 4, hypotheses: the narrator listens.
    ASSERT_TRUE(phase(coco_, id, 4).has_ok());
    const auto refused = send(p("nina"), "echanges", "Mais non !", "n1");
    EXPECT_EQ(code(refused), v1::FORBIDDEN);
    EXPECT_NE(refused.error().message().find("narrator"), std::string::npos);
    EXPECT_EQ(code(raise(p("nina"), id)), v1::FORBIDDEN);
    EXPECT_EQ(code(floor(coco_, id, "nina")), v1::FORBIDDEN);
    // Others talk, and their messages belong to the session and the phase.
    const auto said = send(p("paul"), "echanges", "Une hypothèse", "p1");
    ASSERT_TRUE(said.has_sent());
    EXPECT_EQ(said.sent().event().message().meeting_id(), id);
    EXPECT_EQ(said.sent().event().message().meeting_phase(), 4u);
    // Phase 5: the narrator speaks again.
    ASSERT_TRUE(phase(coco_, id).has_ok());
    EXPECT_TRUE(send(p("nina"), "echanges", "Merci", "n2").has_sent());
    // After the session, messages are plain again.
    ASSERT_TRUE(set_state(coco_, id, v1::ENDED).has_ok());
    EXPECT_EQ(send(p("paul"), "echanges", "Au revoir", "p2").sent().event().message().meeting_id(),
              0u);
}

TEST_F(meetings_test, polls_tally_live_and_anonymous_ones_name_nobody) {
    const auto id = live_gease();
    EXPECT_EQ(code(poll(coco_, id, {"seule"})), v1::BAD_REQUEST);
    EXPECT_EQ(code(poll(coco_, id, std::vector<std::string>(11, "x"))), v1::BAD_REQUEST);
    const auto named = poll(coco_, id, {"Cas A", "Cas B"});
    ASSERT_TRUE(named.has_poll()) << named.DebugString();
    const auto secret = poll(coco_, id, {"Oui", "Non", "Peut-être"}, true, true);
    ASSERT_TRUE(secret.has_poll());
    const auto n = named.poll().id(), s = secret.poll().id();
    ASSERT_TRUE(vote(p("nina"), id, n, {0}).has_ok());
    ASSERT_TRUE(vote(p("paul"), id, n, {1}).has_ok());
    ASSERT_TRUE(vote(p("paul"), id, n, {0}).has_ok());  // changed
    EXPECT_EQ(code(vote(p("rita"), id, n, {0, 1})), v1::BAD_REQUEST);
    EXPECT_EQ(code(vote(p("rita"), id, n, {2})), v1::BAD_REQUEST);
    EXPECT_EQ(code(vote(p("rita"), id, 99, {0})), v1::NOT_FOUND);
    EXPECT_EQ(code(vote(outsider_, id, n, {0})), v1::NOT_FOUND);
    ASSERT_TRUE(vote(p("rita"), id, s, {0, 2}).has_ok());
    ASSERT_TRUE(vote(p("sam"), id, s, {1}).has_ok());
    const auto live = meeting_events(p("tom")).back().poll();
    EXPECT_EQ(live.id(), s);
    EXPECT_EQ(live.counts(0), 1u);
    EXPECT_EQ(live.counts(1), 1u);
    EXPECT_EQ(live.counts(2), 1u);
    EXPECT_EQ(live.voters(), 2u);
    EXPECT_EQ(live.names_size(), 0);
    // Nobody learns who chose what in the anonymous poll, facilitators
    // included; each sees their own ballot.
    for (const auto* who : {"coco", "tom", "rita"}) {
        const auto v = view(who == std::string("coco") ? coco_ : p(who), id);
        ASSERT_EQ(v.polls_size(), 2);
        EXPECT_EQ(v.polls(1).names_size(), 0) << who;
        EXPECT_EQ(v.polls(0).names(0).users_size(), 2) << who;
    }
    EXPECT_EQ(view(p("rita"), id).polls(1).my_choice_size(), 2);
    ASSERT_TRUE(close_poll(coco_, id, n).has_ok());
    EXPECT_EQ(code(vote(p("sam"), id, n, {1})), v1::CONFLICT);
    EXPECT_EQ(code(close_poll(coco_, id, n)), v1::CONFLICT);
    EXPECT_EQ(view(coco_, id).polls(0).counts(0), 2u);
}

TEST_F(meetings_test, cases_are_proposed_without_a_name_and_a_poll_picks_one) {
    v1::ClientMessage submit;
    *submit.mutable_submit_case()->mutable_channel() = ref("echanges");
    submit.mutable_submit_case()->set_text("Un usager refuse FranceConnect");
    ASSERT_TRUE(call(p("rita"), submit).has_proposed_case());
    submit.mutable_submit_case()->set_text("Une demande de RSA sans adresse e-mail");
    ASSERT_TRUE(call(p("sam"), submit).has_proposed_case());
    EXPECT_EQ(meeting_events(p("tom")).back().change(), v1::MeetingEvent::CASE);
    EXPECT_FALSE(p("tom")->events().back().has_actor() &&
                 p("tom")->events().back().actor().id() != 0);
    const auto id = live_gease();
    v1::ClientMessage list;
    list.mutable_list_cases()->set_meeting_id(id);
    const auto peers = call(p("tom"), list).cases();
    ASSERT_EQ(peers.cases_size(), 2);
    EXPECT_FALSE(peers.cases(0).has_author());
    EXPECT_EQ(call(coco_, list).cases().cases(0).author().name(), "rita");
    v1::ClientMessage open;
    open.mutable_open_poll()->set_meeting_id(id);
    open.mutable_open_poll()->set_question("Quelle situation analyser ?");
    open.mutable_open_poll()->set_from_cases(true);
    const auto opened = call(coco_, open);
    ASSERT_TRUE(opened.has_poll()) << opened.DebugString();
    EXPECT_EQ(opened.poll().options(1), "Une demande de RSA sans adresse e-mail");
    ASSERT_TRUE(vote(p("paul"), id, opened.poll().id(), {1}).has_ok());
    ASSERT_TRUE(close_poll(coco_, id, opened.poll().id()).has_ok());
    EXPECT_EQ(call(coco_, list).cases().cases(1).chosen_by_meeting(), id);
}

TEST_F(meetings_test, tables_split_rotate_with_hosts_staying_and_talk_in_their_own_channel) {
    const auto id = live_gease();
    v1::ClientMessage split;
    split.mutable_arrange_tables()->set_meeting_id(id);
    split.mutable_arrange_tables()->set_size(2);
    const auto answer = call(coco_, split);
    ASSERT_TRUE(answer.has_ok()) << answer.DebugString();
    auto tables = view(coco_, id).tables();
    ASSERT_EQ(tables.size(), 3);  // five people, facilitator aside: 2, 2, 1
    std::vector<std::string> hosts;
    for (const auto& t : tables) {
        hosts.push_back(t.host().name());
        EXPECT_EQ(t.members(0).name(), t.host().name());
    }
    // A table's messages reach its members and the facilitator only.
    const auto& first = tables[0];
    const auto member = first.members(1).name();
    const auto sent = send(p(member), first.channel_name(), "Notre idée", "t1");
    ASSERT_TRUE(sent.has_sent()) << sent.DebugString();
    EXPECT_EQ(sent.sent().event().message().meeting_id(), id);
    std::string outside;
    for (const auto& [name, conn] : people_) {
        bool at_first = false;
        for (const auto& m : first.members()) {
            at_first = at_first || m.name() == name;
        }
        if (!at_first) {
            outside = name;
            EXPECT_EQ(code(history(conn, first.channel_name())), v1::NOT_FOUND) << name;
        }
    }
    EXPECT_TRUE(history(coco_, first.channel_name()).has_events());
    v1::ClientMessage rotate = split;
    rotate.mutable_arrange_tables()->set_action(v1::ArrangeTables::ROTATE);
    ASSERT_TRUE(call(coco_, rotate).has_ok());
    const auto after = view(coco_, id);
    EXPECT_EQ(after.round(), 2u);
    for (int t = 0; t < after.tables_size(); ++t) {
        EXPECT_EQ(after.tables(t).host().name(), hosts[static_cast<std::size_t>(t)]);
        if (after.tables(t).members_size() > 1) {
            // The guest of round 1 moved on.
            EXPECT_NE(after.tables(t).members(1).name(),
                      tables[t].members_size() > 1 ? tables[t].members(1).name() : "");
        }
    }
    EXPECT_EQ(code(call(coco_, split)), v1::CONFLICT);
    v1::ClientMessage harvest = split;
    harvest.mutable_arrange_tables()->set_action(v1::ArrangeTables::HARVEST);
    ASSERT_TRUE(call(coco_, harvest).has_ok());
    EXPECT_TRUE(view(coco_, id).harvested());
    EXPECT_EQ(code(call(coco_, rotate)), v1::CONFLICT);
}

TEST_F(meetings_test, ending_drafts_minutes_that_a_facilitator_edits_and_publishes) {
    const auto id = live_gease();
    ASSERT_TRUE(phase(coco_, id).has_ok());
    ASSERT_TRUE(note(coco_, id, "Situation choisie : un refus de FranceConnect").has_note());
    ASSERT_TRUE(note(coco_, id, "Envoyer la fiche", true, "paul", "2026-12-15").has_note());
    EXPECT_EQ(code(note(coco_, id, "x", true, "paul", "15/12/2026")), v1::BAD_REQUEST);
    EXPECT_EQ(code(note(coco_, id, "x", true, "personne")), v1::NOT_FOUND);
    const auto opened = poll(coco_, id, {"Oui", "Non"}, true);
    ASSERT_TRUE(vote(p("sam"), id, opened.poll().id(), {0}).has_ok());
    v1::ClientMessage get;
    get.mutable_get_minutes()->set_meeting_id(id);
    EXPECT_EQ(code(call(coco_, get)), v1::CONFLICT);  // not ended
    clock_.advance(90 * 60'000);
    ASSERT_TRUE(set_state(coco_, id, v1::ENDED).has_ok());
    EXPECT_EQ(code(raise(p("paul"), id)), v1::CONFLICT);
    EXPECT_EQ(code(join_meeting(p("paul"), id)), v1::CONFLICT);
    EXPECT_EQ(code(set_state(coco_, id, v1::CANCELLED)), v1::CONFLICT);
    EXPECT_EQ(code(role(coco_, id, "paul", v1::SCRIBE)), v1::CONFLICT);
    EXPECT_EQ(code(phase(coco_, id)), v1::CONFLICT);
    EXPECT_EQ(code(note(coco_, id, "Trop tard")), v1::CONFLICT);
    EXPECT_EQ(code(call(p("paul"), get)), v1::FORBIDDEN);  // a draft
    const auto draft = call(coco_, get).minutes().markdown();
    EXPECT_NE(draft.find("# Compte rendu — Analyse de pratiques de décembre"), std::string::npos)
        << draft;
    EXPECT_NE(draft.find("- **Durée** : 1 h 30"), std::string::npos) << draft;
    EXPECT_NE(draft.find("- **Format** : Analyse de pratiques (GEASE)"), std::string::npos);
    EXPECT_NE(draft.find("5 participant·es"), std::string::npos) << draft;
    EXPECT_NE(draft.find("Situation choisie : un refus de FranceConnect"), std::string::npos);
    EXPECT_NE(draft.find("- [ ] Envoyer la fiche — paul, pour le 2026-12-15"), std::string::npos)
        << draft;
    EXPECT_NE(draft.find("### Quelle situation ? (anonyme)"), std::string::npos) << draft;
    EXPECT_NE(draft.find("- Oui : 1\n"), std::string::npos) << draft;
    v1::ClientMessage edit;
    edit.mutable_edit_minutes()->set_meeting_id(id);
    edit.mutable_edit_minutes()->set_markdown("# Compte rendu\n\nRelu.");
    EXPECT_EQ(code(call(p("paul"), edit)), v1::FORBIDDEN);
    ASSERT_TRUE(call(coco_, edit).has_minutes());
    v1::ClientMessage publish;
    publish.mutable_edit_minutes()->set_meeting_id(id);
    publish.mutable_edit_minutes()->set_publish(true);
    const auto published = call(coco_, publish);
    ASSERT_TRUE(published.minutes().published()) << published.DebugString();
    // Posted in the channel as a resource of kind MINUTES.
    const auto posted = p("tom")->events();
    bool found = false;
    for (const auto& e : posted) {
        if (e.has_message() && e.seq() == published.minutes().seq()) {
            found = true;
            EXPECT_EQ(e.message().resource().kind(), v1::MINUTES);
            EXPECT_EQ(e.message().text(), "# Compte rendu\n\nRelu.");
        }
    }
    EXPECT_TRUE(found);
    EXPECT_EQ(call(p("paul"), get).minutes().markdown(), "# Compte rendu\n\nRelu.");
    EXPECT_EQ(code(call(coco_, publish)), v1::CONFLICT);
}

TEST_F(meetings_test, the_report_gives_one_animation_line_per_session_to_coordinators) {
    v1::ClientMessage profile;
    profile.mutable_set_profile()->set_structure("Centre social Les Tilleuls");
    profile.mutable_set_profile()->set_commune("35238");
    ASSERT_EQ(call(p("paul"), profile).profile().commune(), "35238");
    profile.mutable_set_profile()->set_commune("3523");
    EXPECT_EQ(code(call(p("paul"), profile)), v1::BAD_REQUEST);
    const auto from = clock_.now_ms();
    const auto id = live_gease();
    clock_.advance(45 * 60'000);
    ASSERT_TRUE(set_state(coco_, id, v1::ENDED).has_ok());
    v1::ClientMessage report;
    report.mutable_get_meeting_report()->set_from_ms(from);
    report.mutable_get_meeting_report()->set_to_ms(clock_.now_ms() + 1);
    EXPECT_EQ(code(call(p("paul"), report)), v1::FORBIDDEN);
    const auto rows = call(coco_, report).meeting_report().rows();
    ASSERT_EQ(rows.size(), 1);
    EXPECT_EQ(rows[0].duration_minutes(), 45u);
    EXPECT_EQ(rows[0].mediators(), 5u);
    EXPECT_EQ(rows[0].structures(), 1u);
    EXPECT_EQ(rows[0].type(), "Moment d'échange");
    EXPECT_EQ(rows[0].theme(), "Échanges de bonnes pratiques");
    v1::ClientMessage m;
    m.mutable_get_attendance()->set_meeting_id(id);
    const auto sheet = call(coco_, m).attendance();
    for (const auto& row : sheet.rows()) {
        if (row.user().name() == "paul") {
            EXPECT_EQ(row.structure(), "Centre social Les Tilleuls");
            EXPECT_EQ(row.commune(), "35238");
        }
    }
}

TEST(meeting_rules, guests_change_table_every_round_and_hosts_stay) {
    for (std::uint32_t tables = 2; tables <= 6; ++tables) {
        for (std::uint32_t guest = 0; guest < 5; ++guest) {
            for (std::uint32_t round = 2; round <= 6; ++round) {
                for (std::uint32_t t = 0; t < tables; ++t) {
                    EXPECT_NE(core::meetings::guest_table(t, guest, round, tables),
                              core::meetings::guest_table(t, guest, round - 1, tables));
                }
            }
        }
    }
    // Guests of one table spread out at the next round (3 tables or more).
    EXPECT_NE(core::meetings::guest_table(0, 0, 2, 4), core::meetings::guest_table(0, 1, 2, 4));
    const auto split = core::meetings::split_tables({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 4);
    ASSERT_EQ(split.size(), 3u);
    EXPECT_EQ(split[0].size(), 4u);
    EXPECT_EQ(split[2].size(), 3u);
}

TEST(meeting_rules, confidential_minutes_count_people_without_naming_them) {
    core::meetings::minutes_input in;
    in.title = "GEASE";
    in.channel = "echanges";
    in.started_at_ms = 1'790'000'000'000;
    in.ended_at_ms = in.started_at_ms + 3'600'000;
    in.confidential = true;
    in.facilitators = {{"Coco", "Département"}};
    in.participants = {{"Nina", "CCAS"}, {"Paul", "CCAS"}, {"Rita", "Médiathèque"}};
    in.phases = {{"Récit", 600, 540}};
    const auto md = core::meetings::render_minutes(in);
    EXPECT_NE(md.find("3 participant·es, 2 structures."), std::string::npos) << md;
    EXPECT_EQ(md.find("Nina"), std::string::npos) << md;
    EXPECT_NE(md.find("| 1. Récit | 10 min | 9 min |"), std::string::npos) << md;
    EXPECT_NE(md.find("- **Animation** : Coco"), std::string::npos);
    in.confidential = false;
    EXPECT_NE(core::meetings::render_minutes(in).find("- Nina (CCAS)"), std::string::npos);
}

}  // namespace
}  // namespace relais::testing
