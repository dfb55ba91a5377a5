// The interactive terminal client: channel list, scrollback, status line and
// an input line with history and completion, on ncurses.
#include "tui.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <curses.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <clocale>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

#include "messages.hpp"
#include "text_width.hpp"

namespace relais::cli {
namespace {

namespace asio = boost::asio;
using client::client;
using clock_type = std::chrono::steady_clock;

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr auto typing_shown_for = std::chrono::seconds(5);
constexpr auto typing_sent_every = std::chrono::seconds(3);
constexpr std::uint32_t history_page = 100;

// One row of a channel as shown: a message, a membership change, or a local
// note (help, errors) that never reaches the server.
struct entry {
    std::string author;
    std::string text;
    std::int64_t at_ms = 0;
    bool edited = false;
    bool deleted = false;
    bool system = false;
};

// Entries are ordered by (seq, n): n = 0 for the server's events, and local
// notes take the seq they were written after, with n counting up.
using entry_key = std::pair<std::uint64_t, std::uint64_t>;

struct channel_view {
    v1::Channel info;
    std::map<entry_key, entry> entries;
    std::uint64_t oldest_loaded = 0;  // 0 = no page loaded yet
    bool complete = false;            // the first event is loaded
    bool loading = false;
    std::uint64_t mentions = 0;
    std::map<std::string, clock_type::time_point> typing;
    std::vector<std::string> pending;  // sent, not yet acknowledged
};

std::string clock_time(std::int64_t ms) {
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm local{};
    localtime_r(&seconds, &local);
    char buf[8];
    std::strftime(buf, sizeof buf, "%H:%M", &local);
    return buf;
}

std::string channel_label(const v1::Channel& c) {
    return (c.kind() == v1::DIRECT ? "@" : "#") + c.name();
}

bool is_number(const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> split_words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> words;
    std::string w;
    while (in >> w) {
        words.push_back(w);
    }
    return words;
}

// The rest of `line` after its first `n` words.
std::string after_words(const std::string& line, std::size_t n) {
    std::size_t at = 0;
    for (std::size_t k = 0; k < n; ++k) {
        at = line.find_first_not_of(' ', at);
        if (at == std::string::npos) {
            return {};
        }
        at = line.find(' ', at);
        if (at == std::string::npos) {
            return {};
        }
    }
    auto start = line.find_first_not_of(' ', at);
    return start == std::string::npos ? std::string() : line.substr(start);
}

class terminal_ui {
  public:
    terminal_ui(client& c, std::string user, asio::any_io_executor executor)
        : client_(c),
          user_(std::move(user)),
          executor_(std::move(executor)),
          wake_(executor_),
          keys_(executor_, ::dup(STDIN_FILENO)),
          ticker_(executor_),
          winch_(executor_, SIGWINCH) {}

    asio::awaitable<int> run();

  private:
    struct command {
        const char* name;
        text help;
        std::function<asio::awaitable<void>(const std::string& line)> run;
    };

    // Loops.
    asio::awaitable<void> read_keys();
    asio::awaitable<void> read_pushes();
    asio::awaitable<void> tick();
    asio::awaitable<void> follow_resizes();

    // Input.
    void on_key(wint_t key, bool function_key);
    void insert(char32_t c);
    void submit();
    void complete();
    void recall(int direction);

    // Actions (spawned so that the screen stays live while they run).
    void spawn(asio::awaitable<void> action);
    asio::awaitable<void> load_channels();
    asio::awaitable<void> load_older(std::uint64_t channel_id);
    asio::awaitable<void> send_text(std::uint64_t channel_id, std::string text);
    asio::awaitable<void> run_command(std::string line);
    asio::awaitable<void> show_members();
    asio::awaitable<void> report(const failure& f);
    void note(const std::string& text);
    void switch_to(std::size_t index);
    std::optional<std::uint64_t> last_own_message() const;
    std::vector<command> commands();

    // Model.
    void apply(const v1::Event& e);
    channel_view* current();
    channel_view* find(std::uint64_t id);

    // Screen.
    void draw();
    void draw_channels(int rows, int width);
    void draw_messages(int top, int left, int rows, int width);
    void draw_status(int row, int width);
    void draw_input(int row, int width);
    void put(int row, int col, std::u32string_view text, int max_width);
    void mark_read_if_seen();
    int author_color(const std::string& name) const;

    client& client_;
    std::string user_;
    asio::any_io_executor executor_;
    asio::steady_timer wake_;
    asio::posix::stream_descriptor keys_;
    asio::steady_timer ticker_;
    asio::signal_set winch_;
    bool quit_ = false;
    bool colors_ = false;

