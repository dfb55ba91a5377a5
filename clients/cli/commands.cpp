// The one-shot subcommands of `relais`, for people and scripts.
#include "clients/cli/commands.hpp"

#include <boost/json.hpp>

#include <ctime>
#include <deque>
#include <iostream>
#include <map>
#include <sstream>

#include "clients/cli/command_registry.hpp"
#include "clients/cli/messages.hpp"

namespace relais::cli {

namespace asio = boost::asio;
namespace json = boost::json;
using client::client;

std::uint64_t to_number(const std::string& s) {
    auto n = parse_number(s);
    if (!n) {
        throw usage_error(std::string(tr(text::bad_number)) + ": " + s);
    }
    return *n;
}

namespace {

std::string rfc3339(std::int64_t ms) {
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
    return out;
}

// What a person or a script sees of one event.
class printer {
  public:
    printer(bool as_json, std::string channel) : json_(as_json), channel_(std::move(channel)) {}

    void print(const v1::Event& e) const {
        const std::string& author = e.actor().name();
        if (json_) {
            json::object o;
            o["channel"] = channel_;
            o["author"] = author;
            o["sent_at"] = rfc3339(e.at_ms());
            if (e.has_message()) {
                o["seq"] = e.seq();
                o["text"] = e.message().text();
                o["edited"] = e.message().edited_at_ms() != 0;
                o["deleted"] = e.message().deleted();
            } else if (e.has_edited()) {
                o["seq"] = e.edited().target_seq();
                o["event_seq"] = e.seq();
                o["text"] = e.edited().text();
                o["edited"] = true;
                o["deleted"] = false;
            } else if (e.has_deleted()) {
                o["seq"] = e.deleted().target_seq();
                o["event_seq"] = e.seq();
                o["text"] = "";
                o["edited"] = false;
                o["deleted"] = true;
            } else {
                return;  // scripts read messages; membership lives in `members`
            }
            std::cout << json::serialize(o) << "\n" << std::flush;
            return;
        }
        std::cout << "[" << local_time(e.at_ms(), "%Y-%m-%d %H:%M") << "] #" << e.seq() << " ";
        if (e.has_message()) {
            if (e.message().deleted()) {
                std::cout << author << " " << tr(text::deleted);
            } else {
                std::cout << author << ": " << e.message().text();
                if (e.message().edited_at_ms() != 0) {
                    std::cout << " " << tr(text::edited);
                }
            }
        } else if (e.has_edited()) {
            std::cout << author << " " << tr(text::edited_event) << " " << e.edited().target_seq()
                      << ": " << e.edited().text();
        } else if (e.has_deleted()) {
            std::cout << author << " " << tr(text::deleted_event) << " "
                      << e.deleted().target_seq();
        } else if (e.has_member()) {
            std::cout << describe_member_change(e.member(), author);
        } else if (e.has_created()) {
            std::cout << author << " " << tr(text::created);
        } else if (e.has_topic()) {
            std::cout << author << " " << tr(text::topic_changed) << " " << e.topic().topic();
        } else if (e.has_display_name()) {
            std::cout << describe_rename(e.display_name().display_name(), author);
        } else if (e.has_options()) {
            std::cout << describe_options_change(e.options().options(), author);
        }
        std::cout << "\n" << std::flush;
    }

  private:
    bool json_;
    std::string channel_;
};

std::string joined_words(const std::vector<std::string>& words, std::size_t from) {
    std::string out;
    for (std::size_t i = from; i < words.size(); ++i) {
        if (i > from) {
            out += " ";
        }
        out += words[i];
    }
    return out;
}

std::string text_from(const std::vector<std::string>& words, std::size_t from) {
    if (words.size() > from) {
        return joined_words(words, from);
    }
    std::ostringstream all;
    all << std::cin.rdbuf();
    std::string t = all.str();
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) {
        t.pop_back();
    }
    return t;
}

}  // namespace

// `options NAME invite|topic members|moderators`: one option at a time.
v1::SetChannelOptions options_request(const std::string& what, const std::string& who) {
    v1::SetChannelOptions set;
    if (what == "invite") {
        set.set_members_can_invite(who == "members");
    } else {
        set.set_members_can_set_topic(who == "members");
    }
    return set;
}

int report(const failure& f) {
    std::cerr << "relais: " << relais::cli::describe(f) << "\n";
    return 1;
}

