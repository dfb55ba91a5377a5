// libFuzzer target: the frame decoder, both directions, the request id
// reader, and the UTF-8 check.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "protocol/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    auto client = relais::protocol::decode_client(bytes, 64 * 1024);
    const auto id = relais::protocol::request_id_of(bytes);
    if (client) {
        // A frame that decodes has its id read the same way by both.
        if (id != client->request_id()) {
            __builtin_trap();
        }
        // What decodes must encode again and decode to the same message.
        auto again = relais::protocol::decode_client(relais::protocol::encode(*client), 1 << 30);
        if (!again || again->SerializeAsString() != client->SerializeAsString()) {
            __builtin_trap();
        }
    }
    (void)relais::protocol::decode_server(bytes, 64 * 1024);
    (void)relais::protocol::valid_utf8(bytes);
    return 0;
}