    std::vector<channel_view> channels_;
    std::size_t current_ = 0;
    std::set<std::string> online_;
    std::uint64_t note_counter_ = 0;

    std::u32string input_;
    std::size_t cursor_ = 0;
    std::vector<std::u32string> recalled_;
    std::size_t recall_at_ = 0;
    bool escape_pending_ = false;
    std::u32string completion_prefix_;
    std::vector<std::string> completions_;
    std::size_t completion_at_ = 0;
    clock_type::time_point typing_sent_{};

    int scroll_ = 0;  // rows above the bottom of the message pane
    int pane_rows_ = 1;
    int content_rows_ = 0;
    bool connected_shown_ = true;
};

void terminal_ui::spawn(asio::awaitable<void> action) {
    asio::co_spawn(executor_, std::move(action), [this](std::exception_ptr e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                note(ex.what());
            }
        }
        draw();
    });
}

channel_view* terminal_ui::current() {
    return current_ < channels_.size() ? &channels_[current_] : nullptr;
}

channel_view* terminal_ui::find(std::uint64_t id) {
    for (auto& c : channels_) {
        if (c.info.id() == id) {
            return &c;
        }
    }
    return nullptr;
}

void terminal_ui::note(const std::string& text) {
    auto* c = current();
    if (!c) {
        return;
    }
    entry e;
    e.system = true;
    e.text = text;
    c->entries[{c->info.last_seq(), ++note_counter_}] = std::move(e);
    scroll_ = 0;
}

asio::awaitable<void> terminal_ui::report(const failure& f) {
    note(describe(f));
    draw();
    co_return;
}

asio::awaitable<void> terminal_ui::load_channels() {
    auto list = co_await client_.list_channels();
    if (!list) {
        co_await report(list.error());
        co_return;
    }
    std::string current_name = current() ? current()->info.name() : std::string();
    for (const auto& info : *list) {
        if (!info.is_member()) {
            continue;
        }
        if (auto* known = find(info.id())) {
            known->info = info;
            continue;
        }
        channel_view view;
        view.info = info;
        channels_.push_back(std::move(view));
        // Everything after what the server says we read is fetched and
        // followed live; the library fills any gap after a reconnection.
        client_.follow(info.id(), info.last_seq());
    }
    draw();
}

asio::awaitable<void> terminal_ui::load_older(std::uint64_t channel_id) {
    auto* c = find(channel_id);
    if (!c || c->loading || c->complete) {
        co_return;
    }
    c->loading = true;
    draw();
    auto page =
        co_await client_.history(client::by_id(channel_id), c->oldest_loaded, 0, history_page);
    c = find(channel_id);  // the list may have changed meanwhile
    if (!c) {
        co_return;
    }
    c->loading = false;
    if (!page) {
        co_await report(page.error());
        co_return;
    }
    for (const auto& e : page->events()) {
        apply(e);
    }
    if (!page->events().empty()) {
        c->oldest_loaded = page->events(0).seq();
    }
    c->complete = !page->has_more();
    draw();
}

void terminal_ui::apply(const v1::Event& e) {
    auto* c = find(e.channel_id());
    if (!c) {
        // A channel we were just added to: learn about it, then show this.
        spawn(load_channels());
        return;
    }
    c->info.set_last_seq(std::max(c->info.last_seq(), e.seq()));
    const entry_key key{e.seq(), 0};
    entry row;
    row.author = e.actor().name();
    row.at_ms = e.at_ms();
    if (e.has_message()) {
        row.text = e.message().text();
        row.edited = e.message().edited_at_ms() != 0;
        row.deleted = e.message().deleted();
        const bool is_new = c->entries.count(key) == 0;
        c->typing.erase(row.author);
        if (is_new && row.author != user_ && e.seq() > c->info.last_read_seq()) {
            if (c != current() || scroll_ != 0) {
                c->info.set_unread_count(c->info.unread_count() + 1);
                if (row.text.find("@" + user_) != std::string::npos) {
                    ++c->mentions;
                }
            }
        }
    } else if (e.has_edited()) {
        auto it = c->entries.find({e.edited().target_seq(), 0});
        if (it != c->entries.end()) {
            it->second.text = e.edited().text();
            it->second.edited = true;
        }
        return;
    } else if (e.has_deleted()) {
        auto it = c->entries.find({e.deleted().target_seq(), 0});
        if (it != c->entries.end()) {
            it->second.text.clear();
            it->second.deleted = true;
        }
        return;
    } else if (e.has_member()) {
        row.system = true;
        const auto& m = e.member();
        const std::string who = m.user().name();
        switch (m.change()) {
            case v1::MemberChanged::JOINED:
                row.text = who + " " + tr(text::joined);
                break;
            case v1::MemberChanged::LEFT:
                row.text = who + " " + tr(text::left);
                break;
            case v1::MemberChanged::INVITED:
                row.text = who + " " + tr(text::invited) + " " + row.author;
                break;
            case v1::MemberChanged::KICKED:
                row.text = who + " " + tr(text::kicked) + " " + row.author;
                break;
            default:
                return;
        }
    } else if (e.has_created()) {
        row.system = true;
        row.text = row.author + " " + tr(text::created);
    } else if (e.has_topic()) {
        row.system = true;
        row.text = row.author + " " + tr(text::topic_changed) + " " + e.topic().topic();
        c->info.set_topic(e.topic().topic());
    } else {
        return;
    }
    c->entries[key] = std::move(row);
}

