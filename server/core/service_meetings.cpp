// Profiles and practice-exchange meetings: templates, phases and timers,
// the speaking queue, polls, world café tables, notes, cases, minutes,
// attendance and the activity report.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <random>

#include "server/core/log.hpp"
#include "server/core/meeting_record.pb.h"
#include "server/core/meetings.hpp"
#include "server/core/service.hpp"
#include "server/core/validation.hpp"

namespace relais::core {

struct service::meeting_ctx {
    storage::meeting_record row;
    stored::MeetingRecord rec;
    storage::channel_record channel;
    std::optional<storage::membership> membership;
    storage::user_id user = 0;
    std::int64_t now = 0;
    bool facilitator = false;
    // What the change did: events to append, and whether to answer with
    // the whole state once they are.
    std::vector<v1::MeetingEvent> changes;
    bool answer_view = false;

    v1::MeetingState state() const { return static_cast<v1::MeetingState>(row.state); }
    bool over() const { return state() == v1::ENDED || state() == v1::CANCELLED; }
    v1::MeetingEvent& change(v1::MeetingEvent::Change what) {
        auto& e = changes.emplace_back();
        e.set_meeting_id(row.id);
        e.set_change(what);
        return e;
    }
};

namespace {

using meetings::find_participant;
using meetings::has_role;

bool over(int state) {
    return state == v1::ENDED || state == v1::CANCELLED;
}

// The byte length of the longest prefix of `text` within `max` bytes that
// does not cut a UTF-8 sequence.
std::string cut_utf8(std::string text, std::size_t max) {
    if (text.size() <= max) {
        return text;
    }
    std::size_t end = max;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
        --end;
    }
    text.resize(end);
    return text;
}

// A phase as planned, checked and normalised.
outcome<v1::PhasePlan> check_phase(const v1::PhasePlan& in, const protocol::limits& l) {
    auto name = visible_name("phase name", in.name(), l.max_title_bytes);
    if (!name) {
        return name.error();
    }
    if (name->empty()) {
        return fail(errc::bad_request, "a phase has no name");
    }
    if (auto ok = check_free_text("phase rules", in.rules(), l.max_text_bytes, true); !ok) {
        return ok.error();
    }
    if (in.planned_minutes() > 24 * 60 || in.planned_seconds() > 24 * 3600) {
        return fail(errc::bad_request, "a phase lasts at most 24 hours");
    }
    v1::PhasePlan out = in;
    out.set_name(*name);
    return out;
}

}  // namespace

outcome<std::unique_ptr<service::meeting_ctx>> service::load_meeting(storage::reader& r,
                                                                     const request& rq,
                                                                     std::uint64_t id) {
    auto missing = fail(errc::not_found, "no session " + std::to_string(id));
    auto row = r.find_meeting(id);
    if (!row) {
        return missing;
    }
    v1::ChannelRef ref;
    ref.set_id(row->channel);
    auto v = resolve(r, ref, rq.who.user.id());
    if (!v) {
        return missing;  // as for a meeting that does not exist
    }
    if (!v->membership) {
        return fail(errc::not_found, "session " + std::to_string(id) + " is in '" +
                                         v->channel.name + "'; join the channel first");
    }
    auto m = std::make_unique<meeting_ctx>();
    m->row = std::move(*row);
    if (!m->rec.ParseFromString(m->row.record)) {
        throw std::runtime_error("meeting " + std::to_string(id) + ": unreadable record");
    }
    m->channel = std::move(v->channel);
    m->membership = std::move(v->membership);
    m->user = rq.who.user.id();
    m->now = clock_.now_ms();
    const auto role = rq.who.user.role();
    m->facilitator = has_role(m->rec, m->user, v1::FACILITATOR) || is_moderator(m->membership) ||
                     role == v1::COORDINATOR || role == v1::ADMIN;
    return m;
}

void service::lower_timer_hint(std::int64_t at) {
    if (at == 0) {
        return;
    }
    auto current = next_timer_.load();
    while (at < current && !next_timer_.compare_exchange_weak(current, at)) {
    }
}

void service::save_meeting(storage::writer& w, meeting_ctx& m, effects& done) {
    const auto state = m.state();
    m.row.current_phase = m.rec.current_phase();
    m.row.silenced = meetings::silenced(m.rec, state);
    m.row.next_timer_ms = meetings::next_timer(m.rec, state, m.row.start_ms);
    m.row.started_at_ms = m.rec.started_at_ms();
    m.row.ended_at_ms = m.rec.ended_at_ms();
    m.row.record = m.rec.SerializeAsString();
    w.update_meeting(m.row);
    lower_timer_hint(m.row.next_timer_ms);
    for (auto& change : m.changes) {
        auto e = channel_event(m.row.channel, storage::event_kind::meeting, m.user);
        e.meeting = m.row.id;
        e.body = change.SerializeAsString();
        done.events.push_back(append(w, std::move(e)));
    }
    m.changes.clear();
}

service::handled service::change_meeting(const request& rq, std::uint64_t id,
                                         meeting_change change) {
    write(rq, [this, rq, id, change = std::move(change)](storage::writer& w) -> outcome<effects> {
        auto m = load_meeting(w, rq, id);
        if (!m) {
            return m.error();
        }
        auto& ctx = **m;
        effects done;
        if (auto ok = change(ctx, w, done); !ok) {
            return ok.error();
        }
        save_meeting(w, ctx, done);
        if (ctx.answer_view) {
            *done.reply.emplace().mutable_meeting() = meeting_view(w, ctx);
        }
        return done;
    });
    return answered_later();
}

void service::meeting_to_wire(storage::reader& r, const meeting_ctx& m, v1::Meeting& out) {
    const auto& rec = m.rec;
    out.set_id(m.row.id);
    out.set_channel_id(m.row.channel);
    out.set_channel_name(m.channel.name);
    out.set_title(rec.title());
    out.set_start_ms(m.row.start_ms);
    out.set_link(rec.link());
    out.set_charter(rec.charter());
    out.set_confidential(rec.confidential());
    out.set_timers_off(rec.timers_off());
    out.set_state(m.state());
    out.set_template_name(rec.template_name());
    *out.mutable_created_by() = user_view(r, m.row.created_by);
    out.set_started_at_ms(rec.started_at_ms());
    out.set_ended_at_ms(rec.ended_at_ms());
    for (const auto& p : rec.phases()) {
        auto& phase = *out.add_phases();
        auto& plan = *phase.mutable_plan();
        plan.set_name(p.name());
        plan.set_planned_seconds(p.planned_seconds());
        plan.set_planned_minutes(p.planned_seconds() / 60);
        plan.set_rules(p.rules());
        plan.set_narrator_silent(p.narrator_silent());
        plan.set_tables(p.tables());
        plan.set_harvest(p.harvest());
        phase.set_started_at_ms(p.started_at_ms());
        phase.set_ended_at_ms(p.ended_at_ms());
        phase.set_actual_seconds(p.actual_seconds());
        phase.set_overtime(p.overtime());
    }
    out.set_current_phase(rec.current_phase());
    out.set_phase_started_at_ms(rec.phase_started_at_ms());
    out.set_phase_planned_end_ms(m.state() == v1::LIVE ? meetings::planned_end(rec) : 0);
    out.set_overtime(rec.current_phase() != 0 &&
                     rec.phases(static_cast<int>(rec.current_phase()) - 1).overtime());
    out.set_present_count(meetings::present_count(rec));
    out.set_minutes_published(rec.minutes_published());
    out.set_minutes_seq(rec.minutes_seq());
}

