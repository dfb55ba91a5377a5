#include "server/net/delivery_batch.hpp"

namespace relais::net {
namespace {
thread_local delivery_batch* open_batch = nullptr;
}

delivery_batch::delivery_batch() : outer_(open_batch) {
    open_batch = this;
}

delivery_batch::~delivery_batch() {
    open_batch = outer_;
    if (!joined_.empty()) {
        auto& first = *joined_.front();
        first.post_flush(std::move(joined_));
    }
}

delivery_batch* delivery_batch::current() noexcept {
    return open_batch;
}

void deliver_in_one_batch(const std::function<void()>& callbacks) {
    delivery_batch batch;
    callbacks();
}

}  // namespace relais::net
