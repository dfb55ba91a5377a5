#pragma once

// The interactive client's state and parts, shared by tui.cpp (model and
// loops), tui_input.cpp (keys and commands) and tui_draw.cpp (the screen).

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <wchar.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "clients/cli/messages.hpp"
#include "clients/lib/client.hpp"

namespace relais::cli {

namespace asio = boost::asio;
using client::client;
using clock_type = std::chrono::steady_clock;

inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
inline constexpr auto typing_shown_for = std::chrono::seconds(5);
inline constexpr auto typing_sent_every = std::chrono::seconds(3);
inline constexpr std::uint32_t history_page = 100;

// One row of a channel as shown: a message, a membership change, or a local
// note (help, errors) that never reaches the server.
struct entry {
    std::string author;
    std::string text;
    std::int64_t at_ms = 0;
    bool edited = false;
    bool deleted = false;
    bool system = false;
    // A resource post, shown as a card.
    std::optional<v1::Resource> resource;
    // As a thread's root: its live replies and whether it is answered.
    std::uint32_t replies = 0;
    bool question = false;
    std::uint64_t solved_seq = 0;
    bool pinned = false;
    std::map<std::string, int> reactions;  // emoji, count
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
    std::uint64_t mentions = 0;  // the server's count, and each mention pushed since
    // Messages up to this seq are already in info.unread_count (the server
    // counted them in the channel list): when their events arrive they add
    // their mentions, not to the unread count.
    std::uint64_t unread_counted_through = 0;
    // History pages carry each message's reactions as they were when the
    // page was read, up to this seq: reaction events up to it are in them.
    std::uint64_t reactions_through = 0;
    std::map<std::string, clock_type::time_point> typing;
    std::vector<std::string> pending;  // sent, not yet acknowledged
};

// A thread opened beside the channel (/thread SEQ): its root and replies;
// what is typed while it is open is a reply.
struct thread_pane {
    std::uint64_t channel_id = 0;
    std::uint64_t root_seq = 0;
    std::map<entry_key, entry> entries;
    bool following = false;
    std::uint64_t read_through = 0;  // the user's read marker in it, as sent
};

// A listing shown in place of the conversation (/search, /resources,
// /threads, /help...), read from the top.
struct list_pane {
    std::string title;
    std::vector<std::string> lines;
};

// A practice-exchange session followed on screen (/session ID): its whole
// state from the snapshot, then each of its events.
struct session_panel {
    v1::MeetingView view;
    bool loaded = false;
    // Its events that came before the snapshot did; applied once it has.
    std::vector<v1::Event> early;
};

std::string channel_label(const v1::Channel& c);
std::vector<std::string> split_words(const std::string& s);
// The rest of `line` after its first `n` words.
std::string after_words(const std::string& line, std::size_t n);

// The terminal UI. Owned by the coroutine that runs it; every member is used
// only from the client's executor thread.
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
    using command_action = std::function<asio::awaitable<void>(const std::string& line)>;

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
    asio::awaitable<void> send_text(std::uint64_t channel_id, std::string text,
                                    std::uint64_t thread_seq = 0);
    asio::awaitable<void> open_thread(std::uint64_t channel_id, std::uint64_t seq);
    // Asks the server for the channel's counts again (unread, mentions,
    // unread replies of followed threads).
    asio::awaitable<void> refresh_counts(std::uint64_t channel_id);
    void show_list(std::string title, std::vector<std::string> lines);
    asio::awaitable<void> follow_thread(channel_view& c, const std::string& line, bool follow);
    // Marks the open thread's question solved by `answer` (0: unsolved).
    asio::awaitable<void> solve_open_thread(channel_view& c, std::uint64_t answer);
    asio::awaitable<void> react_to(channel_view& c, const std::string& line, bool remove);
    asio::awaitable<outcome<void>> pin_message(channel_view& c, const std::string& line,
                                               bool unpin);
    bool close_pane();
    asio::awaitable<void> run_command(std::string line);
    asio::awaitable<void> show_members();
    asio::awaitable<void> report(const failure& f);
    void note(const std::string& text);
    void switch_to(std::size_t index);
    // Learns about a channel just joined or created, and shows it.
    asio::awaitable<void> open_channel(std::uint64_t id);
    std::optional<std::uint64_t> last_own_message() const;
    std::map<std::string, command_action> actions();

    // The session panel (tui_session.cpp).
    std::map<std::string, command_action> session_actions();
    asio::awaitable<void> open_session(std::uint64_t id, bool accept_charter);
    asio::awaitable<void> reload_session();
    void apply_meeting(const v1::Event& e);
    // Its rows, drawn above the conversation; returns how many it took.
    int draw_session(int top, int left, int width);
    template <class Request>
    asio::awaitable<void> session_request(Request r);

    // Model.
    void apply(const v1::Event& e);
    // The entry of message `seq` of a channel, in the channel's view or the
    // open thread.
    entry* entry_at(std::uint64_t channel_id, std::uint64_t seq);
    channel_view* current();
    channel_view* find(std::uint64_t id);

    // Screen.
    void draw();
    void draw_channels(int rows, int width);
    void draw_messages(int top, int left, int rows, int width);
    void draw_list(int top, int left, int rows, int width);
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
    // Events of channels we were added to, received before the channel list
    // that tells us about them: their mentions count, their rows show.
    std::map<std::uint64_t, std::vector<v1::Event>> early_events_;
    std::size_t current_ = 0;
    std::set<std::string> online_;
    std::uint64_t note_counter_ = 0;
    std::optional<thread_pane> thread_;
    std::optional<list_pane> list_;
    std::optional<session_panel> session_;
    std::uint64_t charter_shown_for_ = 0;  // the session whose charter awaits /accept
    std::uint64_t reconnections_seen_ = 0;
    // Channels mentioned in before the channel list told about them.
    std::set<std::uint64_t> counts_wanted_;

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

}  // namespace relais::cli
