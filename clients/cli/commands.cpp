// The one-shot subcommands of `relais`, for people and scripts.
#include "clients/cli/commands.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <deque>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include "clients/cli/command_helpers.hpp"
#include "clients/cli/command_registry.hpp"
#include "clients/cli/messages.hpp"
#include "clients/lib/files.hpp"

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

// Options given by name (arguments::values).
std::optional<std::string> option_value(const arguments& a, const char* name) {
    auto it = a.values.find(name);
    if (it == a.values.end() || it->second.empty()) {
        return std::nullopt;
    }
    return it->second.back();
}

std::vector<std::string> option_values(const arguments& a, const char* name) {
    auto it = a.values.find(name);
    return it == a.values.end() ? std::vector<std::string>{} : it->second;
}

bool has_switch(const arguments& a, const char* name) {
    return a.values.contains(name);
}

namespace {

// "1 réponse", "3 réponses".
std::string replies_count(std::uint64_t n) {
    return std::to_string(n) + " " +
           tr(n == 1 ? words{"réponse", "reply"} : words{"réponses", "replies"});
}

// What a person or a script sees of one event.
class printer {
  public:
    printer(bool as_json, std::string channel) : json_(as_json), channel_(std::move(channel)) {}

    void print(const v1::Event& e) const {
        if (e.has_removed()) {
            return;  // an erased account's words, removed with it
        }
        const std::string author = person(e.actor());
        if (json_) {
            json::object o;
            o["channel"] = channel_;
            o["author"] = author;
            o["sent_at"] = rfc3339(e.at_ms());
            if (e.has_message()) {
                o["seq"] = e.seq();
                o["text"] = e.message().text();
                if (e.message().has_attachment()) {
                    const auto& f = e.message().attachment();
                    o["attachment"] = {{"name", f.name()},
                                       {"size", f.size()},
                                       {"content_type", f.content_type()},
                                       {"sha256", f.sha256()}};
                }
                o["edited"] = e.message().edited_at_ms() != 0;
                o["deleted"] = e.message().deleted();
                o["thread_seq"] = e.message().thread_seq();
                o["replies"] = e.message().thread().reply_count();
                if (e.message().has_resource()) {
                    o["title"] = e.message().resource().title();
                    o["link"] = e.message().resource().link();
                }
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
        std::string meeting_line;
        if (e.has_meeting()) {
            // Hands, ballots and notes belong to the session's state, not here.
            meeting_line = describe_meeting_event(e.meeting(), author);
            if (meeting_line.empty()) {
                return;
            }
        }
        std::cout << "[" << local_time(e.at_ms(), "%Y-%m-%d %H:%M") << "] #" << e.seq() << " ";
        if (e.has_message()) {
            const auto& m = e.message();
            if (m.deleted()) {
                std::cout << author << " " << tr(text::deleted);
            } else {
                if (m.thread_seq() != 0 && !in_thread_) {
                    std::cout << "↳ " << m.thread_seq() << " ";
                }
                std::cout << author << ": ";
                if (m.has_resource()) {
                    std::cout << "[" << m.resource().title() << "] ";
                    if (!m.resource().link().empty()) {
                        std::cout << m.resource().link() << " ";
                    }
                }
                std::cout << m.text();
                if (m.has_attachment()) {
                    std::cout << (m.text().empty() ? "" : " ")
                              << describe_attachment(m.attachment());
                }
                if (m.edited_at_ms() != 0) {
                    std::cout << " " << tr(text::edited);
                }
            }
            if (m.thread().reply_count() != 0) {
                std::cout << "  (" << replies_count(m.thread().reply_count()) << ")";
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
        } else if (e.has_reaction()) {
            std::cout << author << " "
                      << tr(e.reaction().added() ? words{"a réagi", "reacted"}
                                                 : words{"a retiré", "took back"})
                      << " " << e.reaction().emoji() << " (" << e.reaction().target_seq() << ")";
        } else if (e.has_pin()) {
            std::cout << author << " "
                      << tr(e.pin().pinned() ? words{"a épinglé", "pinned"}
                                             : words{"a désépinglé", "unpinned"})
                      << " " << e.pin().target_seq();
        } else if (e.has_solved()) {
            std::cout << author << " ";
            if (e.solved().answer_seq() != 0) {
                std::cout << tr(words{"a marqué la question", "marked question"}) << " "
                          << e.solved().root_seq() << " " << tr(words{"résolue par", "solved by"})
                          << " " << e.solved().answer_seq();
            } else {
                std::cout << tr(words{"a remis en attente la question", "marked unsolved question"})
                          << " " << e.solved().root_seq();
            }
        } else if (e.has_meeting()) {
            std::cout << meeting_line;
        }
        std::cout << "\n" << std::flush;
    }

    // Replies shown inside their thread do not say which thread.
    void in_thread(bool yes) { in_thread_ = yes; }

  private:
    bool json_;
    std::string channel_;
    bool in_thread_ = false;
};

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
    o["mentions"] = ch.mention_count();
    o["thread_unread"] = ch.thread_unread_count();
    return o;
}

// What `send` and `post-resource` print of what they sent: its seq, or the
// event with --json.
int print_sent(const arguments& a, const v1::Sent& sent) {
    if (a.json) {
        printer(true, a.words[1]).print(sent.event());
    } else {
        std::cout << sent.event().seq() << "\n";
    }
    return 0;
}

int ok_or_report(const outcome<void>& r) {
    return r ? 0 : report(r.error());
}

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
    co_return co_await ask_done(c, std::move(set));
}

asio::awaitable<int> rename(client& c, const arguments& a) {
    v1::SetDisplayName set;
    *set.mutable_channel() = ref(a, 1);
    set.set_display_name(joined_words(a.words, 2));
    co_return co_await ask_done(c, std::move(set));
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

// The file of --attach, uploaded (resumed if an earlier try was cut off,
// with its progress on a terminal): its upload id.
asio::awaitable<outcome<std::string>> upload_attachment(client& c, const arguments& a,
                                                        const std::string& path) {
    const bool shown = !a.json && ::isatty(STDERR_FILENO);
    auto upload =
        co_await relais::client::upload_file(c, path, [&](std::uint64_t done, std::uint64_t size) {
            if (shown) {
                std::cerr << "\r" << path << " : " << done * 100 / std::max<std::uint64_t>(size, 1)
                          << " %" << std::flush;
            }
        });
    if (shown) {
        std::cerr << "\n";
    }
    if (!upload) {
        co_return upload.error();
    }
    co_return upload->upload_id();
}

asio::awaitable<int> send(client& c, const arguments& a) {
    const auto attach = option_value(a, "--attach");
    if (!attach) {
        co_return co_await send_text(c, a, ref(a, 1), a.words[1], text_from(a.words, 2));
    }
    auto upload = co_await upload_attachment(c, a, *attach);
    if (!upload) {
        co_return report(upload.error());
    }
    v1::SendMessage m;
    *m.mutable_channel() = ref(a, 1);
    m.set_text(joined_words(a.words, 2));
    m.set_client_msg_id(client::new_message_id());
    m.set_attachment_upload_id(*upload);
    auto sent = co_await c.ask(std::move(m));
    co_return sent ? print_sent(a, *sent) : report(sent.error());
}

// `download CHANNEL SEQ [--out PATH]`: under the name it was posted with,
// in the current folder, unless --out says where.
asio::awaitable<int> download(client& c, const arguments& a) {
    const auto seq = to_number(a.words[2]);
    auto out = option_value(a, "--out");
    std::filesystem::path target;
    if (out) {
        target = *out;
    } else {
        // The name is the sender's: only its last part, never a path.
        v1::Download peek;
        *peek.mutable_channel() = ref(a, 1);
        peek.set_seq(seq);
        peek.set_length(1);
        auto first = co_await c.ask(std::move(peek));
        if (!first) {
            co_return report(first.error());
        }
        target = std::filesystem::path(first->file().name()).filename();
        if (target.empty() || target == "." || target == "..") {
            target = "fichier";
        }
    }
    auto got = co_await relais::client::download_file(c, ref(a, 1), seq, target);
    if (!got) {
        co_return report(got.error());
    }
    std::cout << target.string() << " (" << file_size_text(got->size()) << ")\n";
    co_return 0;
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
        if (page->full_resync()) {
            // The server's history ends before what the user had seen: it
            // was restored from an older backup. Say so, and where it ends.
            std::cerr << "relais: "
                      << tr(words{"l'historique de ce canal sur le serveur s'arrête au message ",
                                  "this channel's history on the server ends at message "})
                      << page->last_seq()
                      << tr(words{" (restauré depuis une sauvegarde) : ce qui venait après n'y est "
                                  "plus ; reprenez avec --after ",
                                  " (restored from a backup): what came after is gone; go on "
                                  "with --after "})
                      << page->last_seq() << "\n";
            if (a.json) {
                json::object o;
                o["channel"] = a.words[1];
                o["full_resync"] = true;
                o["last_seq"] = page->last_seq();
                std::cout << json::serialize(o) << "\n";
            }
            co_return 0;
        }
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

v1::ResourceKind resource_kind(const std::string& word) {
    return choose<v1::ResourceKind>("--kind", word,
                                    {{"tutorial", v1::TUTORIAL},
                                     {"practical-sheet", v1::PRACTICAL_SHEET},
                                     {"tool", v1::TOOL},
                                     {"video", v1::VIDEO},
                                     {"guide", v1::GUIDE},
                                     {"other", v1::OTHER}});
}

const char* kind_name(v1::ResourceKind k) {
    switch (k) {
        case v1::TUTORIAL:
            return "tutorial";
        case v1::PRACTICAL_SHEET:
            return "practical-sheet";
        case v1::TOOL:
            return "tool";
        case v1::VIDEO:
            return "video";
        case v1::GUIDE:
            return "guide";
        default:
            return "other";
    }
}

const char* licence_name(v1::Licence l) {
    switch (l) {
        case v1::ETALAB_2_0:
            return "etalab-2.0";
        case v1::CC_BY_SA_4_0:
            return "cc-by-sa-4.0";
        case v1::CC_BY_NC_SA_4_0:
            return "cc-by-nc-sa-4.0";
        case v1::ALL_RIGHTS_RESERVED:
            return "all-rights-reserved";
        default:
            return "";
    }
}

json::array string_array(const google::protobuf::RepeatedPtrField<std::string>& items) {
    json::array out;
    for (const auto& item : items) {
        out.emplace_back(item);
    }
    return out;
}

std::string joined(const google::protobuf::RepeatedPtrField<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += ", ";
        }
        out += item;
    }
    return out;
}

// One line about a message, for listings: "#canal 12 anne: texte".
std::string message_line(const std::string& channel, const v1::Event& e) {
    std::string out =
        "#" + channel + " " + std::to_string(e.seq()) + " " + person(e.actor()) + ": ";
    if (e.message().has_resource()) {
        out += "[" + e.message().resource().title() + "] ";
    }
    out += e.message().deleted() ? tr(text::deleted) : e.message().text();
    return out;
}

std::uint64_t replies_of(const v1::Event& e) {
    return e.message().thread().reply_count();
}

asio::awaitable<int> post_resource(client& c, const arguments& a) {
    v1::PostResource post;
    *post.mutable_channel() = ref(a, 1);
    post.set_client_msg_id(client::new_message_id());
    if (auto attach = option_value(a, "--attach")) {
        auto upload = co_await upload_attachment(c, a, *attach);
        if (!upload) {
            co_return report(upload.error());
        }
        post.set_attachment_upload_id(*upload);
    }
    auto& r = *post.mutable_resource();
    r.set_title(option_value(a, "--title").value_or(""));
    r.set_link(option_value(a, "--link").value_or(""));
    r.set_description(joined_words(a.words, 2));
    if (auto kind = option_value(a, "--kind")) {
        r.set_kind(resource_kind(*kind));
    }
    if (auto licence = option_value(a, "--licence")) {
        r.set_licence(choose<v1::Licence>("--licence", *licence,
                                          {{"etalab-2.0", v1::ETALAB_2_0},
                                           {"cc-by-sa-4.0", v1::CC_BY_SA_4_0},
                                           {"cc-by-nc-sa-4.0", v1::CC_BY_NC_SA_4_0},
                                           {"all-rights-reserved", v1::ALL_RIGHTS_RESERVED}}));
    }
    for (const auto& t : option_values(a, "--tag")) {
        r.add_tags(t);
    }
    for (const auto& t : option_values(a, "--theme")) {
        r.add_themes(t);
    }
    for (const auto& t : option_values(a, "--audience")) {
        r.add_audiences(t);
    }
    auto sent = co_await c.ask(std::move(post));
    co_return sent ? print_sent(a, *sent) : report(sent.error());
}

json::object resource_json(const std::string& channel, const v1::Event& e) {
    const auto& r = e.message().resource();
    json::object o;
    o["channel"] = channel;
    o["seq"] = e.seq();
    o["title"] = r.title();
    o["link"] = r.link();
    o["description"] = e.message().text();
    o["kind"] = kind_name(r.kind());
    o["tags"] = string_array(r.tags());
    o["themes"] = string_array(r.themes());
    o["audiences"] = string_array(r.audiences());
    o["licence"] = licence_name(r.licence());
    o["author"] = e.actor().name();
    o["posted_at"] = rfc3339(e.at_ms());
    o["version"] = r.version();
    o["replies"] = replies_of(e);
    const auto last = e.message().thread().last_reply_at_ms();
    o["last_reply_at"] = last != 0 ? json::value(rfc3339(last)) : json::value(nullptr);
    return o;
}

asio::awaitable<int> list_resources(client& c, const arguments& a) {
    v1::ListResources q;
    for (const auto& t : option_values(a, "--tag")) {
        q.add_tags(t);
    }
    q.set_theme(option_value(a, "--theme").value_or(""));
    if (auto kind = option_value(a, "--kind")) {
        q.set_kind(resource_kind(*kind));
    }
    if (auto channel = option_value(a, "--channel")) {
        *q.mutable_channel() = client::by_name(*channel);
    }
    if (auto sort = option_value(a, "--sort")) {
        q.set_sort(choose<v1::ListResources::Sort>("--sort", *sort,
                                                   {{"newest", v1::ListResources::NEWEST},
                                                    {"discussed", v1::ListResources::DISCUSSED},
                                                    {"active", v1::ListResources::ACTIVE}}));
    }
    q.set_limit(static_cast<std::uint32_t>(std::min<std::uint64_t>(a.limit.value_or(50), 500)));
    auto list = co_await c.ask(std::move(q));
    if (!list) {
        co_return report(list.error());
    }
    for (const auto& e : list->resources()) {
        const auto& channel = list->channel_names().contains(e.channel_id())
                                  ? list->channel_names().at(e.channel_id())
                                  : std::to_string(e.channel_id());
        if (a.json) {
            std::cout << json::serialize(resource_json(channel, e)) << "\n";
            continue;
        }
        const auto& r = e.message().resource();
        std::cout << "#" << channel << " " << e.seq() << "  " << r.title() << "  ("
                  << kind_name(r.kind());
        if (r.tags_size() > 0) {
            std::cout << " ; " << joined(r.tags());
        }
        std::cout << ")";
        if (!r.link().empty()) {
            std::cout << "  " << r.link();
        }
        std::cout << "  — " << local_time(e.at_ms(), "%Y-%m-%d") << ", " << person(e.actor())
                  << ", " << replies_count(replies_of(e)) << "\n";
    }
    co_return 0;
}

asio::awaitable<int> search(client& c, const arguments& a) {
    v1::Search q;
    q.set_query(joined_words(a.words, 1));
    if (auto channel = option_value(a, "--channel")) {
        *q.mutable_channel() = client::by_name(*channel);
    }
    q.set_limit(static_cast<std::uint32_t>(std::min<std::uint64_t>(a.limit.value_or(20), 100)));
    auto results = co_await c.ask(std::move(q));
    if (!results) {
        co_return report(results.error());
    }
    const bool bold = ::isatty(STDOUT_FILENO) != 0;
    for (const auto& hit : results->hits()) {
        if (a.json) {
            json::object o;
            o["channel"] = hit.channel_name();
            o["seq"] = hit.seq();
            o["thread_seq"] = hit.thread_seq();
            o["author"] = hit.author().name();
            o["sent_at"] = rfc3339(hit.at_ms());
            o["title"] = hit.title();
            o["snippet"] = hit.snippet();
            json::array ranges;
            for (const auto& h : hit.highlights()) {
                ranges.push_back(json::array{h.start(), h.length()});
            }
            o["highlights"] = std::move(ranges);
            std::cout << json::serialize(o) << "\n";
            continue;
        }
        // Highlights in bold on a terminal; the snippet as it is otherwise.
        std::string shown;
        std::size_t at = 0;
        for (const auto& h : hit.highlights()) {
            shown += hit.snippet().substr(at, h.start() - at);
            const auto word = hit.snippet().substr(h.start(), h.length());
            shown += bold ? "\033[1m" + word + "\033[0m" : word;
            at = h.start() + h.length();
        }
        shown += hit.snippet().substr(std::min<std::size_t>(at, hit.snippet().size()));
        std::replace(shown.begin(), shown.end(), '\n', ' ');
        std::cout << "#" << hit.channel_name() << " " << hit.seq();
        if (hit.thread_seq() != 0) {
            std::cout << " (↳ " << hit.thread_seq() << ")";
        }
        std::cout << " [" << local_time(hit.at_ms(), "%Y-%m-%d %H:%M") << "] "
                  << hit.author().name() << ": " << shown << "\n";
    }
    co_return 0;
}

asio::awaitable<int> thread(client& c, const arguments& a) {
    const auto root = to_number(a.words[2]);
    std::vector<v1::Event> replies;
    v1::Event first;
    for (std::uint64_t after = 0;;) {
        v1::GetThread get;
        *get.mutable_channel() = ref(a, 1);
        get.set_root_seq(root);
        // The whole thread, oldest first: forward from its root.
        get.set_after_seq(after == 0 ? root : after);
        auto page = co_await c.ask(std::move(get));
        if (!page) {
            co_return report(page.error());
        }
        first = page->root();
        for (const auto& e : page->replies()) {
            replies.push_back(e);
        }
        if (!page->has_more() || page->replies().empty()) {
            break;
        }
        after = page->replies(page->replies_size() - 1).seq();
    }
    printer p(a.json, a.words[1]);
    p.print(first);
    p.in_thread(true);
    for (const auto& e : replies) {
        if (!a.json) {
            std::cout << "  ";
        }
        p.print(e);
    }
    co_return 0;
}

asio::awaitable<int> reply(client& c, const arguments& a) {
    const auto root = to_number(a.words[2]);
    const auto body = text_from(a.words, 3);
    if (body.empty()) {
        throw usage_error(tr(text::no_text));
    }
    v1::SendMessage send;
    *send.mutable_channel() = ref(a, 1);
    send.set_text(body);
    send.set_thread_seq(root);
    send.set_client_msg_id(client::new_message_id());
    auto sent = co_await c.ask(std::move(send));
    co_return sent ? print_sent(a, *sent) : report(sent.error());
}

asio::awaitable<int> follow_thread(client& c, const arguments& a, bool follow) {
    v1::FollowThread f;
    *f.mutable_channel() = ref(a, 1);
    f.set_root_seq(to_number(a.words[2]));
    f.set_follow(follow);
    co_return co_await ask_done(c, std::move(f));
}

asio::awaitable<int> follow(client& c, const arguments& a) {
    co_return co_await follow_thread(c, a, true);
}

asio::awaitable<int> unfollow(client& c, const arguments& a) {
    co_return co_await follow_thread(c, a, false);
}

json::object thread_json(const v1::ThreadInfo& t) {
    const auto& root = t.root();
    json::object o;
    o["channel"] = t.channel_name();
    o["seq"] = root.seq();
    o["author"] = root.actor().name();
    o["text"] = root.message().text();
    o["replies"] = replies_of(root);
    o["unread"] = t.unread_count();
    const auto last = root.message().thread().last_reply_at_ms();
    o["last_reply_at"] = last != 0 ? json::value(rfc3339(last)) : json::value(nullptr);
    o["question"] = root.message().thread().question();
    o["solved_seq"] = root.message().thread().solved_seq();
    return o;
}

asio::awaitable<int> threads(client& c, const arguments& a) {
    auto list = co_await c.ask(v1::ListThreads{});
    if (!list) {
        co_return report(list.error());
    }
    for (const auto& t : list->threads()) {
        if (a.json) {
            std::cout << json::serialize(thread_json(t)) << "\n";
            continue;
        }
        std::cout << message_line(t.channel_name(), t.root()) << "  — "
                  << replies_count(replies_of(t.root()));
        if (t.unread_count() != 0) {
            std::cout << ", " << t.unread_count() << " " << tr(text::unread_word);
        }
        std::cout << "\n";
    }
    co_return 0;
}

asio::awaitable<int> react_to(client& c, const arguments& a, bool remove) {
    v1::React r;
    *r.mutable_channel() = ref(a, 1);
    r.set_seq(to_number(a.words[2]));
    r.set_emoji(a.words[3]);
    r.set_remove(remove);
    co_return co_await ask_done(c, std::move(r));
}

asio::awaitable<int> react(client& c, const arguments& a) {
    co_return co_await react_to(c, a, false);
}

asio::awaitable<int> unreact(client& c, const arguments& a) {
    co_return co_await react_to(c, a, true);
}

asio::awaitable<int> pin_message(client& c, const arguments& a, bool unpin) {
    v1::Pin p;
    *p.mutable_channel() = ref(a, 1);
    p.set_seq(to_number(a.words[2]));
    p.set_unpin(unpin);
    co_return co_await ask_done(c, std::move(p));
}

asio::awaitable<int> pin(client& c, const arguments& a) {
    co_return co_await pin_message(c, a, false);
}

asio::awaitable<int> unpin(client& c, const arguments& a) {
    co_return co_await pin_message(c, a, true);
}

asio::awaitable<int> pins(client& c, const arguments& a) {
    v1::ListPins list;
    *list.mutable_channel() = ref(a, 1);
    auto answer = co_await c.ask(std::move(list));
    if (!answer) {
        co_return report(answer.error());
    }
    for (const auto& p : answer->pins()) {
        if (a.json) {
            json::object o;
            o["channel"] = a.words[1];
            o["seq"] = p.event().seq();
            o["author"] = p.event().actor().name();
            o["text"] = p.event().message().text();
            o["title"] = p.event().message().resource().title();
            o["pinned_by"] = p.pinned_by().name();
            o["pinned_at"] = rfc3339(p.pinned_at_ms());
            std::cout << json::serialize(o) << "\n";
            continue;
        }
        std::cout << message_line(a.words[1], p.event()) << "  ("
                  << tr(words{"épinglé par", "pinned by"}) << " " << p.pinned_by().name() << ")\n";
    }
    co_return 0;
}

asio::awaitable<int> mentions(client& c, const arguments& a) {
    auto answer = co_await c.ask(v1::ListMentions{});
    if (!answer) {
        co_return report(answer.error());
    }
    for (const auto& m : answer->mentions()) {
        const auto& e = m.event();
        if (a.json) {
            json::object o;
            o["channel"] = m.channel_name();
            o["seq"] = e.seq();
            o["thread_seq"] = e.message().thread_seq();
            o["author"] = e.actor().name();
            o["text"] = e.message().text();
            o["sent_at"] = rfc3339(e.at_ms());
            o["unread"] = m.unread();
            std::cout << json::serialize(o) << "\n";
            continue;
        }
        std::cout << "[" << local_time(e.at_ms(), "%Y-%m-%d %H:%M") << "] "
                  << message_line(m.channel_name(), e);
        if (m.unread()) {
            std::cout << "  (" << tr(words{"non lu", "unread"}) << ")";
        }
        std::cout << "\n";
    }
    co_return 0;
}

asio::awaitable<int> mark_solved(client& c, const arguments& a, std::uint64_t answer) {
    v1::SolveQuestion s;
    *s.mutable_channel() = ref(a, 1);
    s.set_root_seq(to_number(a.words[2]));
    s.set_answer_seq(answer);
    co_return co_await ask_done(c, std::move(s));
}

asio::awaitable<int> solve(client& c, const arguments& a) {
    co_return co_await mark_solved(c, a, to_number(a.words[3]));
}

asio::awaitable<int> unsolve(client& c, const arguments& a) {
    co_return co_await mark_solved(c, a, 0);
}

asio::awaitable<int> questions(client& c, const arguments& a) {
    v1::ListQuestions q;
    *q.mutable_channel() = ref(a, 1);
    q.set_unsolved_only(has_switch(a, "--unsolved"));
    auto list = co_await c.ask(std::move(q));
    if (!list) {
        co_return report(list.error());
    }
    for (const auto& t : list->threads()) {
        if (a.json) {
            std::cout << json::serialize(thread_json(t)) << "\n";
            continue;
        }
        const auto& summary = t.root().message().thread();
        std::cout << message_line(t.channel_name(), t.root()) << "  — ";
        if (summary.solved_seq() != 0) {
            std::cout << tr(words{"résolue par", "solved by"}) << " " << summary.solved_seq();
        } else {
            std::cout << tr(words{"en attente", "unsolved"});
        }
        std::cout << ", " << replies_count(summary.reply_count()) << "\n";
    }
    co_return 0;
}

const std::map<std::string_view, action>& actions() {
    static std::map<std::string_view, action> all = {
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
        {"download", download},
        {"dm", direct},
        {"edit", edit},
        {"delete", erase},
        {"history", history},
        {"tail", tail},
        {"post-resource", post_resource},
        {"resources", list_resources},
        {"search", search},
        {"thread", thread},
        {"reply", reply},
        {"follow", follow},
        {"unfollow", unfollow},
        {"threads", threads},
        {"react", react},
        {"unreact", unreact},
        {"pin", pin},
        {"unpin", unpin},
        {"pins", pins},
        {"mentions", mentions},
        {"solve", solve},
        {"unsolve", unsolve},
        {"questions", questions},
    };
    static const bool with_sessions = [] {
        for (const auto& [name, act] : session_actions()) {
            all.emplace(name, act);
        }
        for (const auto& [name, act] : people_actions()) {
            all.emplace(name, act);
        }
        return true;
    }();
    (void)with_sessions;
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
