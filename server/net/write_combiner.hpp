#pragma once

// A stream layer under the WebSocket stream that gathers writes: whatever is
// appended while a write is in flight leaves in the next single write. One
// write() costs about 4.6 µs on loopback whatever its size, so a connection
// that receives a broadcast burst sends it in one system call instead of one
// per frame. Included only by session.hpp.

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "close_reason_check.hpp"

namespace relais::net {

// Every operation must run on the stream's executor (the session's strand):
// Beast's own writes (handshake answer, pongs, close) and the session's
// appended frames then share one ordered byte queue.
template <class Next>
class write_combiner {
  public:
    using executor_type = typename Next::executor_type;
    using next_layer_type = Next;

    explicit write_combiner(Next next) : next_(std::move(next)) {}

    executor_type get_executor() noexcept { return next_.get_executor(); }
    Next& next_layer() noexcept { return next_; }
    const Next& next_layer() const noexcept { return next_; }

    // Keeps `owner` (the session) alive while a write is in flight, since the
    // write's handler refers to this object.
    void keep_alive_with(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
    // Called, on the executor, when a write that had to wait for the socket
    // has ended (everything written, or the connection failed).
    void on_idle(std::function<void()> f) { on_idle_ = std::move(f); }

    // What the client sends passes through the close reason check on its way.
    template <class Buffers, class Token>
    auto async_read_some(const Buffers& buffers, Token&& token) {
        return boost::asio::async_compose<Token, void(boost::beast::error_code, std::size_t)>(
            [this, buffers, started = false](auto& self, boost::beast::error_code ec = {},
                                             std::size_t n = 0) mutable {
                if (!started) {
                    started = true;
                    next_.async_read_some(buffers, std::move(self));
                    return;
                }
                auto left = n;
                for (auto it = boost::asio::buffer_sequence_begin(buffers);
                     left > 0 && it != boost::asio::buffer_sequence_end(buffers); ++it) {
                    const boost::asio::mutable_buffer piece(*it);
                    const auto used = std::min(left, piece.size());
                    incoming_.feed(static_cast<const unsigned char*>(piece.data()), used);
                    left -= used;
                }
                self.complete(ec, n);
            },
            token, next_);
    }

    // Completes once the bytes are handed to the next layer, so that what
    // follows (a teardown after a close frame) never overtakes them.
    template <class Buffers, class Token>
    auto async_write_some(const Buffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::beast::error_code, std::size_t)>(
            [this](auto handler, const Buffers& b) {
                if (failed_) {
                    post_completion(std::move(handler), failed_, 0);
                    return;
                }
                const auto n = boost::asio::buffer_size(b);
                const auto start = pending_.size();
                for (auto it = boost::asio::buffer_sequence_begin(b);
                     it != boost::asio::buffer_sequence_end(b); ++it) {
                    const boost::asio::const_buffer piece(*it);
                    pending_.append(static_cast<const char*>(piece.data()), piece.size());
                }
                answer_invalid_close_reason(start);
                appended_ += n;
                waiters_.push_back({appended_, n, std::move(handler)});
                flush();
            },
            token, buffers);
    }

    // Queues one unfragmented binary WebSocket message from server to client
    // (unmasked): the same bytes Beast would write, without a write per frame.
    void append_binary_message(std::string_view payload) {
        char header[10];
        std::size_t header_size = 2;
        header[0] = static_cast<char>(0x82);  // FIN, binary
        const auto size = payload.size();
        if (size < 126) {
            header[1] = static_cast<char>(size);
        } else if (size <= 0xFFFF) {
            header[1] = 126;
            header[2] = static_cast<char>(size >> 8);
            header[3] = static_cast<char>(size & 0xFF);
            header_size = 4;
        } else {
            header[1] = 127;
            for (int i = 0; i < 8; ++i) {
                header[2 + i] =
                    static_cast<char>((static_cast<std::uint64_t>(size) >> (56 - 8 * i)) & 0xFF);
            }
            header_size = 10;
        }
        pending_.append(header, header_size);
        pending_.append(payload);
        appended_ += header_size + size;
    }

    // Writes what is appended: at once as far as the socket takes it, the
    // rest when it can (busy() until then).
    void flush() {
        if (busy() || failed_ || pending_.empty()) {
            return;
        }
        if constexpr (std::is_same_v<Next, boost::asio::ip::tcp::socket>) {
            write_directly();
        } else {
            write_through();
        }
    }

    bool busy() const { return writing_; }
    bool failed() const { return static_cast<bool>(failed_); }

    // Completes once everything appended so far is written (or failed).
    template <class Token>
    auto async_flush(Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::beast::error_code, std::size_t)>(
            [this](auto handler) {
                if (failed_ || appended_ == written_) {
                    post_completion(std::move(handler), failed_, 0);
                    return;
                }
                waiters_.push_back({appended_, 0, std::move(handler)});
                flush();
            },
            token);
    }

  private:
    using handler_type =
        boost::asio::any_completion_handler<void(boost::beast::error_code, std::size_t)>;
    struct waiter {
        std::uint64_t written_at_least;
        std::size_t bytes;
        handler_type handler;
    };

