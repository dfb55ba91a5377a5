// The server's way in: an HTTP upgrade request and WebSocket frames, read by
// Beast with the server's settings (binary, message size limit), every
// message handed to the envelope decoder. The input is the byte stream a
// client sends; when its first byte is odd, a valid upgrade request is put
// in front, so that the fuzzer spends its time on frames. The same frames go
// through the server's close reason check, in pieces of a size the input's
// first byte chooses.
#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "close_reason_check.hpp"
#include "codec.hpp"
#include "limits.hpp"

namespace beast = boost::beast;
namespace websocket = beast::websocket;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    std::string input;
    if (data[0] & 1) {
        input =
            "GET / HTTP/1.1\r\nHost: relais\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    }
    input.append(reinterpret_cast<const char*>(data) + 1, size - 1);

    relais::net::close_reason_check check;
    const std::size_t piece = 1 + (data[0] >> 1);
    for (std::size_t at = 1; at < size; at += piece) {
        check.feed(data + at, std::min(piece, size - at));
    }
    (void)check.saw_invalid_close_reason();

    boost::asio::io_context io;
    beast::test::stream client(io);
    beast::test::stream server_side(io);
    server_side.connect(client);
    server_side.append(input);
    server_side.close_remote();  // the client has said everything: reads end after it

    const relais::protocol::limits limits;
    websocket::stream<beast::test::stream&> ws(server_side);
    ws.read_message_max(limits.max_frame_bytes);
    ws.binary(true);
    beast::error_code ec;
    ws.accept(ec);
    if (ec) {
        return 0;
    }
    for (int messages = 0; messages < 64; ++messages) {
        beast::flat_buffer buffer;
        ws.read(buffer, ec);
        if (ec) {
            break;
        }
        const auto bytes = beast::buffers_to_string(buffer.data());
        (void)relais::protocol::decode_client(bytes, limits.max_frame_bytes);
    }
    return 0;
}