namespace {

asio::awaitable<int> send_text(client& c, const arguments& a, const v1::ChannelRef& ref,
                               const std::string& label, const std::string& body) {
    if (body.empty()) {
        throw usage_error(tr(text::no_text));
    }
    auto sent = co_await c.send(ref, body);
    if (!sent) {
        co_return report(sent.error());
    }
    if (a.json) {
        printer(true, label).print(sent->event());
    } else {
        std::cout << sent->event().seq() << "\n";
    }
    co_return 0;
}

json::object channel_json(const v1::Channel& ch) {
    json::object o;
    o["channel"] = ch.name();
    o["id"] = ch.id();
    o["display_name"] = ch.display_name();
    o["topic"] = ch.topic();
    o["kind"] = ch.kind() == v1::PRIVATE  ? "private"
                : ch.kind() == v1::DIRECT ? "direct"
                                          : "public";
    o["members"] = ch.member_count();
    o["unread"] = ch.unread_count();
    o["member"] = ch.is_member();
    o["last_seq"] = ch.last_seq();
    o["members_can_invite"] = ch.options().members_can_invite();
    o["members_can_set_topic"] = ch.options().members_can_set_topic();
    return o;
}

int ok_or_report(const outcome<void>& r) {
    return r ? 0 : report(r.error());
}

v1::ChannelRef ref(const arguments& a, std::size_t i) {
    return client::by_name(a.words.at(i));
}

// One action per command of the registry (command_registry.hpp), by its
// name there; its words have been checked against the registry.
using action = asio::awaitable<int> (*)(client&, const arguments&);

asio::awaitable<int> list_channels(client& c, const arguments& a) {
    auto list = co_await c.list_channels();
    if (!list) {
        co_return report(list.error());
    }
    for (const auto& ch : *list) {
        if (a.json) {
            std::cout << json::serialize(channel_json(ch)) << "\n";
        } else {
            std::cout << describe_channel(ch) << "\n";
        }
    }
    co_return 0;
}

asio::awaitable<int> show_channel(client& c, const arguments& a) {
    v1::GetChannel get;
    *get.mutable_channel() = ref(a, 1);
    auto ch = co_await c.ask(std::move(get));
    if (!ch) {
        co_return report(ch.error());
    }
    if (a.json) {
        std::cout << json::serialize(channel_json(*ch)) << "\n";
    } else {
        std::cout << describe_channel(*ch) << "\n";
    }
    co_return 0;
}

asio::awaitable<int> create(client& c, const arguments& a) {
    v1::CreateChannel create;
    create.set_name(a.words[1]);
    create.set_topic(a.topic);
    create.set_display_name(a.display_name);
    create.set_private_(a.is_private);
    auto ch = co_await c.ask(std::move(create));
    if (!ch) {
        co_return report(ch.error());
    }
    std::cout << "#" << ch->name() << "\n";
    co_return 0;
}

asio::awaitable<int> join(client& c, const arguments& a) {
    auto ch = co_await c.join(ref(a, 1));
    if (!ch) {
        co_return report(ch.error());
    }
    std::cout << "#" << ch->name() << "\n";
    co_return 0;
}

asio::awaitable<int> leave(client& c, const arguments& a) {
    co_return ok_or_report(co_await c.leave(ref(a, 1)));
}

asio::awaitable<int> invite(client& c, const arguments& a) {
    co_return ok_or_report(co_await c.invite(ref(a, 1), a.words[2]));
}

asio::awaitable<int> kick(client& c, const arguments& a) {
    co_return ok_or_report(co_await c.kick(ref(a, 1), a.words[2]));
}

asio::awaitable<int> role(client& c, const arguments& a) {
    co_return ok_or_report(co_await c.set_member_role(
        ref(a, 1), a.words[2], a.words[3] == "moderator" ? v1::MODERATOR : v1::MEMBER));
}

asio::awaitable<int> topic(client& c, const arguments& a) {
    co_return ok_or_report(co_await c.set_topic(ref(a, 1), joined_words(a.words, 2)));
}

asio::awaitable<int> options(client& c, const arguments& a) {
    auto set = options_request(a.words[2], a.words[3]);
    *set.mutable_channel() = ref(a, 1);
    auto done = co_await c.ask(std::move(set));
    co_return done ? 0 : report(done.error());
}

asio::awaitable<int> rename(client& c, const arguments& a) {
    v1::SetDisplayName set;
    *set.mutable_channel() = ref(a, 1);
    set.set_display_name(joined_words(a.words, 2));
    auto done = co_await c.ask(std::move(set));
    co_return done ? 0 : report(done.error());
}

asio::awaitable<int> members(client& c, const arguments& a) {
    auto list = co_await c.members(ref(a, 1));
    if (!list) {
        co_return report(list.error());
    }
    for (const auto& m : *list) {
        if (a.json) {
            json::object o;
            o["user"] = m.user().name();
            o["display_name"] = m.user().display_name();
            o["role"] = m.role() == v1::OWNER       ? "owner"
                        : m.role() == v1::MODERATOR ? "moderator"
                                                    : "member";
            o["online"] = m.online();
            std::cout << json::serialize(o) << "\n";
            continue;
        }
        std::cout << m.user().name() << "\t" << (m.online() ? tr(text::online) : tr(text::offline))
                  << "\n";
    }
    co_return 0;
}

asio::awaitable<int> send(client& c, const arguments& a) {
    co_return co_await send_text(c, a, ref(a, 1), a.words[1], text_from(a.words, 2));
}

asio::awaitable<int> direct(client& c, const arguments& a) {
    auto ch = co_await c.open_direct(a.words[1]);
    if (!ch) {
        co_return report(ch.error());
    }
    co_return co_await send_text(c, a, client::by_id(ch->id()), a.words[1], text_from(a.words, 2));
}

asio::awaitable<int> edit(client& c, const arguments& a) {
    co_return ok_or_report(
        co_await c.edit(ref(a, 1), to_number(a.words[2]), joined_words(a.words, 3)));
}

asio::awaitable<int> erase(client& c, const arguments& a) {
    co_return ok_or_report(co_await c.erase(ref(a, 1), to_number(a.words[2])));
}

asio::awaitable<int> history(client& c, const arguments& a) {
    // --limit counts messages; the server pages events (joins, edits, ...),
    // so read pages until enough messages are in.
    const auto wanted = a.limit.value_or(50);
    const bool forward = a.after.has_value();
    std::uint64_t cursor = forward ? *a.after : a.before.value_or(0);
    std::deque<v1::Event> shown;
    std::uint64_t messages = 0;
    for (;;) {
        auto page = co_await c.history(ref(a, 1), forward ? 0 : cursor, forward ? cursor : 0,
                                       static_cast<std::uint32_t>(wanted));
        if (!page) {
            co_return report(page.error());
        }
        const auto& events = page->events();
        if (events.empty()) {
            break;
        }
        // Walk away from the cursor, keeping what fits in --limit.
        for (int k = 0; k < events.size() && messages < wanted; ++k) {
            const auto& e = events[forward ? k : events.size() - 1 - k];
            if (!e.has_message() && a.json) {
                continue;
            }
            messages += e.has_message();
            if (forward) {
                shown.push_back(e);
            } else {
                shown.push_front(e);
            }
        }
        cursor = forward ? events[events.size() - 1].seq() : events[0].seq();
        if (messages >= wanted || !page->has_more()) {
            break;
        }
    }
    printer p(a.json, a.words[1]);
    for (const auto& e : shown) {
        p.print(e);
    }
    co_return 0;
}

asio::awaitable<int> tail(client& c, const arguments& a) {
    auto ch = co_await c.join(ref(a, 1));
    if (!ch) {
        co_return report(ch.error());
    }
    printer p(a.json, a.words[1]);
    c.follow(ch->id(), ch->last_seq());
    std::uint64_t shown = 0;
    while (!a.count || shown < *a.count) {
        auto msg = co_await c.next_push(std::chrono::hours(24));
        if (!msg) {
            if (!c.connected() && c.reconnections() == 0) {
                co_return report(relais::fail(relais::errc::unavailable, ""));
            }
            continue;
        }
        if (msg->has_event() && msg->event().channel_id() == ch->id()) {
            const auto& e = msg->event();
            if (e.has_message() || e.has_edited() || e.has_deleted() || !a.json) {
                p.print(e);
                ++shown;
            }
        }
    }
    co_return 0;
}

const std::map<std::string_view, action>& actions() {
    static const std::map<std::string_view, action> all = {
        {"channels", list_channels},
        {"channel", show_channel},
        {"create", create},
        {"join", join},
        {"leave", leave},
        {"invite", invite},
        {"kick", kick},
        {"role", role},
        {"topic", topic},
        {"options", options},
        {"rename", rename},
        {"members", members},
        {"send", send},
        {"dm", direct},
        {"edit", edit},
        {"delete", erase},
        {"history", history},
        {"tail", tail},
    };
    return all;
}

}  // namespace

std::optional<std::string> check_command(const arguments& a) {
    const auto* cmd = find_command(a.words.at(0), front::cli);
    if (!cmd) {
        return std::string(tr(text::unknown_command)) + ": " + a.words[0];
    }
    return check_arguments(*cmd, front::cli, a.words, a.options_given);
}

asio::awaitable<int> run_command(client& c, const arguments& a) {
    if (auto problem = check_command(a)) {
        throw usage_error(*problem);
    }
    auto it = actions().find(a.words[0]);
    if (it == actions().end()) {
        // In the registry without an action here: a bug of this program.
        throw std::logic_error("no action for the command " + a.words[0]);
    }
    co_return co_await it->second(c, a);
}

}  // namespace relais::cli
