// The interactive terminal client: its model (channels, history, live
// events) and its loops (keys, pushes, ticks, resizes), on ncurses.
#include "clients/cli/tui.hpp"

#include <boost/asio/co_spawn.hpp>

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <clocale>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <sstream>

#include <curses.h>

#include "clients/cli/command_registry.hpp"
#include "clients/cli/terminal_ui.hpp"
#include "clients/cli/text_width.hpp"

namespace relais::cli {

std::string channel_label(const v1::Channel& c) {
    return (c.kind() == v1::DIRECT ? "@" : "#") + c.name();
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
    // A note is there to be read: a list over the conversation gives way.
    list_.reset();
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
            // Lists asked for one after the other may come back in any
            // order (two reader threads), and events may have been applied
            // since one was read: only a list at least as recent as what
            // is shown replaces it (a stale one turned '2 @1' into '1 @1').
            if (info.last_seq() >= known->info.last_seq()) {
                known->info = info;
                known->mentions = info.mention_count();
                known->unread_counted_through =
                    std::max(known->unread_counted_through, info.last_seq());
            }
            continue;
        }
        channel_view view;
        view.info = info;
        view.mentions = info.mention_count();
        view.unread_counted_through = info.last_seq();
        channels_.push_back(std::move(view));
        // Everything after what the server says we read is fetched and
        // followed live; the library fills any gap after a reconnection.
        std::uint64_t follow_after = info.last_seq();
        if (auto early = early_events_.find(info.id()); early != early_events_.end()) {
            // A channel we were just added to, and its events that came
            // before this list. Every one is shown and counts its mention:
            // those the list already counted do not count unread twice, and
            // those after the list's last seq (the list was read before they
            // were committed) count as any new message. The library has
            // handed these over already: follow from the last one seen, so
            // that events the list counted but we have not received yet
            // (a read can see a commit before its events are delivered)
            // still come.
            follow_after = 0;
            for (const auto& e : early->second) {
                apply(e);
                follow_after = std::max(follow_after, e.seq());
            }
            early_events_.erase(early);
        }
        client_.follow(info.id(), follow_after);
    }
    for (auto id : std::exchange(counts_wanted_, {})) {
        if (find(id)) {
            spawn(refresh_counts(id));
        }
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
    c->reactions_through = std::max(c->reactions_through, page->last_seq());
    for (const auto& e : page->events()) {
        apply(e);
    }
    if (!page->events().empty()) {
        c->oldest_loaded = page->events(0).seq();
    }
    c->complete = !page->has_more();
    draw();
}

entry* terminal_ui::entry_at(std::uint64_t channel_id, std::uint64_t seq) {
    if (thread_ && thread_->channel_id == channel_id) {
        if (auto it = thread_->entries.find({seq, 0}); it != thread_->entries.end()) {
            return &it->second;
        }
    }
    if (auto* c = find(channel_id)) {
        if (auto it = c->entries.find({seq, 0}); it != c->entries.end()) {
            return &it->second;
        }
    }
    return nullptr;
}

namespace {

// A message as a row: its text, and what history says about it.
entry message_entry(const v1::Event& e) {
    entry row;
    row.author = person(e.actor());
    row.at_ms = e.at_ms();
    const auto& m = e.message();
    row.text = m.text();
    if (m.has_attachment()) {
        row.text += (row.text.empty() ? "" : " ") + describe_attachment(m.attachment());
    }
    row.edited = m.edited_at_ms() != 0;
    row.deleted = m.deleted();
    if (m.has_resource()) {
        row.resource = m.resource();
    }
    row.replies = m.thread().reply_count();
    row.question = m.thread().question();
    row.solved_seq = m.thread().solved_seq();
    row.pinned = m.pinned();
    for (const auto& r : m.reactions()) {
        row.reactions[r.emoji()] = static_cast<int>(r.count());
    }
    return row;
}

}  // namespace