namespace {

using user_lookup = std::function<v1::User(std::uint64_t)>;

void participant_to_wire(const stored::ParticipantRecord& p, const user_lookup& who,
                         v1::Participant& out) {
    *out.mutable_user() = who(p.user());
    for (auto role : p.roles()) {
        out.add_roles(static_cast<v1::MeetingRole>(role));
    }
    out.set_present(meetings::is_present(p));
    out.set_accepted_charter(p.accepted_charter());
    out.set_table(p.table());
}

void floor_to_wire(const stored::MeetingRecord& m, const user_lookup& who, v1::Floor& out) {
    for (const auto& h : m.queue()) {
        auto& hand = *out.add_queue();
        *hand.mutable_user() = who(h.user());
        hand.set_tag(static_cast<v1::HandTag>(h.tag()));
        hand.set_raised_at_ms(h.at_ms());
    }
    if (m.speaker() != 0) {
        *out.mutable_speaker() = who(m.speaker());
        out.set_speaker_tag(static_cast<v1::HandTag>(m.speaker_tag()));
        out.set_speaker_since_ms(m.speaker_since_ms());
    }
}

// Everyone sees the same poll, without who chose what when it is
// anonymous; `caller` (0: none) also sees their own ballot.
void poll_to_wire(const stored::PollRecord& p, const user_lookup& who, std::uint64_t caller,
                  v1::Poll& out) {
    out.set_id(p.id());
    out.set_question(p.question());
    for (const auto& o : p.options()) {
        out.add_options(o);
    }
    out.set_multiple(p.multiple());
    out.set_anonymous(p.anonymous());
    out.set_open(p.open());
    out.set_phase(p.phase());
    out.set_cases(p.case_ids_size() > 0);
    const auto t = meetings::count_ballots(p);
    for (auto c : t.counts) {
        out.add_counts(c);
    }
    out.set_voters(t.voters);
    if (!p.anonymous()) {
        for (const auto& names : t.names) {
            auto& list = *out.add_names();
            for (auto id : names) {
                *list.add_users() = who(id);
            }
        }
    }
    for (const auto& b : p.ballots()) {
        if (caller != 0 && b.user() == caller) {
            for (auto o : b.options()) {
                out.add_my_choice(o);
            }
        }
    }
}

void note_to_wire(const stored::NoteRecord& n, const user_lookup& who, v1::Note& out) {
    out.set_id(n.id());
    out.set_phase(n.phase());
    out.set_table(n.table());
    out.set_text(n.text());
    out.set_action(n.action());
    if (n.who() != 0) {
        *out.mutable_who() = who(n.who());
    }
    out.set_due(n.due());
}

}  // namespace

v1::MeetingView service::meeting_view(storage::reader& r, const meeting_ctx& m) {
    user_lookup who = [&](std::uint64_t id) { return user_view(r, id); };
    v1::MeetingView view;
    meeting_to_wire(r, m, *view.mutable_meeting());
    for (const auto& p : m.rec.participants()) {
        participant_to_wire(p, who, *view.add_participants());
    }
    floor_to_wire(m.rec, who, *view.mutable_floor());
    for (const auto& p : m.rec.polls()) {
        poll_to_wire(p, who, m.user, *view.add_polls());
    }
    for (const auto& t : m.rec.tables()) {
        auto& table = *view.add_tables();
        table.set_number(t.number());
        table.set_channel_id(t.channel_id());
        if (auto c = r.find_channel(t.channel_id())) {
            table.set_channel_name(c->name);
        }
        *table.mutable_host() = who(t.host());
        for (auto id : t.members()) {
            *table.add_members() = who(id);
        }
    }
    view.set_round(m.rec.round());
    view.set_harvested(m.rec.harvested());
    for (const auto& n : m.rec.notes()) {
        note_to_wire(n, who, *view.add_notes());
    }
    std::uint32_t cases = 0;
    for (const auto& c : r.cases_of(m.row.channel)) {
        cases += c.chosen_by == 0 ? 1 : 0;
    }
    view.set_case_count(cases);
    if (auto c = r.find_channel(m.row.channel)) {
        view.set_as_of_seq(c->last_seq);
    }
    return view;
}

namespace {

outcome<void> must_be_live(const service::meeting_ctx& m) {
    switch (m.state()) {
        case v1::LIVE:
            return {};
        case v1::SCHEDULED:
            return fail(errc::conflict, "the session has not started yet");
        default:
            return fail(errc::conflict, "the session is over");
    }
}

outcome<void> must_facilitate(const service::meeting_ctx& m, const char* what) {
    if (!m.facilitator) {
        return fail(errc::forbidden, std::string("only the facilitators can ") + what);
    }
    return {};
}

outcome<void> must_be_present(const service::meeting_ctx& m) {
    const auto* p = find_participant(m.rec, m.user);
    if (!p || !meetings::is_present(*p)) {
        return fail(errc::forbidden, "join the session first");
    }
    return {};
}

bool silenced_now(const service::meeting_ctx& m, std::uint64_t user) {
    return meetings::narrator_silent_now(m.rec) && has_role(m.rec, user, v1::NARRATOR);
}

}  // namespace

// ---------------------------------------------------------------------------
// Templates and creation

namespace {

outcome<v1::MeetingTemplate> parse_template(const std::string& json) {
    v1::MeetingTemplate t;
    auto status = google::protobuf::util::JsonStringToMessage(json, &t);
    if (!status.ok()) {
        return fail(errc::bad_request, "not a template: " + std::string(status.message()));
    }
    return t;
}

}  // namespace

outcome<v1::MeetingTemplate> check_meeting_template(const std::string& json,
                                                    const protocol::limits& l) {
    auto t = parse_template(json);
    if (!t) {
        return t.error();
    }
    if (auto ok = check_vocabulary_slug(t->name(), l); !ok) {
        return fail(ok.error().code, "template name: " + ok.error().message);
    }
    auto title = visible_name("template title", t->title(), l.max_title_bytes);
    if (!title) {
        return title.error();
    }
    if (title->empty()) {
        return fail(errc::bad_request, "the template has no title");
    }
    if (auto ok = check_free_text("charter", t->charter(), l.max_text_bytes, true); !ok) {
        return ok.error();
    }
    if (t->phases_size() == 0 || t->phases_size() > meetings::max_phases) {
        return fail(errc::bad_request, "a template has 1 to 30 phases");
    }
    for (auto& phase : *t->mutable_phases()) {
        auto checked = check_phase(phase, l);
        if (!checked) {
            return checked.error();
        }
        phase = std::move(*checked);
    }
    return t;
}