void terminal_ui::mark_read_if_seen() {
    auto* c = current();
    if (!c || scroll_ != 0 || c->info.last_seq() <= c->info.last_read_seq()) {
        return;
    }
    const auto seq = c->info.last_seq();
    c->info.set_last_read_seq(seq);
    c->info.set_unread_count(0);
    c->mentions = 0;
    spawn([](client& cl, std::uint64_t id, std::uint64_t s) -> asio::awaitable<void> {
        co_await cl.mark_read(client::by_id(id), s);
    }(client_, c->info.id(), seq));
}

void terminal_ui::switch_to(std::size_t index) {
    if (index >= channels_.size()) {
        return;
    }
    current_ = index;
    scroll_ = 0;
    auto& c = channels_[index];
    if (c.oldest_loaded == 0 && !c.complete) {
        spawn(load_older(c.info.id()));
    }
    spawn(show_members());
}

asio::awaitable<void> terminal_ui::show_members() {
    auto* c = current();
    if (!c) {
        co_return;
    }
    auto members = co_await client_.members(client::by_id(c->info.id()));
    if (members) {
        online_.clear();
        for (const auto& m : *members) {
            if (m.online()) {
                online_.insert(m.user().name());
            }
        }
    }
    draw();
}

std::optional<std::uint64_t> terminal_ui::last_own_message() const {
    const auto* c = current_ < channels_.size() ? &channels_[current_] : nullptr;
    if (!c) {
        return std::nullopt;
    }
    for (auto it = c->entries.rbegin(); it != c->entries.rend(); ++it) {
        if (it->first.second == 0 && !it->second.system && !it->second.deleted &&
            it->second.author == user_) {
            return it->first.first;
        }
    }
    return std::nullopt;
}

asio::awaitable<void> terminal_ui::send_text(std::uint64_t channel_id, std::string body) {
    auto* c = find(channel_id);
    if (!c) {
        co_return;
    }
    c->pending.push_back(body);
    draw();
    auto sent = co_await client_.send(client::by_id(channel_id), body);
    c = find(channel_id);
    if (c) {
        auto it = std::find(c->pending.begin(), c->pending.end(), body);
        if (it != c->pending.end()) {
            c->pending.erase(it);
        }
        if (sent) {
            apply(sent->event());
            c->info.set_last_read_seq(std::max(c->info.last_read_seq(), sent->event().seq()));
        }
    }
    if (!sent) {
        note(trf(text::tui_not_sent, {describe(sent.error())}));
    }
    draw();
}

