#pragma once

// WebSocket sessions. Included only by server.cpp, which instantiates them for
// plain TCP and for TLS.

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>

#include <malloc.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "protocol/ws_frame_reader.hpp"
#include "server/core/connection.hpp"
#include "server/core/service.hpp"
#include "server/net/write_combiner.hpp"

namespace relais::net {

// Connections closed because their outbound queue overflowed (for /metrics).
inline std::atomic<std::uint64_t> slow_reader_closes{0};

namespace asio = boost::asio;

struct session_limits {
    std::size_t max_queue_bytes = 0;
    std::size_t max_queue_frames = 0;
    std::size_t max_frame_bytes = 0;
    std::chrono::seconds handshake_timeout{10};
    std::chrono::seconds idle_timeout{60};
};

// A client that does not read may never let the close frame out, nor answer
// it: after this long, the socket is cut.
inline constexpr std::int64_t close_wait_ms = 5000;

inline std::int64_t steady_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

// Told when a session has ended (both directions closed).
class session_owner {
  public:
    virtual void session_ended(std::uint64_t id) = 0;

  protected:
    ~session_owner() = default;
};

// What the server needs of any session, whatever its stream.
class session_base : public core::connection {
  public:
    using core::connection::connection;
    // Flushes what is queued, then closes with 1001 (going away).
    virtual void shutdown() = 0;
    // The server's periodic look at every connection, from any thread: a
    // ping to one silent for half the idle timeout; the socket cut for one
    // silent for all of it, or whose close has waited close_wait_ms.
    virtual void sweep(std::int64_t now_ms) = 0;
    // From any thread: writes what was queued while in a delivery batch.
    virtual void flush_joined() = 0;
};

// The executor of every connection: its own strand on the server's
// io_context. Named, not type-erased, so that each socket and each pending
// operation holds 24 bytes of it instead of a type-erased executor's 56+.
using connection_strand = asio::strand<asio::io_context::executor_type>;
// A plain TCP connection's socket.
using plain_socket = asio::basic_stream_socket<asio::ip::tcp, connection_strand>;

// One WebSocket client, without Beast's WebSocket stream: memory per idle
// connection bounds how many a small machine holds, and Beast's stream with
// the coroutines that drove it took 5.3 KiB of the 8 per connection.
// Reading: plain TCP waits until the socket is readable, then reads into a
// buffer of the thread's, so an idle connection holds no read buffer; the
// frame reader keeps only an incomplete frame's bytes. Messages go to the
// service as they are parsed.
// Writing: delivered frames wait in queue_ until they are sent, all of them
// in one write: by the pump, on the session's strand, or, for frames
// delivered in a delivery batch (what a group commit or a read job
// delivers), by flush_joined on whichever network thread takes the batch,
// without a hop to each session's strand. While the socket does not take more, frames
// stay in queue_, where the bound on slow readers applies.
// Reading, the close handshake and the waits for the socket belong to the
// session's strand. What is written (the queue, the write combiner, the
// closing state) is guarded by mu_, and so is closing the socket, because
// the service delivers from storage and network threads alike and
// flush_joined sends from any thread.
template <class Stream>
class ws_session final : public session_base {
    static constexpr bool plain = std::is_same_v<Stream, plain_socket>;

  public:
    ws_session(std::uint64_t id, std::string remote, Stream stream, core::service& service,
               const session_limits& limits, session_owner& owner)
        : session_base(id, std::move(remote), service.config().connection_requests),
          reader_(limits.max_frame_bytes, protocol::ws_role::server),
          service_(service),
          limits_(limits),
          owner_(owner),
          out_(std::move(stream)) {}

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
                auto* batch = plain ? core::delivery_batch::current() : nullptr;
                if (batch && !pump_scheduled_) {
                    pump_scheduled_ = true;
                    batch->join(shared_from_this());
                } else {
                    schedule_pump();
                }
                return;
            }
            // The client does not read fast enough. It loses nothing: it will
            // resync from storage when it comes back.
            dropped.swap(queue_);
            queued_bytes_ = 0;
            ++slow_reader_closes;
            begin_close(protocol::ws_close_code::policy_violation,
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
        begin_close(protocol::ws_close_code::policy_violation, reason);
    }