service::handled service::on_list_meeting_templates(const request& rq, const v1::ClientMessage&) {
    read(rq, [this](storage::reader& r) -> handled {
        v1::ServerMessage out;
        out.mutable_meeting_templates();
        for (const auto& stored : r.meeting_templates()) {
            auto t = check_meeting_template(stored.json, config_.limits);
            if (!t) {
                log::write(log::level::warn, "template_unreadable",
                           {{"template", stored.name}, {"error", t.error().message}});
                continue;
            }
            *out.mutable_meeting_templates()->add_templates() = std::move(*t);
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_create_meeting(const request& rq, const v1::ClientMessage& msg) {
    auto in = msg.create_meeting();
    const auto& l = config_.limits;
    auto title = visible_name("title", in.title(), l.max_title_bytes);
    if (!title) {
        return title.error();
    }
    if (title->empty()) {
        return fail(errc::bad_request, "a session needs a title");
    }
    if (in.start_ms() <= 0) {
        return fail(errc::bad_request, "a session needs a scheduled start");
    }
    if (auto ok = check_link(in.link(), l); !ok) {
        return ok.error();
    }
    if (auto ok = check_free_text("charter", in.charter(), l.max_text_bytes, true); !ok) {
        return ok.error();
    }
    if (!in.template_name().empty() && in.phases_size() > 0) {
        return fail(errc::bad_request, "give a template or phases, not both");
    }
    if (in.template_name().empty() &&
        (in.phases_size() == 0 || in.phases_size() > meetings::max_phases)) {
        return fail(errc::bad_request, "an agenda has 1 to 30 phases");
    }
    for (auto& phase : *in.mutable_phases()) {
        auto checked = check_phase(phase, l);
        if (!checked) {
            return checked.error();
        }
        phase = std::move(*checked);
    }
    in.set_title(*title);
    write(rq, [this, rq, in](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v =
            resolve_group_member(w, in.channel(), user, "a direct conversation has no sessions");
        if (!v) {
            return v.error();
        }
        const auto role = rq.who.user.role();
        if (!is_moderator(v->membership) && role != v1::COORDINATOR && role != v1::ADMIN) {
            return fail(errc::forbidden,
                        "only the channel's moderators, coordinators and admins can create a "
                        "session");
        }
        google::protobuf::RepeatedPtrField<v1::PhasePlan> phases = in.phases();
        std::string charter = in.charter();
        if (!in.template_name().empty()) {
            auto stored = w.find_meeting_template(in.template_name());
            auto t = stored ? check_meeting_template(stored->json, config_.limits)
                            : outcome<v1::MeetingTemplate>(
                                  fail(errc::not_found, "no template '" + in.template_name() +
                                                            "'; relais session templates lists "
                                                            "them"));
            if (!t) {
                return t.error();
            }
            phases = t->phases();
            if (charter.empty()) {
                charter = t->charter();
            }
        }
        auto ctx = std::make_unique<meeting_ctx>();
        auto& m = *ctx;
        m.user = user;
        m.now = clock_.now_ms();
        m.channel = v->channel;
        m.membership = v->membership;
        m.facilitator = true;
        auto& rec = m.rec;
        rec.set_title(in.title());
        rec.set_link(in.link());
        rec.set_charter(charter);
        rec.set_confidential(in.confidential());
        rec.set_timers_off(in.timers_off());
        rec.set_template_name(in.template_name());
        for (const auto& p : phases) {
            auto& phase = *rec.add_phases();
            phase.set_name(p.name());
            phase.set_planned_seconds(meetings::planned_seconds(p));
            phase.set_rules(p.rules());
            phase.set_narrator_silent(p.narrator_silent());
            phase.set_tables(p.tables());
            phase.set_harvest(p.harvest());
        }
        // A reminder only when there is time for one.
        rec.set_reminder_sent(in.start_ms() - meetings::reminder_lead_ms <= m.now);
        rec.set_next_note_id(1);
        meetings::set_role(rec, user, v1::FACILITATOR, true);
        m.row.channel = v->channel.id;
        m.row.state = v1::SCHEDULED;
        m.row.start_ms = in.start_ms();
        m.row.created_by = user;
        m.row.created_at_ms = m.now;
        m.row.record = rec.SerializeAsString();
        m.row.id = w.insert_meeting(m.row);
        effects done;
        meeting_to_wire(w, m, *m.change(v1::MeetingEvent::CREATED).mutable_meeting());
        save_meeting(w, m, done);
        *done.reply.emplace().mutable_meeting() = meeting_view(w, m);
        return done;
    });
    return answered_later();
}

service::handled service::on_list_meetings(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, in = msg.list_meetings()](storage::reader& r) -> handled {
        const auto user = rq.who.user.id();
        std::vector<storage::channel_id> channels;
        if (in.has_channel()) {
            auto v = resolve(r, in.channel(), user);
            if (!v) {
                return v.error();
            }
            channels.push_back(v->channel.id);
        } else {
            for (const auto& m : r.memberships_of(user)) {
                channels.push_back(m.channel);
            }
        }
        std::vector<int> states;
        switch (in.which()) {
            case v1::ListMeetings::UPCOMING:
                states = {v1::SCHEDULED, v1::LIVE};
                break;
            case v1::ListMeetings::PAST:
                states = {v1::ENDED, v1::CANCELLED};
                break;
            default:
                states = {v1::SCHEDULED, v1::LIVE, v1::ENDED, v1::CANCELLED};
        }
        const auto limit =
            in.limit() == 0 ? 50u : std::min(in.limit(), config_.limits.max_page_size);
        v1::ServerMessage out;
        out.mutable_meetings();
        for (auto& row : r.meetings_in(channels, states, limit)) {
            meeting_ctx m;
            m.row = std::move(row);
            m.rec.ParseFromString(m.row.record);
            if (auto c = r.find_channel(m.row.channel)) {
                m.channel = std::move(*c);
            }
            meeting_to_wire(r, m, *out.mutable_meetings()->add_meetings());
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_get_meeting(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, id = msg.get_meeting().meeting_id()](storage::reader& r) -> handled {
        auto m = load_meeting(r, rq, id);
        if (!m) {
            return m.error();
        }
        v1::ServerMessage out;
        *out.mutable_meeting() = meeting_view(r, **m);
        return out;
    });
    return answered_later();
}

// ---------------------------------------------------------------------------
// Life: start, end, cancel; join and leave

service::handled service::on_set_meeting_state(const request& rq, const v1::ClientMessage& msg) {
    const auto target = msg.set_meeting_state().state();
    if (target != v1::LIVE && target != v1::ENDED && target != v1::CANCELLED) {
        return fail(errc::bad_request, "a session can be started, ended or cancelled");
    }
    return change_meeting(
        rq, msg.set_meeting_state().meeting_id(),
        [this, target](meeting_ctx& m, storage::writer& w, effects& done) -> outcome<void> {
            if (auto ok = must_facilitate(m, "start, end or cancel the session"); !ok) {
                return ok;
            }
            const auto from = m.state();
            if (over(from)) {
                return fail(errc::conflict, "the session is over");
            }
            if (target == v1::LIVE && from != v1::SCHEDULED) {
                return fail(errc::conflict, "the session has already started");
            }
            if (target == v1::ENDED && from != v1::LIVE) {
                return fail(errc::conflict, "the session has not started; cancel it instead");
            }
            auto& rec = m.rec;
            m.row.state = target;
            v1::MeetingEvent::Change change = v1::MeetingEvent::STARTED;
            if (target == v1::LIVE) {
                rec.set_started_at_ms(m.now);
                rec.set_reminder_sent(true);
                ++live_meetings_;
            } else {
                meetings::stop_phase(rec, m.now);
                meetings::depart_all(rec, m.now);
                for (auto& p : *rec.mutable_polls()) {
                    p.set_open(false);
                }
                change =
                    target == v1::ENDED ? v1::MeetingEvent::ENDED : v1::MeetingEvent::CANCELLED;
                if (from == v1::LIVE) {
                    rec.set_ended_at_ms(m.now);
                    done.after = [this] { --live_meetings_; };
                }
                if (target == v1::ENDED) {
                    rec.set_minutes(draft_minutes(w, m));
                }
            }
            meeting_to_wire(w, m, *m.change(change).mutable_meeting());
            return {};
        });
}

service::handled service::on_join_meeting(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.join_meeting();
    return change_meeting(
        rq, in.meeting_id(),
        [this, in](meeting_ctx& m, storage::writer& w, effects&) -> outcome<void> {
            if (in.leave()) {
                m.answer_view = true;
                if (!meetings::depart(m.rec, m.user, m.now)) {
                    return {};  // not there: nothing to do
                }
                auto& e = m.change(v1::MeetingEvent::LEFT);
                user_lookup who = [&](std::uint64_t id) { return user_view(w, id); };
                participant_to_wire(*find_participant(m.rec, m.user), who,
                                    *e.mutable_participant());
                floor_to_wire(m.rec, who, *e.mutable_floor());
                return {};
            }
            if (auto ok = must_be_live(m); !ok) {
                return ok;
            }
            auto& p = meetings::participant(m.rec, m.user);
            if (!m.rec.charter().empty() && !p.accepted_charter()) {
                if (!in.accept_charter()) {
                    return fail(errc::forbidden,
                                "this session has a charter: read it and accept it to join");
                }
                p.set_accepted_charter(true);
            }
            m.answer_view = true;
            if (!meetings::arrive(m.rec, m.user, m.now)) {
                return {};  // another device of someone already there
            }
            user_lookup who = [&](std::uint64_t id) { return user_view(w, id); };
            participant_to_wire(*find_participant(m.rec, m.user), who,
                                *m.change(v1::MeetingEvent::JOINED).mutable_participant());
            return {};
        });
}

// ---------------------------------------------------------------------------
// Running it: phases, roles, the floor

service::handled service::on_set_phase(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.set_phase();
    return change_meeting(
        rq, in.meeting_id(),
        [this, in](meeting_ctx& m, storage::writer& w, effects&) -> outcome<void> {
            if (auto ok = must_be_live(m); !ok) {
                return ok;
            }
            if (!m.facilitator && !has_role(m.rec, m.user, v1::TIMEKEEPER)) {
                return fail(errc::forbidden,
                            "only the facilitators and the timekeeper can "
                            "change the phase");
            }
            const auto count = static_cast<std::uint32_t>(m.rec.phases_size());
            auto number = in.phase();
            if (number == 0) {
                if (m.rec.current_phase() >= count) {
                    return fail(errc::conflict, "this is the last phase; end the session");
                }
                number = m.rec.current_phase() + 1;
            } else if (number > count) {
                return fail(errc::bad_request, "no phase " + std::to_string(number) +
                                                   "; the agenda has " + std::to_string(count));
            }
            meetings::start_phase(m.rec, number, m.now);
            meeting_to_wire(w, m, *m.change(v1::MeetingEvent::PHASE).mutable_meeting());
            return {};
        });
}

service::handled service::on_set_meeting_role(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.set_meeting_role();
    if (in.role() == v1::MEETING_ROLE_UNSPECIFIED || !v1::MeetingRole_IsValid(in.role())) {
        return fail(errc::bad_request, "no role given");
    }
    return change_meeting(
        rq, in.meeting_id(),
        [this, in](meeting_ctx& m, storage::writer& w, effects&) -> outcome<void> {
            if (m.over()) {
                return fail(errc::conflict, "the session is over");
            }
            if (auto ok = must_facilitate(m, "give roles"); !ok) {
                return ok;
            }
            auto account = w.find_account(in.user());
            if (!account || !w.find_membership(m.row.channel, account->id)) {
                return fail(errc::not_found,
                            "'" + in.user() + "' is not a member of '" + m.channel.name + "'");
            }
            if (in.remove() && in.role() == v1::FACILITATOR &&
                meetings::holders(m.rec, v1::FACILITATOR) ==
                    std::vector<std::uint64_t>{account->id}) {
                return fail(errc::conflict, "a session keeps at least one facilitator");
            }
            if (!meetings::set_role(m.rec, account->id, in.role(), !in.remove())) {
                return {};
            }
            user_lookup who = [&](std::uint64_t id) { return user_view(w, id); };
            participant_to_wire(*find_participant(m.rec, account->id), who,
                                *m.change(v1::MeetingEvent::ROLES).mutable_participant());
            return {};
        });
}

service::handled service::on_raise_hand(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.raise_hand();
    if (!v1::HandTag_IsValid(in.tag())) {
        return fail(errc::bad_request, "no such tag");
    }
    return change_meeting(
        rq, in.meeting_id(),
        [this, in](meeting_ctx& m, storage::writer& w, effects&) -> outcome<void> {
            if (auto ok = must_be_live(m); !ok) {
                return ok;
            }
            if (auto ok = must_be_present(m); !ok) {
                return ok;
            }
            bool changed = false;
            if (in.lower()) {
                changed = meetings::lower_hand(m.rec, m.user);
            } else {
                if (silenced_now(m, m.user)) {
                    return fail(errc::forbidden,
                                "the narrator listens in silence during this phase");
                }
                changed = meetings::raise_hand(m.rec, m.user, in.tag(), m.now);
            }
            if (changed) {
                user_lookup who = [&](std::uint64_t id) { return user_view(w, id); };
                floor_to_wire(m.rec, who, *m.change(v1::MeetingEvent::FLOOR).mutable_floor());
            }
            return {};
        });
}

service::handled service::on_give_floor(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.give_floor();
    return change_meeting(
        rq, in.meeting_id(),
        [this, in](meeting_ctx& m, storage::writer& w, effects&) -> outcome<void> {
            if (auto ok = must_be_live(m); !ok) {
                return ok;
            }
            if (auto ok = must_facilitate(m, "give the floor"); !ok) {
                return ok;
            }
            std::uint64_t to = 0;
            if (!in.user().empty()) {
                auto account = w.find_account(in.user());
                const auto* p = account ? find_participant(m.rec, account->id) : nullptr;
                if (!p || !meetings::is_present(*p)) {
                    return fail(errc::not_found, "'" + in.user() + "' is not in the session");
                }
                to = account->id;
            } else if (m.rec.queue_size() > 0) {
                to = m.rec.queue(0).user();
            }
            if (to != 0 && silenced_now(m, to)) {
                return fail(errc::forbidden, "the narrator listens in silence during this phase");
            }
            meetings::give_floor(m.rec, to, m.now);
            user_lookup who = [&](std::uint64_t id) { return user_view(w, id); };
            floor_to_wire(m.rec, who, *m.change(v1::MeetingEvent::FLOOR).mutable_floor());
            return {};
        });
}

// ---------------------------------------------------------------------------
// Polls and cases

service::handled service::on_open_poll(const request& rq, const v1::ClientMessage& msg) {
    auto in = msg.open_poll();
    const auto& l = config_.limits;
    if (auto ok = check_free_text("question", in.question(), l.max_title_bytes, false); !ok) {
        return ok.error();
    }
    if (in.from_cases() && in.options_size() > 0) {
        return fail(errc::bad_request, "a poll of cases takes its options from the cases");
    }
    if (!in.from_cases()) {
        if (in.options_size() < meetings::min_poll_options ||
            in.options_size() > meetings::max_poll_options) {
            return fail(errc::bad_request, "a poll has 2 to 10 options");
        }
        for (const auto& o : in.options()) {
            if (auto ok = check_free_text("option", o, l.max_title_bytes, false); !ok) {
                return ok.error();
            }
        }
    }
    return change_meeting(
        rq, in.meeting_id(),
        [this, in](meeting_ctx& m, storage::writer& w, effects& done) -> outcome<void> {
            if (auto ok = must_be_live(m); !ok) {
                return ok;
            }
            if (auto ok = must_facilitate(m, "open polls"); !ok) {
                return ok;
            }
            auto& poll = *m.rec.add_polls();
            poll.set_id(static_cast<std::uint32_t>(m.rec.polls_size()));
            poll.set_question(in.question());
            poll.set_multiple(in.multiple());
            poll.set_anonymous(in.anonymous());
            poll.set_open(true);
            poll.set_phase(m.rec.current_phase());
            poll.set_opened_at_ms(m.now);
            if (in.from_cases()) {
                for (const auto& c : w.cases_of(m.row.channel)) {
                    if (c.chosen_by == 0) {
                        poll.add_options(cut_utf8(c.text, 200));
                        poll.add_case_ids(c.id);
                    }
                }
                if (poll.options_size() < meetings::min_poll_options ||
                    poll.options_size() > meetings::max_poll_options) {
                    return fail(errc::bad_request,
                                "a poll of cases needs 2 to 10 cases not yet chosen; there are " +
                                    std::to_string(poll.options_size()));
                }
            } else {
                for (const auto& o : in.options()) {
                    poll.add_options(o);
                }
            }
            user_lookup who = [&](std::uint64_t id) { return user_view(w, id); };
            poll_to_wire(poll, who, 0, *m.change(v1::MeetingEvent::POLL).mutable_poll());
            poll_to_wire(poll, who, m.user, *done.reply.emplace().mutable_poll());
            return {};
        });
}

service::handled service::on_vote(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.vote();
    return change_meeting(
        rq, in.meeting_id(),
        [this, in](meeting_ctx& m, storage::writer& w, effects&) -> outcome<void> {
            if (auto ok = must_be_live(m); !ok) {
                return ok;
            }
            auto* poll = meetings::find_poll(m.rec, in.poll_id());
            if (!poll) {
                return fail(errc::not_found, "no poll " + std::to_string(in.poll_id()));
            }
            if (!poll->open()) {
                return fail(errc::conflict, "the poll is closed");
            }
            if (auto ok = must_be_present(m); !ok) {
                return ok;
            }
            std::vector<std::uint32_t> options(in.options().begin(), in.options().end());
            if (options.empty()) {
                return fail(errc::bad_request, "choose an option");
            }
            if (options.size() > 1 && !poll->multiple()) {
                return fail(errc::bad_request, "this poll takes one option only");
            }
            std::sort(options.begin(), options.end());
            for (std::size_t i = 0; i < options.size(); ++i) {
                if (options[i] >= static_cast<std::uint32_t>(poll->options_size())) {
                    return fail(errc::bad_request, "no option " + std::to_string(options[i]) +
                                                       "; options are numbered from 0 to " +
                                                       std::to_string(poll->options_size() - 1));
                }
                if (i > 0 && options[i] == options[i - 1]) {
                    return fail(errc::bad_request, "an option is chosen twice");
                }
            }
            meetings::cast_ballot(*poll, m.user, std::move(options), m.now);
            user_lookup who = [&](std::uint64_t id) { return user_view(w, id); };
            poll_to_wire(*poll, who, 0, *m.change(v1::MeetingEvent::POLL).mutable_poll());
            return {};
        });
}

service::handled service::on_close_poll(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.close_poll();
    return change_meeting(
        rq, in.meeting_id(),
        [this, in](meeting_ctx& m, storage::writer& w, effects&) -> outcome<void> {
            if (m.over()) {
                return fail(errc::conflict, "the session is over");
            }
            if (auto ok = must_facilitate(m, "close polls"); !ok) {
                return ok;
            }
            auto* poll = meetings::find_poll(m.rec, in.poll_id());
            if (!poll) {
                return fail(errc::not_found, "no poll " + std::to_string(in.poll_id()));
            }
            if (!poll->open()) {
                return fail(errc::conflict, "the poll is already closed");
            }
            poll->set_open(false);
            poll->set_closed_at_ms(m.now);
            if (poll->case_ids_size() > 0) {
                if (auto best = meetings::winner(*poll)) {
                    w.set_case_chosen(poll->case_ids(static_cast<int>(*best)), m.row.id);
                }
            }
            user_lookup who = [&](std::uint64_t id) { return user_view(w, id); };
            poll_to_wire(*poll, who, 0, *m.change(v1::MeetingEvent::POLL).mutable_poll());
            return {};
        });
}

service::handled service::on_submit_case(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.submit_case();
    if (auto ok = check_free_text("case", in.text(), config_.limits.max_text_bytes, false); !ok) {
        return ok.error();
    }
    write(rq, [this, rq, in](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v =
            resolve_group_member(w, in.channel(), user, "a direct conversation has no sessions");
        if (!v) {
            return v.error();
        }
        storage::case_record c{0, v->channel.id, user, clock_.now_ms(), in.text(), 0};
        c.id = w.insert_case(c);
        std::uint32_t open_cases = 0;
        for (const auto& other : w.cases_of(v->channel.id)) {
            open_cases += other.chosen_by == 0 ? 1 : 0;
        }
        v1::MeetingEvent change;
        change.set_change(v1::MeetingEvent::CASE);
        change.set_case_count(open_cases);
        // Peers learn that a case came, not from whom: the server sends it.
        auto e = channel_event(v->channel.id, storage::event_kind::meeting, 0);
        e.body = change.SerializeAsString();
        effects done;
        done.events.push_back(append(w, std::move(e)));
        auto& out = *done.reply.emplace().mutable_proposed_case();
        out.set_id(c.id);
        out.set_text(c.text);
        out.set_at_ms(c.at_ms);
        *out.mutable_author() = user_view(w, user);
        return done;
    });
    return answered_later();
}

service::handled service::on_list_cases(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, id = msg.list_cases().meeting_id()](storage::reader& r) -> handled {
        auto m = load_meeting(r, rq, id);
        if (!m) {
            return m.error();
        }
        v1::ServerMessage out;
        out.mutable_cases();
        for (const auto& c : r.cases_of((*m)->row.channel)) {
            auto& item = *out.mutable_cases()->add_cases();
            item.set_id(c.id);
            item.set_text(c.text);
            item.set_at_ms(c.at_ms);
            item.set_chosen_by_meeting(c.chosen_by);
            // Peers see the situation, not who lived it.
            if ((*m)->facilitator || c.author == rq.who.user.id()) {
                *item.mutable_author() = user_view(r, c.author);
            }
        }
        return out;
    });
    return answered_later();
}

// ---------------------------------------------------------------------------
// World café tables

service::handled service::on_arrange_tables(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.arrange_tables();
    if (in.action() == v1::ArrangeTables::SPLIT && in.seats_size() == 0 && in.size() < 2) {
        return fail(errc::bad_request, "tables seat 2 people or more");
    }
    return change_meeting(
        rq, in.meeting_id(),
        [this, in](meeting_ctx& m, storage::writer& w, effects& done) -> outcome<void> {
            if (auto ok = must_be_live(m); !ok) {
                return ok;
            }
            if (auto ok = must_facilitate(m, "arrange the tables"); !ok) {
                return ok;
            }
            auto& rec = m.rec;
            const auto facilitators = meetings::holders(rec, v1::FACILITATOR);
            // Each table's channel members before the change, to tell who
            // comes and who goes.
            std::vector<std::vector<std::uint64_t>> before;
            for (const auto& t : rec.tables()) {
                before.emplace_back(t.members().begin(), t.members().end());
            }
            switch (in.action()) {
                case v1::ArrangeTables::SPLIT: {
                    if (rec.tables_size() > 0) {
                        return fail(errc::conflict,
                                    "the tables are already set; rotate them or harvest");
                    }
                    std::vector<std::vector<std::uint64_t>> seating;
                    if (in.seats_size() > 0) {
                        std::vector<std::uint64_t> seen;
                        for (const auto& seats : in.seats()) {
                            auto& table = seating.emplace_back();
                            for (const auto& name : seats.users()) {
                                auto account = w.find_account(name);
                                const auto* p =
                                    account ? find_participant(rec, account->id) : nullptr;
                                if (!p || !meetings::is_present(*p)) {
                                    return fail(errc::bad_request,
                                                "'" + name + "' is not in the session");
                                }
                                if (std::find(seen.begin(), seen.end(), account->id) !=
                                    seen.end()) {
                                    return fail(errc::bad_request,
                                                "'" + name + "' is seated twice");
                                }
                                seen.push_back(account->id);
                                table.push_back(account->id);
                            }
                            if (table.empty()) {
                                return fail(errc::bad_request, "a table has nobody");
                            }
                        }
                    } else {
                        std::vector<std::uint64_t> people;
                        for (const auto& p : rec.participants()) {
                            if (meetings::is_present(p) &&
                                !has_role(rec, p.user(), v1::FACILITATOR)) {
                                people.push_back(p.user());
                            }
                        }
                        if (people.size() < 2) {
                            return fail(errc::bad_request,
                                        "tables need 2 people or more besides the facilitators");
                        }
                        if (in.random()) {
                            std::shuffle(people.begin(), people.end(),
                                         std::mt19937_64(std::random_device{}()));
                        }
                        seating = meetings::split_tables(people, in.size());
                    }
                    for (std::size_t i = 0; i < seating.size(); ++i) {
                        const auto number = static_cast<std::uint32_t>(i + 1);
                        storage::channel_record c;
                        const auto base =
                            "table-" + std::to_string(m.row.id) + "-" + std::to_string(number);
                        c.name = base;
                        for (int n = 2; w.find_channel(c.name); ++n) {
                            c.name = base + "-" + std::to_string(n);
                        }
                        c.display_name =
                            cut_utf8("Table " + std::to_string(number) + " · " + rec.title(),
                                     config_.limits.max_name_bytes);
                        c.kind = v1::PRIVATE;
                        c.members_can_invite = false;
                        c.members_can_set_topic = true;
                        c.created_at_ms = m.now;
                        c.id = w.insert_channel(c);
                        w.add_meeting_table(c.id, m.row.id, number);
                        done.events.push_back(
                            append(w, channel_event(c.id, storage::event_kind::created, m.user)));
                        // The facilitators look in at every table.
                        for (auto f : facilitators) {
                            w.upsert_member({c.id, f, v1::MODERATOR, 0});
                            done.joined.emplace_back(c.id, f);
                            done.events.push_back(
                                append(w, member_event(c.id, m.user, f, v1::MemberChanged::INVITED,
                                                       v1::MODERATOR)));
                        }
                        auto& table = *rec.add_tables();
                        table.set_number(number);
                        table.set_channel_id(c.id);
                        table.set_host(seating[i].front());
                        for (std::size_t j = 1; j < seating[i].size(); ++j) {
                            table.add_first_round(seating[i][j]);
                        }
                        meetings::set_role(rec, seating[i].front(), v1::TABLE_HOST, true);
                        before.emplace_back();
                    }
                    rec.set_round(1);
                    break;
                }
                case v1::ArrangeTables::ROTATE:
                    if (rec.tables_size() == 0 || rec.harvested()) {
                        return fail(errc::conflict, "there are no tables to rotate");
                    }
                    rec.set_round(rec.round() + 1);
                    break;
                case v1::ArrangeTables::HARVEST:
                    if (rec.tables_size() == 0 || rec.harvested()) {
                        return fail(errc::conflict, "there are no tables to harvest");
                    }
                    rec.set_harvested(true);
                    break;
                default:
                    return fail(errc::bad_request, "no such action");
            }
            if (!rec.harvested()) {
                meetings::seat_round(rec);
                for (int t = 0; t < rec.tables_size(); ++t) {
                    const auto& table = rec.tables(t);
                    const auto channel = table.channel_id();
                    const auto& old = before[static_cast<std::size_t>(t)];
                    const std::vector<std::uint64_t> now(table.members().begin(),
                                                         table.members().end());
                    auto is_facilitator = [&](std::uint64_t u) {
                        return std::find(facilitators.begin(), facilitators.end(), u) !=
                               facilitators.end();
                    };
                    for (auto u : old) {
                        if (std::find(now.begin(), now.end(), u) == now.end() &&
                            !is_facilitator(u)) {
                            done.events.push_back(
                                append(w, member_event(channel, m.user, u,
                                                       v1::MemberChanged::KICKED, v1::MEMBER)));
                            w.remove_member(channel, u);
                            done.left.emplace_back(channel, u);
                        }
                    }
                    for (auto u : now) {
                        if (std::find(old.begin(), old.end(), u) == old.end() &&
                            !is_facilitator(u)) {
                            w.upsert_member({channel, u, v1::MEMBER, 0});
                            done.joined.emplace_back(channel, u);
                            done.events.push_back(
                                append(w, member_event(channel, m.user, u,
                                                       v1::MemberChanged::INVITED, v1::MEMBER)));
                        }
                    }
                }
            }
            auto& e = m.change(v1::MeetingEvent::TABLES);
            const auto view = meeting_view(w, m);
            *e.mutable_tables() = view.tables();
            e.set_round(rec.round());
            e.set_harvested(rec.harvested());
            return {};
        });
}

// ---------------------------------------------------------------------------
// Notes

service::handled service::on_set_note(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.set_note();
    if (!in.remove()) {
        if (auto ok = check_free_text("note", in.text(), config_.limits.max_text_bytes, false);
            !ok) {
            return ok.error();
        }
        if (!in.due().empty()) {
            if (auto ok = check_date("due date", in.due()); !ok) {
                return ok.error();
            }
        }
        if (!in.action() && (!in.who().empty() || !in.due().empty())) {
            return fail(errc::bad_request, "only an action item has someone and a due date");
        }
    }
    return change_meeting(
        rq, in.meeting_id(),
        [this, in](meeting_ctx& m, storage::writer& w, effects& done) -> outcome<void> {
            if (auto ok = must_be_live(m); !ok) {
                return ok;
            }
            auto& rec = m.rec;
            stored::NoteRecord* note = nullptr;
            if (in.note_id() != 0) {
                for (auto& n : *rec.mutable_notes()) {
                    if (n.id() == in.note_id()) {
                        note = &n;
                    }
                }
                if (!note) {
                    return fail(errc::not_found, "no note " + std::to_string(in.note_id()));
                }
            }
            const auto table = note ? note->table() : in.table();
            const auto* self = find_participant(rec, m.user);
            const bool hosts_it = table != 0 && self && self->table() == table &&
                                  has_role(rec, m.user, v1::TABLE_HOST);
            if (!m.facilitator && !has_role(rec, m.user, v1::SCRIBE) && !hosts_it) {
                return fail(errc::forbidden,
                            "only the facilitators and the scribe write the notes (a table's "
                            "host, those of the table)");
            }
            if (table > static_cast<std::uint32_t>(rec.tables_size())) {
                return fail(errc::bad_request, "no table " + std::to_string(table));
            }
            std::uint64_t who_id = 0;
            if (!in.remove() && !in.who().empty()) {
                auto account = w.find_account(in.who());
                if (!account) {
                    return fail(errc::not_found, "no user '" + in.who() + "'");
                }
                who_id = account->id;
            }
            v1::Note out;
            if (in.remove()) {
                if (!note) {
                    return fail(errc::bad_request, "which note? give its id");
                }
                out.set_id(note->id());
                out.set_removed(true);
                auto* notes = rec.mutable_notes();
                for (int i = 0; i < notes->size(); ++i) {
                    if (notes->Get(i).id() == note->id()) {
                        notes->DeleteSubrange(i, 1);
                        break;
                    }
                }
            } else {
                const auto phase = in.phase() != 0 ? in.phase() : rec.current_phase();
                if (phase > static_cast<std::uint32_t>(rec.phases_size())) {
                    return fail(errc::bad_request, "no phase " + std::to_string(phase));
                }
                if (!note) {
                    note = rec.add_notes();
                    note->set_id(std::max<std::uint32_t>(rec.next_note_id(), 1));
                    rec.set_next_note_id(note->id() + 1);
                    note->set_author(m.user);
                    note->set_phase(phase);
                    note->set_table(in.table());
                } else if (in.phase() != 0) {
                    note->set_phase(phase);
                }
                note->set_text(in.text());
                note->set_action(in.action());
                note->set_who(who_id);
                note->set_due(in.due());
                note->set_at_ms(m.now);
                user_lookup who = [&](std::uint64_t id) { return user_view(w, id); };
                note_to_wire(*note, who, out);
            }
            *m.change(v1::MeetingEvent::NOTE).mutable_note() = out;
            *done.reply.emplace().mutable_note() = out;
            return {};
        });
}

// ---------------------------------------------------------------------------
// Afterwards: minutes, attendance, report

namespace {

meetings::person person_of(const storage::account& a) {
    return {a.display_name.empty() ? a.name : a.display_name, a.structure};
}

}  // namespace

std::string service::draft_minutes(storage::reader& r, const meeting_ctx& m) {
    const auto& rec = m.rec;
    meetings::minutes_input in;
    in.title = rec.title();
    in.channel = m.channel.name;
    if (!rec.template_name().empty()) {
        if (auto stored = r.find_meeting_template(rec.template_name())) {
            if (auto t = check_meeting_template(stored->json, config_.limits)) {
                in.template_title = t->title();
            }
        }
    }
    in.started_at_ms = rec.started_at_ms();
    in.ended_at_ms = rec.ended_at_ms() != 0 ? rec.ended_at_ms() : m.now;
    in.confidential = rec.confidential();
    auto person = [&](std::uint64_t id) {
        auto a = r.find_account(id);
        return a ? person_of(*a) : meetings::person{"?", ""};
    };
    for (auto id : meetings::holders(rec, v1::FACILITATOR)) {
        in.facilitators.push_back(person(id));
    }
    std::vector<const stored::ParticipantRecord*> came;
    for (const auto& p : rec.participants()) {
        if (p.stays_size() > 0) {
            came.push_back(&p);
        }
    }
    std::stable_sort(came.begin(), came.end(), [](const auto* a, const auto* b) {
        return a->stays(0).from_ms() < b->stays(0).from_ms();
    });
    for (const auto* p : came) {
        in.participants.push_back(person(p->user()));
    }
    for (const auto& p : rec.phases()) {
        in.phases.push_back({p.name(), p.planned_seconds(), p.actual_seconds()});
    }
    for (const auto& n : rec.notes()) {
        in.notes.push_back({n.phase(), n.table(), n.text(), n.action(),
                            n.who() ? person(n.who()).name : "", n.due()});
    }
    for (const auto& p : rec.polls()) {
        auto& poll = in.polls.emplace_back();
        poll.question = p.question();
        // A confidential session names nobody, in its polls either.
        poll.anonymous = p.anonymous() || rec.confidential();
        const auto t = meetings::count_ballots(p);
        poll.voters = t.voters;
        for (int i = 0; i < p.options_size(); ++i) {
            auto& option = poll.options.emplace_back();
            option.text = p.options(i);
            option.count = t.counts[static_cast<std::size_t>(i)];
            if (!poll.anonymous) {
                for (auto id : t.names[static_cast<std::size_t>(i)]) {
                    option.names.push_back(person(id).name);
                }
            }
        }
    }
    for (const auto& res : r.meeting_resources(m.row.id)) {
        in.resources.push_back({res.title, res.link});
    }
    return meetings::render_minutes(in);
}

service::handled service::on_get_minutes(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, id = msg.get_minutes().meeting_id()](storage::reader& r) -> handled {
        auto loaded = load_meeting(r, rq, id);
        if (!loaded) {
            return loaded.error();
        }
        const auto& m = **loaded;
        if (m.state() != v1::ENDED) {
            return fail(errc::conflict, "the minutes are drafted when the session ends");
        }
        if (!m.rec.minutes_published() && !m.facilitator) {
            return fail(errc::forbidden, "the minutes are not published yet");
        }
        v1::ServerMessage out;
        auto& minutes = *out.mutable_minutes();
        minutes.set_markdown(m.rec.minutes());
        minutes.set_published(m.rec.minutes_published());
        minutes.set_seq(m.rec.minutes_seq());
        return out;
    });
    return answered_later();
}

