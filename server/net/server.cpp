#include "server/net/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "server/core/log.hpp"
#include "server/core/metrics.hpp"
#include "server/core/rate_limiter.hpp"
#include "server/core/service.hpp"
#include "server/net/session.hpp"

namespace relais::net {

using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// Sec-WebSocket-Accept (RFC 6455, 4.2.2): base64(SHA-1(key + the GUID)).
std::string websocket_accept_key(std::string_view key) {
    std::string input(key);
    input += "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;
    EVP_Digest(input.data(), input.size(), digest, &digest_size, EVP_sha1(), nullptr);
    unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    const int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_size));
    return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
}

// A key is 16 random bytes in base64: 24 characters, the last two "==".
bool valid_websocket_key(std::string_view key) {
    if (key.size() != 24 || key.substr(22) != "==") {
        return false;
    }
    unsigned char decoded[18];
    return EVP_DecodeBlock(decoded, reinterpret_cast<const unsigned char*>(key.data()), 24) == 18;
}

std::shared_ptr<ssl::context> make_tls_context(const tls_files& files) {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    auto& ctx = *context;
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                    ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
    // TLS 1.2: forward-secret AEAD suites only (TLS 1.3's are all of that kind).
    SSL_CTX_set_cipher_list(ctx.native_handle(),
                            "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                            "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                            "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
    ctx.use_certificate_chain_file(files.certificate_chain);
    ctx.use_private_key_file(files.private_key, ssl::context::pem);
    return context;
}

void log_spawn_failure(std::uint64_t id, std::exception_ptr e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (...) {
        core::log::write(core::log::level::error, "connection_failed",
                         {{"conn", id}, {"error", core::log::current_exception_text()}});
    }
}

// The cores this process may run on (taskset, cgroups' cpusets), not all
// the machine's: more network threads than that only take turns.
std::size_t usable_cores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        return std::max(1, CPU_COUNT(&set));
    }
    return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

