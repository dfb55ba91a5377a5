#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/resource.h>

namespace relais::bench {

// Latency samples in microseconds, summarised once at the end.
class samples {
  public:
    void add(std::int64_t micros) { values_.push_back(micros < 0 ? 0 : micros); }
    std::size_t count() const { return values_.size(); }
    // The q-quantile (0..1); sorts on first use.
    double quantile(double q) {
        if (values_.empty()) {
            return 0;
        }
        if (!sorted_) {
            std::sort(values_.begin(), values_.end());
            sorted_ = true;
        }
        auto index = static_cast<std::size_t>(q * static_cast<double>(values_.size() - 1));
        return static_cast<double>(values_[index]);
    }

  private:
    std::vector<std::int64_t> values_;
    bool sorted_ = false;
};

// CPU seconds and resident memory of a process, from /proc (Linux).
struct process_usage {
    double cpu_seconds = 0;
    double rss_mib = 0;
    double peak_rss_mib = 0;  // since start or since the peak was reset
    bool peak_reset = false;
};
process_usage usage_of(int pid);
// The usage at the start of a load, with the process's peak RSS reset (as
// root or its owner), so that the peak read at the end is the load's.
process_usage start_usage(int pid);
// This process's own CPU seconds, so a reader can tell the load generator
// was not the bottleneck.
double own_cpu_seconds();

}  // namespace relais::bench
