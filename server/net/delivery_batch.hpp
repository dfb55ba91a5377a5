#pragma once

// Write coalescing across a whole group of deliveries. While a batch is
// open on a thread, a session only queues what is delivered to it there and
// joins the batch; when the batch closes, every session that joined is
// flushed at once, on one network thread. A group commit's events then
// leave in one write per connection, however many they are, and a fan-out
// costs one hand-off instead of one per connection.

#include <functional>
#include <memory>
#include <vector>

#include "server/net/session_base.hpp"

namespace relais::net {

class delivery_batch {
  public:
    delivery_batch();
    ~delivery_batch();
    delivery_batch(const delivery_batch&) = delete;
    delivery_batch& operator=(const delivery_batch&) = delete;

    // The batch open on this thread, if any.
    static delivery_batch* current() noexcept;
    // Call once per session and batch (the session keeps track).
    void join(std::shared_ptr<session_base> session) { joined_.push_back(std::move(session)); }

  private:
    delivery_batch* outer_;
    std::vector<std::shared_ptr<session_base>> joined_;
};

// Runs `callbacks` inside one delivery batch: for storage's callback scope,
// around what a group commit or a read job completes.
void deliver_in_one_batch(const std::function<void()>& callbacks);

}  // namespace relais::net