struct server::impl final : session_owner {
    impl(core::service& svc, server_config cfg)
        : service(svc),
          config(std::move(cfg)),
          threads(config.threads ? config.threads : usable_cores()),
          ioc(static_cast<int>(threads)),
          accept_strand(asio::make_strand(ioc)),
          control(asio::make_strand(ioc)),
          acceptor(ioc),
          admin_acceptor(ioc),
          signals(control, SIGINT, SIGTERM),
          hangups(control, SIGHUP),
          deadline(control),
          session_check(control),
          session_sweep(control),
          meeting_clock(control),
          retention_clock(control) {
        if (config.tls) {
            tls = make_tls_context(*config.tls);
        }
        limits.queue.max_bytes = config.max_queue_bytes;
        limits.queue.max_frames = config.max_queue_frames;
        limits.max_frame_bytes = service.limits().max_frame_bytes;
        limits.handshake_timeout = config.handshake_timeout;
        limits.idle_timeout = std::chrono::seconds(service.limits().idle_timeout_seconds);
    }

    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc), nothrow);
            if (ec) {
                if (!acceptor.is_open()) {
                    co_return;
                }
                // Out of file descriptors and the like: wait, do not spin.
                asio::steady_timer pause(ioc, std::chrono::milliseconds(50));
                co_await pause.async_wait(nothrow);
                continue;
            }
            beast::error_code remote_ec;
            const auto remote = socket.remote_endpoint(remote_ec);
            if (remote_ec || !admit(remote.address().to_string())) {
                ++refused_connections;
                beast::error_code ignored;
                socket.close(ignored);
                continue;
            }
            const auto id = ++next_id;
            auto executor = socket.get_executor();
            asio::co_spawn(executor, handle(std::move(socket), id),
                           [id](std::exception_ptr e) { log_spawn_failure(id, e); });
        }
    }

    // Called only from accept_loop, which owns accept_budget.
    bool admit(const std::string& address) {
        const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::steady_clock::now().time_since_epoch())
                             .count();
        if (accept_budget.size() > 10000) {
            // Forget addresses quiet for a minute: their bucket is full again.
            std::erase_if(accept_budget,
                          [now](const auto& kv) { return kv.second.last_ms + 60'000 < now; });
        }
        auto [it, fresh] = accept_budget.try_emplace(
            address,
            address_budget{core::rate_limiter({config.accept_rate, config.accept_burst}), now});
        it->second.last_ms = now;
        return it->second.bucket.take(now) == 0;
    }

    asio::awaitable<void> handle(tcp::socket socket, std::uint64_t id) {
        beast::error_code ec;
        // Small frames (acks, typing notices) must not wait for Nagle's
        // algorithm and the peer's delayed ACK: tens of milliseconds each.
        socket.set_option(tcp::no_delay(true), ec);
        auto remote = socket.remote_endpoint(ec);
        std::string address = ec ? "unknown" : remote.address().to_string();
        beast::tcp_stream stream(std::move(socket));
        if (!config.tls) {
            co_await serve_http(std::move(stream), id, std::move(address));
            co_return;
        }
        // Held until the handshake is done; then the TLS session holds the
        // context itself (OpenSSL counts its references), so that a reload
        // never pulls it from under an open connection.
        const auto context = current_tls();
        beast::ssl_stream<beast::tcp_stream> secure(std::move(stream), *context);
        beast::get_lowest_layer(secure).expires_after(config.handshake_timeout);
        auto [hec] = co_await secure.async_handshake(ssl::stream_base::server, nothrow);
        if (hec) {
            co_return;
        }
        co_await serve_http(std::move(secure), id, std::move(address));
    }

    bool origin_allowed(const http::request<http::string_body>& req) const {
        auto origin = req.find(http::field::origin);
        if (origin == req.end()) {
            return true;
        }
        return std::find(config.allowed_origins.begin(), config.allowed_origins.end(),
                         origin->value()) != config.allowed_origins.end();
    }

    template <class Stream>
    asio::awaitable<void> serve_http(Stream stream, std::uint64_t id, std::string address) {
        beast::flat_buffer buffer;
        http::request_parser<http::string_body> parser;
        parser.header_limit(8 * 1024);
        parser.body_limit(4 * 1024);
        beast::get_lowest_layer(stream).expires_after(config.handshake_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
        if (ec) {
            co_return;
        }
        auto req = parser.release();
        if (beast::websocket::is_upgrade(req)) {
            if (!origin_allowed(req)) {
                co_await respond(stream, req, http::status::forbidden, "origin not allowed\n");
                co_return;
            }
            if (req[http::field::sec_websocket_version] != "13") {
                co_await respond(stream, req, http::status::upgrade_required,
                                 "WebSocket version 13 only\n", "13");
                co_return;
            }
            const auto key = req[http::field::sec_websocket_key];
            if (!valid_websocket_key(key)) {
                co_await respond(stream, req, http::status::bad_request,
                                 "missing or malformed Sec-WebSocket-Key\n");
                co_return;
            }
            if (stopping) {
                co_await respond(stream, req, http::status::service_unavailable,
                                 "server shutting down\n");
                co_return;
            }
            beast::get_lowest_layer(stream).expires_never();
            std::string answer =
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nServer: relais-server\r\nSec-WebSocket-Accept: " +
                websocket_accept_key(key) + "\r\n\r\n";
            // The session runs on callbacks of its own, so that this
            // coroutine's frame (the HTTP parser and buffer) is freed while it
            // lasts: memory per idle connection is the bound on how many
            // there can be.
            if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
                // Plain TCP: the session watches silence itself and does not
                // need the timed stream's timers.
                if (auto socket = as_plain_socket(stream.release_socket())) {
                    start_session<plain_socket>(id, std::move(address), std::move(*socket),
                                                std::move(answer));
                }
            } else {
                start_session<Stream>(id, std::move(address), std::move(stream), std::move(answer));
            }
            co_return;
        }
        // /metrics is the admin listener's, never on the public port.
        const bool reading = req.method() == http::verb::get || req.method() == http::verb::head;
        if (reading && req.target() == "/healthz") {
            co_await respond(stream, req, http::status::ok, "ok\n");
        } else {
            co_await respond(stream, req, http::status::not_found, "not found\n");
        }
    }

    // The accepted socket, on the same strand, as the session's socket type;
    // nothing when the connection is already gone.
    std::optional<plain_socket> as_plain_socket(tcp::socket socket) {
        const auto* strand = socket.get_executor().target<connection_strand>();
        beast::error_code ec;
        const auto endpoint = socket.local_endpoint(ec);
        const auto handle = ec ? tcp::socket::native_handle_type{} : socket.release(ec);
        if (ec) {
            return std::nullopt;
        }
        return plain_socket(strand ? *strand : asio::make_strand(ioc), endpoint.protocol(), handle);
    }

    template <class Stream>
    void start_session(std::uint64_t id, std::string address, Stream stream, std::string answer) {
        auto session = std::make_shared<ws_session<Stream>>(
            id, std::move(address), std::move(stream), service, limits, *this);
        add(id, session);
        auto executor = session->executor();
        asio::dispatch(executor, [session, answer = std::move(answer)] { session->start(answer); });
    }

    template <class Stream, class Body>
    asio::awaitable<void> respond(Stream& stream, const http::request<Body>& req,
                                  http::status status, std::string body,
                                  std::string_view websocket_version = {},
                                  std::string_view content_type = "text/plain; charset=utf-8") {
        http::response<http::string_body> res{status, req.version()};
        res.set(http::field::server, "relais-server");
        res.set(http::field::content_type, content_type);
        if (!websocket_version.empty()) {
            res.set(http::field::sec_websocket_version, websocket_version);
        }
        res.keep_alive(false);
        res.body() = std::move(body);
        res.prepare_payload();
        if (req.method() == http::verb::head) {
            res.body().clear();  // the length stays that of the GET
        }
        co_await http::async_write(stream, res, nothrow);
    }

    // The admin listener: one request per connection, from a scraper or a
    // health check on this machine.
    asio::awaitable<void> admin_accept_loop() {
        for (;;) {
            auto [ec, socket] =
                co_await admin_acceptor.async_accept(asio::make_strand(ioc), nothrow);
            if (ec) {
                if (!admin_acceptor.is_open()) {
                    co_return;
                }
                asio::steady_timer pause(ioc, std::chrono::milliseconds(50));
                co_await pause.async_wait(nothrow);
                continue;
            }
            auto executor = socket.get_executor();
            asio::co_spawn(executor, serve_admin(beast::tcp_stream(std::move(socket))),
                           [](std::exception_ptr e) { log_spawn_failure(0, e); });
        }
    }

    asio::awaitable<void> serve_admin(beast::tcp_stream stream) {
        beast::flat_buffer buffer;
        http::request_parser<http::empty_body> parser;
        parser.header_limit(8 * 1024);
        stream.expires_after(config.handshake_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, nothrow);
        if (ec) {
            co_return;
        }
        const auto req = parser.release();
        const auto target = req.target().substr(0, req.target().find('?'));
        if (req.method() != http::verb::get && req.method() != http::verb::head) {
            co_await respond(stream, req, http::status::method_not_allowed, "GET only\n");
        } else if (target == "/metrics") {
            co_await respond(stream, req, http::status::ok, render_metrics(), {},
                             "text/plain; version=0.0.4; charset=utf-8");
        } else if (target == "/healthz") {
            co_await respond(stream, req, http::status::ok, "ok\n");
        } else if (target == "/readyz") {
            // Storage opened before the listeners did: ready until a stop.
            if (stopping) {
                co_await respond(stream, req, http::status::service_unavailable, "shutting down\n");
            } else {
                co_await respond(stream, req, http::status::ok, "ready\n");
            }
        } else {
            co_await respond(stream, req, http::status::not_found,
                             "not found: /metrics, /healthz and /readyz are here\n");
        }
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }

    std::string render_metrics() {
        core::metrics::text out;
        std::size_t open = 0, queued = 0;
        {
            std::lock_guard lock(sessions_mu);
            for (auto& [id, weak] : sessions) {
                if (auto s = weak.lock()) {
                    ++open;
                    queued += s->queued_bytes();
                }
            }
        }
        out.family("relais_connections", "gauge", "Open WebSocket connections.");
        out.sample("relais_connections", "", std::uint64_t{open});
        out.family("relais_logged_in_connections", "gauge",
                   "WebSocket connections with a logged-in user.");
        out.sample("relais_logged_in_connections", "",
                   std::uint64_t{service.connections().connection_count()});
        out.family("relais_connections_accepted_total", "counter",
                   "Connections taken in on the main listener (those closed at once are "
                   "relais_refused_connections_total).");
        out.sample("relais_connections_accepted_total", "", next_id.load());
        out.family("relais_refused_connections_total", "counter",
                   "Connections closed at once because their address opened too many "
                   "(--accept-rate).");
        out.sample("relais_refused_connections_total", "", refused_connections.load());
        out.family("relais_slow_reader_closes_total", "counter",
                   "Connections cut off because they did not read what was sent to them.");
        out.sample("relais_slow_reader_closes_total", "", slow_reader_closes.load());
        out.family("relais_outbound_queue_bytes", "gauge",
                   "Bytes waiting to be sent, over every connection.");
        out.sample("relais_outbound_queue_bytes", "", std::uint64_t{queued});
        service.counts().render(out, service.connections().deliveries());
        if (config.more_metrics) {
            config.more_metrics(out);
        }
        return out.str();
    }

    std::shared_ptr<ssl::context> current_tls() {
        std::lock_guard lock(tls_mu);
        return tls;
    }

    // SIGHUP: a renewed certificate (Let's Encrypt) for the next handshakes.
    // A file that does not load leaves the current one in place.
    void await_hangup() {
        hangups.async_wait([this](beast::error_code ec, int) {
            if (ec) {
                return;
            }
            if (!config.tls) {
                core::log::write(core::log::level::info, "reload",
                                 {{"tls", "none"}, {"result", "nothing to reload"}});
            } else {
                try {
                    auto fresh = make_tls_context(*config.tls);
                    {
                        std::lock_guard lock(tls_mu);
                        tls.swap(fresh);
                    }
                    core::log::write(core::log::level::info, "reload",
                                     {{"tls_cert", config.tls->certificate_chain},
                                      {"result", "certificate and key read again"}});
                } catch (const std::exception& e) {
                    core::log::write(core::log::level::error, "reload_failed",
                                     {{"tls_cert", config.tls->certificate_chain},
                                      {"error", e.what()},
                                      {"result", "the previous certificate stays in use"}});
                }
            }
            await_hangup();
        });
    }

    // Every session's silence and unfinished close, looked at often enough
    // for a ping at half the idle timeout and a cut soon after close_wait_ms.
    asio::awaitable<void> sweep_sessions() {
        const auto period = std::clamp<std::chrono::milliseconds>(
            std::chrono::duration_cast<std::chrono::milliseconds>(limits.idle_timeout) / 4,
            std::chrono::milliseconds(250), std::chrono::milliseconds(1000));
        while (!sweep_stopped) {
            session_sweep.expires_after(period);
            auto [ec] = co_await session_sweep.async_wait(nothrow);
            if (ec || sweep_stopped) {
                co_return;
            }
            const auto now = steady_ms();
            std::lock_guard lock(sessions_mu);
            for (auto& [id, weak] : sessions) {
                if (auto s = weak.lock()) {
                    s->sweep(now);
                }
            }
        }
    }

    // Sessions can end in another process (`relais-server user disable`):
    // look every few seconds, so that such a connection ends within 5 s.
    asio::awaitable<void> watch_sessions() {
        while (!stopping) {
            session_check.expires_after(std::chrono::seconds(2));
            auto [ec] = co_await session_check.async_wait(nothrow);
            if (ec || stopping) {
                co_return;
            }
            service.check_sessions();
        }
    }

    // Meetings act by themselves (a reminder, a phase past its end) even
    // when nobody sends anything: a second is the precision people expect.
    asio::awaitable<void> run_meeting_clock() {
        while (!stopping) {
            meeting_clock.expires_after(std::chrono::seconds(1));
            auto [ec] = co_await meeting_clock.async_wait(nothrow);
            if (ec || stopping) {
                co_return;
            }
            service.tick();
        }
    }

    // Retention: a pass at start (a server stopped over midnight must not
    // skip a day), then one a day.
    asio::awaitable<void> run_retention() {
        while (!stopping) {
            service.apply_retention([this](std::uint64_t) { service.collect_files(); });
            retention_clock.expires_after(std::chrono::hours(24));
            auto [ec] = co_await retention_clock.async_wait(nothrow);
            if (ec || stopping) {
                co_return;
            }
        }
    }

    void add(std::uint64_t id, const std::shared_ptr<session_base>& s) {
        std::lock_guard lock(sessions_mu);
        sessions[id] = s;
        if (stopping) {
            s->shutdown();
        }
    }
    void session_ended(std::uint64_t id) override { remove(id); }
    void remove(std::uint64_t id) {
        std::lock_guard lock(sessions_mu);
        sessions.erase(id);
        finish_if_idle();
    }
    // Call with sessions_mu held: once the last connection has closed after a
    // stop, nothing needs the deadline any more and run() may return.
    void finish_if_idle() {
        if (drained && sessions.empty()) {
            asio::dispatch(accept_strand, [this] {
                beast::error_code ec;
                admin_acceptor.close(ec);
            });
            asio::post(control, [this] {
                deadline.cancel();
                sweep_stopped = true;
                session_sweep.cancel();
            });
        }
    }
    std::size_t session_count() {
        std::lock_guard lock(sessions_mu);
        return sessions.size();
    }

    // On the control strand: stop taking work, let the writer commit what it
    // has, then close every connection once its acks are queued.
    void begin_stop() {
        if (stopping.exchange(true)) {
            return;
        }
        // On the accept loop's strand: the loop reads the acceptor's state.
        asio::dispatch(accept_strand, [this] {
            beast::error_code ec;
            acceptor.close(ec);
        });
        signals.cancel();
        hangups.cancel();
        session_check.cancel();
        meeting_clock.cancel();
        retention_clock.cancel();
        service.stop_accepting();
        // A connection stuck in a handshake must not hold the exit for long.
        deadline.expires_after(std::chrono::seconds(15));
        deadline.async_wait([this](beast::error_code dec) {
            if (!dec) {
                ioc.stop();
            }
        });
        service.drain([this] {
            std::lock_guard lock(sessions_mu);
            drained = true;
            finish_if_idle();
            for (auto& [id, weak] : sessions) {
                if (auto s = weak.lock()) {
                    s->shutdown();
                }
            }
        });
    }

    core::service& service;
    server_config config;
    std::size_t threads;
    asio::io_context ioc;
    asio::strand<asio::io_context::executor_type> accept_strand;
    // The server's timers, its signals and the shutdown sequence: owned by
    // this strand, touched only from it (begin_stop, the two loops, the
    // posts of finish_if_idle), so that no timer is cancelled from one
    // thread while another waits on it.
    asio::strand<asio::io_context::executor_type> control;
    tcp::acceptor acceptor;
    tcp::acceptor admin_acceptor;  // both on accept_strand
    asio::signal_set signals;
    asio::signal_set hangups;
    asio::steady_timer deadline;
    asio::steady_timer session_check;
    asio::steady_timer session_sweep;
    asio::steady_timer meeting_clock;
    asio::steady_timer retention_clock;
    bool sweep_stopped = false;
    std::mutex tls_mu;
    std::shared_ptr<ssl::context> tls;  // guarded by tls_mu; swapped by a reload
    session_limits limits;
    std::atomic<std::uint64_t> next_id{0};
    std::atomic<bool> stopping{false};
    std::atomic<std::uint64_t> refused_connections{0};
    struct address_budget {
        core::rate_limiter bucket;
        std::int64_t last_ms = 0;
    };
    // Owned by accept_loop (one coroutine): no lock.
    std::unordered_map<std::string, address_budget> accept_budget;

    std::mutex sessions_mu;
    bool drained = false;  // guarded by sessions_mu
    std::unordered_map<std::uint64_t, std::weak_ptr<session_base>> sessions;
};

