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
#include "server/net/delivery_batch.hpp"
#include "server/net/outbound_queue.hpp"
#include "server/net/session_base.hpp"
#include "server/net/write_combiner.hpp"

namespace relais::net {

// Connections closed because their outbound queue overflowed (for /metrics).
inline std::atomic<std::uint64_t> slow_reader_closes{0};

namespace asio = boost::asio;

struct session_limits {
    queue_limits queue;
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
// Writing: delivered frames wait in the outbound queue until they are sent,
// all of them in one write: by the pump, on the session's strand, or, for
// frames delivered in a delivery batch (what a group commit or a read job
// delivers), by flush_joined on whichever network thread takes the batch,
// without a hop to each session's strand. While the socket does not take
// more, frames stay in the queue, where the bound on slow readers applies.
//
// Who does what (docs/architecture.md, "Threads" and "Lock order"):
// - The strand owns reading, the close handshake and the waits for the
//   socket, and alone changes link_. read_ is the strand's alone.
// - mu_ guards what is written: the queue, the write combiner, link_ and
//   wake_, and closing the socket, because the service delivers from
//   storage and network threads alike and flush_joined sends from any
//   network thread. link_ changes under mu_, so the strand may read it
//   without mu_ and other threads read it with mu_.
// - mu_ is the last lock taken: nothing that takes another lock (the
//   service, the hub, the owner) is called while it is held.
template <class Stream>
class ws_session final : public session_base {
    static constexpr bool plain = std::is_same_v<Stream, plain_socket>;

    // How far the writing side has got. Only forward.
    enum class link : std::uint8_t {
        handshaking,  // the upgrade's answer is not out yet: frames wait
        open,         // frames flow
        close_sent,   // our close frame has gone to the socket: nothing follows it
        finished,     // both close frames passed, or the socket is cut: no more writes
    };
    // Who will write what is queued.
    enum class wake : std::uint8_t {
        none,   // nobody yet: the next delivery arranges it
        batch,  // joined the delivery batch open on its thread: flush_joined will
        pump,   // a pump is posted to the strand
    };
    enum class reading : std::uint8_t {
        open,
        ended,     // the client's close, a violation or a break: the service was told
        reported,  // the session has ended and its owner was told
    };

  public:
    ws_session(std::uint64_t id, std::string remote, Stream stream, core::service& service,
               const session_limits& limits, session_owner& owner)
        : session_base(id, std::move(remote), service.config().connection_requests),
          reader_(limits.max_frame_bytes, protocol::ws_role::server),
          service_(service),
          limits_(limits),
          owner_(owner),
          out_(std::move(stream)),
          queue_(limits.queue) {}

    void deliver(protocol::frame f) override {
        std::vector<protocol::frame> dropped;
        {
            std::lock_guard lock(mu_);
            switch (queue_.push(std::move(f), dropped)) {
                case outbound_queue::push_result::refused:
                    return;
                case outbound_queue::push_result::queued:
                    wake_writer();
                    return;
                case outbound_queue::push_result::cut_off:
                    ++slow_reader_closes;
                    schedule_pump();
                    break;
            }
        }
        // Most of these frames were held by this queue alone: up to the
        // whole bound, freed at once. The allocator keeps freed memory for
        // later (M_TRIM_THRESHOLD, main.cpp); give this back to the system.
        dropped.clear();
        ::malloc_trim(0);
    }

    void close(const std::string& reason) override {
        std::lock_guard lock(mu_);
        if (queue_.close(protocol::ws_close_code::policy_violation, reason)) {
            schedule_pump();
        }
    }

