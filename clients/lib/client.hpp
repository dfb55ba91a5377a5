#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "clients/lib/requests.hpp"
#include "protocol/errc.hpp"
#include "protocol/relais.pb.h"

namespace relais::client {

namespace asio = boost::asio;

struct options {
    std::string url = "ws://127.0.0.1:7680";  // ws://HOST:PORT or wss://HOST:PORT
    std::string ca_file;  // PEM trusted for wss:// (a self-signed server); system CAs if empty
    std::string client_name = "relais-client/0.1";
    std::string device;     // shown with the client in the user's list of sessions
    bool reconnect = true;  // after a drop: reconnect, resume, resend, resync
    std::chrono::milliseconds request_timeout{30000};
    // The wait before reconnecting after a drop, doubled after each failed
    // attempt up to max_backoff.
    std::chrono::milliseconds min_backoff{100};
    std::chrono::milliseconds max_backoff{5000};
    // Told of failures that no request hears of (one of the library's
    // background tasks threw). The library prints nothing itself: the
    // program decides where such words go. Empty: they are dropped.
    std::function<void(std::string_view what)> report;
};

class transport;

// An asynchronous Relais client: requests as awaitables, and a stream of
// pushed events delivered in seq order per channel, with no gap and no
// duplicate, across reconnections.
// Not thread-safe: call it only from the thread running its executor.
class client {
  public:
    client(asio::any_io_executor executor, options opts);
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    // Opens the connection and exchanges Hello/Welcome.
    asio::awaitable<outcome<v1::Welcome>> connect();
    // Logs in; the token is kept to resume after a reconnection.
    asio::awaitable<outcome<v1::Session>> login(std::string name, std::string password);
    asio::awaitable<outcome<v1::Session>> resume(std::string token);
    asio::awaitable<outcome<void>> logout();
    // Replaces options::report, e.g. once a screen exists to show it on.
    void set_report(std::function<void(std::string_view what)> report);

    // Sends any request (request_id is filled in) and waits for its answer;
    // an Error answer comes back as a failure with its code and message.
    asio::awaitable<outcome<v1::ServerMessage>> request(v1::ClientMessage msg);

    // Sends `body` as a request and waits for its answer, typed (requests.hpp
    // says what answers what). Every request below is made this way; a new
    // request needs no more than its line in requests.hpp.
    template <class Request>
    asio::awaitable<outcome<answer_to<Request>>> ask(Request body) {
        answer_to<Request> answer;
        auto r = co_await exchange(body, answer, request_traits<Request>::resend);
        if (!r) {
            co_return r.error();
        }
        co_return answer;
    }

    asio::awaitable<outcome<v1::Channel>> create_channel(std::string name, std::string topic,
                                                         bool is_private);
    asio::awaitable<outcome<std::vector<v1::Channel>>> list_channels();
    asio::awaitable<outcome<v1::Channel>> join(v1::ChannelRef channel);
    asio::awaitable<outcome<void>> leave(v1::ChannelRef channel);
    asio::awaitable<outcome<void>> invite(v1::ChannelRef channel, std::string user);
    asio::awaitable<outcome<void>> kick(v1::ChannelRef channel, std::string user);
    asio::awaitable<outcome<void>> set_member_role(v1::ChannelRef channel, std::string user,
                                                   v1::MemberRole role);
    asio::awaitable<outcome<void>> set_topic(v1::ChannelRef channel, std::string topic);
    asio::awaitable<outcome<std::vector<v1::Member>>> members(v1::ChannelRef channel);
    asio::awaitable<outcome<v1::Channel>> open_direct(std::string user);
    // Sends a message. An empty client_msg_id gets a fresh random one; the
    // same id is reused if the send has to be retried after a reconnection.
    asio::awaitable<outcome<v1::Sent>> send(v1::ChannelRef channel, std::string text,
                                            std::string client_msg_id = {});
    asio::awaitable<outcome<void>> edit(v1::ChannelRef channel, std::uint64_t seq,
                                        std::string text);
    asio::awaitable<outcome<void>> erase(v1::ChannelRef channel, std::uint64_t seq);
    asio::awaitable<outcome<v1::Events>> history(v1::ChannelRef channel, std::uint64_t before_seq,
                                                 std::uint64_t after_seq, std::uint32_t limit);
    asio::awaitable<outcome<v1::Events>> sync(v1::ChannelRef channel, std::uint64_t after_seq,
                                              std::uint32_t limit = 0);
    asio::awaitable<outcome<void>> mark_read(v1::ChannelRef channel, std::uint64_t seq);
    // Tells the channel's other members that the user is typing.
    asio::awaitable<outcome<void>> typing(v1::ChannelRef channel);

