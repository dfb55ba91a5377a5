// The server's way in after the upgrade: the WebSocket frames a client
// sends, read by the server's frame reader with the server's message size
// limit, in pieces of a size the input's first byte chooses, every message
// handed to the envelope decoder. Whatever the bytes, the reader must end
// with nothing handed over after a close or a failure, and never hand over
// a message larger than the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "protocol/codec.hpp"
#include "protocol/limits.hpp"
#include "protocol/ws_frame_reader.hpp"

namespace {

struct checked_handler {
    std::size_t max_message;
    bool ended = false;

    void message(std::string_view payload) {
        if (ended || payload.size() > max_message) {
            std::abort();
        }
        (void)relais::protocol::decode_client(payload, max_message);
    }
    void ping(std::string_view payload) {
        if (ended || payload.size() > 125) {
            std::abort();
        }
    }
    void close(std::uint16_t code, std::string_view reason) {
        if (ended || (code != 0 && !relais::protocol::ws_close_code_allowed(code)) ||
            !relais::protocol::valid_utf8(reason)) {
            std::abort();
        }
        ended = true;
    }
    void fail(std::uint16_t, std::string_view) {
        if (ended) {
            std::abort();
        }
        ended = true;
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    // A small limit as well as the server's: the size checks get exercised.
    const relais::protocol::limits limits;
    const std::size_t max_message = (data[0] & 1) ? limits.max_frame_bytes : 1024;
    const std::size_t piece = 1 + ((data[0] >> 1) & 0x3F);
    // Both ends' readers: the server's (masked frames) and a client's.
    const auto role =
        (data[0] & 0x80) ? relais::protocol::ws_role::client : relais::protocol::ws_role::server;
    std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
    relais::protocol::ws_frame_reader reader(max_message, role);
    checked_handler handler{max_message};
    for (std::size_t at = 0; at < input.size(); at += piece) {
        const bool more =
            reader.feed(input.data() + at, std::min(piece, input.size() - at), handler);
        if (!more && !handler.ended) {
            std::abort();
        }
        if (!more) {
            break;
        }
    }
    return 0;
}
