// The one-shot subcommands of `relais`, for people and scripts.
#include "clients/cli/commands.hpp"

#include <boost/json.hpp>

#include <ctime>
#include <deque>
#include <iostream>
#include <sstream>

#include "clients/cli/messages.hpp"

namespace relais::cli {

namespace asio = boost::asio;
namespace json = boost::json;
using client::client;

std::uint64_t to_number(const std::string& s) {
    std::size_t used = 0;
    unsigned long long n = 0;
    try {
        n = std::stoull(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != s.size() || s.empty() || s[0] == '-') {
        throw usage_error(std::string(tr(text::bad_number)) + ": " + s);
    }
    return n;
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

int report(const failure& f) {
    std::cerr << "relais: " << relais::cli::describe(f) << "\n";
    return 1;
}

namespace {

void need(const arguments& a, std::size_t words) {
    if (a.words.size() < words) {
        throw usage_error(tr(text::usage));
    }
}

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

}  // namespace

asio::awaitable<int> run_command(client& c, const arguments& a) {
    const auto& w = a.words;
    const std::string& command = w[0];
    auto ref = [&](std::size_t i) { return client::by_name(w.at(i)); };
    auto ok_or_report = [](const outcome<void>& r) {
        if (!r) {
            return report(r.error());
        }
        return 0;
    };
    if (command == "channels") {
        auto list = co_await c.list_channels();
        if (!list) {
            co_return report(list.error());
        }
        for (const auto& ch : *list) {
            if (a.json) {
                json::object o;
                o["channel"] = ch.name();
                o["id"] = ch.id();
                o["topic"] = ch.topic();
                o["kind"] = ch.kind() == v1::PRIVATE  ? "private"
                            : ch.kind() == v1::DIRECT ? "direct"
                                                      : "public";
                o["members"] = ch.member_count();
                o["unread"] = ch.unread_count();
                o["member"] = ch.is_member();
                o["last_seq"] = ch.last_seq();
                std::cout << json::serialize(o) << "\n";
                continue;
            }
            std::cout << (ch.kind() == v1::DIRECT ? "@" : "#") << ch.name() << "  ("
                      << ch.member_count() << " " << tr(text::members_word);
            if (ch.is_member()) {
                std::cout << ", " << ch.unread_count() << " " << tr(text::unread_word);
            }
            if (ch.kind() == v1::PRIVATE) {
                std::cout << ", " << tr(text::private_word);
            }
            std::cout << ")";
            if (!ch.topic().empty()) {
                std::cout << "  " << ch.topic();
            }
            std::cout << "\n";
        }
        co_return 0;
    }
    if (command == "create") {
        need(a, 2);
        auto ch = co_await c.create_channel(w[1], a.topic, a.is_private);
        if (!ch) {
            co_return report(ch.error());
        }
        std::cout << "#" << ch->name() << "\n";
        co_return 0;
    }
    if (command == "join") {
        need(a, 2);
        auto ch = co_await c.join(ref(1));
        if (!ch) {
            co_return report(ch.error());
        }
        std::cout << "#" << ch->name() << "\n";
        co_return 0;
    }
    if (command == "leave") {
        need(a, 2);
        co_return ok_or_report(co_await c.leave(ref(1)));
    }
    if (command == "invite") {
        need(a, 3);
        co_return ok_or_report(co_await c.invite(ref(1), w[2]));
    }
    if (command == "kick") {
        need(a, 3);
        co_return ok_or_report(co_await c.kick(ref(1), w[2]));
    }
    if (command == "role") {
        need(a, 4);
        if (w[3] != "moderator" && w[3] != "member") {
            throw usage_error(tr(text::usage));
        }
        co_return ok_or_report(co_await c.set_member_role(
            ref(1), w[2], w[3] == "moderator" ? v1::MODERATOR : v1::MEMBER));
    }
    if (command == "members") {
        need(a, 2);
        auto list = co_await c.members(ref(1));
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
            std::cout << m.user().name() << "\t"
                      << (m.online() ? tr(text::online) : tr(text::offline)) << "\n";
        }
        co_return 0;
    }
    if (command == "send") {
        need(a, 2);
        co_return co_await send_text(c, a, ref(1), w[1], text_from(w, 2));
    }
    if (command == "dm") {
        need(a, 2);
        auto ch = co_await c.open_direct(w[1]);
        if (!ch) {
            co_return report(ch.error());
        }
        co_return co_await send_text(c, a, client::by_id(ch->id()), w[1], text_from(w, 2));
    }
    if (command == "edit") {
        need(a, 4);
        co_return ok_or_report(co_await c.edit(ref(1), to_number(w[2]), joined_words(w, 3)));
    }
    if (command == "delete") {
        need(a, 3);
        co_return ok_or_report(co_await c.erase(ref(1), to_number(w[2])));
    }
    if (command == "history") {
        need(a, 2);
        // --limit counts messages; the server pages events (joins, edits,
        // ...), so read pages until enough messages are in.
        const auto wanted = a.limit.value_or(50);
        const bool forward = a.after.has_value();
        std::uint64_t cursor = forward ? *a.after : a.before.value_or(0);
        std::deque<v1::Event> shown;
        std::uint64_t messages = 0;
        for (;;) {
            auto page = co_await c.history(ref(1), forward ? 0 : cursor, forward ? cursor : 0,
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
        printer p(a.json, w[1]);
        for (const auto& e : shown) {
            p.print(e);
        }
        co_return 0;
    }
    if (command == "tail") {
        need(a, 2);
        auto ch = co_await c.join(ref(1));
        if (!ch) {
            co_return report(ch.error());
        }
        printer p(a.json, w[1]);
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
    throw usage_error(std::string(tr(text::unknown_command)) + ": " + command);
}

// Logs in: an explicit password always logs in afresh; otherwise the cached
// token resumes the session, and only when it is refused is the password
// asked for. The token is cached for next time.

}  // namespace relais::cli
