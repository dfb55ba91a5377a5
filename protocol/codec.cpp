#include "protocol/codec.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstdio>
#include <mutex>

namespace relais::protocol {
namespace {

// Protobuf reports a proto3 string with invalid UTF-8 only through its log.
// The handler turns that report into a flag for the decoder on the same
// thread and keeps it out of the server's stderr.
thread_local bool saw_invalid_utf8 = false;

void protobuf_log_handler(google::protobuf::LogLevel level, const char*, int,
                          const std::string& message) {
    if (message.find("UTF-8") != std::string::npos) {
        saw_invalid_utf8 = true;
        return;
    }
    if (level >= google::protobuf::LOGLEVEL_ERROR) {
        std::fprintf(stderr, "protobuf: %s\n", message.c_str());
    }
}

void install_log_handler() {
    static std::once_flag once;
    std::call_once(once, [] { google::protobuf::SetLogHandler(&protobuf_log_handler); });
}

template <class Envelope>
outcome<Envelope> decode(std::string_view bytes, std::size_t max_frame_bytes) {
    if (bytes.size() > max_frame_bytes) {
        return fail(errc::too_large, "message of " + std::to_string(bytes.size()) +
                                         " bytes exceeds the limit of " +
                                         std::to_string(max_frame_bytes));
    }
    install_log_handler();
    saw_invalid_utf8 = false;
    Envelope envelope;
    if (!envelope.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
        if (saw_invalid_utf8) {
            return fail(errc::bad_request, "text is not valid UTF-8");
        }
        return fail(errc::bad_request, "malformed message: not a relais.v1 envelope");
    }
    if (envelope.body_case() == Envelope::BODY_NOT_SET) {
        return fail(errc::bad_request, "unknown or missing message kind");
    }
    return envelope;
}

}  // namespace

outcome<v1::ClientMessage> decode_client(std::string_view bytes, std::size_t max_frame_bytes) {
    return decode<v1::ClientMessage>(bytes, max_frame_bytes);
}

outcome<v1::ServerMessage> decode_server(std::string_view bytes, std::size_t max_frame_bytes) {
    return decode<v1::ServerMessage>(bytes, max_frame_bytes);
}

std::uint64_t request_id_of(std::string_view bytes) {
    using google::protobuf::internal::WireFormatLite;
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(bytes.data()),
                                              static_cast<int>(bytes.size()));
    std::uint64_t id = 0;
    // Top-level fields only, skipped without being parsed: a body's bad
    // string does not stop the walk. As in protobuf, the last id wins.
    while (const auto tag = in.ReadTag()) {
        if (WireFormatLite::GetTagFieldNumber(tag) == v1::ClientMessage::kRequestIdFieldNumber &&
            WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_VARINT) {
            std::uint64_t value = 0;
            if (!in.ReadVarint64(&value)) {
                break;
            }
            id = value;
        } else if (!WireFormatLite::SkipField(&in, tag)) {
            break;
        }
    }
    return id;
}

frame encode(const v1::ServerMessage& message) {
    auto bytes = std::make_shared<std::string>();
    message.SerializeToString(bytes.get());
    return bytes;
}

std::string encode(const v1::ClientMessage& message) {
    return message.SerializeAsString();
}

bool valid_utf8(std::string_view text) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        unsigned char c = *p;
        if (c < 0x80) {
            ++p;
            continue;
        }
        int extra = 0;
        std::uint32_t cp = 0;
        if ((c & 0xE0) == 0xC0) {
            extra = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            extra = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            extra = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (end - p <= extra) {
            return false;
        }
        for (int i = 1; i <= extra; ++i) {
            if ((p[i] & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        static constexpr std::uint32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for_length[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        p += extra + 1;
    }
    return true;
}

}  // namespace relais::protocol
