#pragma once

// RFC 6455 framing shared by both ends: the server, the client library, the
// benchmark and the tests. Pure functions over bytes, no Asio.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace relais::protocol {

namespace ws_close_code {
inline constexpr std::uint16_t normal = 1000;
inline constexpr std::uint16_t going_away = 1001;
inline constexpr std::uint16_t protocol_error = 1002;
inline constexpr std::uint16_t unsupported_data = 1003;
inline constexpr std::uint16_t invalid_payload = 1007;
inline constexpr std::uint16_t policy_violation = 1008;
inline constexpr std::uint16_t too_big = 1009;
}  // namespace ws_close_code

namespace ws_opcode {
inline constexpr unsigned continuation = 0x0;
inline constexpr unsigned text = 0x1;
inline constexpr unsigned binary = 0x2;
inline constexpr unsigned close = 0x8;
inline constexpr unsigned ping = 0x9;
inline constexpr unsigned pong = 0xA;
}  // namespace ws_opcode

// Codes a peer may put in a close frame: those RFC 6455 defines for use on
// the wire, and the ranges for libraries and applications. 1012 to 1014,
// registered later, are refused as Autobahn|Testsuite expects (case 7.9).
inline bool ws_close_code_allowed(std::uint16_t code) {
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1011) ||
           (code >= 3000 && code <= 4999);
}

// Which end reads: a server reads masked frames, a client unmasked ones
// (RFC 6455 5.1: each end fails the connection on the other kind).
enum class ws_role { server, client };

// The header of a whole (FIN) frame of `opcode` carrying `size` bytes,
// masked with `mask` when it is not null (a client's frames). Returns its
// length: 2 to 14 bytes written to `out`.
inline std::size_t write_frame_header(char* out, unsigned opcode, std::uint64_t size,
                                      const char* mask = nullptr) {
    const char mask_bit = mask ? static_cast<char>(0x80) : 0;
    std::size_t n = 2;
    out[0] = static_cast<char>(0x80 | opcode);
    if (size < 126) {
        out[1] = static_cast<char>(mask_bit | static_cast<char>(size));
    } else if (size <= 0xFFFF) {
        out[1] = static_cast<char>(mask_bit | 126);
        out[2] = static_cast<char>(size >> 8);
        out[3] = static_cast<char>(size & 0xFF);
        n = 4;
    } else {
        out[1] = static_cast<char>(mask_bit | 127);
        for (int i = 0; i < 8; ++i) {
            out[2 + i] = static_cast<char>((size >> (56 - 8 * i)) & 0xFF);
        }
        n = 10;
    }
    if (mask) {
        for (int i = 0; i < 4; ++i) {
            out[n + static_cast<std::size_t>(i)] = mask[i];
        }
        n += 4;
    }
    return n;
}

inline constexpr std::size_t max_frame_header_bytes = 14;

// Appends a whole unmasked frame (the server's) to `out`.
inline void append_frame(std::string& out, unsigned opcode, std::string_view payload) {
    char header[max_frame_header_bytes];
    out.append(header, write_frame_header(header, opcode, payload.size()));
    out.append(payload);
}

// Appends a whole frame masked with `mask` (a client's) to `out`.
inline void append_masked_frame(std::string& out, unsigned opcode, std::string_view payload,
                                const char (&mask)[4]) {
    char header[max_frame_header_bytes];
    out.append(header, write_frame_header(header, opcode, payload.size(), mask));
    const auto at = out.size();
    out.append(payload);
    for (std::size_t i = 0; i < payload.size(); ++i) {
        out[at + i] = static_cast<char>(out[at + i] ^ mask[i & 3]);
    }
}

}  // namespace relais::protocol