service::handled service::on_edit_minutes(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.edit_minutes();
    if (auto ok = check_free_text("minutes", in.markdown(), config_.limits.max_minutes_bytes, true);
        !ok) {
        return ok.error();
    }
    if (in.markdown().empty() && !in.publish()) {
        return fail(errc::bad_request, "give the new text of the minutes, or publish them");
    }
    return change_meeting(
        rq, in.meeting_id(),
        [this, rq, in](meeting_ctx& m, storage::writer& w, effects& done) -> outcome<void> {
            if (auto ok = must_facilitate(m, "edit the minutes"); !ok) {
                return ok;
            }
            if (m.state() != v1::ENDED) {
                return fail(errc::conflict, "the minutes are drafted when the session ends");
            }
            if (m.rec.minutes_published()) {
                return fail(errc::conflict, "the minutes are already published");
            }
            if (!in.markdown().empty()) {
                m.rec.set_minutes(in.markdown());
            }
            v1::Minutes reply;
            if (in.publish()) {
                if (m.rec.minutes().size() > config_.limits.max_minutes_bytes) {
                    return fail(errc::too_large,
                                "the minutes are longer than " +
                                    std::to_string(config_.limits.max_minutes_bytes) +
                                    " bytes; shorten them first");
                }
                storage::resource_record res;
                res.title =
                    cut_utf8("Compte rendu — " + m.rec.title(), config_.limits.max_title_bytes);
                res.kind = v1::MINUTES;
                v1::ChannelRef ref;
                ref.set_id(m.row.channel);
                auto posted = store_message(w, rq,
                                            new_message{ref, "minutes-" + std::to_string(m.row.id),
                                                        m.rec.minutes(), 0, false, std::move(res)});
                if (!posted) {
                    return posted.error();
                }
                const auto seq = posted->reply->sent().event().seq();
                m.rec.set_minutes_published(true);
                m.rec.set_minutes_seq(seq);
                for (auto& e : posted->events) {
                    done.events.push_back(std::move(e));
                }
                for (auto& n : posted->notices) {
                    done.notices.push_back(std::move(n));
                }
                meeting_to_wire(w, m, *m.change(v1::MeetingEvent::MINUTES).mutable_meeting());
            }
            reply.set_markdown(m.rec.minutes());
            reply.set_published(m.rec.minutes_published());
            reply.set_seq(m.rec.minutes_seq());
            *done.reply.emplace().mutable_minutes() = std::move(reply);
            return {};
        });
}

