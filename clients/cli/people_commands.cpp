// `relais invitation create|list|revoke`: how coordinators let newcomers in;
// `relais password reset` and `relais devices`: passwords and sessions.
// (`relais register` and `relais password redeem|change`, which need no
// login or one of their own, are in main.cpp.)
#include <boost/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
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

const char* network_role_label(v1::NetworkRole r) {
    switch (r) {
        case v1::NETWORK_ROLE_MEDIATOR:
            return tr(words{"médiateur·rice numérique", "digital mediator"});
        case v1::NETWORK_ROLE_DIGITAL_ADVISER:
            return tr(words{"conseiller·e numérique", "digital adviser"});
        case v1::NETWORK_ROLE_COORDINATOR:
            return tr(words{"coordinateur·rice", "coordinator"});
        case v1::NETWORK_ROLE_SOCIAL_WORKER:
            return tr(words{"travailleur·se social·e", "social worker"});
        case v1::NETWORK_ROLE_ELECTED:
            return tr(words{"élu·e", "elected official"});
        case v1::NETWORK_ROLE_OTHER:
            return tr(words{"autre", "other"});
        default:
            return "";
    }
}

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        out += (out.empty() ? "" : ", ") + item;
    }
    return out;
}

// A profile as `profile` and `whois` show it: one field a line, the empty
// ones left out.
void print_profile(const v1::Profile& p, bool json) {
    if (json) {
        std::cout << proto_json(p) << "\n";
        return;
    }
    auto line = [](const words& label, const std::string& value) {
        if (!value.empty()) {
            std::cout << tr(label) << value << "\n";
        }
    };
    line(words{"nom : ", "name: "}, p.user().name());
    line(words{"nom affiché : ", "display name: "}, p.user().display_name());
    line(words{"rôle dans le réseau : ", "role in the network: "},
         network_role_label(p.network_role()));
    line(words{"structure : ", "structure: "}, p.structure());
    line(words{"commune : ", "commune: "}, p.commune());
    line(words{"compétences : ", "skills: "}, joined(p.skills()));
    line(words{"présentation : ", "presentation: "}, p.presentation());
    line(words{"en ligne : ", "online: "},
         p.online() ? tr(words{"oui", "yes"}) : tr(words{"non", "no"}));
}

asio::awaitable<int> profile(client& c, const arguments& a) {
    v1::SetProfile m;
    if (auto s = option_value(a, "--structure")) {
        m.set_structure(*s);
    }
    if (auto code = option_value(a, "--commune")) {
        m.set_commune(*code);
    }
    if (auto name = option_value(a, "--name")) {
        m.set_display_name(*name);
    }
    if (auto role = option_value(a, "--role")) {
        m.set_network_role(
            choose<v1::NetworkRole>("--role", *role,
                                    {{"mediator", v1::NETWORK_ROLE_MEDIATOR},
                                     {"digital-adviser", v1::NETWORK_ROLE_DIGITAL_ADVISER},
                                     {"coordinator", v1::NETWORK_ROLE_COORDINATOR},
                                     {"social-worker", v1::NETWORK_ROLE_SOCIAL_WORKER},
                                     {"elected", v1::NETWORK_ROLE_ELECTED},
                                     {"other", v1::NETWORK_ROLE_OTHER}}));
    }
    if (auto text = option_value(a, "--presentation")) {
        m.set_presentation(*text);
    }
    const auto skills = option_values(a, "--skill");
    if (!skills.empty() || has_switch(a, "--no-skills")) {
        auto& list = *m.mutable_skills();
        for (const auto& skill : skills) {
            list.add_tags(skill);
        }
    }
    if (auto whose = option_value(a, "--of")) {
        m.set_user(*whose);
    }
    auto saved = co_await c.ask(std::move(m));
    if (!saved) {
        co_return report(saved.error());
    }
    print_profile(*saved, a.json);
    co_return 0;
}

asio::awaitable<int> whois(client& c, const arguments& a) {
    v1::GetProfile m;
    m.set_user(a.words.at(1));
    auto found = co_await c.ask(std::move(m));
    if (!found) {
        co_return report(found.error());
    }
    print_profile(*found, a.json);
    co_return 0;
}

