#pragma once

// What every relais-bench scenario shares: options, the report, helpers.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "clients/bench/stats.hpp"

namespace relais::bench {

namespace asio = boost::asio;
namespace json = boost::json;
using steady = std::chrono::steady_clock;

struct options {
    std::string scenario;
    std::string server = "ws://127.0.0.1:7680";
    std::string ca_file;
    std::string tokens;
    bool json = false;
    int server_pid = 0;
    std::size_t members = 1000;
    std::size_t senders = 1;
    double rate = 50;
    std::size_t window = 0;
    double duration = 10;
    double warmup = 0;  // fanout: seconds of the same load, not measured, first
    std::size_t messages = 10000;
    std::size_t reads = 1000;
    std::size_t stored = 0;      // catchup: messages before those missed
    std::size_t stalled = 0;     // fanout: members that stop reading
    std::string compare_raw;     // fanout: a plain broadcast server's address
    int raw_pid = 0;             // its process, for CPU and RSS
    std::size_t channels = 100;  // rooms
    std::size_t channel_members = 100;
    std::size_t per_connection = 10;
    std::size_t connections = 10000;  // idle
    std::size_t text_bytes = 0;       // fanout, rooms: pad messages to this size
    std::size_t readable = 50;        // search: channels the searcher is in
    double settle = 0;                // catchup: seconds between the writes and the catch-up
};

struct bot {
    std::string name;
    std::string token;
};

// One scenario's results: named figures, printed as a table or as JSON.
class report {
  public:
    report() = default;
    explicit report(std::string scenario) : scenario_(std::move(scenario)) {}
    void add(const std::string& name, double value, const std::string& unit = {}) {
        figures_.push_back({name, value, unit});
    }
    void print(bool as_json) const {
        if (as_json) {
            json::object o;
            o["scenario"] = scenario_;
            for (const auto& f : figures_) {
                if (f.value == static_cast<double>(static_cast<std::int64_t>(f.value))) {
                    o[f.name] = static_cast<std::int64_t>(f.value);
                } else {
                    o[f.name] = f.value;
                }
            }
            std::cout << json::serialize(o) << std::endl;
            return;
        }
        std::cout << "scenario " << scenario_ << "\n";
        for (const auto& f : figures_) {
            std::cout << "  " << std::left << std::setw(28) << f.name << std::right << std::setw(14)
                      << std::fixed << std::setprecision(f.value < 100 ? 3 : 0) << f.value << " "
                      << f.unit << "\n";
        }
    }

  private:
    struct figure {
        std::string name;
        double value;
        std::string unit;
    };
    std::string scenario_;
    std::vector<figure> figures_;
};

inline std::vector<bot> read_tokens(const std::string& path, std::size_t needed) {
    std::ifstream in(path);
    std::vector<bot> bots;
    bot b;
    while (bots.size() < needed && in >> b.name >> b.token) {
        bots.push_back(b);
    }
    if (bots.size() < needed) {
        throw std::runtime_error("need " + std::to_string(needed) + " bot accounts in " + path +
                                 " (relais-server user add-bots PREFIX --count N), found " +
                                 std::to_string(bots.size()));
    }
    return bots;
}

inline std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
        .count();
}

inline double seconds_since(steady::time_point t) {
    return std::chrono::duration<double>(steady::now() - t).count();
}

inline asio::awaitable<void> sleep_for(std::chrono::nanoseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

inline void require(bool ok, const std::string& what) {
    if (!ok) {
        throw std::runtime_error(what);
    }
}

void add_usage(report& r, const options& o, const process_usage& before, double bench_cpu_before,
               double deliveries);

// The scenarios (scenarios.cpp).
asio::awaitable<report> fanout(const options& o);
asio::awaitable<report> rooms(const options& o);
asio::awaitable<report> idle(const options& o);
asio::awaitable<report> durable(const options& o);
asio::awaitable<report> catchup(const options& o);
asio::awaitable<report> history(const options& o);
asio::awaitable<report> search(const options& o);
asio::awaitable<report> library(const options& o);
asio::awaitable<report> session(const options& o);

}  // namespace relais::bench
