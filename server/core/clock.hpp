#pragma once

#include <chrono>
#include <cstdint>

namespace relais::core {

// Time as the domain sees it; tests substitute a fake.
// Thread-safe: implementations must allow calls from any thread.
class clock {
  public:
    virtual ~clock() = default;
    // Milliseconds since the Unix epoch, UTC.
    virtual std::int64_t now_ms() const = 0;
};

class system_clock final : public clock {
  public:
    std::int64_t now_ms() const override {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
};

}  // namespace relais::core