service::handled service::on_get_attendance(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, id = msg.get_attendance().meeting_id()](storage::reader& r) -> handled {
        auto loaded = load_meeting(r, rq, id);
        if (!loaded) {
            return loaded.error();
        }
        const auto& m = **loaded;
        if (!m.facilitator) {
            return fail(errc::forbidden,
                        "the attendance is for the facilitators, coordinators and admins");
        }
        v1::ServerMessage out;
        auto& sheet = *out.mutable_attendance();
        meeting_to_wire(r, m, *sheet.mutable_meeting());
        const auto now = m.rec.ended_at_ms() != 0 ? m.rec.ended_at_ms() : m.now;
        for (const auto& p : m.rec.participants()) {
            if (p.stays_size() == 0) {
                continue;
            }
            auto& row = *sheet.add_rows();
            *row.mutable_user() = user_view(r, p.user());
            if (auto a = r.find_account(p.user())) {
                row.set_structure(a->structure);
                row.set_commune(a->commune);
            }
            for (auto role : p.roles()) {
                row.add_roles(static_cast<v1::MeetingRole>(role));
            }
            row.set_first_join_ms(p.stays(0).from_ms());
            row.set_last_leave_ms(p.stays(p.stays_size() - 1).to_ms());
            row.set_minutes_present(
                static_cast<std::uint32_t>((meetings::ms_present(p, now) + 30'000) / 60'000));
        }
        return out;
    });
    return answered_later();
}