std::vector<terminal_ui::command> terminal_ui::commands() {
    auto with_channel = [this](auto body) {
        return [this, body](const std::string& line) -> asio::awaitable<void> {
            auto* c = current();
            if (!c) {
                note(tr(text::tui_no_channel));
                co_return;
            }
            co_await body(*c, line);
        };
    };
    auto check = [this](const outcome<void>& r) -> asio::awaitable<void> {
        if (!r) {
            co_await report(r.error());
        }
    };
    return {
        {"help", text::tui_help_help,
         [this](const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             const std::string wanted =
                 words.size() > 1 ? (words[1][0] == '/' ? words[1].substr(1) : words[1]) : "";
             if (wanted.empty()) {
                 note(tr(text::tui_help_intro));
             }
             for (const auto& cmd : commands()) {
                 if (wanted.empty() || wanted == cmd.name) {
                     note("  " + std::string(tr(cmd.help)));
                 }
             }
             if (wanted.empty()) {
                 note(tr(text::tui_help_keys));
             }
             co_return;
         }},
        {"join", text::tui_help_join,
         [this](const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             if (words.size() < 2) {
                 note(trf(text::tui_usage_of, {tr(text::tui_help_join)}));
                 co_return;
             }
             std::string name = words[1][0] == '#' ? words[1].substr(1) : words[1];
             auto joined = co_await client_.join(client::by_name(name));
             if (!joined) {
                 co_await report(joined.error());
                 co_return;
             }
             co_await load_channels();
             for (std::size_t i = 0; i < channels_.size(); ++i) {
                 if (channels_[i].info.id() == joined->id()) {
                     switch_to(i);
                 }
             }
         }},
        {"leave", text::tui_help_leave,
         with_channel([this](channel_view& c, const std::string&) -> asio::awaitable<void> {
             auto id = c.info.id();
             auto left = co_await client_.leave(client::by_id(id));
             if (!left) {
                 co_await report(left.error());
                 co_return;
             }
             std::erase_if(channels_, [id](const channel_view& v) { return v.info.id() == id; });
             current_ = 0;
             switch_to(0);
         })},
        {"create", text::tui_help_create,
         [this](const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             if (words.size() < 2) {
                 note(trf(text::tui_usage_of, {tr(text::tui_help_create)}));
                 co_return;
             }
             bool is_private = words.size() > 2 && words[2] == "--private";
             auto topic = after_words(line, is_private ? 3 : 2);
             auto created = co_await client_.create_channel(words[1], topic, is_private);
             if (!created) {
                 co_await report(created.error());
                 co_return;
             }
             co_await load_channels();
             for (std::size_t i = 0; i < channels_.size(); ++i) {
                 if (channels_[i].info.id() == created->id()) {
                     switch_to(i);
                 }
             }
         }},
        {"invite", text::tui_help_invite,
         with_channel(
             [this, check](channel_view& c, const std::string& line) -> asio::awaitable<void> {
                 auto words = split_words(line);
                 if (words.size() < 2) {
                     note(trf(text::tui_usage_of, {tr(text::tui_help_invite)}));
                     co_return;
                 }
                 co_await check(co_await client_.invite(client::by_id(c.info.id()), words[1]));
             })},
        {"msg", text::tui_help_msg,
         [this](const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             if (words.size() < 2) {
                 note(trf(text::tui_usage_of, {tr(text::tui_help_msg)}));
                 co_return;
             }
             auto direct = co_await client_.open_direct(words[1]);
             if (!direct) {
                 co_await report(direct.error());
                 co_return;
             }
             co_await load_channels();
             for (std::size_t i = 0; i < channels_.size(); ++i) {
                 if (channels_[i].info.id() == direct->id()) {
                     switch_to(i);
                 }
             }
             if (auto body = after_words(line, 2); !body.empty()) {
                 co_await send_text(direct->id(), body);
             }
         }},
        {"topic", text::tui_help_topic,
         with_channel(
             [this, check](channel_view& c, const std::string& line) -> asio::awaitable<void> {
                 co_await check(
                     co_await client_.set_topic(client::by_id(c.info.id()), after_words(line, 1)));
             })},
        {"members", text::tui_help_members,
         with_channel([this](channel_view& c, const std::string&) -> asio::awaitable<void> {
             auto members = co_await client_.members(client::by_id(c.info.id()));
             if (!members) {
                 co_await report(members.error());
                 co_return;
             }
             std::string list;
             for (const auto& m : *members) {
                 list += (list.empty() ? "" : ", ") + m.user().name() +
                         (m.online() ? " (" + std::string(tr(text::online)) + ")" : "");
             }
             note(std::string(tr(text::members_header)) + " " + channel_label(c.info) + " : " +
                  list);
         })},
        {"edit", text::tui_help_edit,
         with_channel(
             [this, check](channel_view& c, const std::string& line) -> asio::awaitable<void> {
                 auto words = split_words(line);
                 std::optional<std::uint64_t> seq;
                 std::string body;
                 if (words.size() > 2 && is_number(words[1])) {
                     seq = std::stoull(words[1]);
                     body = after_words(line, 2);
                 } else {
                     seq = last_own_message();
                     body = after_words(line, 1);
                 }
                 if (!seq) {
                     note(tr(text::tui_nothing_to_edit));
                     co_return;
                 }
                 if (body.empty()) {
                     note(trf(text::tui_usage_of, {tr(text::tui_help_edit)}));
                     co_return;
                 }
                 co_await check(co_await client_.edit(client::by_id(c.info.id()), *seq, body));
             })},
        {"delete", text::tui_help_delete,
         with_channel(
             [this, check](channel_view& c, const std::string& line) -> asio::awaitable<void> {
                 auto words = split_words(line);
                 std::optional<std::uint64_t> seq =
                     words.size() > 1 && is_number(words[1])
                         ? std::optional<std::uint64_t>(std::stoull(words[1]))
                         : last_own_message();
                 if (!seq) {
                     note(tr(text::tui_nothing_to_edit));
                     co_return;
                 }
                 co_await check(co_await client_.erase(client::by_id(c.info.id()), *seq));
             })},
        {"quit", text::tui_help_quit,
         [this](const std::string&) -> asio::awaitable<void> {
             quit_ = true;
             wake_.cancel();
             co_return;
         }},
    };
}

