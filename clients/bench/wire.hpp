#pragma once

// The bench's own WebSocket connection: the least work per received frame
// (one read into a large buffer, frames parsed in place, no copy, no queue),
// so that one bench thread can receive for thousands of members. The client
// library does far more per message (ordering, resync, request matching).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/url.hpp"

namespace relais::bench {

namespace asio = boost::asio;

using endpoint = protocol::ws_url;
// ws://host:port[/path] or wss://...; throws std::invalid_argument.
endpoint parse_url(const std::string& url);

class wire {
  public:
    // Called for every complete text or binary message; `payload` is valid
    // during the call only.
    using on_message = std::function<void(std::string_view payload, bool text)>;

    wire(asio::io_context& io, asio::ssl::context* tls, int receive_buffer = 0);
    wire(const wire&) = delete;
    wire& operator=(const wire&) = delete;

    // TCP connect, TLS when the endpoint says so, HTTP upgrade.
    asio::awaitable<void> open(const endpoint& to);
    // Reads until the connection ends, passing every message to `handler`.
    asio::awaitable<void> read_loop(on_message handler);
    // Queues one masked frame; frames leave in order, several per write.
    void send(std::string_view payload, bool text);
    // Starts the close handshake; read_loop ends when the server answers.
    void close();
    // Cuts the socket.
    void abort();
    // A reader that stops reading (the kernel buffers fill, then the server's
    // queue) and starts again.
    void pause_reading() { paused_ = true; }
    void resume_reading();
    // A write is in flight: the object must outlive it.
    bool busy() const { return writing_; }

    // Close code and reason the server sent, 0 if none yet.
    int close_code() const { return close_code_; }
    const std::string& close_reason() const { return close_reason_; }
    bool ended() const { return ended_; }

  private:
    void write_frame(std::uint8_t opcode, std::string_view payload);
    void flush();
    asio::awaitable<std::size_t> read_some(char* data, std::size_t size);

    asio::ip::tcp::socket socket_;
    std::optional<asio::ssl::stream<asio::ip::tcp::socket&>> tls_;
    std::vector<char> in_;
    std::size_t in_begin_ = 0, in_end_ = 0;
    std::string fragments_;
    std::string out_, out_flight_;
    bool writing_ = false;
    bool paused_ = false;
    asio::steady_timer unpause_;
    bool close_sent_ = false;
    bool ended_ = false;
    int close_code_ = 0;
    std::string close_reason_;
    std::uint32_t mask_state_ = 0x9E3779B9u;
};

}  // namespace relais::bench