void service::meetings_attended(storage::reader& r, const request& rq,
                                google::protobuf::RepeatedPtrField<v1::Attendance>& out) {
    std::vector<storage::channel_id> channels;
    for (const auto& m : r.memberships_of(rq.who.user.id())) {
        channels.push_back(m.channel);
    }
    if (channels.empty()) {
        return;
    }
    const std::vector<int> states = {v1::LIVE, v1::ENDED};
    for (const auto& row : r.meetings_in(channels, states, UINT32_MAX)) {
        auto loaded = load_meeting(r, rq, row.id);
        if (!loaded) {
            continue;
        }
        const auto& m = **loaded;
        for (const auto& p : m.rec.participants()) {
            if (p.user() != rq.who.user.id() || p.stays_size() == 0) {
                continue;
            }
            auto& sheet = *out.Add();
            meeting_to_wire(r, m, *sheet.mutable_meeting());
            auto& mine = *sheet.add_rows();
            *mine.mutable_user() = user_view(r, p.user());
            for (auto role : p.roles()) {
                mine.add_roles(static_cast<v1::MeetingRole>(role));
            }
            const auto now = m.rec.ended_at_ms() != 0 ? m.rec.ended_at_ms() : m.now;
            mine.set_first_join_ms(p.stays(0).from_ms());
            mine.set_last_leave_ms(p.stays(p.stays_size() - 1).to_ms());
            mine.set_minutes_present(
                static_cast<std::uint32_t>((meetings::ms_present(p, now) + 30'000) / 60'000));
        }
    }
}

service::handled service::on_get_meeting_report(const request& rq, const v1::ClientMessage& msg) {
    const auto in = msg.get_meeting_report();
    const auto role = rq.who.user.role();
    if (role != v1::COORDINATOR && role != v1::ADMIN) {
        return fail(errc::forbidden, "the activity report is for coordinators and admins");
    }
    if (in.to_ms() != 0 && in.to_ms() <= in.from_ms()) {
        return fail(errc::bad_request, "the period ends before it begins");
    }
    read(rq, [rq, in](storage::reader& r) -> handled {
        std::vector<storage::channel_id> channels;
        for (const auto& m : r.memberships_of(rq.who.user.id())) {
            channels.push_back(m.channel);
        }
        v1::ServerMessage out;
        out.mutable_meeting_report();
        const auto to = in.to_ms() == 0 ? INT64_MAX : in.to_ms();
        for (const auto& row : r.meetings_started(channels, in.from_ms(), to)) {
            if (row.state != v1::ENDED) {
                continue;
            }
            stored::MeetingRecord rec;
            rec.ParseFromString(row.record);
            auto& line = *out.mutable_meeting_report()->add_rows();
            line.set_meeting_id(row.id);
            if (auto c = r.find_channel(row.channel)) {
                line.set_channel_name(c->name);
            }
            line.set_title(rec.title());
            line.set_date_ms(rec.started_at_ms());
            line.set_duration_minutes(static_cast<std::uint32_t>(
                (rec.ended_at_ms() - rec.started_at_ms() + 30'000) / 60'000));
            std::vector<std::string> structures;
            std::uint32_t mediators = 0, others = 0;
            for (const auto& p : rec.participants()) {
                if (p.stays_size() == 0) {
                    continue;
                }
                auto a = r.find_account(p.user());
                if (a && a->role == v1::MEDIATOR) {
                    ++mediators;
                } else {
                    ++others;
                }
                if (a && !a->structure.empty() &&
                    std::find(structures.begin(), structures.end(), a->structure) ==
                        structures.end()) {
                    structures.push_back(a->structure);
                }
            }
            line.set_mediators(mediators);
            line.set_other_actors(others);
            line.set_structures(static_cast<std::uint32_t>(structures.size()));
            line.set_type("Moment d'échange");
            line.set_theme("Échanges de bonnes pratiques");
        }
        return out;
    });
    return answered_later();
}

// ---------------------------------------------------------------------------
// Timers

void service::fire_meeting_timers(storage::writer& w, std::int64_t now, effects& done) {
    for (auto id : w.due_meetings(now)) {
        auto row = w.find_meeting(id);
        if (!row) {
            continue;
        }
        meeting_ctx m;
        m.row = std::move(*row);
        m.rec.ParseFromString(m.row.record);
        if (auto c = w.find_channel(m.row.channel)) {
            m.channel = std::move(*c);
        }
        m.now = now;
        m.user = 0;  // the server acts
        if (m.state() == v1::SCHEDULED && !m.rec.reminder_sent() &&
            now >= m.row.start_ms - meetings::reminder_lead_ms) {
            m.rec.set_reminder_sent(true);
            meeting_to_wire(w, m, *m.change(v1::MeetingEvent::REMINDER).mutable_meeting());
        }
        const auto end = meetings::planned_end(m.rec);
        if (m.state() == v1::LIVE && end != 0 && now >= end) {
            auto& phase = *m.rec.mutable_phases(static_cast<int>(m.rec.current_phase()) - 1);
            if (!phase.overtime()) {
                phase.set_overtime(true);
                meeting_to_wire(w, m, *m.change(v1::MeetingEvent::OVERTIME).mutable_meeting());
            }
        }
        save_meeting(w, m, done);
    }
}

void service::tick() {
    const auto now = clock_.now_ms();
    if (next_timer_.load() > now || timers_queued_.exchange(true)) {
        return;
    }
    auto done = std::make_shared<effects>();
    store_.write(storage::write_job{
        [this, now, done](storage::writer& w) {
            fire_meeting_timers(w, now, *done);
            // Set here, in the writer's order: a meeting saved by a later
            // job lowers it again.
            const auto next = w.next_meeting_timer();
            next_timer_ = next == 0 ? INT64_MAX : next;
            return true;
        },
        [this, done](bool committed) {
            timers_queued_ = false;
            if (!committed) {
                next_timer_ = 0;  // nothing was stored: try again at the next tick
                return;
            }
            try {
                for (const auto& e : done->events) {
                    publish(e);
                }
            } catch (...) {
                log::write(log::level::error, "meeting_timers",
                           {{"error", log::current_exception_text()}});
            }
        }});
}

}  // namespace relais::core
