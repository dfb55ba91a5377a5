#pragma once

// WebSocket sessions. Included only by server.cpp, which instantiates them for
// plain TCP and for TLS.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <malloc.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "connection.hpp"
#include "service.hpp"
#include "write_combiner.hpp"

namespace relais::net {

// Connections closed because their outbound queue overflowed (for /metrics).
inline std::atomic<std::uint64_t> slow_reader_closes{0};

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

inline constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct session_limits {
    std::size_t max_queue_bytes = 0;
    std::size_t max_queue_frames = 0;
    std::size_t max_frame_bytes = 0;
    std::chrono::seconds handshake_timeout{10};
    std::chrono::seconds idle_timeout{60};
};

// What the server needs of any session, whatever its stream.
class session_base : public core::connection {
  public:
    using core::connection::connection;
    // Flushes what is queued, then closes with 1001 (going away).
    virtual void shutdown() = 0;
};

// One WebSocket client. A reader coroutine hands frames to the service;
// delivered frames wait in queue_ until the pump, on the session's strand,
// moves them all into the write combiner, which sends them in one write.
// While the socket does not take more, frames stay in queue_, where the
// bound on slow readers applies.
// Unlike the reader, the writer is not a coroutine (DESIGN.md asks for one):
// waking a coroutine for each delivery (a timer cancelled, a frame resumed)
// weighed on the hottest path. The pump and the combiner's non-blocking send
// together took `relais-bench fanout` (1,000 members, 50 msg/s) from 16.3
// to 11.4 µs of server CPU per delivery.
// The stream and the timers are owned by the session's strand; the queue and
// the closing state are guarded by mu_, because the service delivers from
// storage and network threads alike.
template <class Stream>
class ws_session final : public session_base {
  public:
    ws_session(std::uint64_t id, std::string remote, Stream stream, core::service& service,
               const session_limits& limits)
        : session_base(id, std::move(remote), service.config().connection_requests),
          ws_(std::move(stream)),
          service_(service),
          limits_(limits),
          watchdog_(ws_.get_executor()) {
        const auto executor = ws_.get_executor();
        if (const auto* strand = executor.template target<strand_type>()) {
            strand_ = *strand;
        }
    }

    void deliver(protocol::frame f) override {
        std::vector<protocol::frame> dropped;
        {
            std::lock_guard lock(mu_);
            if (closing_) {
                return;
            }
            // One frame larger than the whole bound still goes out alone.
            if (queue_.empty() || (queue_.size() + 1 <= limits_.max_queue_frames &&
                                   queued_bytes_ + f->size() <= limits_.max_queue_bytes)) {
                queued_bytes_ += f->size();
                queue_.push_back(std::move(f));
                schedule_pump();
                return;
            }
            // The client does not read fast enough. It loses nothing: it will
            // resync from storage when it comes back.
            dropped.swap(queue_);
            queued_bytes_ = 0;
            ++slow_reader_closes;
            begin_close(websocket::close_code::policy_error,
                        "too slow: outbound queue full; reconnect and resync");
        }
        // Most of these frames were held by this queue alone: up to the
        // whole bound, freed at once. The allocator keeps freed memory for
        // later (M_TRIM_THRESHOLD, main.cpp); give this back to the system.
        dropped.clear();
        ::malloc_trim(0);
    }

    void close(const std::string& reason) override {
        std::lock_guard lock(mu_);
        if (!closing_) {
            begin_close(websocket::close_code::policy_error, reason);
        }
    }

    void shutdown() override {
        std::lock_guard lock(mu_);
        if (!closing_) {
            begin_close(websocket::close_code::going_away, "server shutting down");
        }
    }

    asio::any_io_executor get_executor() { return ws_.get_executor(); }