asio::awaitable<int> people(client& c, const arguments& a) {
    v1::ListPeople m;
    m.set_commune(option_value(a, "--commune").value_or(""));
    m.set_structure(option_value(a, "--structure").value_or(""));
    m.set_skill(option_value(a, "--skill").value_or(""));
    auto found = co_await c.ask(std::move(m));
    if (!found) {
        co_return report(found.error());
    }
    for (const auto& p : found->people()) {
        if (a.json) {
            std::cout << proto_json(p) << "\n";
            continue;
        }
        // Name, then what tells people apart, tab-separated for scripts.
        std::cout << p.user().name() << "\t" << p.user().display_name() << "\t"
                  << network_role_label(p.network_role()) << "\t" << p.structure() << "\t"
                  << p.commune() << "\t" << joined(p.skills()) << "\n";
    }
    co_return 0;
}

asio::awaitable<int> mute(client& c, const arguments& a) {
    v1::Mute m;
    *m.mutable_channel() = ref(a, 1);
    m.set_user(a.words.at(2));
    const auto minutes = to_number(a.words.at(3));
    m.set_minutes(static_cast<std::uint32_t>(std::min<std::uint64_t>(minutes, UINT32_MAX)));
    m.set_reason(joined_words(a.words, 4));
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> unmute(client& c, const arguments& a) {
    v1::Mute m;
    *m.mutable_channel() = ref(a, 1);
    m.set_user(a.words.at(2));
    m.set_unmute(true);
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> ban(client& c, const arguments& a) {
    v1::Ban m;
    *m.mutable_channel() = ref(a, 1);
    m.set_user(a.words.at(2));
    m.set_reason(joined_words(a.words, 3));
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> unban(client& c, const arguments& a) {
    v1::Ban m;
    *m.mutable_channel() = ref(a, 1);
    m.set_user(a.words.at(2));
    m.set_unban(true);
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> report_message(client& c, const arguments& a) {
    v1::ReportMessage m;
    *m.mutable_channel() = ref(a, 1);
    m.set_seq(to_number(a.words.at(2)));
    m.set_reason(joined_words(a.words, 3));
    auto done = co_await c.ask(std::move(m));
    if (!done) {
        co_return report(done.error());
    }
    std::cout << tr(words{"signalement transmis aux modérateurs", "report sent to the moderators"})
              << "\n";
    co_return 0;
}

asio::awaitable<int> reports(client& c, const arguments& a) {
    v1::ListReports m;
    if (a.words.size() > 1) {
        *m.mutable_channel() = ref(a, 1);
    }
    m.set_include_resolved(has_switch(a, "--all"));
    auto found = co_await c.ask(std::move(m));
    if (!found) {
        co_return report(found.error());
    }
    for (const auto& r : found->reports()) {
        if (a.json) {
            std::cout << proto_json(r) << "\n";
            continue;
        }
        std::cout << r.id() << "  #" << r.channel_name() << " " << r.seq() << "  "
                  << local_time(r.at_ms(), "%Y-%m-%d %H:%M") << "  " << r.reporter().name() << " : "
                  << r.reason();
        if (r.has_resolved_by()) {
            std::cout << tr(words{"  [traité par ", "  [resolved by "}) << r.resolved_by().name()
                      << (r.resolution().empty() ? "" : " : " + r.resolution()) << "]";
        }
        std::cout << "\n    " << person(r.message().actor()) << " : "
                  << (r.message().message().deleted() ? tr(words{"(supprimé)", "(deleted)"})
                                                      : r.message().message().text())
                  << "\n";
    }
    co_return 0;
}

asio::awaitable<int> resolve(client& c, const arguments& a) {
    v1::ResolveReport m;
    m.set_report_id(to_number(a.words.at(1)));
    m.set_note(joined_words(a.words, 2));
    co_return co_await ask_done(c, std::move(m));
}

asio::awaitable<int> audit(client& c, const arguments& a) {
    v1::GetAuditLog m;
    m.set_limit(static_cast<std::uint32_t>(std::min<std::uint64_t>(a.limit.value_or(50), 500)));
    m.set_before_id(a.before.value_or(0));
    auto log = co_await c.ask(std::move(m));
    if (!log) {
        co_return report(log.error());
    }
    for (const auto& e : log->entries()) {
        if (a.json) {
            std::cout << proto_json(e) << "\n";
            continue;
        }
        // One tab-separated line an entry, as `relais-server audit` prints them.
        std::cout << e.id() << "\t" << local_time(e.at_ms(), "%Y-%m-%d %H:%M:%S") << "\t"
                  << (e.has_actor() ? e.actor().name() : "(serveur)") << "\t" << e.action() << "\t"
                  << e.subject().name() << "\t"
                  << (e.channel_name().empty() ? "" : "#" + e.channel_name()) << "\t" << e.reason()
                  << "\t" << e.detail() << "\n";
    }
    co_return 0;
}

// `relais export-my-data [--out FILE]`: everything the server holds about
// the caller, as one JSON document, from the pages the server sends.
asio::awaitable<int> export_my_data(client& c, const arguments& a) {
    namespace json = boost::json;
    auto as_json = [](const google::protobuf::Message& m) { return json::parse(proto_json(m)); };
    json::object doc;
    json::array events;
    std::uint64_t cursor = 0;
    do {
        v1::ExportMyData m;
        m.set_cursor(cursor);
        auto page = co_await c.ask(std::move(m));
        if (!page) {
            co_return report(page.error());
        }
        if (cursor == 0) {
            doc["exported_at"] = rfc3339(static_cast<std::int64_t>(std::time(nullptr)) * 1000);
            doc["server"] = a.server;
            doc["account_created_at"] = rfc3339(page->account_created_at_ms());
            doc["profile"] = as_json(page->profile());
            for (const auto& [key, list] :
                 std::initializer_list<std::pair<const char*, json::array>>{
                     {"memberships", {}},
                     {"sessions", {}},
                     {"meetings", {}},
                     {"invitations_created", {}}}) {
                doc[key] = list;
            }
            for (const auto& x : page->memberships()) {
                doc["memberships"].as_array().push_back(as_json(x));
            }
            for (const auto& x : page->sessions()) {
                doc["sessions"].as_array().push_back(as_json(x));
            }
            for (const auto& x : page->meetings()) {
                doc["meetings"].as_array().push_back(as_json(x));
            }
            for (const auto& x : page->invitations_created()) {
                doc["invitations_created"].as_array().push_back(as_json(x));
            }
        }
        for (const auto& e : page->events()) {
            events.push_back(as_json(e));
        }
        cursor = page->next_cursor();
    } while (cursor != 0);
    doc["events"] = std::move(events);
    const auto text = json::serialize(doc) + "\n";
    const auto out = option_value(a, "--out");
    if (!out) {
        std::cout << text;
        co_return 0;
    }
    // Personal data: readable by its owner only.
    const int fd = ::open(out->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()) ||
        ::close(fd) != 0) {
        std::cerr << "relais: " << *out << ": " << std::strerror(errno) << "\n";
        co_return 1;
    }
    std::cerr << tr(words{"vos données sont dans ", "your data is in "}) << *out << "\n";
    co_return 0;
}

// `relais retention CHANNEL DAYS`: says what the channel keeps now.
asio::awaitable<int> retention(client& c, const arguments& a) {
    v1::SetRetention m;
    *m.mutable_channel() = ref(a, 1);
    const auto days = to_number(a.words.at(2));
    m.set_days(static_cast<std::uint32_t>(std::min<std::uint64_t>(days, UINT32_MAX)));
    auto channel = co_await c.ask(std::move(m));
    if (!channel) {
        co_return report(channel.error());
    }
    const auto kept = channel->options().retention_days();
    if (kept == 0) {
        std::cout << "#" << channel->name()
                  << tr(words{" garde ses messages pour toujours", " keeps its messages forever"})
                  << "\n";
    } else {
        std::cout << "#" << channel->name()
                  << tr(words{" garde ses messages ", " keeps its messages for "}) << kept
                  << tr(words{" jour(s) ; les plus anciens sont effacés chaque jour",
                              " day(s); older ones are erased every day"})
                  << "\n";
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
        {"invitation create", create},
        {"invitation list", list},
        {"invitation revoke", revoke},
        {"password reset", reset_password},
        {"devices", devices},
        {"devices end", end_device},
        {"profile", profile},
        {"whois", whois},
        {"people", people},
        {"mute", mute},
        {"unmute", unmute},
        {"ban", ban},
        {"unban", unban},
        {"report", report_message},
        {"reports", reports},
        {"resolve", resolve},
        {"audit", audit},
        {"export-my-data", export_my_data},
        {"retention", retention},
    };
    return all;
}

}  // namespace relais::cli
