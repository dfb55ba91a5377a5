// Hello, login, resume and logout.
#include "server/core/service.hpp"

#include "server/core/log.hpp"
#include "server/core/validation.hpp"

namespace relais::core {
namespace {

constexpr std::size_t client_words_bytes = 100;

}  // namespace

storage::session_record service::new_session(const request& rq, storage::user_id user,
                                             std::string token_hash) {
    storage::session_record s;
    s.token_hash = std::move(token_hash);
    s.user = user;
    s.created_at_ms = clock_.now_ms();
    s.last_seen_ms = s.created_at_ms;
    std::tie(s.client_name, s.device) = rq.conn->client_and_device();
    return s;
}

void service::touch_session(const std::string& token_hash) {
    if (stopping_) {
        return;  // the store is closing; the last sight is lost, not the data
    }
    store_.write({[token_hash, at = clock_.now_ms()](storage::writer& w) {
                      w.touch_session(token_hash, at);
                      return true;
                  },
                  [](bool) {}});
}

service::handled service::on_hello(const request& rq, const v1::ClientMessage& msg) {
    if (rq.conn->greeted()) {
        return fail(errc::bad_request, "Hello was already sent on this connection");
    }
    if (msg.hello().protocol_version() != protocol::protocol_version) {
        // Answered here, not returned: the close must follow the answer.
        reply_error(rq, fail(errc::bad_request,
                             "protocol version " + std::to_string(msg.hello().protocol_version()) +
                                 " is not supported; this server speaks version " +
                                 std::to_string(protocol::protocol_version)));
        rq.conn->close("unsupported protocol version");
        return answered_later();
    }
    const auto& hello = msg.hello();
    // Shown to the account's owner in their list of sessions: bounded and
    // visible, as a display name is.
    auto client_name = visible_name("client name", hello.client_name(), client_words_bytes);
    auto device = visible_name("device", hello.device(), client_words_bytes);
    if (!client_name || !device) {
        return !client_name ? client_name.error() : device.error();
    }
    rq.conn->set_greeted(std::move(*client_name), std::move(*device));
    v1::ServerMessage out;
    auto& welcome = *out.mutable_welcome();
    welcome.set_server_version(config_.server_version);
    welcome.set_protocol_version(protocol::protocol_version);
    protocol::to_wire(config_.limits, *welcome.mutable_limits());
    return out;
}

v1::User user_of(const storage::account& account) {
    v1::User user;
    user.set_id(account.id);
    user.set_name(account.name);
    user.set_display_name(account.display_name);
    user.set_role(account.role);
    user.set_erased(account.erased_at_ms != 0);
    return user;
}

v1::ServerMessage service::session_message(const storage::account& account, std::string token) {
    v1::ServerMessage out;
    auto& session = *out.mutable_session();
    session.set_token(std::move(token));
    *session.mutable_user() = user_of(account);
    return out;
}

void service::attach_session(const request& rq, const storage::account& account,
                             const std::string& token_hash) {
    auto user = user_of(account);
    if (auto previous = rq.conn->who()) {
        // A second login on the same connection replaces the first.
        if (hub_.detach(previous->user.id(), rq.conn.get())) {
            publish_presence(previous->user, false);
        }
    }
    rq.conn->set_who(identity{user, token_digest(token_hash)});
    log::write(log::level::info, rq.kind == v1::ClientMessage::kResume ? "resumed" : "logged_in",
               {{"conn", rq.conn->id()},
                {"request", rq.id},
                {"user", account.name},
                {"address", rq.conn->remote_address()}});
    if (hub_.attach(account.id, rq.conn)) {
        publish_presence(user, true);
    }
}

service::handled service::on_login(const request& rq, const v1::ClientMessage& msg) {
    const auto& login = msg.login();
    if (login.name().size() > config_.limits.max_name_bytes ||
        login.password().size() > config_.limits.max_password_bytes) {
        return fail(errc::too_large, "name or password too long");
    }
    const auto& address = rq.conn->remote_address();
    if (auto wait = throttle_.wait_ms(login.name(), address, clock_.now_ms()); wait != 0) {
        return fail(errc::rate_limited, "too many failed logins; wait before trying again", wait);
    }
    // The Argon2 check runs on a storage reader thread: it is slow on purpose
    // and must not hold up the network threads.
    read(rq, [this, rq, login](storage::reader& r) -> handled {
        auto account = r.find_account(login.name());
        const std::string& hash = account ? account->password_hash : decoy_password_hash();
        bool password_ok = verify_password(hash, login.password());
        if (!account || !password_ok || account->disabled) {
            throttle_.failed(login.name(), rq.conn->remote_address(), clock_.now_ms());
            // The name only when it is an account's: a password typed into
            // the name field must not reach the log.
            log::write(log::level::warn, "login_failed",
                       {{"conn", rq.conn->id()},
                        {"request", rq.id},
                        {"user", account ? account->name : std::string("unknown")},
                        {"address", rq.conn->remote_address()}});
            // One answer for unknown name, wrong password and disabled
            // account, so that the answer tells nothing about the account.
            return fail(errc::unauthenticated, "wrong name or password");
        }
        throttle_.succeeded(login.name());
        auto token = new_token();
        auto token_hash = hash_token(token);
        auto session = new_session(rq, account->id, token_hash);
        write(
            rq,
            [this, rq, session, account = *account, token](storage::writer& w) -> outcome<effects> {
                w.insert_session(session);
                return effects{
                    .sessions = [this, rq, account,
                                 hash = session.token_hash] { attach_session(rq, account, hash); },
                    .reply = session_message(account, token)};
            });
        return answered_later();
    });
    return answered_later();
}

service::handled service::on_resume(const request& rq, const v1::ClientMessage& msg) {
    const auto& token = msg.resume().token();
    const auto& address = rq.conn->remote_address();
    if (auto wait = throttle_.wait_ms("", address, clock_.now_ms()); wait != 0) {
        return fail(errc::rate_limited, "too many failed logins; wait before trying again", wait);
    }
    const auto ended =
        fail(errc::unauthenticated, "this session has ended; log in again with your password");
    if (!is_well_formed_token(token)) {
        throttle_.failed("", address, clock_.now_ms());
        return ended;
    }
    read(rq, [this, rq, token, ended](storage::reader& r) -> handled {
        auto token_hash = hash_token(token);
        auto session = r.find_session(token_hash);
        auto account = session ? r.find_account(session->user) : std::nullopt;
        if (!account || account->disabled) {
            throttle_.failed("", rq.conn->remote_address(), clock_.now_ms());
            return ended;
        }
        attach_session(rq, *account, token_hash);
        touch_session(token_hash);
        auto out = session_message(*account, token);
        return out;
    });
    return answered_later();
}

service::handled service::on_logout(const request& rq, const v1::ClientMessage&) {
    write(rq, [this, rq](storage::writer& w) -> outcome<effects> {
        w.delete_session(rq.who.token_hash.hex());
        return effects{.sessions = [this, rq] {
            rq.conn->set_who(std::nullopt);
            if (hub_.detach(rq.who.user.id(), rq.conn.get())) {
                publish_presence(rq.who.user, false);
            }
            // Every other connection that used this token ends with it,
            // before the logout is confirmed.
            end_sessions(rq.who.user.id(), "logged out", rq.who.token_hash.hex());
        }};
    });
    return answered_later();
}

void service::end_sessions(user_id user, const std::string& reason, const std::string& token_hash) {
    // The close frame goes out after whatever is queued; until the socket
    // is gone a request may still arrive: it finds no login and no events
    // reach the connection any more.
    for (const auto& conn : hub_.close_user(user, reason, token_hash)) {
        on_close(conn);
    }
}

void service::check_sessions() {
    store_.read([this](storage::reader& r) {
        try {
            // Most of the time nothing changed: one row read, not two
            // lookups per live connection.
            const auto changes = r.auth_changes();
            if (changes == auth_changes_seen_.load()) {
                return;
            }
            for (const auto& [user, token_hash] : hub_.sessions()) {
                auto session = r.find_session(token_hash);
                auto account = session ? r.find_account(user) : std::nullopt;
                if (!account || account->disabled) {
                    end_sessions(user, "your session has ended; log in again", token_hash);
                }
            }
            // Changes made during the pass are seen at the next one.
            auth_changes_seen_ = changes;
        } catch (const std::exception& e) {
            log::write(log::level::error, "session_check_failed", {{"error", e.what()}});
        }
    });
}

}  // namespace relais::core