asio::awaitable<void> terminal_ui::run_command(std::string line) {
    auto words = split_words(line);
    const std::string name = words.empty() ? std::string() : words[0].substr(1);
    for (auto& cmd : commands()) {
        if (name == cmd.name) {
            co_await cmd.run(line);
            draw();
            co_return;
        }
    }
    note(trf(text::tui_unknown_command, {"/" + name}));
    draw();
}

void terminal_ui::submit() {
    std::u32string line = input_;
    input_.clear();
    cursor_ = 0;
    if (line.empty()) {
        return;
    }
    recalled_.push_back(line);
    recall_at_ = recalled_.size();
    const std::string text_line = to_utf8(line);
    if (text_line[0] == '/' && text_line.rfind("//", 0) != 0) {
        spawn(run_command(text_line));
        return;
    }
    auto* c = current();
    if (!c) {
        note(tr(text::tui_no_channel));
        return;
    }
    // "//" at the start sends a message that begins with a slash.
    spawn(send_text(c->info.id(), text_line.rfind("//", 0) == 0 ? text_line.substr(1) : text_line));
    scroll_ = 0;
}

void terminal_ui::recall(int direction) {
    if (recalled_.empty()) {
        return;
    }
    if (direction < 0 && recall_at_ > 0) {
        --recall_at_;
    } else if (direction > 0 && recall_at_ < recalled_.size()) {
        ++recall_at_;
    }
    input_ = recall_at_ < recalled_.size() ? recalled_[recall_at_] : std::u32string();
    cursor_ = input_.size();
}

void terminal_ui::complete() {
    // The word before the cursor.
    std::size_t start = cursor_;
    while (start > 0 && input_[start - 1] != U' ' && input_[start - 1] != U'\n') {
        --start;
    }
    std::u32string word = input_.substr(start, cursor_ - start);
    const bool continuing = !completions_.empty() && completion_at_ < completions_.size() &&
                            word == to_u32(completions_[completion_at_]);
    if (continuing) {
        completion_at_ = (completion_at_ + 1) % completions_.size();
    } else {
        completion_prefix_ = word;
        completions_.clear();
        completion_at_ = 0;
        const std::string prefix = to_utf8(word);
        auto offer = [&](const std::string& candidate) {
            if (candidate.rfind(prefix, 0) == 0 && candidate != prefix &&
                std::find(completions_.begin(), completions_.end(), candidate) ==
                    completions_.end()) {
                completions_.push_back(candidate);
            }
        };
        if (start == 0 && prefix.starts_with("/")) {
            for (const auto& cmd : commands()) {
                offer("/" + std::string(cmd.name));
            }
        } else if (prefix.starts_with("#")) {
            for (const auto& c : channels_) {
                if (c.info.kind() != v1::DIRECT) {
                    offer("#" + c.info.name());
                }
            }
        } else {
            std::set<std::string> people(online_.begin(), online_.end());
            if (auto* c = current()) {
                for (const auto& [key, e] : c->entries) {
                    if (!e.system && !e.author.empty()) {
                        people.insert(e.author);
                    }
                }
            }
            const bool at = prefix.starts_with("@");
            for (const auto& p : people) {
                offer(at ? "@" + p : p);
            }
        }
        if (completions_.empty()) {
            return;
        }
    }
    std::u32string replacement = to_u32(completions_[completion_at_]);
    input_.replace(start, cursor_ - start, replacement);
    cursor_ = start + replacement.size();
}

void terminal_ui::insert(char32_t c) {
    input_.insert(input_.begin() + static_cast<std::ptrdiff_t>(cursor_), c);
    ++cursor_;
    auto* ch = current();
    if (ch && input_[0] != U'/' && clock_type::now() - typing_sent_ > typing_sent_every) {
        typing_sent_ = clock_type::now();
        spawn([](client& cl, std::uint64_t id) -> asio::awaitable<void> {
            co_await cl.typing(client::by_id(id));
        }(client_, ch->info.id()));
    }
}

