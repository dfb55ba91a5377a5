#pragma once

#include <cstdint>

#include "protocol/relais.pb.h"

namespace relais::protocol {

inline constexpr std::uint32_t protocol_version = 1;

// Every limit the server enforces, in one place; sent to clients in Welcome.
struct limits {
    std::uint32_t max_frame_bytes = 64 * 1024;
    std::uint32_t max_text_bytes = 16 * 1024;
    std::uint32_t max_name_bytes = 64;
    std::uint32_t max_topic_bytes = 512;
    std::uint32_t max_page_size = 500;
    // History and sync pages stop short of this many bytes of text (at least
    // one event each), so that one page always fits a connection's outbound
    // queue; has_more tells the client to ask again. Not on the wire.
    std::uint32_t max_page_bytes = 256 * 1024;
    std::uint32_t send_rate_per_second = 20;
    std::uint32_t send_burst = 200;
    std::uint32_t idle_timeout_seconds = 60;
    std::uint32_t max_client_msg_id_bytes = 64;
    std::uint32_t max_password_bytes = 1024;
    std::uint32_t max_title_bytes = 200;
    std::uint32_t max_link_bytes = 2048;
    std::uint32_t max_tags = 12;
    std::uint32_t max_tag_bytes = 40;
    std::uint32_t max_emoji_bytes = 32;
    std::uint32_t max_query_bytes = 256;
    // A meeting's minutes, published as one message: what a frame holds
    // with room for the rest of the event.
    std::uint32_t max_minutes_bytes = 48 * 1024;
    // Attached files: one at most, all of an account's together, and a
    // chunk of an upload or download: what a frame holds with room for the
    // rest of the request.
    std::uint64_t max_attachment_bytes = 20 * 1024 * 1024;
    std::uint64_t attachment_quota_bytes = 1024ULL * 1024 * 1024;
    std::uint32_t attachment_chunk_bytes = 60 * 1024;
};

inline void to_wire(const limits& l, v1::Limits& out) {
    out.set_max_frame_bytes(l.max_frame_bytes);
    out.set_max_text_bytes(l.max_text_bytes);
    out.set_max_name_bytes(l.max_name_bytes);
    out.set_max_topic_bytes(l.max_topic_bytes);
    out.set_max_page_size(l.max_page_size);
    out.set_send_rate_per_second(l.send_rate_per_second);
    out.set_send_burst(l.send_burst);
    out.set_idle_timeout_seconds(l.idle_timeout_seconds);
    out.set_max_title_bytes(l.max_title_bytes);
    out.set_max_link_bytes(l.max_link_bytes);
    out.set_max_tags(l.max_tags);
    out.set_max_tag_bytes(l.max_tag_bytes);
    out.set_max_emoji_bytes(l.max_emoji_bytes);
    out.set_max_query_bytes(l.max_query_bytes);
    out.set_max_minutes_bytes(l.max_minutes_bytes);
    out.set_max_attachment_bytes(l.max_attachment_bytes);
    out.set_attachment_chunk_bytes(l.attachment_chunk_bytes);
    out.set_attachment_quota_bytes(l.attachment_quota_bytes);
}

}  // namespace relais::protocol