void terminal_ui::apply(const v1::Event& e) {
    auto* c = find(e.channel_id());
    if (!c) {
        // A channel we were just added to: learn about it, then show this.
        auto& early = early_events_[e.channel_id()];
        if (early.size() < history_page) {
            early.push_back(e);
        }
        spawn(load_channels());
        return;
    }
    c->info.set_last_seq(std::max(c->info.last_seq(), e.seq()));
    if (e.has_removed()) {
        return;  // an erased account's words, removed with it
    }
    const entry_key key{e.seq(), 0};
    entry row;
    row.author = person(e.actor());
    row.at_ms = e.at_ms();
    if (e.has_message() && e.message().thread_seq() != 0) {
        // A reply lives in its thread; the channel shows its root's count.
        const auto root = e.message().thread_seq();
        if (thread_ && thread_->channel_id == e.channel_id() && thread_->root_seq == root) {
            thread_->entries[key] = message_entry(e);
        } else if (row.author != user_) {
            spawn(refresh_counts(e.channel_id()));
        }
        c->typing.erase(row.author);
        return;
    }
    if (e.has_message()) {
        row = message_entry(e);
        const bool is_new = c->entries.count(key) == 0;
        c->typing.erase(row.author);
        if (is_new && row.author != user_ && e.seq() > c->info.last_read_seq() &&
            (c != current() || scroll_ != 0) && e.seq() > c->unread_counted_through) {
            c->info.set_unread_count(c->info.unread_count() + 1);
        }
        if (thread_ && thread_->channel_id == e.channel_id() && thread_->root_seq == e.seq()) {
            thread_->entries[key] = row;
        }
    } else if (e.has_edited()) {
        if (auto* target = entry_at(e.channel_id(), e.edited().target_seq())) {
            target->text = e.edited().text();
            target->edited = true;
            if (e.edited().has_resource()) {
                target->resource = e.edited().resource();
            }
        }
        return;
    } else if (e.has_deleted()) {
        for (auto* target : {entry_at(e.channel_id(), e.deleted().target_seq())}) {
            if (target) {
                target->text.clear();
                target->deleted = true;
                target->resource.reset();
                target->reactions.clear();
            }
        }
        if (thread_ && thread_->channel_id == e.channel_id()) {
            if (auto it = c->entries.find({e.deleted().target_seq(), 0}); it != c->entries.end()) {
                it->second.deleted = true;
                it->second.text.clear();
            }
        }
        return;
    } else if (e.has_reaction()) {
        if (e.seq() <= c->reactions_through) {
            return;  // already in the counts the history page gave
        }
        if (auto* target = entry_at(e.channel_id(), e.reaction().target_seq())) {
            auto& n = target->reactions[e.reaction().emoji()];
            n += e.reaction().added() ? 1 : -1;
            if (n <= 0) {
                target->reactions.erase(e.reaction().emoji());
            }
        }
        return;
    } else if (e.has_pin()) {
        if (auto* target = entry_at(e.channel_id(), e.pin().target_seq())) {
            target->pinned = e.pin().pinned();
        }
        row.system = true;
        row.text = row.author + " " +
                   tr(e.pin().pinned() ? words{"a épinglé", "pinned"}
                                       : words{"a désépinglé", "unpinned"}) +
                   " " + std::to_string(e.pin().target_seq());
    } else if (e.has_solved()) {
        if (auto* root = entry_at(e.channel_id(), e.solved().root_seq())) {
            root->question = true;
            root->solved_seq = e.solved().answer_seq();
        }
        return;
    } else if (e.has_member()) {
        row.system = true;
        row.text = describe_member_change(e.member(), row.author);
    } else if (e.has_created()) {
        row.system = true;
        row.text = row.author + " " + tr(text::created);
    } else if (e.has_topic()) {
        row.system = true;
        row.text = row.author + " " + tr(text::topic_changed) + " " + e.topic().topic();
        c->info.set_topic(e.topic().topic());
    } else if (e.has_display_name()) {
        row.system = true;
        row.text = describe_rename(e.display_name().display_name(), row.author);
        c->info.set_display_name(e.display_name().display_name());
    } else if (e.has_options()) {
        row.system = true;
        row.text = describe_options_change(e.options().options(), row.author);
        *c->info.mutable_options() = e.options().options();
    } else if (e.has_meeting()) {
        apply_meeting(e);
        row.text = describe_meeting_event(e.meeting(), row.author);
        if (row.text.empty()) {
            return;  // the panel shows it
        }
        row.system = true;
    } else {
        return;
    }
    c->entries[key] = std::move(row);
}