    // Follows a channel from after_seq: events after it are delivered by
    // next_push, fetched from history if they were missed.
    void follow(std::uint64_t channel_id, std::uint64_t after_seq);
    std::uint64_t last_seq(std::uint64_t channel_id) const;

    // The next pushed Event or Presence; nullopt after `timeout`, or once the
    // client is closed.
    asio::awaitable<std::optional<v1::ServerMessage>> next_push(
        std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

    // Cuts the connection as a network failure would (with reconnect on,
    // the client comes back by itself).
    void drop();
    // Closes for good with a close frame.
    asio::awaitable<void> close();

    bool connected() const { return transport_ != nullptr; }
    // True once the server refused to resume the session (the account was
    // disabled, its password changed, or it logged out elsewhere): the
    // client stays offline until the user logs in again.
    bool signed_out() const { return signed_out_; }
    const v1::Limits& limits() const { return limits_; }
    std::uint64_t reconnections() const { return reconnections_; }
    // How many times a channel's history on the server turned out to end
    // before what this client had seen (a restore from an older backup).
    std::uint64_t history_resets() const { return history_resets_; }

    // A fresh client_msg_id, for a SendMessage or PostResource built by
    // hand (a reply, a resource): kept in the request, it is the same when
    // the request is sent again after a reconnection.
    static std::string new_message_id();

    static v1::ChannelRef by_name(std::string name);
    static v1::ChannelRef by_id(std::uint64_t id);

  private:
    struct pending {
        std::string frame;
        bool resend = true;  // sent again after a reconnection
        std::optional<outcome<v1::ServerMessage>> answer;
        std::shared_ptr<asio::steady_timer> signal;
    };
    struct followed {
        std::uint64_t last = 0;
        std::map<std::uint64_t, v1::ServerMessage> early;  // arrived past a gap
        bool syncing = false;
    };

    asio::awaitable<outcome<std::shared_ptr<transport>>> open_and_greet();
    void start(std::shared_ptr<transport> t);
    asio::awaitable<void> read_loop(std::shared_ptr<transport> t);
    asio::awaitable<void> write_loop(std::shared_ptr<transport> t);
    asio::awaitable<void> reconnect_loop();
    asio::awaitable<void> resync(std::uint64_t channel_id);
    void on_lost(const std::shared_ptr<transport>& t);
    void on_push(v1::ServerMessage msg);
    void deliver_in_order(std::uint64_t channel_id);
    void push(v1::ServerMessage msg);
    void enqueue(const std::string& frame);
    void fail_pending(const failure& f, bool keep_resendable);
    asio::awaitable<outcome<v1::ServerMessage>> call(v1::ClientMessage msg, bool resend);
    // Puts `body` in the envelope's field of its type, sends it, and moves
    // the answer's body into `answer` when it is of answer's type.
    asio::awaitable<outcome<void>> exchange(const google::protobuf::Message& body,
                                            google::protobuf::Message& answer, bool resend);

    // What a background task's completion reports a failure through: shared,
    // because a task may complete after the client is gone.
    using report_slot = std::shared_ptr<std::function<void(std::string_view)>>;
    static void report_failure(const report_slot& slot, std::exception_ptr e);
    auto failure_reporter() {
        return [slot = report_](std::exception_ptr e) { report_failure(slot, e); };
    }

    asio::any_io_executor executor_;
    options opts_;
    report_slot report_;
    // Coroutines still pending when the client is destroyed check it before
    // touching the client again.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
    v1::Welcome welcome_;
    std::shared_ptr<transport> transport_;
    v1::Limits limits_;
    std::string token_;
    bool closed_ = false;
    bool reconnecting_ = false;
    bool signed_out_ = false;
    std::uint64_t reconnections_ = 0;
    std::uint64_t history_resets_ = 0;
    std::uint64_t next_request_id_ = 0;

    std::map<std::uint64_t, std::shared_ptr<pending>> pending_;
    std::deque<std::string> outbox_;
    asio::steady_timer outbox_signal_;
    std::deque<v1::ServerMessage> pushes_;
    asio::steady_timer push_signal_;
    std::unordered_map<std::uint64_t, followed> channels_;
};

}  // namespace relais::client
