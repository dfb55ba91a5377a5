#include "clients/lib/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

namespace relais::client {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

template <class Stream>
class ws_transport : public transport {
  public:
    template <class... Args>
    explicit ws_transport(Args&&... args) : ws_(std::forward<Args>(args)...) {}

    websocket::stream<Stream>& ws() { return ws_; }

    asio::awaitable<error_code> write(std::string_view frame, bool text) override {
        ws_.text(text);
        auto [ec, n] = co_await ws_.async_write(asio::buffer(frame.data(), frame.size()), nothrow);
        co_return ec;
    }

    asio::awaitable<std::pair<error_code, std::string>> read() override {
        beast::flat_buffer buffer;
        auto [ec, n] = co_await ws_.async_read(buffer, nothrow);
        co_return std::pair{ec, beast::buffers_to_string(buffer.cdata())};
    }

    asio::awaitable<void> close() override {
        auto [ec] = co_await ws_.async_close(websocket::close_code::normal, nothrow);
        (void)ec;
    }

    int close_code() const override { return static_cast<int>(ws_.reason().code); }

    void cut() override {
        beast::error_code ec;
        beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ec);
        beast::get_lowest_layer(ws_).close();
    }

  private:
    websocket::stream<Stream> ws_;
};

// Requests are small frames: send each at once, without Nagle's delay.
void no_delay(beast::tcp_stream& stream) {
    error_code ec;
    stream.socket().set_option(tcp::no_delay(true), ec);
}

template <class Transport>
asio::awaitable<error_code> websocket_handshake(Transport& t, const url_parts& url,
                                                std::size_t max_frame_bytes) {
    auto& ws = t.ws();
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    ws.read_message_max(max_frame_bytes);
    ws.binary(true);
    auto [ec] = co_await ws.async_handshake(url.host + ":" + url.port, url.path, nothrow);
    co_return ec;
}

}  // namespace

asio::awaitable<std::pair<error_code, std::shared_ptr<transport>>> open_transport(
    asio::any_io_executor executor, const url_parts& url, const std::string& ca_file,
    std::size_t max_frame_bytes) {
    tcp::resolver resolver(executor);
    auto [rec, endpoints] = co_await resolver.async_resolve(url.host, url.port, nothrow);
    if (rec) {
        co_return std::pair{rec, nullptr};
    }
    if (!url.tls) {
        auto t = std::make_shared<ws_transport<beast::tcp_stream>>(executor);
        beast::get_lowest_layer(t->ws()).expires_after(std::chrono::seconds(10));
        auto [cec, ep] =
            co_await beast::get_lowest_layer(t->ws()).async_connect(endpoints, nothrow);
        if (cec) {
            co_return std::pair{cec, nullptr};
        }
        no_delay(beast::get_lowest_layer(t->ws()));
        auto hec = co_await websocket_handshake(*t, url, max_frame_bytes);
        co_return std::pair{hec, hec ? nullptr : t};
    }
    // One context per connection keeps the client free of global state; a
    // client opens few connections.
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    if (ca_file.empty()) {
        ctx->set_default_verify_paths(ec);
    } else {
        ctx->load_verify_file(ca_file, ec);
    }
    if (ec) {
        co_return std::pair{ec, nullptr};
    }
    ctx->set_verify_mode(ssl::verify_peer);
    ctx->set_verify_callback(ssl::host_name_verification(url.host));

    using tls_stream = beast::ssl_stream<beast::tcp_stream>;
    struct holder : ws_transport<tls_stream> {
        holder(asio::any_io_executor ex, std::shared_ptr<ssl::context> c)
            : ws_transport<tls_stream>(ex, *c), context(std::move(c)) {}
        std::shared_ptr<ssl::context> context;
    };
    auto t = std::make_shared<holder>(executor, ctx);
    auto& stream = t->ws().next_layer();
    if (!SSL_set_tlsext_host_name(stream.native_handle(), url.host.c_str())) {
        co_return std::pair{
            error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()),
            nullptr};
    }
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    auto [cec, ep] = co_await beast::get_lowest_layer(stream).async_connect(endpoints, nothrow);
    if (cec) {
        co_return std::pair{cec, nullptr};
    }
    no_delay(beast::get_lowest_layer(stream));
    auto [tec] = co_await stream.async_handshake(ssl::stream_base::client, nothrow);
    if (tec) {
        co_return std::pair{tec, nullptr};
    }
    auto hec = co_await websocket_handshake(*t, url, max_frame_bytes);
    co_return std::pair{hec, hec ? nullptr : std::static_pointer_cast<transport>(t)};
}

}  // namespace relais::client
