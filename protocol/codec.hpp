#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "protocol/errc.hpp"
#include "protocol/relais.pb.h"

namespace relais::protocol {

// An encoded frame, immutable once built so that fan-out can hand the same
// bytes to every recipient.
using frame = std::shared_ptr<const std::string>;

// One binary WebSocket message -> one envelope. Pure functions over bytes.
//  errc::too_large   when the frame exceeds max_frame_bytes;
//  errc::bad_request when it is not a valid envelope: not protobuf, a string
//                    that is not UTF-8, or no known body (a newer client).
outcome<v1::ClientMessage> decode_client(std::string_view bytes, std::size_t max_frame_bytes);
outcome<v1::ServerMessage> decode_server(std::string_view bytes, std::size_t max_frame_bytes);
// The request id a client frame holds (field 1 of the envelope), whatever
// else is wrong with it (invalid UTF-8, an unknown body, a truncated field
// after it): the answer to a refused request still carries its id. 0 when
// the frame holds none that can be read.
std::uint64_t request_id_of(std::string_view bytes);

frame encode(const v1::ServerMessage& message);
std::string encode(const v1::ClientMessage& message);

// True when `text` is well-formed UTF-8 (no overlongs, no surrogates).
bool valid_utf8(std::string_view text);

}  // namespace relais::protocol
