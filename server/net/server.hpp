#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace relais::core {
class service;
namespace metrics {
class text;
}
}  // namespace relais::core

namespace relais::net {

struct tls_files {
    std::string certificate_chain;  // PEM
    std::string private_key;        // PEM
};

struct server_config {
    std::string host = "127.0.0.1";
    std::uint16_t port = 7680;  // 0 picks a free port
    std::optional<tls_files> tls;
    // Browser origins allowed to open a WebSocket; a request without Origin
    // (not a browser) is always allowed.
    std::vector<std::string> allowed_origins;
    std::size_t threads = 0;  // 0 = one per core
    std::size_t max_queue_bytes = 4 * 1024 * 1024;
    std::size_t max_queue_frames = 8192;
    std::chrono::seconds handshake_timeout{10};
    // New connections per remote address: a burst, then a rate per second.
    // Past it a connection is closed as soon as it is accepted, before any
    // TLS or HTTP work.
    double accept_rate = 20;
    double accept_burst = 60;
    // The admin listener: plain HTTP with /metrics, /healthz and /readyz,
    // meant for 127.0.0.1 (port 0 picks a free one). None when unset.
    std::optional<std::pair<std::string, std::uint16_t>> admin;
    // Figures /metrics adds after the server's own (the database's files).
    std::function<void(core::metrics::text&)> more_metrics;
};

// The network side of relais-server: listener, TLS, HTTP endpoints and
// WebSocket sessions, handing every frame to the core service.
class server {
  public:
    server(core::service& service, server_config config);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    // Binds and listens; throws std::system_error when the address is taken.
    void listen();
    std::uint16_t port() const;
    std::string url() const;
    // http://HOST:PORT of the admin listener; empty when there is none.
    std::string admin_url() const;
    // Serves until SIGINT/SIGTERM or stop(); then closes every connection
    // with a close frame and returns. SIGHUP reads the TLS certificate and
    // key again (a renewal) for the connections that come next; connections
    // already open keep theirs.
    void run();
    void stop();

  private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace relais::net