void terminal_ui::on_key(wint_t key, bool function_key) {
    const bool escaped = std::exchange(escape_pending_, false);
    if (!function_key && key != L'\t') {
        completions_.clear();
    }
    if (function_key) {
        switch (key) {
            case KEY_LEFT:
                cursor_ = cursor_ > 0 ? cursor_ - 1 : 0;
                break;
            case KEY_RIGHT:
                cursor_ = std::min(cursor_ + 1, input_.size());
                break;
            case KEY_HOME:
                cursor_ = 0;
                break;
            case KEY_END:
                cursor_ = input_.size();
                break;
            case KEY_UP:
                recall(-1);
                break;
            case KEY_DOWN:
                recall(+1);
                break;
            case KEY_BACKSPACE:
                if (cursor_ > 0) {
                    input_.erase(--cursor_, 1);
                }
                break;
            case KEY_DC:
                if (cursor_ < input_.size()) {
                    input_.erase(cursor_, 1);
                }
                break;
            case KEY_PPAGE: {
                scroll_ += std::max(1, pane_rows_ - 1);
                if (auto* c = current(); c && scroll_ + pane_rows_ >= content_rows_) {
                    scroll_ = std::max(0, std::min(scroll_, content_rows_ - pane_rows_));
                    // At the top of what is loaded: fetch the page before it.
                    spawn(load_older(c->info.id()));
                }
                break;
            }
            case KEY_NPAGE:
                scroll_ = std::max(0, scroll_ - std::max(1, pane_rows_ - 1));
                break;
            case KEY_ENTER:
                submit();
                break;
            default:
                break;
        }
        return;
    }
    switch (key) {
        case 27:
            escape_pending_ = true;
            return;  // Alt+key arrives as ESC, key
        case '\r':
            if (escaped) {
                insert(U'\n');  // Alt+Enter: a new line in the message
            } else {
                submit();
            }
            return;
        case '\n':
            insert(U'\n');
            return;  // Ctrl+J
        case '\t':
            complete();
            return;
        case 127:
        case 8:
            if (cursor_ > 0) {
                input_.erase(--cursor_, 1);
            }
            return;
        case 1:
            cursor_ = 0;
            return;  // Ctrl+A
        case 5:
            cursor_ = input_.size();
            return;  // Ctrl+E
        case 21:
            input_.erase(0, cursor_);
            cursor_ = 0;
            return;  // Ctrl+U
        case 3:      // Ctrl+C
        case 4:      // Ctrl+D
            quit_ = true;
            wake_.cancel();
            return;
        case 14:
            switch_to((current_ + 1) % std::max<std::size_t>(1, channels_.size()));
            return;
        case 16:
            switch_to((current_ + channels_.size() - 1) %
                      std::max<std::size_t>(1, channels_.size()));
            return;
        case 12:
            clearok(curscr, TRUE);
            return;  // Ctrl+L
        default:
            break;
    }
    if (escaped && key >= '1' && key <= '9') {
        switch_to(static_cast<std::size_t>(key - '1'));  // Alt+digit
        return;
    }
    if (key >= 32) {
        insert(static_cast<char32_t>(key));
    }
}

int terminal_ui::author_color(const std::string& name) const {
    if (!colors_) {
        return 0;
    }
    std::size_t h = std::hash<std::string>{}(name);
    return static_cast<int>(h % 5) + 2;
}

void terminal_ui::put(int row, int col, std::u32string_view text, int max_width) {
    int used = 0;
    move(row, col);
    for (char32_t c : text) {
        int w = column_width(c);
        if (used + w > max_width) {
            break;
        }
        wchar_t wc[2] = {static_cast<wchar_t>(c == U'\n' ? U'↵' : c), 0};
        addnwstr(wc, 1);
        used += w;
    }
}

void terminal_ui::draw_channels(int rows, int width) {
    for (int i = 0; i < static_cast<int>(channels_.size()) && i < rows; ++i) {
        const auto& c = channels_[static_cast<std::size_t>(i)];
        std::string label = channel_label(c.info);
        std::string badge;
        if (c.info.unread_count() > 0) {
            badge = " " + std::to_string(c.info.unread_count());
        }
        if (c.mentions > 0) {
            badge += " @" + std::to_string(c.mentions);
        }
        auto text = to_u32(label);
        auto badge_text = to_u32(badge);
        int room = width - column_width(badge_text);
        if (static_cast<std::size_t>(i) == current_) {
            attron(A_REVERSE);
        } else if (c.info.unread_count() > 0) {
            attron(A_BOLD);
        }
        mvhline(i, 0, ' ', width);
        put(i, 0, text, room);
        put(i, std::max(0, width - column_width(badge_text)), badge_text, width);
        attroff(A_REVERSE | A_BOLD);
    }
}