    void shutdown() override {
        std::lock_guard lock(mu_);
        begin_close(protocol::ws_close_code::going_away, "server shutting down");
    }

    void sweep(std::int64_t now_ms) override {
        const auto close_sent = close_sent_ms_.load(std::memory_order_relaxed);
        const auto silent = now_ms - heard_ms_.load(std::memory_order_relaxed);
        const auto idle = std::chrono::milliseconds(limits_.idle_timeout).count();
        if ((close_sent != 0 && now_ms - close_sent >= close_wait_ms) ||
            (idle > 0 && silent >= idle)) {
            asio::post(executor(), [self = self()] { self->abandon(); });
        } else if (idle > 0 && silent >= idle / 2 && !pinged_.exchange(true)) {
            asio::post(executor(), [self = self()] {
                std::lock_guard lock(self->mu_);
                if (!self->close_sent_ && !self->writer_finished_) {
                    self->out_.append_frame(protocol::ws_opcode::ping, {});
                    self->out_.flush();
                }
            });
        }
    }

    void flush_batch(std::vector<std::shared_ptr<core::connection>> batch) override {
        // One hand-off for the whole batch, to any network thread: the
        // sessions need not be on their strands to send. Only plain TCP
        // sessions join batches.
        if constexpr (plain) {
            asio::post(executor().get_inner_executor(), [batch = std::move(batch)] {
                for (const auto& c : batch) {
                    static_cast<session_base&>(*c).flush_joined();
                }
            });
        }
    }

    void flush_joined() override {
        std::lock_guard lock(mu_);
        pump_scheduled_ = false;
        if (out_.busy()) {
            // The pump after the current write takes the queue.
            return;
        }
        if constexpr (plain) {
            if (accepted_ && !closing_ && !writer_finished_ && can_send_now()) {
                out_.send_now(queue_);
                release_queue();
                if (out_.failed() || out_.has_pending()) {
                    // Waiting for the socket, or ending the connection, is
                    // the strand's.
                    schedule_pump();
                }
                return;
            }
        }
        // A close asked for since the batch began (a slow reader's queue
        // dropped, a shutdown) still needs its close frame.
        if (!queue_.empty() || closing_) {
            schedule_pump();
        }
    }

    auto executor() { return out_.next_layer().get_executor(); }

    // On the strand: answers the upgrade request with `answer`, then serves
    // until the connection ends, and tells the owner.
    void start(std::string_view answer) {
        heard_ms_ = steady_ms();
        out_.keep_alive_with(weak_from_this());
        out_.on_idle(
            [](void* self, boost::system::error_code ec) {
                static_cast<ws_session*>(self)->on_writable(ec);
            },
            this);
        {
            std::lock_guard lock(mu_);
            out_.append_raw(answer);
            accepted_ = true;
        }
        if constexpr (plain) {
            boost::system::error_code ignored;
            socket().non_blocking(true, ignored);
        }
        // Also sends what was queued, and a close asked for meanwhile.
        pump();
        read();
    }

    // The frame reader's handler, on the strand.
    void message(std::string_view payload) {
        if (!close_sent_) {
            service_.on_frame(self(), payload);
        }
    }
    void ping(std::string_view payload) {
        std::lock_guard lock(mu_);
        if (!close_sent_) {
            out_.append_frame(protocol::ws_opcode::pong, payload);
            out_.flush();
        }
    }
    void close(std::uint16_t code, std::string_view) {
        // The answer echoes the client's code (none when it gave none).
        end_reading(code, {});
    }
    void fail(std::uint16_t code, std::string_view why) { end_reading(code, why); }

  private:
    std::shared_ptr<ws_session> self() {
        return std::static_pointer_cast<ws_session>(shared_from_this());
    }

