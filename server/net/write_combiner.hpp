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

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace relais::net {

// A socket, whatever its executor, and not a TLS stream.
template <class T>
struct is_socket : std::false_type {};
template <class Protocol, class Executor>
struct is_socket<boost::asio::basic_stream_socket<Protocol, Executor>> : std::true_type {};

// Every operation must run on the stream's executor (the session's strand).
template <class Next>
class write_combiner {
  public:
    explicit write_combiner(Next next) : next_(std::move(next)) {}

    Next& next_layer() noexcept { return next_; }

    // Keeps `owner` (the session) alive while a write is in flight, since the
    // write's handler refers to this object.
    void keep_alive_with(std::weak_ptr<void> owner) { owner_ = std::move(owner); }
    // Called with `context`, on the executor, when a write that had to wait
    // for the socket has ended (everything written, or the connection
    // failed). A plain pointer, not a std::function: 16 bytes less for each
    // of thousands of connections.
    void on_idle(void (*f)(void*), void* context) {
        on_idle_ = f;
        idle_context_ = context;
    }

    // Bytes as they are (the handshake's answer).
    void append_raw(std::string_view bytes) { pending_.append(bytes); }

    // Queues one unfragmented frame from server to client (unmasked).
    void append_frame(unsigned opcode, std::string_view payload) {
        char header[10];
        std::size_t header_size = 2;
        header[0] = static_cast<char>(0x80 | opcode);  // FIN
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
    }
    void append_binary_message(std::string_view payload) { append_frame(0x2, payload); }

    // Writes what is appended: at once as far as the socket takes it, the
    // rest when it can (busy() until then).
    void flush() {
        if (busy() || failed_ || pending_.empty()) {
            return;
        }
        if constexpr (plain) {
            write_directly();
        } else {
            write_through();
        }
    }

    bool busy() const { return writing_; }
    bool failed() const { return failed_; }

  private:
    // Plain TCP: a non-blocking send() now, which on loopback nearly always
    // takes everything, so most batches cost one system call and no
    // completion handler; when the socket is full, wait until it is not.
    void write_directly() {
        auto& socket = next_;
        if (!socket.non_blocking()) {
            boost::system::error_code ignored;
            socket.non_blocking(true, ignored);
        }
        while (sent_ < pending_.size()) {
            boost::system::error_code ec;
            const auto n = socket.write_some(
                boost::asio::buffer(pending_.data() + sent_, pending_.size() - sent_), ec);
            if (ec == boost::asio::error::would_block || ec == boost::asio::error::try_again) {
                writing_ = true;
                socket.async_wait(boost::asio::socket_base::wait_write,
                                  [this, keep = owner_.lock()](boost::system::error_code wec) {
                                      writing_ = false;
                                      if (wec) {
                                          fail(wec);
                                      } else {
                                          write_directly();
                                      }
                                      if (!writing_ && on_idle_) {
                                          on_idle_(idle_context_);
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
        sent_ = 0;
        release(pending_);
    }

    // TLS: through the TLS stream, which makes records of what it is given.
    void write_through() {
        writing_ = true;
        in_flight_.swap(pending_);
        boost::asio::async_write(
            next_, boost::asio::buffer(in_flight_),
            [this, keep = owner_.lock()](boost::system::error_code ec, std::size_t) {
                writing_ = false;
                release(in_flight_);
                if (ec) {
                    fail(ec);
                } else {
                    flush();
                }
                if (!writing_ && on_idle_) {
                    on_idle_(idle_context_);
                }
            });
    }

    // Most connections are idle most of the time: between bursts they hold
    // no buffer. A malloc per write is nothing next to the write itself.
    static void release(std::string& buffer) { std::string().swap(buffer); }

    void fail(boost::system::error_code) {
        failed_ = true;
        pending_.clear();
        sent_ = 0;
    }

    static constexpr bool plain = is_socket<Next>::value;
    struct nothing {};

    Next next_;
    std::weak_ptr<void> owner_;
    void (*on_idle_)(void*) = nullptr;
    void* idle_context_ = nullptr;
    std::string pending_;   // appended, not yet written (from sent_ on, when writing directly)
    std::size_t sent_ = 0;  // bytes of pending_ already written
    // Being written through TLS.
    [[no_unique_address]] std::conditional_t<plain, nothing, std::string> in_flight_;
    bool writing_ = false;
    bool failed_ = false;
};

}  // namespace relais::net