    void shutdown() override {
        std::lock_guard lock(mu_);
        if (queue_.close(protocol::ws_close_code::going_away, "server shutting down")) {
            schedule_pump();
        }
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
                if (self->link_ == link::open) {
                    self->out_.append_frame(protocol::ws_opcode::ping, {});
                    self->out_.flush();
                }
            });
        }
    }

    void post_flush(std::vector<std::shared_ptr<session_base>> batch) override {
        // One hand-off for the whole batch, to any network thread: the
        // sessions need not be on their strands to send. Only plain TCP
        // sessions join batches.
        if constexpr (plain) {
            asio::post(executor().get_inner_executor(), [batch = std::move(batch)] {
                for (const auto& s : batch) {
                    s->flush_joined();
                }
            });
        }
    }

    std::size_t queued_bytes() override {
        std::lock_guard lock(mu_);
        return queue_.bytes() + out_.unsent_bytes();
    }

    void flush_joined() override {
        std::lock_guard lock(mu_);
        if (wake_ == wake::batch) {
            wake_ = wake::none;
        }
        if (out_.busy()) {
            // The pump after the current write takes the queue.
            return;
        }
        if constexpr (plain) {
            if (link_ == link::open && !queue_.closing() && can_send_now()) {
                out_.send_now(queue_.frames());
                queue_.clear_frames();
                if (out_.failed() || out_.has_pending()) {
                    // Waiting for the socket, or ending the connection, is
                    // the strand's.
                    schedule_pump();
                }
                return;
            }
        }
        // A close asked for since the batch began (a slow reader's queue
        // cut off, a shutdown) still needs its close frame.
        if (link_ != link::finished && (queue_.has_frames() || queue_.closing())) {
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
            link_ = link::open;
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
        if (link_ == link::open) {
            service_.on_frame(self(), payload);
        }
    }
    void ping(std::string_view payload) {
        std::lock_guard lock(mu_);
        if (link_ == link::open) {
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

    // Call with mu_ held, after a frame was queued: joins the delivery batch
    // open on this thread, or has the strand write.
    void wake_writer() {
        if (wake_ != wake::none) {
            return;
        }
        auto* batch = plain ? delivery_batch::current() : nullptr;
        if (batch) {
            wake_ = wake::batch;
            batch->join(self());
        } else {
            schedule_pump();
        }
    }

    // Call with mu_ held.
    void schedule_pump() {
        if (wake_ == wake::none) {
            wake_ = wake::pump;
            asio::post(executor(), [self = self()] { self->pump(); });
        }
    }

    // Call with mu_ held: whether the queue may go straight to the socket.
    bool can_send_now() const {
        return plain && queue_.has_frames() && !out_.has_pending() && !out_.failed();
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
            if (wake_ == wake::pump) {
                wake_ = wake::none;
            }
            if (link_ == link::handshaking || link_ == link::finished || out_.busy()) {
                return;
            }
            if (link_ == link::open) {
                if (can_send_now()) {
                    if constexpr (plain) {
                        out_.send_now(queue_.frames());
                    }
                } else {
                    for (const auto& f : queue_.frames()) {
                        out_.append_binary_message(*f);
                    }
                }
                queue_.clear_frames();
                if (auto payload = queue_.take_close()) {
                    out_.append_frame(protocol::ws_opcode::close, *payload);
                    link_ = link::close_sent;
                    close_sent_ms_ = steady_ms();
                }
            }
            out_.flush();
            failed = out_.failed();
            finished = link_ == link::close_sent && read_ != reading::open && !out_.busy();
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
        if (read_ != reading::open) {
            return;
        }
        read_ = reading::ended;
        service_.on_close(self());
        {
            std::lock_guard lock(mu_);
            if (broken) {
                queue_.abandon();
            } else {
                // Unless a close was asked for first, which then wins.
                queue_.close(code, why);
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
            link_ = link::finished;
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

    // On the strand: cuts the connection: broken, silent, or not finishing
    // its close.
    void abandon() {
        {
            // Under the lock: flush_joined must not send on a closed (or
            // reused) descriptor.
            std::lock_guard lock(mu_);
            queue_.abandon();
            boost::system::error_code ignored;
            socket().close(ignored);
            link_ = link::finished;
        }
        if (read_ == reading::open) {
            // The pending read ends with an error and comes back here.
            return;
        }
        if (read_ == reading::ended) {
            read_ = reading::reported;
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
    reading read_ = reading::open;  // the strand's

    std::mutex mu_;
    write_combiner<Stream> out_;  // its stream is the strand's, the rest mu_'s
    outbound_queue queue_;
    link link_ = link::handshaking;
    wake wake_ = wake::none;
};

}  // namespace relais::net
