#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <random>

namespace relais::testing {

namespace asio = boost::asio;

// A TCP proxy in front of the server that cuts each connection after a
// random number of bytes: in the middle of a frame, of a backlog, or of the
// TLS and WebSocket handshakes.
// Not thread-safe: runs on the executor it was made with.
class chaos_proxy {
  public:
    chaos_proxy(asio::any_io_executor executor, std::uint16_t upstream_port, std::uint64_t seed);
    ~chaos_proxy();

    std::uint16_t port() const;
    // While on, every connection, open or new, is cut after a random number
    // of bytes; while off, bytes pass untouched.
    void set_cutting(bool on) { state_->cutting = on; }
    std::size_t cuts() const { return state_->cuts; }
    // Cuts within the first kilobyte of a connection: during the TLS or
    // WebSocket handshake.
    std::size_t early_cuts() const { return state_->early_cuts; }

    // Shared with the connections' coroutines, which may outlive the proxy.
    struct state {
        explicit state(std::uint64_t seed) : random(seed) {}
        bool cutting = true;
        std::mt19937_64 random;
        std::size_t cuts = 0;
        std::size_t early_cuts = 0;
        // Bytes a connection lets through from `passed` on before it is cut.
        std::uint64_t draw_budget(std::uint64_t passed);
    };

  private:
    asio::awaitable<void> accept_loop();

    asio::ip::tcp::acceptor acceptor_;
    std::uint16_t upstream_port_;
    std::shared_ptr<state> state_;
};

}  // namespace relais::testing
