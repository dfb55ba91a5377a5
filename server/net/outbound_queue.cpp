#include "server/net/outbound_queue.hpp"

#include <utility>

#include "protocol/websocket.hpp"

namespace relais::net {

outbound_queue::push_result outbound_queue::push(protocol::frame f,
                                                 std::vector<protocol::frame>& dropped) {
    if (state_ != state::open) {
        return push_result::refused;
    }
    if (frames_.empty() ||
        (frames_.size() + 1 <= limits_.max_frames && bytes_ + f->size() <= limits_.max_bytes)) {
        bytes_ += f->size();
        frames_.push_back(std::move(f));
        return push_result::queued;
    }
    dropped.swap(frames_);
    std::vector<protocol::frame>().swap(frames_);
    bytes_ = 0;
    close(protocol::ws_close_code::policy_violation,
          "too slow: outbound queue full; reconnect and resync");
    return push_result::cut_off;
}

bool outbound_queue::close(std::uint16_t code, std::string_view reason) {
    if (state_ != state::open) {
        return false;
    }
    state_ = state::close_asked;
    close_code_ = code;
    // A control frame's payload is at most 125 bytes, the code included.
    close_reason_ = std::make_unique<std::string>(reason.substr(0, 123));
    return true;
}

void outbound_queue::abandon() {
    clear_frames();
    close_reason_.reset();
    state_ = state::abandoned;
}

void outbound_queue::clear_frames() {
    std::vector<protocol::frame>().swap(frames_);
    bytes_ = 0;
}

std::optional<std::string> outbound_queue::take_close() {
    if (state_ != state::close_asked || !frames_.empty()) {
        return std::nullopt;
    }
    state_ = state::close_taken;
    std::string payload;
    // Code 0 means the peer gave none: the answer then carries none either.
    if (close_code_ != 0) {
        payload.push_back(static_cast<char>(close_code_ >> 8));
        payload.push_back(static_cast<char>(close_code_ & 0xFF));
        payload += *close_reason_;
    }
    close_reason_.reset();
    return payload;
}

}  // namespace relais::net
