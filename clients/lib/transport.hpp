#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "protocol/url.hpp"

namespace relais::client {

namespace asio = boost::asio;
using boost::system::error_code;

using url_parts = protocol::ws_url;

// One WebSocket connection, plain or TLS. One reader and one writer at a time.
class transport {
  public:
    virtual ~transport() = default;
    // Sends one message; binary unless `text` (which Relais servers refuse:
    // the option exists so that tests can check that they do).
    virtual asio::awaitable<error_code> write(std::string_view frame, bool text = false) = 0;
    virtual asio::awaitable<std::pair<error_code, std::string>> read() = 0;
    // A close frame, then the end of the connection.
    virtual asio::awaitable<void> close() = 0;
    // Ends the connection at once, as a broken network would.
    virtual void cut() = 0;
    // The close code the peer sent (RFC 6455), 0 if none.
    virtual int close_code() const = 0;
};

// Connects, shakes hands (TLS, then WebSocket) and returns the transport.
asio::awaitable<std::pair<error_code, std::shared_ptr<transport>>> open_transport(
    asio::any_io_executor executor, const url_parts& url, const std::string& ca_file,
    std::size_t max_frame_bytes);

}  // namespace relais::client
