#pragma once

// What one connection has still to send: the frames delivered to it, in
// order, then at most one close frame, always last. Pure (no Asio) so that
// its rules have unit tests of their own. Not thread-safe: the session
// guards it with its lock.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/codec.hpp"

namespace relais::net {

struct queue_limits {
    std::size_t max_frames = 8192;
    std::size_t max_bytes = 4 * 1024 * 1024;
};

class outbound_queue {
  public:
    explicit outbound_queue(const queue_limits& limits) : limits_(limits) {}

    enum class push_result : std::uint8_t {
        queued,
        // It did not fit: the client does not read fast enough. The queue
        // is cut off: what it held is handed back to be dropped, and a close
        // (1008) takes its place. The client loses nothing: it resyncs from
        // storage when it comes back.
        cut_off,
        // A close was asked for before: nothing may follow the close frame.
        refused,
    };
    // Queues `f`. A frame larger than the whole bound still goes out alone,
    // into an empty queue. On cut_off, the frames queued so far are moved
    // into `dropped`, for the caller to free once it has released its lock.
    push_result push(protocol::frame f, std::vector<protocol::frame>& dropped);

    // Asks to close with `code` (0: none) and `reason` once what is queued
    // has gone. The first request wins; returns false for any later one.
    bool close(std::uint16_t code, std::string_view reason);
    // The connection broke: nothing more goes out, not even a close frame.
    void abandon();

    bool closing() const { return state_ != state::open; }
    bool has_frames() const { return !frames_.empty(); }
    std::size_t frame_count() const { return frames_.size(); }
    std::size_t bytes() const { return bytes_; }
    // Frames as they were delivered, for the writer to encode.
    const std::vector<protocol::frame>& frames() const { return frames_; }

    // The frames are on their way: forget them, and the buffer that held
    // them (most connections are idle most of the time, and even its 32
    // bytes count at 10,000 connections).
    void clear_frames();
    // Once the frames are gone: the close frame's payload (the code in
    // network order, then the reason cut to fit a control frame), once.
    // Nothing while frames remain, so that the close frame is always last.
    std::optional<std::string> take_close();

  private:
    enum class state : std::uint8_t {
        open,
        close_asked,  // the close frame waits behind the frames
        close_taken,  // the close frame has been handed out
        abandoned,    // broken: nothing more at all
    };

    const queue_limits& limits_;
    std::vector<protocol::frame> frames_;
    std::size_t bytes_ = 0;
    state state_ = state::open;
    std::uint16_t close_code_ = 0;
    // Allocated only for a close: most connections never hold one.
    std::unique_ptr<std::string> close_reason_;
};

}  // namespace relais::net
