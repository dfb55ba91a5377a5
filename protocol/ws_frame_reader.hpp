#pragma once

// A WebSocket frame reader (RFC 6455, no extension), for either end: the
// server reads masked frames, a client unmasked ones. It takes the bytes the
// peer sends in pieces of any size and hands the handler whole messages,
// pings and the close frame; it fails the connection with the close code the
// RFC names for every violation.
// A message that arrives in one frame within one read is handed over where
// it lies, unmasked in place: no copy. Bytes of a frame not complete yet,
// and the fragments of a fragmented message, wait in strings that are empty
// (no memory) while the connection is idle. No Asio here: the unit tests and
// the fuzz target use it as it is.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/codec.hpp"
#include "protocol/websocket.hpp"

namespace relais::protocol {

// Handler: void message(std::string_view payload); void ping(std::string_view);
// void close(std::uint16_t code, std::string_view reason) (code 0: the close
// frame had no payload); void fail(std::uint16_t code, std::string_view why).
// After close or fail, the reader ignores whatever follows.
class ws_frame_reader {
  public:
    ws_frame_reader(std::size_t max_message_bytes, ws_role role)
        : max_message_(max_message_bytes), masked_(role == ws_role::server) {}

    // The next bytes from the client, in order; `data` may be written over
    // (unmasking). Returns false once the connection is closing: read no more.
    template <class Handler>
    bool feed(char* data, std::size_t size, Handler& handler) {
        if (done_) {
            return false;
        }
        if (partial_.empty()) {
            const auto used = parse(data, size, handler);
            if (!done_ && used < size) {
                partial_.assign(data + used, size - used);
            }
            return !done_;
        }
        partial_.append(data, size);
        if (partial_.size() < needed_) {
            return true;
        }
        const auto used = parse(partial_.data(), partial_.size(), handler);
        if (done_ || used == partial_.size()) {
            std::string().swap(partial_);
        } else {
            partial_.erase(0, used);
        }
        return !done_;
    }

    bool done() const { return done_; }

  private:
    // Parses whole frames from the start of [data, data + size); returns the
    // bytes used. What is left is the start of a frame, needing needed_
    // bytes in all.
    template <class Handler>
    std::size_t parse(char* data, std::size_t size, Handler& handler) {
        std::size_t at = 0;
        while (!done_) {
            const auto* p = reinterpret_cast<unsigned char*>(data + at);
            const auto available = size - at;
            if (available < 2) {
                needed_ = 2;
                break;
            }
            const bool fin = (p[0] & 0x80) != 0;
            const unsigned op = p[0] & 0x0F;
            const bool control = (op & 0x8) != 0;
            const unsigned length7 = p[1] & 0x7F;
            if ((p[0] & 0x70) != 0) {
                return fail(handler, ws_close_code::protocol_error, "reserved bits set");
            }
            if (op != ws_opcode::continuation && op != ws_opcode::text && op != ws_opcode::binary &&
                op != ws_opcode::close && op != ws_opcode::ping && op != ws_opcode::pong) {
                return fail(handler, ws_close_code::protocol_error, "reserved opcode");
            }
            if (((p[1] & 0x80) != 0) != masked_) {
                return fail(
                    handler, ws_close_code::protocol_error,
                    masked_ ? "client frames must be masked" : "server frames must not be masked");
            }
            if (control && (!fin || length7 > 125)) {
                return fail(handler, ws_close_code::protocol_error,
                            "control frames are whole and at most 125 bytes");
            }
            if (op == ws_opcode::continuation && !in_message_) {
                return fail(handler, ws_close_code::protocol_error, "continuation of nothing");
            }
            if ((op == ws_opcode::text || op == ws_opcode::binary) && in_message_) {
                return fail(handler, ws_close_code::protocol_error,
                            "new message inside a fragmented one");
            }
            const std::size_t length_bytes = length7 == 126 ? 2 : length7 == 127 ? 8 : 0;
            const std::size_t header = 2 + length_bytes + (masked_ ? 4 : 0);
            if (available < header) {
                needed_ = header;
                break;
            }
            std::uint64_t length = length7;
            if (length_bytes > 0) {
                length = 0;
                for (std::size_t i = 0; i < length_bytes; ++i) {
                    length = length << 8 | p[2 + i];
                }
                if ((length_bytes == 2 && length < 126) ||
                    (length_bytes == 8 && (length >> 63 != 0 || length <= 0xFFFF))) {
                    return fail(handler, ws_close_code::protocol_error,
                                "payload length not in its shortest form");
                }
            }
            // Refused from the header alone: a frame announcing 16 MiB takes
            // no memory.
            if (!control && length > max_message_ - std::min(max_message_, message_.size())) {
                return fail(handler, ws_close_code::too_big, "message too big");
            }
            if (available - header < length) {
                needed_ = header + static_cast<std::size_t>(length);
                break;
            }
            char* payload = data + at + header;
            const auto n = static_cast<std::size_t>(length);
            if (masked_) {
                const unsigned char* mask = p + 2 + length_bytes;
                for (std::size_t i = 0; i < n; ++i) {
                    payload[i] =
                        static_cast<char>(static_cast<unsigned char>(payload[i]) ^ mask[i & 3]);
                }
            }
            at += header + n;
            frame(handler, fin, op, std::string_view(payload, n));
        }
        return at;
    }

