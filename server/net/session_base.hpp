#pragma once

// What the server and the delivery batch need of any session, whatever its
// stream; without Asio, so that the batch has unit tests of its own.

#include <cstdint>
#include <memory>
#include <vector>

#include "server/core/connection.hpp"

namespace relais::net {

// Told when a session has ended (both directions closed).
class session_owner {
  public:
    virtual void session_ended(std::uint64_t id) = 0;

  protected:
    ~session_owner() = default;
};

class session_base : public core::connection {
  public:
    using core::connection::connection;
    // Flushes what is queued, then closes with 1001 (going away).
    virtual void shutdown() = 0;
    // The server's periodic look at every connection, from any thread: a
    // ping to one silent for half the idle timeout; the socket cut for one
    // silent for all of it, or whose close has waited too long.
    virtual void sweep(std::int64_t now_ms) = 0;
    // From any thread: writes what was queued while in a delivery batch.
    virtual void flush_joined() = 0;
    // Hands `batch` (sessions of this one's transport, this one first) to a
    // network thread, which calls flush_joined on each.
    virtual void post_flush(std::vector<std::shared_ptr<session_base>> batch) = 0;
    // From any thread: bytes waiting to go out, queued or being written
    // (for /metrics, read a few times a minute).
    virtual std::size_t queued_bytes() = 0;
};

}  // namespace relais::net