    auto& socket() {
        if constexpr (plain) {
            return out_.next_layer();
        } else {
            return out_.next_layer().next_layer().socket();
        }
    }

    // Call with mu_ held.
    void schedule_pump() {
        if (!pump_scheduled_) {
            pump_scheduled_ = true;
            asio::post(executor(), [self = self()] { self->pump(); });
        }
    }

    // Call with mu_ held. Frames queued before still go out first.
    void begin_close(std::uint16_t code, std::string_view reason) {
        if (closing_) {
            return;
        }
        closing_ = true;
        close_code_ = code;
        set_close_reason(reason);
        schedule_pump();
    }

    // Call with mu_ held. Allocated only for a close: most connections
    // never hold one while they live.
    void set_close_reason(std::string_view reason) {
        // A control frame's payload is at most 125 bytes, the code included.
        close_reason_ = std::make_unique<std::string>(reason.substr(0, 123));
    }

    // Call with mu_ held. The queue's buffer is not kept: most connections
    // are idle most of the time, and even 32 bytes each count at 10,000
    // connections (0.06 of the 2 KiB each may take).
    void release_queue() {
        std::vector<protocol::frame>().swap(queue_);
        queued_bytes_ = 0;
    }

    // Call with mu_ held: whether queue_ may go straight to the socket.
    bool can_send_now() const {
        return plain && !queue_.empty() && !out_.has_pending() && !out_.failed();
    }

    // On the strand: writes what is queued, unless the socket is still busy
    // with the previous batch (on_writable calls again once it is not).
    // Sends the close frame after the last frame, and ends the connection
    // once both sides have closed.
    void pump() {
        bool failed = false;
        bool finished = false;
        {
            std::lock_guard lock(mu_);
            pump_scheduled_ = false;
            if (!accepted_ || writer_finished_ || out_.busy()) {
                return;
            }
            if (!close_sent_) {
                if (can_send_now()) {
                    if constexpr (plain) {
                        out_.send_now(queue_);
                    }
                } else {
                    for (const auto& f : queue_) {
                        out_.append_binary_message(*f);
                    }
                }
                if (closing_) {
                    std::string payload;
                    if (close_code_ != 0) {
                        payload.push_back(static_cast<char>(close_code_ >> 8));
                        payload.push_back(static_cast<char>(close_code_ & 0xFF));
                        if (close_reason_) {
                            payload += *close_reason_;
                        }
                    }
                    out_.append_frame(protocol::ws_opcode::close, payload);
                    close_sent_ = true;
                    close_sent_ms_ = steady_ms();
                }
            }
            release_queue();
            out_.flush();
            failed = out_.failed();
            finished = close_sent_ && reader_done_ && !out_.busy();
        }
        if (failed) {
            abandon();
            return;
        }
        if (finished) {
            finish();
        }
    }

    // On the strand: the write that waited for the socket has ended.
    void on_writable(boost::system::error_code ec) {
        {
            std::lock_guard lock(mu_);
            out_.resume(ec);
        }
        pump();
    }

    void read() {
        if constexpr (plain) {
            socket().async_wait(
                asio::socket_base::wait_read,
                [self = self()](boost::system::error_code ec) { self->on_readable(ec, false); });
        } else {
            if (!tls_buffer_) {
                tls_buffer_ = std::make_unique<std::array<char, tls_buffer_bytes>>();
            }
            out_.next_layer().async_read_some(
                asio::buffer(*tls_buffer_),
                [self = self()](boost::system::error_code ec, std::size_t n) {
                    if (ec) {
                        self->end_reading(0, {}, true);
                    } else if (self->heard(self->tls_buffer_->data(), n)) {
                        self->read();
                    }
                });
        }
    }

