#include "server/core/connection.hpp"

namespace relais::core {
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
        first.flush_batch(std::move(joined_));
    }
}

delivery_batch* delivery_batch::current() noexcept {
    return open_batch;
}

}  // namespace relais::core
