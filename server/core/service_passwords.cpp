// Passwords and sessions: changing one's password, the list of one's
// sessions, reset codes made by coordinators.
#include "server/core/log.hpp"
#include "server/core/service.hpp"
#include "server/core/validation.hpp"

namespace relais::core {
namespace {

constexpr std::int64_t reset_lifetime_ms = 24 * 60 * 60 * 1000;
// What EndSession names a session by: enough of the token's hash to be
// unique among one person's sessions, too little to say anything of it.
constexpr std::size_t session_id_size = 12;

std::string session_id(const std::string& token_hash) {
    return token_hash.substr(0, session_id_size);
}

// Coordinators reset the passwords of mediators; admins, anyone's.
bool may_reset(const v1::User& caller, const storage::account& target) {
    return caller.role() == v1::ADMIN ||
           (caller.role() == v1::COORDINATOR && target.role == v1::MEDIATOR);
}

}  // namespace

void service::session_to_wire(const storage::session_record& s, const request& rq,
                              v1::SessionInfo& out) {
    out.set_client_name(s.client_name);
    out.set_device(s.device);
    out.set_created_at_ms(s.created_at_ms);
    out.set_last_seen_ms(s.last_seen_ms);
    out.set_current(s.token_hash == rq.who.token_hash.hex());
}

service::handled service::on_change_password(const request& rq, const v1::ClientMessage& msg) {
    const auto& ask = msg.change_password();
    if (ask.old_password().size() > config_.limits.max_password_bytes) {
        return fail(errc::too_large, "password too long");
    }
    if (auto ok = check_new_password(ask.new_password(), config_.limits); !ok) {
        return ok.error();
    }
    const auto& name = rq.who.user.name();
    if (auto wait = throttle_.wait_ms(name, rq.conn->remote_address(), clock_.now_ms());
        wait != 0) {
        return fail(errc::rate_limited, "too many wrong passwords; wait before trying again", wait);
    }
    // Argon2, twice, on a reader thread.
    read(rq, [this, rq, ask](storage::reader& r) -> handled {
        auto account = r.find_account(rq.who.user.id());
        if (!account) {
            return fail(errc::unauthenticated, "this account no longer exists");
        }
        if (!verify_password(account->password_hash, ask.old_password())) {
            // A stolen session must not be a way to guess the password.
            throttle_.failed(account->name, rq.conn->remote_address(), clock_.now_ms());
            return fail(errc::unauthenticated, "the current password is wrong");
        }
        throttle_.succeeded(account->name);
        auto hash = hash_password(ask.new_password());
        write(rq, [this, rq, hash](storage::writer& w) -> outcome<effects> {
            const auto user = rq.who.user.id();
            const auto kept = rq.who.token_hash.hex();
            w.set_password_hash(user, hash);
            for (const auto& s : w.sessions_of(user)) {
                if (s.token_hash != kept) {
                    w.delete_session(s.token_hash);
                }
            }
            w.delete_password_reset(user);
            return effects{.sessions = [this, user, kept] {
                for (const auto& conn : hub_.close_user_except(
                         user, "your password was changed; log in again", kept)) {
                    on_close(conn);
                }
            }};
        });
        return answered_later();
    });
    return answered_later();
}

service::handled service::on_list_sessions(const request& rq, const v1::ClientMessage&) {
    read(rq, [this, rq](storage::reader& r) -> handled {
        const auto live = hub_.sessions_of(rq.who.user.id());
        v1::ServerMessage out;
        auto& list = *out.mutable_sessions();
        for (const auto& s : r.sessions_of(rq.who.user.id())) {
            auto& info = *list.add_sessions();
            session_to_wire(s, rq, info);
            info.set_id(session_id(s.token_hash));
            info.set_connected(std::find(live.begin(), live.end(), s.token_hash) != live.end());
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_end_session(const request& rq, const v1::ClientMessage& msg) {
    const auto id = msg.end_session().id();
    if (id.size() != session_id_size) {
        return fail(errc::bad_request, "a session's id has " + std::to_string(session_id_size) +
                                           " characters, as the list of sessions shows it");
    }
    const auto current = rq.who.token_hash.hex();
    if (session_id(current) == id) {
        return fail(errc::bad_request, "this is the session you are using: log out instead");
    }
    write(rq, [this, rq, id](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        for (const auto& s : w.sessions_of(user)) {
            if (session_id(s.token_hash) == id) {
                w.delete_session(s.token_hash);
                return effects{.sessions = [this, user, hash = s.token_hash] {
                    end_sessions(user, "this session was ended from another one", hash);
                }};
            }
        }
        return fail(errc::not_found, "you have no session '" + id + "'");
    });
    return answered_later();
}

service::handled service::on_create_password_reset(const request& rq,
                                                   const v1::ClientMessage& msg) {
    const auto& caller = rq.who.user;
    if (caller.role() != v1::COORDINATOR && caller.role() != v1::ADMIN) {
        return fail(errc::forbidden, "only coordinators and admins reset passwords");
    }
    const auto name = msg.create_password_reset().user();
    write(rq, [this, caller, name](storage::writer& w) -> outcome<effects> {
        auto target = w.find_account(name);
        if (!target) {
            return fail(errc::not_found, "no user '" + name + "'");
        }
        if (!may_reset(caller, *target)) {
            return fail(errc::forbidden,
                        "a coordinator resets the passwords of mediators only; ask an admin");
        }
        const auto code = new_invitation_code();
        storage::password_reset_record reset;
        reset.user = target->id;
        reset.code_hash = hash_token(code);
        reset.created_by = caller.id();
        reset.created_at_ms = clock_.now_ms();
        reset.expires_at_ms = reset.created_at_ms + reset_lifetime_ms;
        w.put_password_reset(reset);
        audit(w, caller.id(), "password_reset_code", target->id, 0, "", "");
        effects done;
        auto& out = *done.reply.emplace().mutable_password_reset();
        out.set_user(target->name);
        out.set_code(code);
        out.set_expires_at_ms(reset.expires_at_ms);
        return done;
    });
    return answered_later();
}

service::handled service::on_reset_password(const request& rq, const v1::ClientMessage& msg) {
    const auto& ask = msg.reset_password();
    const auto& address = rq.conn->remote_address();
    if (auto wait = throttle_.wait_ms("", address, clock_.now_ms()); wait != 0) {
        return fail(errc::rate_limited, "too many wrong codes; wait before trying again", wait);
    }
    if (ask.user().size() > config_.limits.max_name_bytes) {
        return fail(errc::too_large, "name too long");
    }
    if (auto ok = check_new_password(ask.new_password(), config_.limits); !ok) {
        return ok.error();
    }
    // One answer for a wrong code and a code of someone else's: a guess
    // learns nothing.
    const auto unknown = fail(errc::forbidden, "unknown or already used reset code");
    if (!is_well_formed_invitation_code(ask.code())) {
        throttle_.failed("", address, clock_.now_ms());
        return unknown;
    }
    read(rq, [this, rq, ask, unknown](storage::reader& r) -> handled {
        const auto code_hash = hash_token(ask.code());
        auto reset = r.find_password_reset(code_hash);
        auto account = r.find_account(ask.user());
        if (!reset || !account || reset->user != account->id) {
            throttle_.failed("", rq.conn->remote_address(), clock_.now_ms());
            return unknown;
        }
        if (reset->expires_at_ms <= clock_.now_ms()) {
            return fail(errc::forbidden, "this reset code has expired; ask for a new one");
        }
        auto hash = hash_password(ask.new_password());
        auto token = new_token();
        write(rq,
              [this, rq, code_hash, account = *account, hash,
               token](storage::writer& w) mutable -> outcome<effects> {
                  // Checked again: the code may have been used, or replaced,
                  // since the read.
                  auto current = w.find_password_reset(code_hash);
                  if (!current || current->user != account.id) {
                      return fail(errc::forbidden, "unknown or already used reset code");
                  }
                  if (current->expires_at_ms <= clock_.now_ms()) {
                      return fail(errc::forbidden,
                                  "this reset code has expired; ask for a new one");
                  }
                  w.set_password_hash(account.id, hash);
                  w.delete_password_reset(account.id);
                  w.delete_sessions_of(account.id);
                  auto session = new_session(rq, account.id, hash_token(token));
                  w.insert_session(session);
                  effects done;
                  done.sessions = [this, rq, account, hash = session.token_hash] {
                      end_sessions(account.id, "your password was reset; log in again", "");
                      log::write(
                          log::level::info, "password_reset",
                          {{"conn", rq.conn->id()}, {"request", rq.id}, {"user", account.name}});
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
