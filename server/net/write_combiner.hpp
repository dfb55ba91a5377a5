#pragma once

// Gathers what a connection sends: whatever is appended while a write is in
// flight leaves in the next single write. One write() costs about 4.6 µs on
// loopback whatever its size, so a connection that receives a broadcast
// burst sends it in one system call instead of one per frame. Included only
// by session.hpp.

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "protocol/websocket.hpp"

namespace relais::net {

// A socket, whatever its executor, and not a TLS stream.
template <class T>
struct is_socket : std::false_type {};
template <class Protocol, class Executor>
struct is_socket<boost::asio::basic_stream_socket<Protocol, Executor>> : std::true_type {};

// Every operation must run under the owner's lock. Those that start an
// asynchronous operation (flush, resume) must also run on the stream's
// executor (the session's strand); send_now may run on any thread.
template <class Next>
class write_combiner {
  public:
    explicit write_combiner(Next next) : next_(std::move(next)) {}

    Next& next_layer() noexcept { return next_; }

    // Keeps `owner` (the session) alive while a write is in flight, since the
    // write's handler refers to this object.
    void keep_alive_with(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
    // Called with `context` and the outcome, on the executor, when a write
    // that had to wait for the socket has ended or failed: the owner takes
    // its lock and calls resume(). A plain pointer, not a std::function: 16
    // bytes less for each of thousands of connections.
    void on_idle(void (*f)(void*, boost::system::error_code), void* context) {
        on_idle_ = f;
        idle_context_ = context;
    }

    // Bytes as they are (the handshake's answer).
    void append_raw(std::string_view bytes) { pending_.append(bytes); }

    // Queues one unfragmented frame from server to client (unmasked).
    void append_frame(unsigned opcode, std::string_view payload) {
        protocol::append_frame(pending_, opcode, payload);
    }
    void append_binary_message(std::string_view payload) { append_frame(0x2, payload); }

    // Plain TCP only, from any thread, when nothing is pending and no write
    // is in flight: sends `messages` (encoded frames) as binary messages
    // with one non-blocking send(). What the socket does not take stays
    // pending for flush(), which the caller must then have run on the
    // executor, as for failed().
    template <class Messages>
    void send_now(const Messages& messages) {
        static_assert(plain, "TLS records are made on the executor");
        // A buffer of the thread's: most batches are sent whole at once, and
        // a heap block per batch would be allocated and freed for nothing.
        thread_local std::string scratch;
        scratch.clear();
        for (const auto& m : messages) {
            protocol::append_frame(scratch, protocol::ws_opcode::binary, *m);
        }
        const auto sent = send_available(scratch);
        if (!failed() && sent < scratch.size()) {
            pending_.assign(scratch, sent);
        }
        // A burst to a slow reader may have grown it far: keep only what a
        // usual batch needs.
        if (scratch.capacity() > scratch_keep_bytes) {
            std::string().swap(scratch);
        }
    }

    // Writes what is appended: at once as far as the socket takes it, the
    // rest when it can (busy() until then).
    void flush() {
        if (busy() || failed() || pending_.empty()) {
            return;
        }
        if constexpr (plain) {
            write_directly();
        } else {
            write_through();
        }
    }

    // The write that had to wait has ended with `ec`: go on with what is
    // pending.
    void resume(boost::system::error_code ec) {
        state_ = state::ready;
        if constexpr (!plain) {
            release(in_flight_);
        }
        if (ec) {
            fail();
        } else {
            flush();
        }
    }

    bool busy() const { return state_ == state::writing; }
    bool failed() const { return state_ == state::failed; }
    bool has_pending() const { return !pending_.empty(); }
    // Bytes not yet handed to the kernel (for /metrics).
    std::size_t unsent_bytes() const {
        if constexpr (plain) {
            return pending_.size() - sent_;
        } else {
            return pending_.size() + in_flight_.size();
        }
    }

  private:
    // Plain TCP: as much of `bytes` as the socket takes now, with
    // non-blocking send()s; fails the combiner on an error. Reads only the
    // descriptor, so send_now may call it off the executor.
    std::size_t send_available(std::string_view bytes) {
        std::size_t sent = 0;
        while (sent < bytes.size()) {
            const auto n = ::send(next_.native_handle(), bytes.data() + sent, bytes.size() - sent,
                                  MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n >= 0) {
                sent += static_cast<std::size_t>(n);
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                break;
            } else if (errno != EINTR) {
                fail();
                break;
            }
        }
        return sent;
    }

    // Plain TCP: a non-blocking send() now, which on loopback nearly always
    // takes everything, so most batches cost one system call and no
    // completion handler; when the socket is full, wait until it is not.
    void write_directly() {
        sent_ += send_available(std::string_view(pending_).substr(sent_));
        if (failed()) {
            return;
        }
        if (sent_ < pending_.size()) {
            state_ = state::writing;
            next_.async_wait(boost::asio::socket_base::wait_write,
                             [this, keep = owner_.lock()](boost::system::error_code ec) {
                                 on_idle_(idle_context_, ec);
                             });
            return;
        }
        sent_ = 0;
        release(pending_);
    }

    // TLS: through the TLS stream, which makes records of what it is given.
    void write_through() {
        state_ = state::writing;
        in_flight_.swap(pending_);
        boost::asio::async_write(
            next_, boost::asio::buffer(in_flight_),
            [this, keep = owner_.lock()](boost::system::error_code ec, std::size_t) {
                on_idle_(idle_context_, ec);
            });
    }

    // Most connections are idle most of the time: between bursts they hold
    // no buffer.
    static void release(std::string& buffer) { std::string().swap(buffer); }

    void fail() {
        state_ = state::failed;
        pending_.clear();
        sent_ = 0;
    }

    static constexpr bool plain = is_socket<Next>::value;
    static constexpr std::size_t scratch_keep_bytes = 256 * 1024;
    struct nothing {};

    Next next_;
    std::weak_ptr<void> owner_;
    void (*on_idle_)(void*, boost::system::error_code) = nullptr;
    void* idle_context_ = nullptr;
    std::string pending_;   // appended, not yet written (from sent_ on, when writing directly)
    std::size_t sent_ = 0;  // bytes of pending_ already written
    // Being written through TLS.
    [[no_unique_address]] std::conditional_t<plain, nothing, std::string> in_flight_;
    // ready: a write may start; writing: one waits for the socket, and
    // what is appended meanwhile waits for it; failed: the connection is
    // broken and nothing more is written.
    enum class state : std::uint8_t { ready, writing, failed };
    state state_ = state::ready;
};

}  // namespace relais::net