asio::awaitable<void> terminal_ui::refresh_counts(std::uint64_t channel_id) {
    v1::GetChannel get;
    get.mutable_channel()->set_id(channel_id);
    auto info = co_await client_.ask(std::move(get));
    auto* c = find(channel_id);
    if (!info || !c) {
        co_return;
    }
    c->info.set_thread_unread_count(info->thread_unread_count());
    c->info.set_mention_count(info->mention_count());
    c->mentions = info->mention_count();
    draw();
}

asio::awaitable<void> terminal_ui::open_thread(std::uint64_t channel_id, std::uint64_t seq) {
    thread_pane pane;
    pane.channel_id = channel_id;
    std::uint64_t after = 0, last_read = 0;
    for (;;) {
        v1::GetThread get;
        get.mutable_channel()->set_id(channel_id);
        get.set_root_seq(seq);
        get.set_after_seq(after == 0 ? seq : after);
        auto page = co_await client_.ask(std::move(get));
        if (!page) {
            co_await report(page.error());
            co_return;
        }
        pane.root_seq = page->root().seq();
        pane.following = page->following();
        last_read = page->last_read_seq();
        pane.entries[{page->root().seq(), 0}] = message_entry(page->root());
        for (const auto& e : page->replies()) {
            pane.entries[{e.seq(), 0}] = message_entry(e);
            after = e.seq();
        }
        if (!page->has_more() || page->replies().empty()) {
            break;
        }
    }
    list_.reset();
    // What is on screen counts as read (mark_read_if_seen, on every device).
    pane.read_through = last_read;
    thread_ = std::move(pane);
    scroll_ = 0;
    draw();
}

void terminal_ui::show_list(std::string title, std::vector<std::string> lines) {
    list_ = list_pane{std::move(title), std::move(lines)};
    scroll_ = 0;
    draw();
}

bool terminal_ui::close_pane() {
    if (list_) {
        list_.reset();
    } else if (thread_) {
        thread_.reset();
    } else {
        return false;
    }
    scroll_ = 0;
    return true;
}

void terminal_ui::mark_read_if_seen() {
    if (list_ || scroll_ != 0) {
        return;  // the conversation is not what is on screen
    }
    if (thread_) {
        const auto newest = thread_->entries.empty() ? 0 : thread_->entries.rbegin()->first.first;
        if (newest > thread_->read_through) {
            thread_->read_through = newest;
            spawn([](terminal_ui& ui, client& cl, std::uint64_t id, std::uint64_t root,
                     std::uint64_t s) -> asio::awaitable<void> {
                v1::MarkThreadRead mark;
                mark.mutable_channel()->set_id(id);
                mark.set_root_seq(root);
                mark.set_seq(s);
                co_await cl.ask(std::move(mark));
                co_await ui.refresh_counts(id);
            }(*this, client_, thread_->channel_id, thread_->root_seq, newest));
        }
        return;
    }
    auto* c = current();
    if (!c || c->info.last_seq() <= c->info.last_read_seq()) {
        return;
    }
    const auto seq = c->info.last_seq();
    c->info.set_last_read_seq(seq);
    c->info.set_unread_count(0);
    spawn([](terminal_ui& ui, client& cl, std::uint64_t id,
             std::uint64_t s) -> asio::awaitable<void> {
        co_await cl.mark_read(client::by_id(id), s);
        // Mentions in threads stay until their thread is read.
        co_await ui.refresh_counts(id);
    }(*this, client_, c->info.id(), seq));
}

