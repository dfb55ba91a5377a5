#include "server/core/service.hpp"

#include <algorithm>
#include <exception>

#include "protocol/codec.hpp"
#include "server/core/log.hpp"

namespace relais::core {

service::service(storage::store& store, const clock& clock, service_config config)
    : store_(store),
      clock_(clock),
      config_(std::move(config)),
      metrics_(config_.metrics ? *config_.metrics : own_metrics_) {}

void service::start() {
    storage::read_now(store_, [this](storage::reader& r) {
        members_.load(r);
        load_mutes(r);
        live_meetings_ = r.count_live_meetings();
        // Timers that came while the server was down fire at the first tick.
        const auto next = r.next_meeting_timer();
        next_timer_ = next == 0 ? INT64_MAX : next;
        // No connection yet: nothing that ended before now needs a look.
        auth_changes_seen_ = r.auth_changes();
    });
    // Computing the decoy hash costs one Argon2 run: pay it before the first
    // login, so that the first unknown-user answer is not slower than others.
    (void)decoy_password_hash();
}

const std::unordered_map<int, service::endpoint>& service::endpoints() {
    using M = v1::ClientMessage;
    static const std::unordered_map<int, endpoint> table = {
        {M::kHello, {&service::on_hello, false, 1}},
        {M::kLogin, {&service::on_login, false, 5}},
        {M::kResume, {&service::on_resume, false, 5}},
        {M::kLogout, {&service::on_logout, true, 1}},
        {M::kCreateChannel, {&service::on_create_channel, true, 5}},
        {M::kListChannels, {&service::on_list_channels, true, 2}},
        {M::kGetChannel, {&service::on_get_channel, true, 1}},
        {M::kJoinChannel, {&service::on_join, true, 2}},
        {M::kLeaveChannel, {&service::on_leave, true, 2}},
        {M::kInvite, {&service::on_invite, true, 2}},
        {M::kKick, {&service::on_kick, true, 2}},
        {M::kSetMemberRole, {&service::on_set_member_role, true, 2}},
        {M::kSetTopic, {&service::on_set_topic, true, 2}},
        {M::kSetChannelOptions, {&service::on_set_channel_options, true, 2}},
        {M::kSetDisplayName, {&service::on_set_display_name, true, 2}},
        {M::kListMembers, {&service::on_list_members, true, 2}},
        {M::kOpenDirect, {&service::on_open_direct, true, 2}},
        {M::kSendMessage, {&service::on_send, true, 1}},
        {M::kEditMessage, {&service::on_edit, true, 1}},
        {M::kDeleteMessage, {&service::on_delete, true, 1}},
        {M::kGetHistory, {&service::on_history, true, 2}},
        {M::kSync, {&service::on_sync, true, 2}},
        {M::kMarkRead, {&service::on_mark_read, true, 0.2}},
        {M::kTyping, {&service::on_typing, true, 0.2}},
        {M::kPostResource, {&service::on_post_resource, true, 1}},
        {M::kEditResource, {&service::on_edit_resource, true, 1}},
        {M::kGetResourceVersions, {&service::on_get_resource_versions, true, 2}},
        {M::kListResources, {&service::on_list_resources, true, 2}},
        {M::kListVocabulary, {&service::on_list_vocabulary, true, 1}},
        {M::kSearch, {&service::on_search, true, 3}},
        {M::kGetThread, {&service::on_get_thread, true, 2}},
        {M::kFollowThread, {&service::on_follow_thread, true, 1}},
        {M::kListThreads, {&service::on_list_threads, true, 2}},
        {M::kMarkThreadRead, {&service::on_mark_thread_read, true, 0.2}},
        {M::kSolveQuestion, {&service::on_solve_question, true, 1}},
        {M::kListQuestions, {&service::on_list_questions, true, 2}},
        {M::kReact, {&service::on_react, true, 1}},
        {M::kPin, {&service::on_pin, true, 1}},
        {M::kListPins, {&service::on_list_pins, true, 2}},
        {M::kListMentions, {&service::on_list_mentions, true, 2}},
        {M::kSetProfile, {&service::on_set_profile, true, 2}},
        {M::kListMeetingTemplates, {&service::on_list_meeting_templates, true, 1}},
        {M::kCreateMeeting, {&service::on_create_meeting, true, 5}},
        {M::kListMeetings, {&service::on_list_meetings, true, 2}},
        {M::kGetMeeting, {&service::on_get_meeting, true, 2}},
        {M::kSetMeetingState, {&service::on_set_meeting_state, true, 2}},
        {M::kJoinMeeting, {&service::on_join_meeting, true, 2}},
        {M::kSetPhase, {&service::on_set_phase, true, 1}},
        {M::kSetMeetingRole, {&service::on_set_meeting_role, true, 1}},
        {M::kRaiseHand, {&service::on_raise_hand, true, 1}},
        {M::kGiveFloor, {&service::on_give_floor, true, 1}},
        {M::kOpenPoll, {&service::on_open_poll, true, 2}},
        {M::kVote, {&service::on_vote, true, 1}},
        {M::kClosePoll, {&service::on_close_poll, true, 1}},
        {M::kArrangeTables, {&service::on_arrange_tables, true, 5}},
        {M::kSubmitCase, {&service::on_submit_case, true, 2}},
        {M::kListCases, {&service::on_list_cases, true, 2}},
        {M::kSetNote, {&service::on_set_note, true, 1}},
        {M::kGetMinutes, {&service::on_get_minutes, true, 2}},
        {M::kEditMinutes, {&service::on_edit_minutes, true, 5}},
        {M::kGetAttendance, {&service::on_get_attendance, true, 2}},
        {M::kGetMeetingReport, {&service::on_get_meeting_report, true, 5}},
        {M::kRegister, {&service::on_register, false, 5}},
        {M::kChangePassword, {&service::on_change_password, true, 5}},
        {M::kListSessions, {&service::on_list_sessions, true, 2}},
        {M::kEndSession, {&service::on_end_session, true, 2}},
        {M::kCreatePasswordReset, {&service::on_create_password_reset, true, 5}},
        {M::kResetPassword, {&service::on_reset_password, false, 5}},
        {M::kGetProfile, {&service::on_get_profile, true, 1}},
        {M::kListPeople, {&service::on_list_people, true, 5}},
        {M::kMute, {&service::on_mute, true, 2}},
        {M::kBan, {&service::on_ban, true, 2}},
        {M::kReportMessage, {&service::on_report_message, true, 2}},
        {M::kListReports, {&service::on_list_reports, true, 2}},
        {M::kResolveReport, {&service::on_resolve_report, true, 2}},
        {M::kGetAuditLog, {&service::on_get_audit_log, true, 2}},
        {M::kExportMyData, {&service::on_export_my_data, true, 10}},
        {M::kSetRetention, {&service::on_set_retention, true, 2}},
        {M::kStartUpload, {&service::on_start_upload, true, 1}},
        {M::kUploadChunk, {&service::on_upload_chunk, true, 1}},
        {M::kDownload, {&service::on_download, true, 1}},
        {M::kCreateInvitation, {&service::on_create_invitation, true, 2}},
        {M::kListInvitations, {&service::on_list_invitations, true, 2}},
        {M::kRevokeInvitation, {&service::on_revoke_invitation, true, 1}},
    };
    return table;
}

void service::on_frame(const std::shared_ptr<connection>& conn, std::string_view bytes) {
    auto decoded = protocol::decode_client(bytes, config_.limits.max_frame_bytes);
    if (!decoded) {
        // Whatever is wrong with it (an unknown body from a newer client,
        // invalid UTF-8), the answer carries the request's id when the frame
        // holds one, so that the client can match it.
        reply_error(request{conn, protocol::request_id_of(bytes), {}}, decoded.error());
        return;
    }
    dispatch(conn, *decoded);
}

void service::dispatch(const std::shared_ptr<connection>& conn, v1::ClientMessage& msg) {
    request rq{conn, msg.request_id(), {}, static_cast<int>(msg.body_case())};
    try {
        const auto& table = endpoints();
        auto it = table.find(static_cast<int>(msg.body_case()));
        if (it == table.end()) {
            reply_error(rq, fail(errc::bad_request, "unknown message kind"));
            return;
        }
        const endpoint& ep = it->second;
        if (stopping_) {
            reply_error(rq,
                        fail(errc::unavailable, "the server is shutting down; reconnect later"));
            return;
        }
        if (msg.body_case() != v1::ClientMessage::kHello && !conn->greeted()) {
            reply_error(rq, fail(errc::bad_request, "the first message must be Hello"));
            return;
        }
        if (std::uint32_t wait = conn->charge_request(clock_.now_ms(), ep.cost); wait != 0) {
            reply_error(rq, fail(errc::rate_limited, "too many requests on this connection", wait));
            return;
        }
        if (ep.needs_login) {
            auto who = conn->who();
            if (!who) {
                reply_error(rq, fail(errc::unauthenticated, "log in first"));
                return;
            }
            rq.who = std::move(*who);
        }
        respond(rq, (this->*ep.handle)(rq, msg));
    } catch (...) {
        log_internal(rq, "request");
        reply_error(rq, fail(errc::internal, "internal error; it has been logged"));
    }
}

void service::drain(std::function<void()> then) {
    store_.write(storage::write_job{[](storage::writer&) { return true; },
                                    [then = std::move(then)](bool) { then(); }});
}

void service::on_close(const std::shared_ptr<connection>& conn) {
    auto who = conn->who();
    if (!who) {
        return;
    }
    conn->set_who(std::nullopt);
    if (hub_.detach(who->user.id(), conn.get())) {
        publish_presence(who->user, false);
    }
    touch_session(who->token_hash.hex());
}

void service::reply(const request& rq, v1::ServerMessage& msg) {
    msg.set_request_id(rq.id);
    const int code = msg.has_error() ? static_cast<int>(msg.error().code()) : 0;
    metrics_.answered(rq.kind, code);
    if (log::enabled(log::level::debug)) {
        const auto* kind = v1::ClientMessage::descriptor()->FindFieldByNumber(rq.kind);
        log::write(log::level::debug, "request",
                   {{"conn", rq.conn->id()},
                    {"request", rq.id},
                    {"user", rq.who.user.name()},
                    {"kind", kind ? kind->name() : std::string("undecodable")},
                    {"code", code == 0 ? std::string("ok")
                                       : v1::ErrorCode_Name(static_cast<v1::ErrorCode>(code))}});
    }
    rq.conn->deliver(protocol::encode(msg));
}

service::handled service::ok() {
    v1::ServerMessage msg;
    msg.mutable_ok();
    return msg;
}

void service::respond(const request& rq, handled result) {
    if (!result) {
        reply_error(rq, result.error());
    } else if (*result) {
        reply(rq, **result);
    }
}

void service::reply_error(const request& rq, const failure& f) {
    v1::ServerMessage msg;
    fill_error(*msg.mutable_error(), f);
    reply(rq, msg);
}

void service::log_internal(const request& rq, const char* what) {
    log::write(log::level::error, "request_failed",
               {{"conn", rq.conn ? rq.conn->id() : std::uint64_t{0}},
                {"request", rq.id},
                {"user", rq.who.user.name()},
                {"step", what},
                {"error", log::current_exception_text()}});
}

void service::read(request rq, std::function<handled(storage::reader&)> fn) {
    store_.read([this, rq = std::move(rq), fn = std::move(fn)](storage::reader& r) {
        try {
            respond(rq, fn(r));
        } catch (...) {
            log_internal(rq, "read");
            reply_error(rq, fail(errc::internal, "internal error; it has been logged"));
        }
    });
}

void service::write(request rq, std::function<outcome<effects>(storage::writer&)> apply) {
    auto result = std::make_shared<std::optional<outcome<effects>>>();
    store_.write(storage::write_job{
        [result, apply = std::move(apply)](storage::writer& w) {
            *result = apply(w);
            return result->value().has_value();
        },
        [this, rq = std::move(rq), result](bool committed) {
            if (!result->has_value()) {
                reply_error(rq, fail(errc::internal, "internal error; it has been logged"));
                return;
            }
            auto& r = **result;
            if (!r) {
                reply_error(rq, r.error());
                return;
            }
            if (!committed) {
                reply_error(rq,
                            fail(errc::unavailable,
                                 "the change could not be saved; nothing was stored, try again"));
                return;
            }
            bool answered = false;
            try {
                for (const auto& [channel, user] : r->joined) {
                    members_.add(channel, user);
                }
                for (const auto& event : r->events) {
                    publish(event);
                }
                for (const auto& n : r->notices) {
                    auto frame = protocol::encode(n.message);
                    if (n.users.empty()) {
                        hub_.send_to(*members_.members(n.channel), frame);
                    } else {
                        hub_.send_to(n.users, frame);
                    }
                }
                for (const auto& [channel, user] : r->left) {
                    members_.remove(channel, user);
                }
                if (r->sessions) {
                    r->sessions();
                }
                if (r->after) {
                    r->after();
                }
                answered = true;
                respond(rq, r->reply ? handled(std::move(r->reply)) : ok());
            } catch (...) {
                log_internal(rq, "completion");
                if (!answered) {
                    reply_error(rq, fail(errc::internal, "internal error; it has been logged"));
                }
            }
        }});
}

void service::forget_user(storage::user_id id) {
    std::lock_guard lock(users_mu_);
    users_.erase(id);
}

v1::User service::user_view(storage::reader& r, storage::user_id id) {
    {
        std::lock_guard lock(users_mu_);
        if (auto it = users_.find(id); it != users_.end()) {
            return it->second;
        }
    }
    v1::User user;
    user.set_id(id);
    if (auto a = r.find_account(id)) {
        user = user_of(*a);
        std::lock_guard lock(users_mu_);
        users_[id] = user;
    }
    return user;
}

void service::to_wire(storage::reader& r, const storage::event_record& e, v1::Event& out) {
    out.set_channel_id(e.channel);
    out.set_seq(e.seq);
    out.set_at_ms(e.at_ms);
    if (e.kind != storage::event_kind::removed) {
        *out.mutable_actor() = user_view(r, e.actor);
    }
    switch (e.kind) {
        case storage::event_kind::message: {
            auto& m = *out.mutable_message();
            m.set_text(e.text);
            m.set_client_msg_id(e.client_msg_id);
            m.set_edited_at_ms(e.edited_at_ms);
            m.set_deleted(e.deleted);
            m.set_thread_seq(e.thread_seq);
            m.set_meeting_id(e.meeting);
            m.set_meeting_phase(e.meeting_phase);
            break;
        }
        case storage::event_kind::edited:
            out.mutable_edited()->set_target_seq(e.target_seq);
            out.mutable_edited()->set_text(e.text);
            break;
        case storage::event_kind::deleted:
            out.mutable_deleted()->set_target_seq(e.target_seq);
            break;
        case storage::event_kind::member: {
            auto& m = *out.mutable_member();
            *m.mutable_user() = user_view(r, e.subject);
            m.set_change(static_cast<v1::MemberChanged::Change>(e.change));
            m.set_role(static_cast<v1::MemberRole>(e.role));
            break;
        }
        case storage::event_kind::created: {
            auto& c = *out.mutable_created();
            if (auto channel = r.find_channel(e.channel)) {
                c.set_name(channel->name);
                c.set_kind(channel->kind);
                c.set_display_name(channel->display_name);
            }
            c.set_topic(e.text);
            break;
        }
        case storage::event_kind::topic:
            out.mutable_topic()->set_topic(e.text);
            break;
        case storage::event_kind::display_name:
            out.mutable_display_name()->set_display_name(e.text);
            break;
        case storage::event_kind::options:
            *out.mutable_options()->mutable_options() = options_from_bits(e.change);
            break;
        case storage::event_kind::reaction:
            out.mutable_reaction()->set_target_seq(e.target_seq);
            out.mutable_reaction()->set_emoji(e.text);
            out.mutable_reaction()->set_added(e.change != 0);
            break;
        case storage::event_kind::pin:
            out.mutable_pin()->set_target_seq(e.target_seq);
            out.mutable_pin()->set_pinned(e.change != 0);
            break;
        case storage::event_kind::solved:
            out.mutable_solved()->set_root_seq(e.thread_seq);
            out.mutable_solved()->set_answer_seq(e.target_seq);
            break;
        case storage::event_kind::meeting:
            if (!out.mutable_meeting()->ParseFromString(e.body)) {
                throw std::runtime_error("unreadable meeting event");
            }
            break;
        case storage::event_kind::removed:
            out.mutable_removed();
            break;
    }
}

void service::summary_to_wire(storage::reader& r, const storage::thread_record& t,
                              v1::ThreadSummary& out) {
    out.set_root_seq(t.root_seq);
    out.set_reply_count(t.reply_count);
    out.set_last_reply_seq(t.last_reply_seq);
    out.set_last_reply_at_ms(t.last_reply_at_ms);
    for (auto id : t.participants) {
        *out.add_participants() = user_view(r, id);
    }
    out.set_question(t.question);
    out.set_solved_seq(t.solved_seq);
}

void service::resource_to_wire(storage::reader& r, const storage::resource_record& res,
                               v1::Resource& out) {
    out.set_title(res.title);
    out.set_link(res.link);
    out.set_description(res.description);
    out.set_kind(static_cast<v1::ResourceKind>(res.kind));
    for (const auto& t : res.tags) {
        out.add_tags(t);
    }
    for (const auto& t : res.themes) {
        out.add_themes(t);
    }
    for (const auto& a : res.audiences) {
        out.add_audiences(a);
    }
    out.set_licence(static_cast<v1::Licence>(res.licence));
    out.set_version(res.version);
    out.set_version_at_ms(res.version_at_ms);
    *out.mutable_editor() = user_view(r, res.editor);
}

v1::ServerMessage service::thread_update(storage::reader& r, const storage::thread_record& t) {
    v1::ServerMessage msg;
    msg.mutable_thread_update()->set_channel_id(t.channel);
    summary_to_wire(r, t, *msg.mutable_thread_update()->mutable_summary());
    return msg;
}

void service::decorate(storage::reader& r, storage::channel_id channel,
                       google::protobuf::RepeatedPtrField<v1::Event>& events) {
    storage::seq_t from = 0, to = 0;
    for (const auto& e : events) {
        if (e.has_message()) {
            from = from == 0 ? e.seq() : std::min(from, e.seq());
            to = std::max(to, e.seq());
        }
    }
    std::unordered_map<storage::seq_t, v1::Event*> by_seq;
    for (auto& e : events) {
        if (e.has_message()) {
            by_seq.emplace(e.seq(), &e);
        } else if (e.has_edited()) {
            // A resource's edit carries the version it made.
            if (auto version = r.resource_version_made_by(channel, e.seq())) {
                resource_to_wire(r, *version, *e.mutable_edited()->mutable_resource());
            }
        }
    }
    if (to == 0) {
        return;
    }
    // Tombstones are in the range too: a deleted root keeps its thread.
    for (const auto& t : r.threads_in(channel, from, to)) {
        if (auto it = by_seq.find(t.root_seq); it != by_seq.end()) {
            summary_to_wire(r, t, *it->second->mutable_message()->mutable_thread());
        }
    }
    for (const auto& res : r.resources_in(channel, from, to)) {
        if (auto it = by_seq.find(res.seq); it != by_seq.end()) {
            resource_to_wire(r, res, *it->second->mutable_message()->mutable_resource());
        }
    }
    for (const auto& a : r.attachments_in(channel, from, to)) {
        if (auto it = by_seq.find(a.seq); it != by_seq.end()) {
            attachment_to_wire(a, *it->second->mutable_message()->mutable_attachment());
        }
    }
    for (const auto& p : r.pins_in(channel, from, to)) {
        if (auto it = by_seq.find(p.seq); it != by_seq.end()) {
            it->second->mutable_message()->set_pinned(true);
        }
    }
    for (const auto& reaction : r.reactions_in(channel, from, to)) {
        auto it = by_seq.find(reaction.seq);
        if (it == by_seq.end()) {
            continue;
        }
        auto& m = *it->second->mutable_message();
        v1::Reaction* slot = nullptr;
        for (auto& existing : *m.mutable_reactions()) {
            if (existing.emoji() == reaction.emoji) {
                slot = &existing;
            }
        }
        if (!slot) {
            slot = m.add_reactions();
            slot->set_emoji(reaction.emoji);
        }
        slot->set_count(slot->count() + 1);
        *slot->add_users() = user_view(r, reaction.user);
    }
}

void service::decorate_one(storage::reader& r, v1::Event& event) {
    google::protobuf::RepeatedPtrField<v1::Event> one;
    one.Add()->Swap(&event);
    decorate(r, one[0].channel_id(), one);
    event.Swap(&one[0]);
}

std::vector<storage::channel_id> service::readable_channels(storage::reader& r,
                                                            storage::user_id user) {
    std::vector<storage::channel_id> out;
    for (const auto& m : r.memberships_of(user)) {
        out.push_back(m.channel);
    }
    for (const auto& c : r.list_channels()) {
        if (c.kind == v1::PUBLIC && std::find(out.begin(), out.end(), c.id) == out.end()) {
            out.push_back(c.id);
        }
    }
    std::sort(out.begin(), out.end());
    return out;
}

int options_bits(bool members_can_invite, bool members_can_set_topic) {
    return (members_can_invite ? 1 : 0) | (members_can_set_topic ? 2 : 0);
}

v1::ChannelOptions options_from_bits(int bits) {
    v1::ChannelOptions o;
    o.set_members_can_invite((bits & 1) != 0);
    o.set_members_can_set_topic((bits & 2) != 0);
    return o;
}

v1::Event service::append(storage::writer& w, storage::event_record e) {
    e.at_ms = clock_.now_ms();
    w.append_event(e);
    v1::Event out;
    to_wire(w, e, out);
    return out;
}

void service::publish(const v1::Event& event) {
    v1::ServerMessage msg;
    *msg.mutable_event() = event;
    auto frame = protocol::encode(msg);
    hub_.send_to(*members_.members(event.channel_id()), frame);
}

void service::publish_presence(const v1::User& user, bool online) {
    v1::ServerMessage msg;
    auto& p = *msg.mutable_presence();
    *p.mutable_user() = user;
    p.set_online(online);
    hub_.send_to(members_.co_members(user.id()), protocol::encode(msg));
}

outcome<service::visible_channel> service::resolve_group_member(storage::reader& r,
                                                                const v1::ChannelRef& ref,
                                                                storage::user_id user,
                                                                const char* refusal) {
    auto v = resolve_member(r, ref, user);
    if (v && v->channel.kind == v1::DIRECT) {
        return fail(errc::forbidden, refusal);
    }
    return v;
}

outcome<service::visible_channel> service::resolve(storage::reader& r, const v1::ChannelRef& ref,
                                                   storage::user_id user) {
    std::optional<storage::channel_record> channel;
    std::string label;
    switch (ref.ref_case()) {
        case v1::ChannelRef::kId:
            channel = r.find_channel(ref.id());
            // Appended to the empty label, not `"#" + std::to_string(...)` nor
            // `label = "#"`: GCC 12 at -O3 misreads both as an overlapping copy
            // (GCC bug 105329, -Wrestrict).
            label.push_back('#');
            label += std::to_string(ref.id());
            break;
        case v1::ChannelRef::kName:
            channel = r.find_channel(ref.name());
            label = ref.name();
            break;
        case v1::ChannelRef::REF_NOT_SET:
            return fail(errc::bad_request, "no channel given");
    }
    auto not_found = fail(errc::not_found, "no channel '" + label + "'");
    if (!channel) {
        return not_found;
    }
    auto m = r.find_membership(channel->id, user);
    if (channel->kind != v1::PUBLIC && !m) {
        return not_found;
    }
    return visible_channel{std::move(*channel), std::move(m)};
}

outcome<service::visible_channel> service::resolve_member(storage::reader& r,
                                                          const v1::ChannelRef& ref,
                                                          storage::user_id user) {
    auto v = resolve(r, ref, user);
    if (v && !v->membership) {
        // NOT_FOUND, as for a channel that does not exist: clients handle
        // "not one of mine" in one way. (A private channel never gets here:
        // resolve already answers exactly as for a missing one.)
        return fail(errc::not_found,
                    "you are not a member of '" + v->channel.name + "'; join it first");
    }
    return v;
}

void service::describe(storage::reader& r, const storage::channel_record& c,
                       const std::optional<storage::membership>& m, storage::user_id user,
                       v1::Channel& out) {
    out.set_id(c.id);
    out.set_name(c.name);
    out.set_topic(c.topic);
    out.set_display_name(c.display_name);
    out.set_kind(c.kind);
    out.set_last_seq(c.last_seq);
    out.set_member_count(r.count_members(c.id));
    out.set_is_member(m.has_value());
    out.mutable_options()->set_members_can_invite(c.members_can_invite);
    out.mutable_options()->set_members_can_set_topic(c.members_can_set_topic);
    out.mutable_options()->set_retention_days(c.retention_days);
    if (c.kind == v1::DIRECT) {
        // A direct channel is named after the other person, as users expect.
        for (const auto& other : r.members_of(c.id)) {
            if (other.user != user) {
                out.set_name(user_view(r, other.user).name());
            }
        }
    }
    if (m) {
        out.set_my_role(m->role);
        out.set_last_read_seq(m->last_read_seq);
        out.set_unread_count(r.count_unread(c.id, m->last_read_seq, user));
        out.set_mention_count(r.count_unread_mentions(c.id, user, m->last_read_seq));
        out.set_thread_unread_count(r.count_followed_unread(c.id, user));
    }
}

}  // namespace relais::core
