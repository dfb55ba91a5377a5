#include "server/core/service.hpp"

#include <exception>

#include "protocol/codec.hpp"
#include "server/core/log.hpp"

namespace relais::core {

service::service(storage::store& store, const clock& clock, service_config config)
    : store_(store), clock_(clock), config_(std::move(config)) {}

void service::start() {
    storage::read_now(store_, [this](storage::reader& r) {
        members_.load(r);
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
    request rq{conn, msg.request_id(), {}};
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
}

void service::reply(const request& rq, v1::ServerMessage& msg) {
    msg.set_request_id(rq.id);
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
                for (const auto& [channel, user] : r->left) {
                    members_.remove(channel, user);
                }
                if (r->sessions) {
                    r->sessions();
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
        user.set_name(a->name);
        user.set_display_name(a->display_name);
        user.set_role(a->role);
        std::lock_guard lock(users_mu_);
        users_[id] = user;
    }
    return user;
}

void service::to_wire(storage::reader& r, const storage::event_record& e, v1::Event& out) {
    out.set_channel_id(e.channel);
    out.set_seq(e.seq);
    out.set_at_ms(e.at_ms);
    *out.mutable_actor() = user_view(r, e.actor);
    switch (e.kind) {
        case storage::event_kind::message: {
            auto& m = *out.mutable_message();
            m.set_text(e.text);
            m.set_client_msg_id(e.client_msg_id);
            m.set_edited_at_ms(e.edited_at_ms);
            m.set_deleted(e.deleted);
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
    }
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
    }
}

}  // namespace relais::core
