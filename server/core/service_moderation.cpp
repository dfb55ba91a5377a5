// Moderation: mutes, bans, reports, and the audit log every admin and
// moderation action writes to.
#include <algorithm>

#include "server/core/service.hpp"
#include "server/core/validation.hpp"

namespace relais::core {
namespace {

constexpr std::size_t max_reason_bytes = 500;
constexpr std::uint32_t max_mute_minutes = 30 * 24 * 60;
constexpr std::int64_t minute_ms = 60'000;

outcome<void> check_reason(std::string_view what, std::string_view reason, bool allow_empty) {
    return check_free_text(what, reason, max_reason_bytes, allow_empty);
}

}  // namespace

void service::audit(storage::writer& w, storage::user_id actor, std::string action,
                    storage::user_id subject, storage::channel_id channel, std::string reason,
                    std::string detail) {
    storage::audit_record a;
    a.at_ms = clock_.now_ms();
    a.actor = actor;
    a.action = std::move(action);
    a.subject = subject;
    a.channel = channel;
    a.reason = std::move(reason);
    a.detail = std::move(detail);
    w.append_audit(a);
}

void service::load_mutes(storage::reader& r) {
    std::lock_guard lock(mutes_mu_);
    mutes_.clear();
    for (const auto& m : r.list_mutes()) {
        mutes_[{m.channel, m.user}] = m.until_ms;
    }
    any_mutes_ = !mutes_.empty();
}

void service::set_mute(storage::channel_id channel, storage::user_id user, std::int64_t until_ms) {
    std::lock_guard lock(mutes_mu_);
    if (until_ms == 0) {
        mutes_.erase({channel, user});
    } else {
        mutes_[{channel, user}] = until_ms;
    }
    any_mutes_ = !mutes_.empty();
}

std::int64_t service::mute_left_ms(storage::channel_id channel, storage::user_id user) {
    // The common case, no mute anywhere, costs one relaxed load on the send path.
    if (!any_mutes_.load(std::memory_order_relaxed)) {
        return 0;
    }
    std::lock_guard lock(mutes_mu_);
    auto it = mutes_.find({channel, user});
    if (it == mutes_.end()) {
        return 0;
    }
    return std::max<std::int64_t>(0, it->second - clock_.now_ms());
}

outcome<void> service::refuse_if_muted(const storage::channel_record& channel,
                                       storage::user_id user) {
    const auto left = mute_left_ms(channel.id, user);
    if (left == 0) {
        return {};
    }
    const auto minutes = (left + minute_ms - 1) / minute_ms;
    return fail(errc::forbidden,
                "you are muted in #" + channel.name + " for " + std::to_string(minutes) +
                    " more minute" + (minutes > 1 ? "s" : ""),
                static_cast<std::uint32_t>(std::min<std::int64_t>(left, UINT32_MAX)));
}

bool service::may_moderate(const v1::User& caller, const visible_channel& v) {
    return v.channel.kind != v1::DIRECT &&
           (is_moderator(v.membership) || (v.membership && caller.role() == v1::ADMIN));
}

service::handled service::on_mute(const request& rq, const v1::ClientMessage& msg) {
    const auto& ask = msg.mute();
    if (auto ok = check_reason("reason", ask.reason(), true); !ok) {
        return ok.error();
    }
    if (!ask.unmute() && (ask.minutes() == 0 || ask.minutes() > max_mute_minutes)) {
        return fail(errc::bad_request,
                    "a mute lasts 1 to " + std::to_string(max_mute_minutes) + " minutes (30 days)");
    }
    write(rq, [this, rq, ask](storage::writer& w) -> outcome<effects> {
        const auto caller = rq.who.user.id();
        auto v = resolve_member(w, ask.channel(), caller);
        if (!v) {
            return v.error();
        }
        if (!may_moderate(rq.who.user, *v)) {
            return fail(errc::forbidden, "only moderators can mute members");
        }
        auto target = w.find_account(ask.user());
        auto membership = target ? w.find_membership(v->channel.id, target->id) : std::nullopt;
        if (!membership) {
            return fail(errc::not_found, "'" + ask.user() + "' is not a member");
        }
        if (membership->role == v1::OWNER) {
            return fail(errc::forbidden, "the owner of a channel cannot be muted");
        }
        const auto channel = v->channel.id;
        const auto user = target->id;
        if (ask.unmute()) {
            w.delete_mute(channel, user);
            audit(w, caller, "unmute", user, channel, ask.reason(), "");
            return effects{.after = [this, channel, user] { set_mute(channel, user, 0); }};
        }
        storage::mute_record m;
        m.channel = channel;
        m.user = user;
        m.at_ms = clock_.now_ms();
        m.until_ms = m.at_ms + static_cast<std::int64_t>(ask.minutes()) * minute_ms;
        m.by = caller;
        m.reason = ask.reason();
        w.put_mute(m);
        audit(w, caller, "mute", user, channel, ask.reason(),
              std::to_string(ask.minutes()) + " min");
        return effects{
            .after = [this, channel, user, until = m.until_ms] { set_mute(channel, user, until); }};
    });
    return answered_later();
}

service::handled service::on_ban(const request& rq, const v1::ClientMessage& msg) {
    const auto& ask = msg.ban();
    if (auto ok = check_reason("reason", ask.reason(), true); !ok) {
        return ok.error();
    }
    write(rq, [this, rq, ask](storage::writer& w) -> outcome<effects> {
        const auto caller = rq.who.user.id();
        auto v = resolve_member(w, ask.channel(), caller);
        if (!v) {
            return v.error();
        }
        if (!may_moderate(rq.who.user, *v)) {
            return fail(errc::forbidden, "only moderators can ban members");
        }
        auto target = w.find_account(ask.user());
        if (!target) {
            return fail(errc::not_found, "no user '" + ask.user() + "'");
        }
        const auto channel = v->channel.id;
        if (ask.unban()) {
            if (!w.find_ban(channel, target->id)) {
                return fail(errc::not_found,
                            "'" + ask.user() + "' is not banned from #" + v->channel.name);
            }
            w.delete_ban(channel, target->id);
            audit(w, caller, "unban", target->id, channel, ask.reason(), "");
            return effects{};
        }
        auto membership = w.find_membership(channel, target->id);
        if (membership && membership->role == v1::OWNER) {
            return fail(errc::forbidden, "the owner of a channel cannot be banned");
        }
        if (target->id == caller) {
            return fail(errc::forbidden, "you cannot ban yourself");
        }
        w.put_ban({channel, target->id, caller, clock_.now_ms(), ask.reason()});
        audit(w, caller, "ban", target->id, channel, ask.reason(), "");
        effects done;
        if (membership) {
            done.events.push_back(
                append(w, member_event(channel, caller, target->id, v1::MemberChanged::KICKED,
                                       membership->role)));
            w.remove_member(channel, target->id);
            done.left.emplace_back(channel, target->id);
        }
        return done;
    });
    return answered_later();
}

void service::report_to_wire(storage::reader& r, const storage::report_record& rep,
                             v1::Report& out) {
    out.set_id(rep.id);
    out.set_channel_id(rep.channel);
    if (auto c = r.find_channel(rep.channel)) {
        out.set_channel_name(c->name);
    }
    out.set_seq(rep.seq);
    *out.mutable_reporter() = user_view(r, rep.reporter);
    out.set_reason(rep.reason);
    out.set_at_ms(rep.at_ms);
    if (auto e = r.find_event(rep.channel, rep.seq)) {
        to_wire(r, *e, *out.mutable_message());
    }
    if (rep.resolved_by != 0) {
        *out.mutable_resolved_by() = user_view(r, rep.resolved_by);
        out.set_resolved_at_ms(rep.resolved_at_ms);
        out.set_resolution(rep.resolution);
    }
}

service::handled service::on_report_message(const request& rq, const v1::ClientMessage& msg) {
    const auto& ask = msg.report_message();
    if (auto ok = check_reason("reason", ask.reason(), false); !ok) {
        return ok.error();
    }
    write(rq, [this, rq, ask](storage::writer& w) -> outcome<effects> {
        const auto caller = rq.who.user.id();
        auto v = resolve_member(w, ask.channel(), caller);
        if (!v) {
            return v.error();
        }
        auto message = find_live_message(w, v->channel, ask.seq());
        if (!message) {
            return message.error();
        }
        storage::report_record rep;
        rep.channel = v->channel.id;
        rep.seq = ask.seq();
        rep.reporter = caller;
        rep.reason = ask.reason();
        rep.at_ms = clock_.now_ms();
        rep.id = w.insert_report(rep);
        effects done;
        effects::notice told;
        told.channel = v->channel.id;
        for (const auto& m : w.members_of(v->channel.id)) {
            if (m.role == v1::MODERATOR || m.role == v1::OWNER) {
                told.users.push_back(m.user);
            }
        }
        if (!told.users.empty()) {
            report_to_wire(w, rep, *told.message.mutable_reported());
            done.notices.push_back(std::move(told));
        }
        return done;
    });
    return answered_later();
}

service::handled service::on_list_reports(const request& rq, const v1::ClientMessage& msg) {
    const auto ask = msg.list_reports();
    read(rq, [this, rq, ask](storage::reader& r) -> handled {
        const auto caller = rq.who.user.id();
        const bool admin = rq.who.user.role() == v1::ADMIN;
        std::vector<storage::channel_id> channels;
        if (ask.has_channel()) {
            auto v = resolve_member(r, ask.channel(), caller);
            if (!v) {
                return v.error();
            }
            if (!may_moderate(rq.who.user, *v)) {
                return fail(errc::forbidden,
                            "only moderators see the reports of #" + v->channel.name);
            }
            channels.push_back(v->channel.id);
        } else if (!admin) {
            for (const auto& m : r.memberships_of(caller)) {
                if (m.role == v1::MODERATOR || m.role == v1::OWNER) {
                    channels.push_back(m.channel);
                }
            }
        }
        v1::ServerMessage out;
        auto& list = *out.mutable_reports();
        if (channels.empty() && !admin && !ask.has_channel()) {
            return out;  // moderates nothing: sees nothing
        }
        for (const auto& rep :
             r.list_reports(channels, ask.include_resolved(), config_.limits.max_page_size)) {
            report_to_wire(r, rep, *list.add_reports());
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_resolve_report(const request& rq, const v1::ClientMessage& msg) {
    const auto ask = msg.resolve_report();
    if (auto ok = check_reason("note", ask.note(), true); !ok) {
        return ok.error();
    }
    write(rq, [this, rq, ask](storage::writer& w) -> outcome<effects> {
        const auto caller = rq.who.user.id();
        auto rep = w.find_report(ask.report_id());
        const auto not_found =
            fail(errc::not_found, "no report " + std::to_string(ask.report_id()));
        if (!rep) {
            return not_found;
        }
        auto channel = w.find_channel(rep->channel);
        if (!channel) {
            return not_found;
        }
        visible_channel v{*channel, w.find_membership(channel->id, caller)};
        if (!may_moderate(rq.who.user, v)) {
            return not_found;  // a report is the moderators' business
        }
        if (rep->resolved_by != 0) {
            return fail(errc::conflict,
                        "report " + std::to_string(rep->id) + " was already resolved");
        }
        w.resolve_report(rep->id, caller, clock_.now_ms(), ask.note());
        auto message = w.find_event(rep->channel, rep->seq);
        audit(w, caller, "resolve_report", message ? message->actor : 0, rep->channel, ask.note(),
              "report " + std::to_string(rep->id) + ", seq " + std::to_string(rep->seq));
        return effects{};
    });
    return answered_later();
}

service::handled service::on_get_audit_log(const request& rq, const v1::ClientMessage& msg) {
    if (rq.who.user.role() != v1::ADMIN) {
        return fail(errc::forbidden, "only admins read the audit log");
    }
    const auto ask = msg.get_audit_log();
    const auto limit = ask.limit() == 0 ? 50 : std::min(ask.limit(), config_.limits.max_page_size);
    read(rq, [this, ask, limit](storage::reader& r) -> handled {
        v1::ServerMessage out;
        auto& log = *out.mutable_audit_log();
        for (const auto& a : r.audit_log(ask.before_id(), limit)) {
            auto& e = *log.add_entries();
            e.set_id(a.id);
            e.set_at_ms(a.at_ms);
            if (a.actor != 0) {
                *e.mutable_actor() = user_view(r, a.actor);
            }
            e.set_action(a.action);
            if (a.subject != 0) {
                *e.mutable_subject() = user_view(r, a.subject);
            }
            if (a.channel != 0) {
                if (auto c = r.find_channel(a.channel)) {
                    e.set_channel_name(c->name);
                }
            }
            e.set_reason(a.reason);
            e.set_detail(a.detail);
        }
        return out;
    });
    return answered_later();
}

}  // namespace relais::core