void terminal_ui::draw_messages(int top, int left, int rows, int width) {
    pane_rows_ = rows;
    auto* c = current();
    if (!c) {
        put(top, left, to_u32(tr(text::tui_no_channel)), width);
        content_rows_ = 0;
        return;
    }
    struct row {
        std::u32string text;
        int color = 0;
        int author_cols = 0;
        bool dim = false;
    };
    std::vector<row> all;
    if (c->loading) {
        all.push_back({to_u32(tr(text::tui_loading)), 0, 0, true});
    } else if (c->complete) {
        all.push_back({to_u32(tr(text::tui_beginning)), 0, 0, true});
    }
    auto add = [&](const std::string& prefix, const std::string& author, const std::string& body,
                   bool dim) {
        auto head = to_u32(prefix + (author.empty() ? "" : author + ": "));
        const int indent = std::min(column_width(to_u32(prefix)), width / 2);
        auto lines = wrap(to_u32(body), std::max(1, width - column_width(head)));
        for (std::size_t k = 0; k < lines.size(); ++k) {
            row r;
            r.dim = dim;
            if (k == 0) {
                r.text = head + lines[k];
                r.color = author.empty() ? 0 : author_color(author);
                r.author_cols = column_width(head);
            } else {
                r.text = std::u32string(static_cast<std::size_t>(indent), U' ') + lines[k];
            }
            all.push_back(std::move(r));
        }
    };
    for (const auto& [key, e] : c->entries) {
        const std::string time = e.at_ms ? clock_time(e.at_ms) + " " : std::string("      ");
        if (e.system) {
            add(time + "* ", "", e.text, true);
        } else if (e.deleted) {
            add(time, e.author, tr(text::deleted), true);
        } else {
            add(time, e.author, e.text + (e.edited ? std::string(" ") + tr(text::edited) : ""),
                false);
        }
    }
    for (const auto& p : c->pending) {
        add(std::string(tr(text::tui_sending)) + " ", user_, p, true);
    }
    content_rows_ = static_cast<int>(all.size());
    scroll_ = std::max(0, std::min(scroll_, content_rows_ - rows));
    const int first = std::max(0, content_rows_ - rows - scroll_);
    for (int i = 0; i < rows && first + i < content_rows_; ++i) {
        const auto& r = all[static_cast<std::size_t>(first + i)];
        if (r.dim) {
            attron(A_DIM);
        }
        if (r.color != 0 && r.author_cols > 0) {
            // The author's name in their colour, the rest plain.
            put(top + i, left, r.text, width);
            attron(COLOR_PAIR(r.color) | A_BOLD);
            auto head = r.text.substr(0, r.text.find(U':') + 1);
            auto start = head.rfind(U' ', head.size() - 2);
            auto name = head.substr(start == std::u32string::npos ? 0 : start + 1);
            put(top + i, left + column_width(head) - column_width(name), name, width);
            attroff(COLOR_PAIR(r.color) | A_BOLD);
        } else {
            put(top + i, left, r.text, width);
        }
        attroff(A_DIM);
    }
}

void terminal_ui::draw_status(int row, int width) {
    std::string status =
        "[" +
        std::string(client_.connected() ? tr(text::tui_connected) : tr(text::tui_disconnected)) +
        "] " + user_;
    if (auto* c = current()) {
        status += " · " + channel_label(c->info);
        if (!c->info.topic().empty()) {
            status += " · " + c->info.topic();
        }
        std::string online;
        for (const auto& who : online_) {
            online += (online.empty() ? "" : ", ") + who;
        }
        status += " · " + trf(text::tui_online_count, {online});
        std::vector<std::string> typing;
        auto now = clock_type::now();
        for (const auto& [who, at] : c->typing) {
            if (now - at < typing_shown_for) {
                typing.push_back(who);
            }
        }
        if (typing.size() == 1) {
            status += " · " + trf(text::tui_typing_one, {typing[0]});
        } else if (typing.size() > 1) {
            std::string names;
            for (const auto& t : typing) {
                names += (names.empty() ? "" : ", ") + t;
            }
            status += " · " + trf(text::tui_typing_many, {names});
        }
    }
    attron(A_REVERSE);
    if (colors_) {
        attron(COLOR_PAIR(1));
    }
    mvhline(row, 0, ' ', width);
    put(row, 0, to_u32(status), width);
    attroff(A_REVERSE | COLOR_PAIR(1));
}

void terminal_ui::draw_input(int row, int width) {
    const std::u32string prompt = U"> ";
    const int room = std::max(1, width - column_width(prompt) - 1);
    // Scroll the line so that the cursor stays visible.
    std::size_t start = 0;
    while (column_width(std::u32string_view(input_).substr(start, cursor_ - start)) > room) {
        ++start;
    }
    move(row, 0);
    clrtoeol();
    put(row, 0, prompt, width);
    put(row, column_width(prompt), std::u32string_view(input_).substr(start), room);
    move(row, column_width(prompt) +
                  column_width(std::u32string_view(input_).substr(start, cursor_ - start)));
}