    // Completes the WebSocket handshake, then serves until the connection ends.
    asio::awaitable<void> run(http::request<http::string_body> req) {
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = limits_.handshake_timeout;
        timeouts.idle_timeout = limits_.idle_timeout;
        timeouts.keep_alive_pings = true;
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "relais-server"); }));
        ws_.read_message_max(limits_.max_frame_bytes);
        ws_.binary(true);
        auto& out = ws_.next_layer();
        out.keep_alive_with(shared_from_this());
        out.on_idle([this] { pump(); });
        auto [ec] = co_await ws_.async_accept(req, nothrow);
        // Not needed any more: give its memory back for the connection's life.
        req = {};
        if (ec) {
            co_return;
        }
        accepted_ = true;
        // A close asked for during the handshake.
        pump();
        co_await read_loop();
    }

  private:
    std::shared_ptr<ws_session> self() {
        return std::static_pointer_cast<ws_session>(shared_from_this());
    }

    // Call with mu_ held.
    void schedule_pump() {
        if (!pump_scheduled_) {
            pump_scheduled_ = true;
            // Posting through the typed strand saves copying the type-erased
            // executor, once per delivery.
            if (strand_) {
                asio::post(*strand_, [self = self()] { self->pump(); });
            } else {
                asio::post(ws_.get_executor(), [self = self()] { self->pump(); });
            }
        }
    }

    // Call with mu_ held.
    void begin_close(websocket::close_code code, std::string reason) {
        closing_ = true;
        close_code_ = code;
        close_reason_ = std::move(reason);
        schedule_pump();
        // A client that does not read may never let the close frame out:
        // give it a few seconds, then cut the socket.
        asio::post(watchdog_.get_executor(), [self = self()] {
            if (self->writer_finished_) {
                return;
            }
            self->watchdog_.expires_after(std::chrono::seconds(5));
            self->watchdog_.async_wait([self](beast::error_code ec) {
                if (!ec) {
                    beast::get_lowest_layer(self->ws_).close();
                }
            });
        });
    }

    // On the strand: moves what is queued into the combiner and writes it,
    // unless the socket is still busy with the previous batch (the
    // combiner calls again once it is not).
    void pump() {
        auto& out = ws_.next_layer();
        bool closing = false;
        {
            std::lock_guard lock(mu_);
            pump_scheduled_ = false;
            if (!accepted_ || writer_finished_ || out.busy()) {
                return;
            }
            batch_.swap(queue_);
            queued_bytes_ = 0;
            closing = closing_;
        }
        for (const auto& f : batch_) {
            // The peer's close frame may have arrived (Beast answers it):
            // nothing may follow the answer.
            if (!ws_.is_open()) {
                break;
            }
            out.append_binary_message(*f);
        }
        batch_.clear();
        out.flush();
        if (out.failed()) {
            abandon();
            return;
        }
        if (closing && !close_started_ && !out.busy()) {
            close_started_ = true;
            asio::co_spawn(ws_.get_executor(), close_handshake(self()), asio::detached);
        }
    }

    asio::awaitable<void> close_handshake([[maybe_unused]] std::shared_ptr<ws_session> keep) {
        bool reader_done = false;
        websocket::close_reason reason;
        {
            std::lock_guard lock(mu_);
            reader_done = reader_done_;
            reason = websocket::close_reason(close_code_, close_reason_);
        }
        if (!reader_done && ws_.is_open()) {
            co_await ws_.async_close(reason, nothrow);
        }
        writer_finished_ = true;
        watchdog_.cancel();
    }

    asio::awaitable<void> read_loop() {
        // While a connection waits for its next message, a read into a
        // growable buffer would hold the 1.5 KiB Beast prepares for it: most
        // requests fit in this first piece, and a larger message is
        // gathered in `message`, freed after use.
        std::array<char, 256> first;
        std::string message;
        for (;;) {
            auto [ec, n] = co_await ws_.async_read_some(asio::buffer(first), nothrow);
            std::string_view data(first.data(), n);
            if (!ec && !ws_.is_message_done()) {
                message.assign(data);
                while (!ec && !ws_.is_message_done()) {
                    const auto had = message.size();
                    message.resize(had + std::max<std::size_t>(had, 4096));
                    std::size_t more = 0;
                    std::tie(ec, more) = co_await ws_.async_read_some(
                        asio::buffer(message.data() + had, message.size() - had), nothrow);
                    message.resize(had + more);
                }
                data = message;
            }
            if (ec) {
                break;
            }
            if (ws_.got_text()) {
                std::lock_guard lock(mu_);
                begin_close(websocket::close_code::unknown_data,
                            "text frames are not supported: send binary relais.v1 messages");
                break;
            }
            service_.on_frame(self(), data);
            std::string().swap(message);
        }
        service_.on_close(self());
        std::lock_guard lock(mu_);
        if (!closing_) {
            closing_ = true;
            reader_done_ = true;
            schedule_pump();
        }
    }

    // The connection broke while writing: stop queueing, let the reader end.
    void abandon() {
        {
            std::lock_guard lock(mu_);
            closing_ = true;
            queue_.clear();
        }
        beast::get_lowest_layer(ws_).close();
        writer_finished_ = true;
        watchdog_.cancel();
    }

    using strand_type = asio::strand<asio::io_context::executor_type>;
    // No permessage-deflate (never negotiated): its state stays out of
    // every connection.
    websocket::stream<write_combiner<Stream>, false> ws_;
    std::optional<strand_type> strand_;
    core::service& service_;
    const session_limits& limits_;
    asio::steady_timer watchdog_;
    // Owned by the strand.
    bool accepted_ = false;
    bool close_started_ = false;
    bool writer_finished_ = false;
    std::vector<protocol::frame> batch_;

    std::mutex mu_;
    std::vector<protocol::frame> queue_;
    std::size_t queued_bytes_ = 0;
    bool pump_scheduled_ = false;
    bool closing_ = false;
    bool reader_done_ = false;
    websocket::close_code close_code_ = websocket::close_code::normal;
    std::string close_reason_;
};

}  // namespace relais::net