server::server(core::service& service, server_config config)
    : impl_(std::make_unique<impl>(service, std::move(config))) {}

server::~server() = default;

namespace {

// `what` names the listener in the message ("" for the main one), `option`
// the flag that moves it.
void open_listener(tcp::acceptor& acceptor, const std::string& host, std::uint16_t port,
                   std::string_view what, std::string_view option) {
    beast::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    tcp::endpoint endpoint(address, port);
    if (!ec) {
        acceptor.open(endpoint.protocol(), ec);
    }
    if (!ec) {
        acceptor.set_option(asio::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        acceptor.bind(endpoint, ec);
    }
    if (!ec) {
        acceptor.listen(asio::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        // One line a person can act on, not Asio's message with its source location.
        std::string why = "cannot listen on " + host + ":" + std::to_string(port);
        why.append(what).append(": ").append(ec.message());
        if (ec == asio::error::address_in_use) {
            why.append(" (another server already uses this port: stop it or pass ")
                .append(option)
                .append(")");
        }
        throw std::runtime_error(why);
    }
}

std::string url_of(const tcp::acceptor& acceptor, std::string_view scheme) {
    auto endpoint = acceptor.local_endpoint();
    std::string host = endpoint.address().to_string();
    if (endpoint.address().is_v6()) {
        host = "[" + host + "]";
    }
    std::string url(scheme);
    url.append("://").append(host).append(":").append(std::to_string(endpoint.port()));
    return url;
}

}  // namespace

void server::listen() {
    auto& i = *impl_;
    open_listener(i.acceptor, i.config.host, i.config.port, "", "--listen");
    if (i.config.admin) {
        open_listener(i.admin_acceptor, i.config.admin->first, i.config.admin->second,
                      " (the admin listener)", "--admin-listen");
    }
}

std::uint16_t server::port() const {
    return impl_->acceptor.local_endpoint().port();
}

std::string server::url() const {
    return url_of(impl_->acceptor, impl_->config.tls ? "wss" : "ws");
}

std::string server::admin_url() const {
    return impl_->admin_acceptor.is_open() ? url_of(impl_->admin_acceptor, "http") : std::string();
}

void server::run() {
    auto& i = *impl_;
    asio::co_spawn(i.accept_strand, i.accept_loop(),
                   [](std::exception_ptr e) { log_spawn_failure(0, e); });
    if (i.admin_acceptor.is_open()) {
        asio::co_spawn(i.accept_strand, i.admin_accept_loop(),
                       [](std::exception_ptr e) { log_spawn_failure(0, e); });
    }
    asio::dispatch(i.control, [&i] { i.await_hangup(); });
    asio::co_spawn(i.control, i.watch_sessions(),
                   [](std::exception_ptr e) { log_spawn_failure(0, e); });
    asio::co_spawn(i.control, i.sweep_sessions(),
                   [](std::exception_ptr e) { log_spawn_failure(0, e); });
    asio::co_spawn(i.control, i.run_meeting_clock(),
                   [](std::exception_ptr e) { log_spawn_failure(0, e); });
    asio::co_spawn(i.control, i.run_retention(),
                   [](std::exception_ptr e) { log_spawn_failure(0, e); });
    i.signals.async_wait([&i](beast::error_code ec, int) {
        if (!ec) {
            i.begin_stop();
        }
    });
    std::vector<std::thread> pool;
    for (std::size_t t = 1; t < i.threads; ++t) {
        pool.emplace_back([&i] { i.ioc.run(); });
    }
    i.ioc.run();
    for (auto& t : pool) {
        t.join();
    }
}

void server::stop() {
    asio::post(impl_->control, [this] { impl_->begin_stop(); });
}

}  // namespace relais::net