void terminal_ui::draw() {
    if (quit_) {
        return;
    }
    int height = 0;
    int width = 0;
    getmaxyx(stdscr, height, width);
    erase();
    if (height < 3 || width < 10) {
        refresh();
        return;
    }
    const int list_width = std::clamp(width / 5, 8, 20);
    const int pane_rows = height - 2;
    draw_channels(pane_rows, list_width);
    for (int row = 0; row < pane_rows; ++row) {
        put(row, list_width, U"│", 1);
    }
    draw_messages(0, list_width + 1, pane_rows, width - list_width - 1);
    draw_status(height - 2, width);
    draw_input(height - 1, width);
    refresh();
    mark_read_if_seen();
    connected_shown_ = client_.connected();
}

asio::awaitable<void> terminal_ui::read_keys() {
    while (!quit_) {
        auto [ec] = co_await keys_.async_wait(asio::posix::stream_descriptor::wait_read, nothrow);
        if (ec) {
            break;
        }
        wint_t key = 0;
        int kind;
        while ((kind = get_wch(&key)) != ERR) {
            on_key(key, kind == KEY_CODE_YES);
        }
        draw();
    }
    quit_ = true;
    wake_.cancel();
}

asio::awaitable<void> terminal_ui::read_pushes() {
    while (!quit_) {
        auto push = co_await client_.next_push(std::chrono::seconds(1));
        if (!push) {
            continue;
        }
        if (push->has_event()) {
            apply(push->event());
        } else if (push->has_presence()) {
            if (push->presence().online()) {
                online_.insert(push->presence().user().name());
            } else {
                online_.erase(push->presence().user().name());
            }
        } else if (push->has_typing()) {
            if (auto* c = find(push->typing().channel_id())) {
                c->typing[push->typing().user().name()] = clock_type::now();
            }
        }
        draw();
    }
}

asio::awaitable<void> terminal_ui::tick() {
    while (!quit_) {
        ticker_.expires_after(std::chrono::milliseconds(500));
        co_await ticker_.async_wait(nothrow);
        // The connection state and typing notices change with time alone.
        draw();
    }
}

asio::awaitable<void> terminal_ui::follow_resizes() {
    while (!quit_) {
        auto [ec, signal] = co_await winch_.async_wait(nothrow);
        if (ec) {
            break;
        }
        winsize size{};
        if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0) {
            resizeterm(size.ws_row, size.ws_col);
        }
        draw();
    }
}

asio::awaitable<int> terminal_ui::run() {
    // Wide characters need a UTF-8 character type, whatever the language.
    if (!std::setlocale(LC_ALL, "") || MB_CUR_MAX == 1) {
        std::setlocale(LC_CTYPE, "C.UTF-8");
    }
    set_escdelay(25);
    initscr();
    raw();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    if (has_colors() && !std::getenv("NO_COLOR")) {
        colors_ = true;
        start_color();
        use_default_colors();
        init_pair(1, COLOR_WHITE, COLOR_BLUE);
        init_pair(2, COLOR_GREEN, -1);
        init_pair(3, COLOR_CYAN, -1);
        init_pair(4, COLOR_MAGENTA, -1);
        init_pair(5, COLOR_YELLOW, -1);
        init_pair(6, COLOR_RED, -1);
    }
    draw();
    co_await load_channels();
    switch_to(0);
    draw();

    int finished = 0;
    auto done = [&](std::exception_ptr) {
        ++finished;
        wake_.cancel();
    };
    asio::co_spawn(executor_, read_keys(), done);
    asio::co_spawn(executor_, read_pushes(), done);
    asio::co_spawn(executor_, tick(), done);
    asio::co_spawn(executor_, follow_resizes(), done);
    while (!quit_) {
        wake_.expires_after(std::chrono::hours(24));
        co_await wake_.async_wait(nothrow);
    }
    endwin();
    // The loops refer to this object: end them before it goes.
    keys_.cancel();
    ticker_.cancel();
    winch_.cancel();
    while (finished < 4) {
        wake_.expires_after(std::chrono::milliseconds(50));
        co_await wake_.async_wait(nothrow);
    }
    co_return 0;
}

}  // namespace

asio::awaitable<int> run_tui(relais::client::client& c, const std::string& user) {
    terminal_ui ui(c, user, co_await asio::this_coro::executor);
    co_return co_await ui.run();
}

}  // namespace relais::cli