void terminal_ui::switch_to(std::size_t index) {
    if (index >= channels_.size()) {
        return;
    }
    current_ = index;
    scroll_ = 0;
    thread_.reset();
    list_.reset();
    auto& c = channels_[index];
    if (c.oldest_loaded == 0 && !c.complete) {
        spawn(load_older(c.info.id()));
    }
    spawn(show_members());
}

asio::awaitable<void> terminal_ui::open_channel(std::uint64_t id) {
    co_await load_channels();
    for (std::size_t i = 0; i < channels_.size(); ++i) {
        if (channels_[i].info.id() == id) {
            switch_to(i);
        }
    }
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

asio::awaitable<void> terminal_ui::send_text(std::uint64_t channel_id, std::string body,
                                             std::uint64_t thread_seq) {
    auto* c = find(channel_id);
    if (!c) {
        co_return;
    }
    c->pending.push_back(body);
    draw();
    v1::SendMessage send;
    send.mutable_channel()->set_id(channel_id);
    send.set_text(body);
    send.set_thread_seq(thread_seq);
    send.set_client_msg_id(client::new_message_id());
    auto sent = co_await client_.ask(std::move(send));
    c = find(channel_id);
    if (c) {
        auto it = std::find(c->pending.begin(), c->pending.end(), body);
        if (it != c->pending.end()) {
            c->pending.erase(it);
        }
        if (sent) {
            apply(sent->event());
            if (thread_seq == 0) {
                c->info.set_last_read_seq(std::max(c->info.last_read_seq(), sent->event().seq()));
            }
        }
    }
    if (!sent) {
        note(trf(text::tui_not_sent, {describe(sent.error())}));
    }
    draw();
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
        // Escape alone (no key came with it): closes the open thread or list.
        if (escape_pending_ && close_pane()) {
            escape_pending_ = false;
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
        } else if (push->has_thread_update()) {
            const auto& u = push->thread_update();
            if (auto* root = entry_at(u.channel_id(), u.summary().root_seq())) {
                root->replies = u.summary().reply_count();
                root->question = u.summary().question();
                root->solved_seq = u.summary().solved_seq();
            }
            if (auto* c = find(u.channel_id())) {
                if (auto it = c->entries.find({u.summary().root_seq(), 0});
                    it != c->entries.end()) {
                    it->second.replies = u.summary().reply_count();
                }
            }
        } else if (push->has_mention()) {
            // Counted by the server: the list shows its number, once the
            // channel is known.
            const auto id = push->mention().event().channel_id();
            if (find(id)) {
                spawn(refresh_counts(id));
            } else {
                counts_wanted_.insert(id);
            }
        } else if (push->has_read_marker()) {
            // Read on another device.
            const auto& m = push->read_marker();
            if (auto* c = find(m.channel_id());
                c && m.root_seq() == 0 && m.seq() > c->info.last_read_seq()) {
                c->info.set_last_read_seq(m.seq());
                if (m.seq() >= c->info.last_seq()) {
                    c->info.set_unread_count(0);
                }
            }
            spawn(refresh_counts(m.channel_id()));
        }
        draw();
    }
}

asio::awaitable<void> terminal_ui::tick() {
    while (!quit_) {
        ticker_.expires_after(std::chrono::milliseconds(500));
        co_await ticker_.async_wait(nothrow);
        // Back after an outage: the session's state again, in one snapshot.
        if (session_ && session_->loaded && client_.connected() &&
            client_.reconnections() != reconnections_seen_) {
            reconnections_seen_ = client_.reconnections();
            spawn(reload_session());
        }
        // The connection state, typing notices and a phase's time left
        // change with time alone.
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
    // The client library's background failures go on the screen, not over it.
    client_.set_report([this](std::string_view what) { note(std::string(what)); });
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
    client_.set_report({});
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

asio::awaitable<int> run_tui(relais::client::client& c, const std::string& user) {
    terminal_ui ui(c, user, co_await asio::this_coro::executor);
    co_return co_await ui.run();
}

}  // namespace relais::cli