    // Every handler here belongs to the session, whose executor is the
    // stream's strand.
    template <class Handler>
    void post_completion(Handler&& handler, boost::beast::error_code ec, std::size_t n) {
        boost::asio::post(get_executor(), [h = std::forward<Handler>(handler), ec, n]() mutable {
            std::move(h)(ec, n);
        });
    }

    // Beast fails the connection with a bare close frame carrying 1002
    // (protocol error); after a close reason that is not UTF-8, the code
    // the RFC names is 1007 (invalid payload).
    void answer_invalid_close_reason(std::size_t frame_start) {
        static constexpr std::string_view protocol_error_close("\x88\x02\x03\xea", 4);
        if (incoming_.saw_invalid_close_reason() &&
            std::string_view(pending_).substr(frame_start) == protocol_error_close) {
            pending_[frame_start + 3] = static_cast<char>(0xEF);  // 1007
        }
    }

    // Plain TCP: a non-blocking send() now, which on loopback nearly always
    // takes everything, so most batches cost one system call and no
    // completion handler; when the socket is full, wait until it is not.
    void write_directly() {
        auto& socket = next_;
        if (!socket.non_blocking()) {
            boost::beast::error_code ignored;
            socket.non_blocking(true, ignored);
        }
        while (sent_ < pending_.size()) {
            boost::beast::error_code ec;
            const auto n = socket.write_some(
                boost::asio::buffer(pending_.data() + sent_, pending_.size() - sent_), ec);
            if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
                writing_ = true;
                socket.async_wait(boost::asio::socket_base::wait_write,
                                  [this, keep = owner_.lock()](boost::beast::error_code wec) {
                                      writing_ = false;
                                      if (wec) {
                                          fail(wec);
                                      } else {
                                          write_directly();
                                      }
                                      if (!writing_ && on_idle_) {
                                          on_idle_();
                                      }
                                  });
                return;
            }
            if (ec) {
                fail(ec);
                return;
            }
            sent_ += n;
        }
        written_ += pending_.size();
        sent_ = 0;
        release(pending_);
        complete_waiters();
    }

    // TLS: through the TLS stream, which makes records of what it is given.
    void write_through() {
        writing_ = true;
        in_flight_.swap(pending_);
        boost::asio::async_write(
            next_, boost::asio::buffer(in_flight_),
            [this, keep = owner_.lock()](boost::beast::error_code ec, std::size_t) {
                writing_ = false;
                written_ += in_flight_.size();
                release(in_flight_);
                if (ec) {
                    fail(ec);
                } else {
                    complete_waiters();
                    flush();
                }
                if (!writing_ && on_idle_) {
                    on_idle_();
                }
            });
    }

    // A burst may have grown a buffer a lot: give it back.
    static void release(std::string& buffer) {
        if (buffer.capacity() > 64 * 1024) {
            std::string().swap(buffer);
        } else {
            buffer.clear();
        }
    }

    void fail(boost::beast::error_code ec) {
        failed_ = ec;
        pending_.clear();
        sent_ = 0;
        complete_waiters();
    }

    // Beast's operations must not complete inside the call that started
    // them: always through the executor.
    void complete_waiters() {
        std::size_t done = 0;
        while (done < waiters_.size() && (failed_ || waiters_[done].written_at_least <= written_)) {
            auto& w = waiters_[done++];
            post_completion(std::move(w.handler), failed_, failed_ ? 0 : w.bytes);
        }
        waiters_.erase(waiters_.begin(), waiters_.begin() + static_cast<std::ptrdiff_t>(done));
    }

    Next next_;
    close_reason_check incoming_;
    std::weak_ptr<void> owner_;
    std::function<void()> on_idle_;
    std::string pending_;    // appended, not yet written (from sent_ on, when writing directly)
    std::size_t sent_ = 0;   // bytes of pending_ already written
    std::string in_flight_;  // being written through TLS
    bool writing_ = false;
    boost::beast::error_code failed_;
    std::uint64_t appended_ = 0;  // bytes appended since the start
    std::uint64_t written_ = 0;   // bytes written since the start
    // Beast's own writes only (a pong, a close): rarely more than one. A
    // vector, unlike a deque, takes no memory while empty.
    std::vector<waiter> waiters_;
};

// The WebSocket stream closes the connection through these (found by ADL):
// what is still queued goes out first.
template <class Next, class Handler>
void async_teardown(boost::beast::role_type role, write_combiner<Next>& stream, Handler&& handler) {
    stream.async_flush([role, &stream, h = std::forward<Handler>(handler)](boost::beast::error_code,
                                                                           std::size_t) mutable {
        using boost::beast::websocket::async_teardown;
        async_teardown(role, stream.next_layer(), std::move(h));
    });
}

template <class Next>
void teardown(boost::beast::role_type role, write_combiner<Next>& stream,
              boost::beast::error_code& ec) {
    using boost::beast::websocket::teardown;
    teardown(role, stream.next_layer(), ec);
}

}  // namespace relais::net
