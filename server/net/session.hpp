#pragma once

// WebSocket sessions. Included only by server.cpp, which instantiates them for
// plain TCP and for TLS.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <cstdio>
#include <deque>
#include <mutex>
#include <string>

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

// One WebSocket client. The reader coroutine hands frames to the service; the
// writer coroutine alone writes, draining the outbound queue.
// The stream, the timers and the coroutines are owned by the session's strand;
// the queue and the closing state are guarded by mu_, because the service
// delivers from storage and network threads alike.
template <class Stream>
class ws_session final : public session_base {
  public:
    ws_session(std::uint64_t id, std::string remote, Stream stream, core::service& service,
               const session_limits& limits)
        : session_base(id, std::move(remote), service.config().connection_requests),
          ws_(std::move(stream)),
          service_(service),
          limits_(limits),
          wake_(ws_.get_executor()),
          watchdog_(ws_.get_executor()) {}

    void deliver(protocol::frame f) override {
        std::lock_guard lock(mu_);
        if (closing_) {
            return;
        }
        // One frame larger than the whole bound still goes out alone.
        if (!queue_.empty() && (queue_.size() + 1 > limits_.max_queue_frames ||
                                queued_bytes_ + f->size() > limits_.max_queue_bytes)) {
            // The client does not read fast enough. It loses nothing: it will
            // resync from storage when it comes back.
            queue_.clear();
            queued_bytes_ = 0;
            ++slow_reader_closes;
            begin_close(websocket::close_code::policy_error,
                        "too slow: outbound queue full; reconnect and resync");
            return;
        }
        queued_bytes_ += f->size();
        queue_.push_back(std::move(f));
        wake_writer();
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

    // Completes the WebSocket handshake, then serves until the connection ends.
    asio::awaitable<void> run(http::request<http::string_body> req) {
        using namespace asio::experimental::awaitable_operators;
        websocket::stream_base::timeout timeouts{};
        timeouts.handshake_timeout = limits_.handshake_timeout;
        timeouts.idle_timeout = limits_.idle_timeout;
        timeouts.keep_alive_pings = true;
        ws_.set_option(timeouts);
        ws_.set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "relais-server"); }));
        ws_.read_message_max(limits_.max_frame_bytes);
        ws_.binary(true);
        ws_.next_layer().keep_alive_with(shared_from_this());
        auto [ec] = co_await ws_.async_accept(req, nothrow);
        if (ec) {
            co_return;
        }
        co_await (read_loop() && write_loop());
    }

  private:
    std::shared_ptr<ws_session> self() {
        return std::static_pointer_cast<ws_session>(shared_from_this());
    }

    // Call with mu_ held.
    void begin_close(websocket::close_code code, std::string reason) {
        closing_ = true;
        close_code_ = code;
        close_reason_ = std::move(reason);
        wake_writer();
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

    // Call with mu_ held.
    void wake_writer() {
        if (writer_idle_) {
            writer_idle_ = false;
            asio::post(wake_.get_executor(), [self = self()] { self->wake_.cancel(); });
        }
    }

    asio::awaitable<void> read_loop() {
        beast::flat_buffer buffer;
        for (;;) {
            auto [ec, n] = co_await ws_.async_read(buffer, nothrow);
            if (ec) {
                break;
            }
            if (ws_.got_text()) {
                std::lock_guard lock(mu_);
                begin_close(websocket::close_code::unknown_data,
                            "text frames are not supported: send binary relais.v1 messages");
                break;
            }
            auto data = buffer.cdata();
            service_.on_frame(self(), std::string_view(static_cast<const char*>(data.data()), n));
            buffer.consume(n);
        }
        service_.on_close(self());
        std::lock_guard lock(mu_);
        if (!closing_) {
            closing_ = true;
            reader_done_ = true;
            wake_writer();
        }
    }

    asio::awaitable<void> write_loop() {
        std::deque<protocol::frame> batch;
        for (;;) {
            bool closing = false;
            {
                std::lock_guard lock(mu_);
                batch.swap(queue_);
                queued_bytes_ = 0;
                closing = closing_;
                writer_idle_ = batch.empty() && !closing;
            }
            if (batch.empty() && !closing) {
                wake_.expires_at(asio::steady_timer::time_point::max());
                co_await wake_.async_wait(nothrow);
                continue;
            }
            // Every frame of the batch leaves in one write.
            auto& out = ws_.next_layer();
            for (const auto& f : batch) {
                // The peer's close frame may have arrived (Beast answers it):
                // nothing may follow the answer.
                if (!ws_.is_open()) {
                    break;
                }
                out.append_binary_message(*f);
            }
            if (auto [ec, n] = co_await out.async_flush(nothrow); ec) {
                abandon();
                co_return;
            }
            batch.clear();
            if (closing) {
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
                co_return;
            }
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

    websocket::stream<write_combiner<Stream>> ws_;
    core::service& service_;
    const session_limits& limits_;
    asio::steady_timer wake_;
    asio::steady_timer watchdog_;
    bool writer_finished_ = false;  // owned by the strand

    std::mutex mu_;
    std::deque<protocol::frame> queue_;
    std::size_t queued_bytes_ = 0;
    bool writer_idle_ = false;
    bool closing_ = false;
    bool reader_done_ = false;
    websocket::close_code close_code_ = websocket::close_code::normal;
    std::string close_reason_;
};

}  // namespace relais::net
