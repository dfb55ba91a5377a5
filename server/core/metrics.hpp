#pragma once

// The server's counters and histograms, and their text for Prometheus
// (the text exposition format 0.0.4: HELP and TYPE lines, `_total`
// counters, `_seconds` histograms with cumulative `le` buckets).
// Counting is a relaxed atomic add, from any thread; reading is for the
// admin listener's /metrics, a few times a minute.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relais::core::metrics {

class counter {
  public:
    void add(std::uint64_t n = 1) noexcept { value_.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return value_.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> value_{0};
};

// Fixed buckets, given by their upper bounds in increasing order.
class histogram {
  public:
    explicit histogram(std::vector<double> upper_bounds);
    void observe(double value) noexcept;

    struct reading {
        std::vector<double> upper_bounds;
        std::vector<std::uint64_t> cumulative;  // one per bound, then +Inf
        double sum = 0;
    };
    reading read() const;

  private:
    std::vector<double> bounds_;
    std::vector<std::atomic<std::uint64_t>> counts_;  // per bucket, the last is +Inf
    std::atomic<double> sum_{0};
};

// Writes metric families in the text format.
class text {
  public:
    // HELP and TYPE ("counter", "gauge" or "histogram") of the family `name`.
    void family(std::string_view name, std::string_view type, std::string_view help);
    // One sample of the last family; `labels` is `key="value",...` or empty.
    void sample(std::string_view name, std::string_view labels, double value);
    void sample(std::string_view name, std::string_view labels, std::uint64_t value);
    void histogram(std::string_view name, std::string_view help,
                   const metrics::histogram::reading& r);
    const std::string& str() const { return out_; }

  private:
    std::string out_;
};

// A label value escaped as the format wants (backslash, quote, newline).
std::string label_value(std::string_view value);

// What the core counts. The network side and storage add their own figures
// when /metrics is rendered.
struct service_metrics {
    // Answers by request kind (ClientMessage's body field number; 0 for a
    // frame that could not be decoded) and outcome (0 ok, else the error
    // code): logins, sends and rate-limit refusals are read from it.
    static constexpr std::size_t kinds = 128;
    static constexpr std::size_t outcomes = 10;
    std::array<std::array<counter, outcomes>, kinds> answers;
    void answered(int kind, int code) noexcept {
        const auto k = static_cast<std::size_t>(kind) < kinds ? static_cast<std::size_t>(kind) : 0;
        const auto c =
            static_cast<std::size_t>(code) < outcomes ? static_cast<std::size_t>(code) : 9;
        answers[k][c].add();
    }
    // Jobs in one storage transaction, and how long its commit took.
    histogram commit_group_size{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}};
    histogram commit_seconds{
        {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}};
    histogram checkpoint_seconds{{0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}};

    // The families above, in the text format, with the hub's count of
    // frames fanned out to connections.
    void render(text& out, std::uint64_t deliveries) const;
};

}  // namespace relais::core::metrics