    template <class Handler>
    void frame(Handler& handler, bool fin, unsigned op, std::string_view payload) {
        switch (op) {
            case ws_opcode::ping:
                handler.ping(payload);
                return;
            case ws_opcode::pong:
                return;
            case ws_opcode::close:
                close_frame(handler, payload);
                return;
            default:
                break;
        }
        if (op != ws_opcode::continuation) {
            message_text_ = op == ws_opcode::text;
        }
        if (fin && !in_message_) {
            whole_message(handler, payload);
            return;
        }
        in_message_ = true;
        message_.append(payload);
        if (fin) {
            in_message_ = false;
            std::string whole;
            whole.swap(message_);
            whole_message(handler, whole);
        }
    }

    template <class Handler>
    void whole_message(Handler& handler, std::string_view payload) {
        if (!message_text_) {
            handler.message(payload);
            return;
        }
        if (!protocol::valid_utf8(payload)) {
            fail(handler, ws_close_code::invalid_payload, "text frame is not UTF-8");
        } else {
            fail(handler, ws_close_code::unsupported_data,
                 "text frames are not supported: send binary relais.v1 messages");
        }
    }

    template <class Handler>
    void close_frame(Handler& handler, std::string_view payload) {
        if (payload.size() == 1) {
            fail(handler, ws_close_code::protocol_error, "one-byte close payload");
            return;
        }
        std::uint16_t code = 0;
        std::string_view reason;
        if (payload.size() >= 2) {
            code = static_cast<std::uint16_t>(static_cast<unsigned char>(payload[0]) << 8 |
                                              static_cast<unsigned char>(payload[1]));
            reason = payload.substr(2);
            if (!ws_close_code_allowed(code)) {
                fail(handler, ws_close_code::protocol_error, "close code not allowed");
                return;
            }
            if (!protocol::valid_utf8(reason)) {
                fail(handler, ws_close_code::invalid_payload, "close reason is not UTF-8");
                return;
            }
        }
        done_ = true;
        release();
        handler.close(code, reason);
    }

    template <class Handler>
    std::size_t fail(Handler& handler, std::uint16_t code, std::string_view why) {
        done_ = true;
        release();
        handler.fail(code, why);
        return 0;
    }

    void release() { std::string().swap(message_); }

    std::size_t max_message_;
    bool masked_;          // the server's reader: the client's frames are masked
    std::string partial_;  // the start of a frame not complete yet
    std::size_t needed_ = 2;
    std::string message_;  // fragments of a message not complete yet
    bool in_message_ = false;
    bool message_text_ = false;
    bool done_ = false;
};

}  // namespace relais::protocol