    // Plain TCP (and the drain after a close, for both): the socket is
    // readable. A few reads at most, so that one client does not hold the
    // thread.
    void on_readable(boost::system::error_code ec, bool draining) {
        thread_local std::array<char, 64 * 1024> buffer;
        for (int turn = 0; !ec && turn < 4; ++turn) {
            const auto n = socket().read_some(asio::buffer(buffer), ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) {
                ec = {};
                break;
            }
            if (!ec && !draining && !heard(buffer.data(), n)) {
                return;
            }
            if (!ec && n < buffer.size()) {
                break;
            }
        }
        if (ec) {
            if (draining) {
                abandon();
            } else {
                end_reading(0, {}, true);
            }
            return;
        }
        if (draining) {
            drain();
        } else {
            read();
        }
    }

    // Returns false once the reader has seen the end: read no more.
    bool heard(char* data, std::size_t n) {
        heard_ms_.store(steady_ms(), std::memory_order_relaxed);
        pinged_.store(false, std::memory_order_relaxed);
        // Answers given at once, and what they fan out (typing notices, to
        // a whole channel), leave together once the read is handled.
        return reader_.feed(data, n, *this);
    }

    // Reading is over: the client's close frame (code 0 when it had none), a
    // violation (code and why), or the connection broke.
    void end_reading(std::uint16_t code, std::string_view why, bool broken = false) {
        if (reading_ended_) {
            return;
        }
        reading_ended_ = true;
        service_.on_close(self());
        {
            std::lock_guard lock(mu_);
            reader_done_ = true;
            if (broken) {
                closing_ = true;
                queue_.clear();
            } else if (!closing_) {
                closing_ = true;
                close_code_ = code;
                set_close_reason(why);
            }
        }
        if (broken) {
            abandon();
        } else {
            pump();
        }
    }

    // Both close frames have passed: stop sending, and read what the client
    // still sends until it closes too. Closing at once, with unread bytes
    // left, would reset the connection, and the client could lose the close
    // frame on its way.
    void finish() {
        boost::system::error_code ignored;
        {
            std::lock_guard lock(mu_);
            writer_finished_ = true;
            socket().shutdown(asio::socket_base::shutdown_send, ignored);
        }
        socket().non_blocking(true, ignored);
        drain();
    }

    void drain() {
        socket().async_wait(
            asio::socket_base::wait_read,
            [self = self()](boost::system::error_code ec) { self->on_readable(ec, true); });
    }

    // Cuts the connection: broken, silent, or not finishing its close.
    void abandon() {
        {
            // Under the lock: flush_joined must not send on a closed (or
            // reused) descriptor.
            std::lock_guard lock(mu_);
            closing_ = true;
            release_queue();
            boost::system::error_code ignored;
            socket().close(ignored);
            writer_finished_ = true;
        }
        if (!reading_ended_) {
            // The pending read ends with an error and comes back here.
            return;
        }
        if (!ended_) {
            ended_ = true;
            owner_.session_ended(id());
        }
    }

    static constexpr std::size_t tls_buffer_bytes = 16 * 1024;
    using tls_buffer = std::unique_ptr<std::array<char, tls_buffer_bytes>>;
    struct nothing {};

    protocol::ws_frame_reader reader_;
    core::service& service_;
    const session_limits& limits_;
    session_owner& owner_;
    [[no_unique_address]] std::conditional_t<plain, nothing, tls_buffer> tls_buffer_;
    // Read by the sweep from any thread.
    std::atomic<std::int64_t> heard_ms_{steady_ms()};
    std::atomic<std::int64_t> close_sent_ms_{0};
    std::atomic<bool> pinged_{false};
    // Owned by the strand.
    bool reading_ended_ = false;
    bool ended_ = false;

    std::mutex mu_;
    write_combiner<Stream> out_;  // its stream is the strand's, the rest mu_'s
    bool close_sent_ = false;     // written under mu_ on the strand
    bool writer_finished_ = false;
    std::vector<protocol::frame> queue_;
    std::size_t queued_bytes_ = 0;
    bool accepted_ = false;
    bool pump_scheduled_ = false;
    bool closing_ = false;
    bool reader_done_ = false;
    std::uint16_t close_code_ = 0;
    std::unique_ptr<std::string> close_reason_;
};

}  // namespace relais::net
