#include "server/core/accounts.hpp"

#include <algorithm>
#include <future>
#include <optional>

#include "server/core/credentials.hpp"
#include "server/core/validation.hpp"

namespace relais::core {

outcome<void> accounts::check_password(std::string_view password) const {
    if (password.empty()) {
        return fail(errc::bad_request, "the password is empty");
    }
    if (password.size() > limits_.max_password_bytes) {
        return fail(errc::too_large, "the password is longer than " +
                                         std::to_string(limits_.max_password_bytes) + " bytes");
    }
    return {};
}

namespace {

// What is done on the server's machine has no actor in the audit log.
void machine_audit(storage::writer& w, std::int64_t at_ms, std::string action,
                   storage::user_id subject, std::string detail = {}) {
    storage::audit_record a;
    a.at_ms = at_ms;
    a.action = std::move(action);
    a.subject = subject;
    a.detail = std::move(detail);
    w.append_audit(a);
}

}  // namespace

outcome<storage::account> accounts::add(std::string_view name, std::string_view password,
                                        v1::Role role, std::string_view display_name) {
    if (auto ok = check_user_name(name, limits_); !ok) {
        return ok.error();
    }
    auto shown = check_display_name(display_name, limits_);
    if (!shown) {
        return shown.error();
    }
    if (auto ok = check_password(password); !ok) {
        return ok.error();
    }
    storage::account a;
    a.name = name;
    a.display_name = shown->empty() ? std::string(name) : *shown;
    a.role = role;
    a.password_hash = hash_password(password);
    a.created_at_ms = clock_.now_ms();
    bool taken = false;
    bool committed = storage::write_now(store_, [&](storage::writer& w) {
        if (w.find_account(a.name)) {
            taken = true;
            return false;
        }
        a.id = w.insert_account(a);
        machine_audit(w, a.created_at_ms, "user_add", a.id, v1::Role_Name(a.role));
        return true;
    });
    if (taken) {
        return fail(errc::conflict, "a user named '" + a.name + "' already exists");
    }
    if (!committed) {
        return fail(errc::unavailable, "the account could not be saved");
    }
    return a;
}

outcome<std::vector<accounts::issued>> accounts::add_bots(std::string_view prefix,
                                                          std::size_t count) {
    if (auto ok = check_user_name(std::string(prefix) + "0", limits_); !ok) {
        return ok.error();
    }
    std::vector<issued> tokens;
    std::string taken;
    const auto now = clock_.now_ms();
    bool committed = storage::write_now(store_, [&](storage::writer& w) {
        tokens.clear();
        for (std::size_t i = 0; i < count; ++i) {
            storage::account a;
            a.name = std::string(prefix) + std::to_string(i);
            if (w.find_account(a.name)) {
                taken = a.name;
                return false;
            }
            a.display_name = a.name;
            a.role = v1::MEDIATOR;
            // Not an Argon2 string: no password ever matches it.
            a.password_hash = "!bot";
            a.created_at_ms = now;
            a.id = w.insert_account(a);
            auto token = new_token();
            storage::session_record session;
            session.token_hash = hash_token(token);
            session.user = a.id;
            session.created_at_ms = now;
            session.client_name = "relais-server user add-bots";
            w.insert_session(session);
            tokens.push_back({a.name, std::move(token)});
        }
        return true;
    });
    if (!taken.empty()) {
        return fail(errc::conflict, "a user named '" + taken + "' already exists");
    }
    if (!committed) {
        return fail(errc::unavailable, "the accounts could not be saved");
    }
    return tokens;
}

std::vector<storage::account> accounts::list() {
    return storage::read_now(store_, [](storage::reader& r) { return r.list_accounts(); });
}

outcome<void> accounts::update(
    std::string_view name, const std::function<void(storage::writer&, storage::user_id)>& change) {
    bool found = false;
    bool committed = storage::write_now(store_, [&](storage::writer& w) {
        auto a = w.find_account(name);
        if (!a) {
            return false;
        }
        found = true;
        change(w, a->id);
        // Whatever changed, the account's open sessions end with it.
        w.delete_sessions_of(a->id);
        return true;
    });
    if (!found) {
        return fail(errc::not_found, "no user '" + std::string(name) + "'");
    }
    if (!committed) {
        return fail(errc::unavailable, "the change could not be saved");
    }
    return {};
}

outcome<void> accounts::set_disabled(std::string_view name, bool disabled) {
    return update(name, [this, disabled](storage::writer& w, storage::user_id id) {
        w.set_account_disabled(id, disabled);
        machine_audit(w, clock_.now_ms(), disabled ? "user_disable" : "user_enable", id);
    });
}

outcome<void> accounts::set_password(std::string_view name, std::string_view password) {
    if (auto ok = check_password(password); !ok) {
        return ok.error();
    }
    auto hash = hash_password(password);
    return update(name, [this, &hash](storage::writer& w, storage::user_id id) {
        w.set_password_hash(id, hash);
        machine_audit(w, clock_.now_ms(), "user_passwd", id);
    });
}

outcome<void> accounts::set_profile(std::string_view name, std::optional<std::string> structure,
                                    std::optional<std::string> commune) {
    if (structure) {
        auto checked = visible_name("structure", *structure, limits_.max_title_bytes);
        if (!checked) {
            return checked.error();
        }
        structure = std::move(*checked);
    }
    if (commune) {
        if (auto ok = check_commune(*commune); !ok) {
            return ok.error();
        }
    }
    bool found = false;
    const bool committed = storage::write_now(store_, [&](storage::writer& w) {
        auto a = w.find_account(name);
        if (!a) {
            return false;
        }
        found = true;
        a->structure = structure.value_or(a->structure);
        a->commune = commune.value_or(a->commune);
        w.set_profile(*a);
        return true;
    });
    if (!found) {
        return fail(errc::not_found, "no user '" + std::string(name) + "'");
    }
    if (!committed) {
        return fail(errc::unavailable, "the change could not be saved");
    }
    return {};
}

outcome<std::uint64_t> accounts::erase(std::string_view name, messages_become messages) {
    bool found = false, last_admin = false;
    std::uint64_t tombstones = 0;
    storage::user_id id = 0;
    const auto now = clock_.now_ms();
    const bool committed = storage::write_now(store_, [&](storage::writer& w) {
        auto a = w.find_account(name);
        if (!a) {
            return false;
        }
        found = true;
        id = a->id;
        if (a->erased_at_ms != 0) {
            return false;  // erased already ("#<id>"): only the scrub again
        }
        if (a->role == v1::ADMIN) {
            const auto all = w.list_accounts();
            last_admin = std::none_of(all.begin(), all.end(), [&](const storage::account& o) {
                return o.id != a->id && o.role == v1::ADMIN && !o.disabled && o.erased_at_ms == 0;
            });
            if (last_admin) {
                return false;
            }
        }
        tombstones = w.erase_account(a->id, now, messages == messages_become::removed);
        // The log names the account by its id, as every entry does: what
        // was done to and by "#<id>" stays on record, not who they were.
        machine_audit(w, now, "user_erase", a->id,
                      std::to_string(tombstones) + " message(s)" +
                          (messages == messages_become::removed ? " removed" : ""));
        return true;
    });
    if (!found) {
        return fail(errc::not_found, "no user '" + std::string(name) + "'");
    }
    if (last_admin) {
        return fail(errc::forbidden,
                    "'" + std::string(name) +
                        "' is the last admin who can log in: make another admin first");
    }
    if (!committed) {
        return fail(errc::unavailable, "the account could not be erased");
    }
    std::promise<bool> scrubbed;
    store_.scrub([&](bool ok) { scrubbed.set_value(ok); });
    if (!scrubbed.get_future().get()) {
        return fail(errc::unavailable,
                    "the account is erased, but its words may still be in the files: run "
                    "`relais-server user erase '#" +
                        std::to_string(id) + "'` to scrub them");
    }
    return tombstones;
}

}  // namespace relais::core
