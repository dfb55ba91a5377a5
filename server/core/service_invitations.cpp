// Invitations, and registering with one: how newcomers get an account
// without an admin at the server's shell.
#include <algorithm>

#include "server/core/credentials.hpp"
#include "server/core/log.hpp"
#include "server/core/service.hpp"
#include "server/core/validation.hpp"

namespace relais::core {
namespace {

constexpr std::int64_t day_ms = 24 * 60 * 60 * 1000;
constexpr std::size_t label_size = 6;

bool may_invite(const v1::User& caller) {
    return caller.role() == v1::COORDINATOR || caller.role() == v1::ADMIN;
}

// Why a code that exists may not be used now; empty when it may.
std::string unusable(const storage::invitation_record& i, std::int64_t now_ms) {
    if (i.revoked) {
        return "this invitation was revoked; ask for a new one";
    }
    if (i.expires_at_ms <= now_ms) {
        return "this invitation has expired; ask for a new one";
    }
    if (i.used >= i.uses) {
        return "this invitation has been used by as many people as it was for; ask for a new one";
    }
    return {};
}

}  // namespace

void service::describe_invitation(storage::reader& r, const storage::invitation_record& i,
                                  v1::Invitation& out) {
    out.set_label(i.label);
    out.set_uses(i.uses);
    out.set_used(i.used);
    out.set_expires_at_ms(i.expires_at_ms);
    out.set_role(i.role);
    for (auto id : i.channels) {
        if (auto c = r.find_channel(id)) {
            out.add_channels(c->name);
        }
    }
    if (i.created_by != 0) {
        if (auto a = r.find_account(i.created_by)) {
            out.set_created_by(a->name);
        }
    }
    out.set_created_at_ms(i.created_at_ms);
    out.set_revoked(i.revoked);
}

service::handled service::on_create_invitation(const request& rq, const v1::ClientMessage& msg) {
    const auto& ask = msg.create_invitation();
    if (!may_invite(rq.who.user)) {
        return fail(errc::forbidden, "only coordinators and admins create invitations");
    }
    const auto role = ask.role() == v1::ROLE_UNSPECIFIED ? v1::MEDIATOR : ask.role();
    if (!v1::Role_IsValid(role)) {
        return fail(errc::bad_request, "unknown role");
    }
    if (role > rq.who.user.role()) {
        return fail(errc::forbidden, "an invitation cannot give a role above your own");
    }
    const auto uses = ask.uses() == 0 ? 1 : ask.uses();
    const auto days = ask.expires_in_days() == 0 ? 7 : ask.expires_in_days();
    if (uses > max_invitation_uses) {
        return fail(errc::bad_request, "an invitation is for at most " +
                                           std::to_string(max_invitation_uses) + " people");
    }
    if (days > max_invitation_days) {
        return fail(errc::bad_request,
                    "an invitation lasts at most " + std::to_string(max_invitation_days) + " days");
    }
    if (static_cast<std::size_t>(ask.channels_size()) > 50) {
        return fail(errc::too_large, "an invitation names at most 50 channels");
    }
    write(rq, [this, rq, ask, role, uses, days](storage::writer& w) -> outcome<effects> {
        storage::invitation_record i;
        const auto user = rq.who.user.id();
        for (const auto& ref : ask.channels()) {
            auto v = resolve_group_member(w, ref, user, "nobody joins a direct conversation");
            if (!v) {
                return v.error();
            }
            if (!v->channel.members_can_invite && !is_moderator(v->membership)) {
                return fail(errc::forbidden, "only moderators can invite to #" + v->channel.name);
            }
            if (std::find(i.channels.begin(), i.channels.end(), v->channel.id) ==
                i.channels.end()) {
                i.channels.push_back(v->channel.id);
            }
        }
        const auto code = new_invitation_code();
        i.code_hash = hash_token(code);
        i.label = code.substr(0, label_size);
        i.created_by = user;
        i.role = role;
        i.uses = uses;
        i.created_at_ms = clock_.now_ms();
        i.expires_at_ms = i.created_at_ms + static_cast<std::int64_t>(days) * day_ms;
        i.id = w.insert_invitation(i);
        audit(w, user, "invitation_create", 0, 0, "",
              i.label + ", " + std::to_string(uses) + " use(s), " + v1::Role_Name(role));
        effects done;
        auto& out = *done.reply.emplace().mutable_invitation();
        describe_invitation(w, i, out);
        out.set_code(code);
        return done;
    });
    return answered_later();
}

service::handled service::on_list_invitations(const request& rq, const v1::ClientMessage&) {
    if (!may_invite(rq.who.user)) {
        return fail(errc::forbidden, "only coordinators and admins see invitations");
    }
    read(rq, [this](storage::reader& r) -> handled {
        v1::ServerMessage out;
        auto& list = *out.mutable_invitations();
        for (const auto& i : r.list_invitations()) {
            describe_invitation(r, i, *list.add_invitations());
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_revoke_invitation(const request& rq, const v1::ClientMessage& msg) {
    if (!may_invite(rq.who.user)) {
        return fail(errc::forbidden, "only coordinators and admins revoke invitations");
    }
    const auto code = msg.revoke_invitation().code();
    write(rq, [this, rq, code](storage::writer& w) -> outcome<effects> {
        std::optional<storage::invitation_record> found;
        if (is_well_formed_invitation_code(code)) {
            found = w.find_invitation(hash_token(code));
        } else if (code.size() == label_size) {
            int matches = 0;
            for (auto& i : w.list_invitations()) {
                if (i.label == code) {
                    ++matches;
                    found = std::move(i);
                }
            }
            if (matches > 1) {
                return fail(errc::not_found,
                            "several invitations start with '" + code + "': give the whole code");
            }
        }
        if (!found) {
            return fail(errc::not_found, "no invitation '" + code + "'");
        }
        if (rq.who.user.role() != v1::ADMIN && found->created_by != rq.who.user.id()) {
            return fail(errc::forbidden, "a coordinator revokes only their own invitations");
        }
        w.revoke_invitation(found->id);
        audit(w, rq.who.user.id(), "invitation_revoke", 0, 0, "", found->label);
        return effects{};
    });
    return answered_later();
}

service::handled service::on_register(const request& rq, const v1::ClientMessage& msg) {
    const auto& ask = msg.register_();
    const auto& address = rq.conn->remote_address();
    // Guessing codes costs as guessing passwords does, per address.
    if (auto wait = throttle_.wait_ms("", address, clock_.now_ms()); wait != 0) {
        return fail(errc::rate_limited, "too many wrong invitation codes; wait before trying again",
                    wait);
    }
    if (auto ok = check_user_name(ask.name(), config_.limits); !ok) {
        return ok.error();
    }
    auto shown = check_display_name(ask.display_name(), config_.limits);
    if (!shown) {
        return shown.error();
    }
    if (auto ok = check_new_password(ask.password(), config_.limits); !ok) {
        return ok.error();
    }
    const auto unknown = fail(errc::forbidden, "unknown invitation code");
    if (!is_well_formed_invitation_code(ask.code())) {
        throttle_.failed("", address, clock_.now_ms());
        return unknown;
    }
    const auto display_name = shown->empty() ? ask.name() : *shown;
    // Argon2 on a reader thread, as for a login; the writer checks the code
    // again, so that two people racing for its last use cannot both get it.
    read(rq, [this, rq, ask, display_name, unknown](storage::reader& r) -> handled {
        const auto code_hash = hash_token(ask.code());
        auto invitation = r.find_invitation(code_hash);
        if (!invitation) {
            throttle_.failed("", rq.conn->remote_address(), clock_.now_ms());
            return unknown;
        }
        if (auto why = unusable(*invitation, clock_.now_ms()); !why.empty()) {
            return fail(errc::forbidden, why);
        }
        if (r.find_account(ask.name())) {
            return fail(errc::conflict, "a user named '" + ask.name() + "' already exists");
        }
        storage::account account;
        account.name = ask.name();
        account.display_name = display_name;
        account.password_hash = hash_password(ask.password());
        auto token = new_token();
        write(
            rq,
            [this, rq, code_hash, account, token](storage::writer& w) mutable -> outcome<effects> {
                const auto now = clock_.now_ms();
                auto current = w.find_invitation(code_hash);
                if (!current) {
                    return fail(errc::forbidden, "unknown invitation code");
                }
                if (auto why = unusable(*current, now); !why.empty()) {
                    return fail(errc::forbidden, why);
                }
                if (w.find_account(account.name)) {
                    return fail(errc::conflict,
                                "a user named '" + account.name + "' already exists");
                }
                account.role = current->role;
                account.created_at_ms = now;
                account.id = w.insert_account(account);
                w.use_invitation(current->id, account.id, now);
                effects done;
                for (auto channel : current->channels) {
                    if (!w.find_channel(channel)) {
                        continue;  // deleted since the invitation was made
                    }
                    w.upsert_member({channel, account.id, v1::MEMBER, 0});
                    done.events.push_back(
                        append(w, member_event(channel, account.id, account.id,
                                               v1::MemberChanged::JOINED, v1::MEMBER)));
                    done.joined.emplace_back(channel, account.id);
                }
                auto session = new_session(rq, account.id, hash_token(token));
                w.insert_session(session);
                done.sessions = [this, rq, account, hash = session.token_hash,
                                 label = current->label] {
                    log::write(log::level::info, "registered",
                               {{"conn", rq.conn->id()},
                                {"request", rq.id},
                                {"user", account.name},
                                {"invitation", label}});
                    attach_session(rq, account, hash);
                };
                done.reply = session_message(account, token);
                return done;
            });
        return answered_later();
    });
    return answered_later();
}

}  // namespace relais::core
