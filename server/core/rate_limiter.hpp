#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace relais::core {

// A token bucket: `burst` requests at once, then `rate_per_second`.
// Not thread-safe: its owner guards it.
class rate_limiter {
  public:
    struct config {
        double rate_per_second = 20;
        double burst = 200;
    };

    explicit rate_limiter(const config& c) : config_(c), tokens_(c.burst) {}

    // Takes `cost` tokens: 0 when granted, else milliseconds until it would be.
    std::uint32_t take(std::int64_t now_ms, double cost = 1) {
        refill(now_ms);
        if (tokens_ >= cost) {
            tokens_ -= cost;
            return 0;
        }
        double missing = cost - tokens_;
        return static_cast<std::uint32_t>(std::ceil(missing / config_.rate_per_second * 1000.0));
    }

  private:
    void refill(std::int64_t now_ms) {
        if (last_ms_ != 0 && now_ms > last_ms_) {
            tokens_ = std::min(config_.burst, tokens_ + static_cast<double>(now_ms - last_ms_) *
                                                            config_.rate_per_second / 1000.0);
        }
        last_ms_ = std::max(last_ms_, now_ms);
    }

    config config_;
    double tokens_;
    std::int64_t last_ms_ = 0;
};

}  // namespace relais::core
