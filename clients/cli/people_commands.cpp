// `relais invitation create|list|revoke`: how coordinators let newcomers in;
// `relais password reset` and `relais devices`: passwords and sessions.
// (`relais register` and `relais password redeem|change`, which need no
// login or one of their own, are in main.cpp.)
#include <iostream>

#include "clients/cli/command_helpers.hpp"
#include "clients/cli/command_registry.hpp"
#include "clients/cli/messages.hpp"

namespace relais::cli {

namespace asio = boost::asio;
using client::client;

namespace {

const char* role_word(v1::Role r) {
    switch (r) {
        case v1::ADMIN:
            return "admin";
        case v1::COORDINATOR:
            return "coordinator";
        default:
            return "mediator";
    }
}

std::uint32_t whole(const arguments& a, const char* name) {
    const auto value = option_value(a, name);
    if (!value) {
        return 0;
    }
    const auto n = to_number(*value);
    if (n == 0 || n > 100000) {
        throw usage_error(std::string(name) + " " + *value + " : 1, 2, 3...");
    }
    return static_cast<std::uint32_t>(n);
}

asio::awaitable<int> create(client& c, const arguments& a) {
    v1::CreateInvitation m;
    m.set_uses(whole(a, "--uses"));
    m.set_expires_in_days(whole(a, "--expires"));
    if (auto role = option_value(a, "--role")) {
        m.set_role(choose<v1::Role>(
            "--role", *role,
            {{"mediator", v1::MEDIATOR}, {"coordinator", v1::COORDINATOR}, {"admin", v1::ADMIN}}));
    }
    for (const auto& name : option_values(a, "--channel")) {
        *m.add_channels() = client::by_name(name);
    }
    auto made = co_await c.ask(std::move(m));
    if (!made) {
        co_return report(made.error());
    }
    if (a.json) {
        std::cout << proto_json(*made) << "\n";
        co_return 0;
    }
    // The code alone on standard output, for scripts; the rest for people.
    std::cout << made->code() << "\n";
    std::cerr << tr(words{"invitation pour ", "invitation for "}) << made->uses()
              << tr(words{" personne(s), rôle ", " person(s), role "}) << role_word(made->role())
              << tr(words{", valable jusqu'au ", ", valid until "})
              << local_time(made->expires_at_ms(), "%Y-%m-%d %H:%M")
              << tr(words{" ; à redonner : relais register --invite CODE --user NOM",
                          "; to pass on: relais register --invite CODE --user NAME"})
              << "\n";
    co_return 0;
}

asio::awaitable<int> list(client& c, const arguments& a) {
    auto all = co_await c.ask(v1::ListInvitations{});
    if (!all) {
        co_return report(all.error());
    }
    for (const auto& i : all->invitations()) {
        if (a.json) {
            std::cout << proto_json(i) << "\n";
            continue;
        }
        std::string channels;
        for (const auto& name : i.channels()) {
            channels += " #" + name;
        }
        std::cout << i.label() << "…  " << i.used() << "/" << i.uses() << "  "
                  << role_word(i.role()) << "  "
                  << (i.revoked() ? tr(words{"révoquée", "revoked"})
                                  : std::string(tr(words{"jusqu'au ", "until "})) +
                                        local_time(i.expires_at_ms(), "%Y-%m-%d %H:%M"))
                  << "  " << (i.created_by().empty() ? "(serveur)" : i.created_by()) << channels
                  << "\n";
    }
    co_return 0;
}

asio::awaitable<int> revoke(client& c, const arguments& a) {
    v1::RevokeInvitation m;
    m.set_code(a.words.at(1));
    co_return co_await ask_done(c, std::move(m));
}

// The code alone on standard output, for scripts; the rest for people.
asio::awaitable<int> reset_password(client& c, const arguments& a) {
    v1::CreatePasswordReset m;
    m.set_user(a.words.at(1));
    auto made = co_await c.ask(std::move(m));
    if (!made) {
        co_return report(made.error());
    }
    if (a.json) {
        std::cout << proto_json(*made) << "\n";
        co_return 0;
    }
    std::cout << made->code() << "\n";
    std::cerr << tr(words{"code de réinitialisation pour ", "reset code for "}) << made->user()
              << tr(words{", valable jusqu'au ", ", valid until "})
              << local_time(made->expires_at_ms(), "%Y-%m-%d %H:%M")
              << tr(words{" ; à redonner : relais password redeem --code CODE --user ",
                          "; to pass on: relais password redeem --code CODE --user "})
              << made->user() << "\n";
    co_return 0;
}

asio::awaitable<int> devices(client& c, const arguments& a) {
    auto all = co_await c.ask(v1::ListSessions{});
    if (!all) {
        co_return report(all.error());
    }
    for (const auto& s : all->sessions()) {
        if (a.json) {
            std::cout << proto_json(s) << "\n";
            continue;
        }
        std::cout << s.id() << "  "
                  << (s.connected() ? tr(words{"connecté·e maintenant", "connected now"})
                                    : std::string(tr(words{"vu·e le ", "seen "})) +
                                          local_time(s.last_seen_ms(), "%Y-%m-%d %H:%M"))
                  << "  " << (s.client_name().empty() ? "?" : s.client_name());
        if (!s.device().empty()) {
            std::cout << tr(words{" sur ", " on "}) << s.device();
        }
        if (s.current()) {
            std::cout << tr(words{"  (celle-ci)", "  (this one)"});
        }
        std::cout << "\n";
    }
    co_return 0;
}

asio::awaitable<int> end_device(client& c, const arguments& a) {
    v1::EndSession m;
    m.set_id(a.words.at(1));
    co_return co_await ask_done(c, std::move(m));
}

}  // namespace

const std::vector<std::pair<const char*, action>>& people_actions() {
    static const std::vector<std::pair<const char*, action>> all = {
        {"invitation create", create}, {"invitation list", list},
        {"invitation revoke", revoke}, {"password reset", reset_password},
        {"devices", devices},          {"devices end", end_device},
    };
    return all;
}

}  // namespace relais::cli
