// relais-bench: a load generator that speaks the protocol as a real client
// does (resumes bot sessions, joins, sends with client_msg_id, waits for acks,
// receives events), on one thread with one epoll loop for every connection.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "client.hpp"
#include "stats.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
namespace po = boost::program_options;
namespace v1 = relais::v1;
using relais::client::client;
using steady = std::chrono::steady_clock;

namespace {

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
    std::size_t messages = 10000;
    std::size_t reads = 1000;
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

std::vector<bot> read_tokens(const std::string& path, std::size_t needed) {
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

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
        .count();
}

double seconds_since(steady::time_point t) {
    return std::chrono::duration<double>(steady::now() - t).count();
}

asio::awaitable<void> sleep_for(std::chrono::nanoseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

void require(bool ok, const std::string& what) {
    if (!ok) {
        throw std::runtime_error(what);
    }
}

// Bots resume their sessions: no password hashing on either side.
asio::awaitable<std::vector<std::unique_ptr<client>>> connect_all(const options& o,
                                                                  const std::vector<bot>& bots) {
    std::vector<std::unique_ptr<client>> clients;
    auto executor = co_await asio::this_coro::executor;
    for (const auto& b : bots) {
        relais::client::options co;
        co.url = o.server;
        co.ca_file = o.ca_file;
        co.client_name = "relais-bench/0.1";
        co.request_timeout = std::chrono::seconds(120);
        auto c = std::make_unique<client>(executor, co);
        auto welcome = co_await c->connect();
        require(welcome.has_value(), welcome ? "" : welcome.error().message);
        auto session = co_await c->resume(b.token);
        require(session.has_value(), session ? "" : b.name + ": " + session.error().message);
        clients.push_back(std::move(c));
    }
    co_return clients;
}

// A channel of its own for each run, with every client in it.
asio::awaitable<v1::Channel> shared_channel(std::vector<std::unique_ptr<client>>& clients,
                                            const std::string& scenario) {
    auto name =
        scenario + "-" + std::to_string(::getpid()) + "-" +
        std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000);
    auto channel = co_await clients[0]->create_channel(name, "relais-bench", false);
    require(channel.has_value(), channel ? "" : channel.error().message);
    for (std::size_t i = 1; i < clients.size(); ++i) {
        auto joined = co_await clients[i]->join(client::by_id(channel->id()));
        require(joined.has_value(), joined ? "" : joined.error().message);
    }
    co_return *channel;
}

void add_usage(report& r, const options& o, const relais::bench::process_usage& before,
               double bench_cpu_before, double deliveries) {
    auto after = relais::bench::usage_of(o.server_pid);
    if (o.server_pid > 0) {
        const double cpu = after.cpu_seconds - before.cpu_seconds;
        r.add("server_cpu_s", cpu, "s");
        if (deliveries > 0) {
            r.add("server_cpu_per_delivery_us", cpu * 1e6 / deliveries, "µs");
        }
        r.add("server_rss_mib", after.rss_mib, "MiB");
    }
    r.add("bench_cpu_s", relais::bench::own_cpu_seconds() - bench_cpu_before, "s");
}

// fanout: every member online in one channel; senders at a fixed rate, or
// with a window of unacknowledged sends each (saturation).
asio::awaitable<report> fanout(const options& o) {
    auto bots = read_tokens(o.tokens, std::max(o.members, o.senders));
    auto clients = co_await connect_all(o, bots);
    auto channel = co_await shared_channel(clients, "fanout");
    const auto id = channel.id();

    relais::bench::samples deliver_latency, ack_latency;
    std::uint64_t delivered = 0, sent = 0, acked = 0, failed = 0;
    auto executor = co_await asio::this_coro::executor;
    steady::time_point last_delivery = steady::now();

    // The coroutine lambdas are named so that they live in this frame as
    // long as the coroutines they start.
    int receivers_done = 0;
    bool receiving = true;
    auto receive = [&](client& member) -> asio::awaitable<void> {
        while (receiving) {
            auto push = co_await member.next_push(std::chrono::milliseconds(200));
            if (push && push->has_event() && push->event().has_message() &&
                push->event().channel_id() == id) {
                deliver_latency.add((now_ns() - std::stoll(push->event().message().text())) / 1000);
                ++delivered;
                last_delivery = steady::now();
            }
        }
    };
    for (auto& c : clients) {
        asio::co_spawn(executor, receive(*c), [&](std::exception_ptr) { ++receivers_done; });
    }

    auto usage_before = relais::bench::usage_of(o.server_pid);
    const double bench_before = relais::bench::own_cpu_seconds();
    const auto start = steady::now();
    const auto end = start + std::chrono::duration_cast<steady::duration>(
                                 std::chrono::duration<double>(o.duration));
    auto send_one = [&](client& sender) -> asio::awaitable<void> {
        ++sent;
        const auto t = now_ns();
        auto r = co_await sender.send(client::by_id(id), std::to_string(t));
        if (r) {
            ++acked;
            ack_latency.add((now_ns() - t) / 1000);
        } else {
            ++failed;
        }
    };
    auto saturate = [&](client& sender) -> asio::awaitable<void> {
        while (steady::now() < end) {
            co_await send_one(sender);
        }
    };
    auto pace = [&](client& sender) -> asio::awaitable<void> {
        const auto interval =
            std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / std::max(o.rate, 0.001)));
        auto next = start;
        while (next < end) {
            // Each send on its own: a slow ack must not hold back the pace.
            asio::co_spawn(executor, send_one(sender), [&](std::exception_ptr e) {
                if (e) {
                    ++failed;
                }
            });
            next += interval;
            if (next > steady::now()) {
                co_await sleep_for(next - steady::now());
            }
        }
    };
    int senders_done = 0;
    auto count_done = [&](std::exception_ptr) { ++senders_done; };
    for (std::size_t s = 0; s < o.senders; ++s) {
        if (o.window > 0) {
            for (std::size_t w = 0; w < o.window; ++w) {
                asio::co_spawn(executor, saturate(*clients[s]), count_done);
            }
        } else {
            asio::co_spawn(executor, pace(*clients[s]), count_done);
        }
    }
    const std::size_t sender_tasks = o.window > 0 ? o.senders * o.window : o.senders;
    while (static_cast<std::size_t>(senders_done) < sender_tasks || acked + failed < sent) {
        co_await sleep_for(std::chrono::milliseconds(10));
    }
    const double send_seconds = seconds_since(start);
    // Let the last deliveries arrive.
    const auto expected = acked * clients.size();
    const auto drain_deadline = steady::now() + std::chrono::seconds(10);
    while (delivered < expected && steady::now() < drain_deadline) {
        co_await sleep_for(std::chrono::milliseconds(10));
    }
    const double active = std::chrono::duration<double>(last_delivery - start).count();
    receiving = false;
    while (static_cast<std::size_t>(receivers_done) < clients.size()) {
        co_await sleep_for(std::chrono::milliseconds(10));
    }

    report r("fanout");
    r.add("members", static_cast<double>(clients.size()));
    r.add("senders", static_cast<double>(o.senders));
    r.add(o.window > 0 ? "window" : "rate_per_sender",
          o.window > 0 ? static_cast<double>(o.window) : o.rate);
    r.add("sent", static_cast<double>(sent));
    r.add("acked", static_cast<double>(acked));
    r.add("send_failures", static_cast<double>(failed));
    r.add("acked_per_s", static_cast<double>(acked) / send_seconds, "msg/s");
    r.add("deliveries", static_cast<double>(delivered));
    r.add("deliveries_per_s", static_cast<double>(delivered) / std::max(active, 1e-3), "/s");
    r.add("missing", static_cast<double>(expected > delivered ? expected - delivered : 0));
    r.add("deliver_p50_ms", deliver_latency.quantile(0.5) / 1000, "ms");
    r.add("deliver_p90_ms", deliver_latency.quantile(0.9) / 1000, "ms");
    r.add("deliver_p99_ms", deliver_latency.quantile(0.99) / 1000, "ms");
    r.add("deliver_max_ms", deliver_latency.quantile(1.0) / 1000, "ms");
    r.add("ack_p50_ms", ack_latency.quantile(0.5) / 1000, "ms");
    r.add("ack_p99_ms", ack_latency.quantile(0.99) / 1000, "ms");
    add_usage(r, o, usage_before, bench_before, static_cast<double>(delivered));
    for (auto& c : clients) {
        co_await c->close();
    }
    co_return r;
}

// durable: acknowledged sends per second from concurrent senders, each
// waiting for its ack (the group commit carries them).
asio::awaitable<report> durable(const options& o) {
    auto bots = read_tokens(o.tokens, o.senders);
    auto clients = co_await connect_all(o, bots);
    auto channel = co_await shared_channel(clients, "durable");
    relais::bench::samples ack_latency;
    std::uint64_t acked = 0, failed = 0;
    int done = 0;
    auto usage_before = relais::bench::usage_of(o.server_pid);
    const double bench_before = relais::bench::own_cpu_seconds();
    const auto start = steady::now();
    const auto end = start + std::chrono::duration_cast<steady::duration>(
                                 std::chrono::duration<double>(o.duration));
    auto keep_sending = [&](client& sender) -> asio::awaitable<void> {
        while (steady::now() < end) {
            const auto t = now_ns();
            auto r = co_await sender.send(client::by_id(channel.id()), "durable");
            if (r) {
                ++acked;
                ack_latency.add((now_ns() - t) / 1000);
            } else {
                ++failed;
            }
        }
    };
    auto executor = co_await asio::this_coro::executor;
    for (auto& c : clients) {
        asio::co_spawn(executor, keep_sending(*c), [&](std::exception_ptr) { ++done; });
    }
    while (static_cast<std::size_t>(done) < clients.size()) {
        co_await sleep_for(std::chrono::milliseconds(10));
    }
    const double seconds = seconds_since(start);
    report r("durable");
    r.add("senders", static_cast<double>(clients.size()));
    r.add("acked", static_cast<double>(acked));
    r.add("send_failures", static_cast<double>(failed));
    r.add("acked_per_s", static_cast<double>(acked) / seconds, "msg/s");
    r.add("ack_p50_ms", ack_latency.quantile(0.5) / 1000, "ms");
    r.add("ack_p99_ms", ack_latency.quantile(0.99) / 1000, "ms");
    add_usage(r, o, usage_before, bench_before, 0);
    for (auto& c : clients) {
        co_await c->close();
    }
    co_return r;
}

// Sends `count` messages from `writer` with a window of 64 outstanding.
asio::awaitable<void> fill(client& writer, std::uint64_t channel, std::size_t count) {
    std::size_t next = 0, finished = 0;
    int workers = 0;
    auto work = [&]() -> asio::awaitable<void> {
        while (next < count) {
            auto i = next++;
            auto r = co_await writer.send(client::by_id(channel), "message " + std::to_string(i));
            require(r.has_value(), r ? "" : r.error().message);
            ++finished;
        }
    };
    auto executor = co_await asio::this_coro::executor;
    for (int w = 0; w < 64; ++w) {
        ++workers;
        asio::co_spawn(executor, work(), [&](std::exception_ptr) { --workers; });
    }
    while (workers > 0) {
        co_await sleep_for(std::chrono::milliseconds(5));
    }
}

// catchup: a member misses `messages` messages, then fetches them all.
asio::awaitable<report> catchup(const options& o) {
    auto bots = read_tokens(o.tokens, 2);
    auto clients = co_await connect_all(o, bots);
    auto channel = co_await shared_channel(clients, "catchup");
    auto& reader = *clients[1];
    auto joined = co_await reader.sync(client::by_id(channel.id()), 0);
    require(joined.has_value(), "sync");
    const auto from = joined->last_seq();
    co_await clients[1]->close();
    co_await fill(*clients[0], channel.id(), o.messages);

    std::vector<bot> returning{bots[1]};
    auto again = co_await connect_all(o, returning);
    auto& back = *again[0];
    const auto start = steady::now();
    std::uint64_t after = from, events = 0, bytes = 0;
    for (;;) {
        auto page = co_await back.sync(client::by_id(channel.id()), after);
        require(page.has_value(), page ? "" : page.error().message);
        bytes += page->ByteSizeLong();
        events += static_cast<std::uint64_t>(page->events_size());
        if (page->events_size() > 0) {
            after = page->events(page->events_size() - 1).seq();
        }
        if (!page->has_more()) {
            break;
        }
    }
    const double ms = seconds_since(start) * 1000;
    report r("catchup");
    r.add("missed_events", static_cast<double>(events));
    r.add("catchup_ms", ms, "ms");
    r.add("payload_bytes", static_cast<double>(bytes), "B");
    co_await clients[0]->close();
    co_await back.close();
    co_return r;
}

// history: random pages of 100 over a channel of `messages` messages.
asio::awaitable<report> history(const options& o) {
    auto bots = read_tokens(o.tokens, 1);
    auto clients = co_await connect_all(o, bots);
    auto channel = co_await shared_channel(clients, "history");
    co_await fill(*clients[0], channel.id(), o.messages);
    auto& c = *clients[0];
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::uint64_t> pick(1, o.messages + 2);
    relais::bench::samples latency;
    for (std::size_t i = 0; i < o.reads; ++i) {
        const auto t = now_ns();
        auto page = co_await c.history(client::by_id(channel.id()), pick(rng), 0, 100);
        require(page.has_value(), page ? "" : page.error().message);
        latency.add((now_ns() - t) / 1000);
    }
    report r("history");
    r.add("stored_messages", static_cast<double>(o.messages));
    r.add("reads", static_cast<double>(o.reads));
    r.add("page_p50_ms", latency.quantile(0.5) / 1000, "ms");
    r.add("page_p99_ms", latency.quantile(0.99) / 1000, "ms");
    co_await c.close();
    co_return r;
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    po::options_description d(
        "usage: relais-bench fanout|durable|catchup|history --tokens FILE [options]\n"
        "bots: relais-server user add-bots bench --count N --data DIR > FILE\n"
        "options");
    d.add_options()("help", "this help")("server", po::value(&o.server)->default_value(o.server),
                                         "ws:// or wss:// address")(
        "ca-file", po::value(&o.ca_file), "PEM trusted for wss://")(
        "tokens", po::value(&o.tokens)->required(), "file of NAME TOKEN lines (add-bots output)")(
        "json", po::bool_switch(&o.json), "one JSON object instead of a table")(
        "server-pid", po::value(&o.server_pid), "report the server's CPU and RSS (local server)")(
        "members", po::value(&o.members)->default_value(o.members), "fanout: members online")(
        "senders", po::value(&o.senders)->default_value(o.senders), "fanout, durable: senders")(
        "rate", po::value(&o.rate)->default_value(o.rate), "fanout: messages/s per sender")(
        "window", po::value(&o.window)->default_value(o.window),
        "fanout: unacknowledged sends per sender (saturation); 0 = fixed rate")(
        "duration", po::value(&o.duration)->default_value(o.duration), "seconds of sending")(
        "messages", po::value(&o.messages)->default_value(o.messages),
        "catchup: messages missed; history: messages stored")(
        "reads", po::value(&o.reads)->default_value(o.reads), "history: pages read")(
        "scenario", po::value(&o.scenario), "fanout, durable, catchup or history");
    po::positional_options_description p;
    p.add("scenario", 1);
    try {
        po::variables_map vm;
        po::store(po::command_line_parser(argc, argv).options(d).positional(p).run(), vm);
        if (vm.count("help") || !vm.count("scenario")) {
            std::cout << d;
            return vm.count("help") ? 0 : 2;
        }
        po::notify(vm);
        asio::io_context io(1);
        std::future<report> result;
        if (o.scenario == "fanout") {
            result = asio::co_spawn(io, fanout(o), asio::use_future);
        } else if (o.scenario == "durable") {
            result = asio::co_spawn(io, durable(o), asio::use_future);
        } else if (o.scenario == "catchup") {
            result = asio::co_spawn(io, catchup(o), asio::use_future);
        } else if (o.scenario == "history") {
            result = asio::co_spawn(io, history(o), asio::use_future);
        } else {
            std::cerr << "relais-bench: unknown scenario '" << o.scenario << "'\n";
            return 2;
        }
        io.run();
        result.get().print(o.json);
        return 0;
    } catch (const std::exception& e) {
        std::cerr << "relais-bench: " << e.what() << "\n";
        return 1;
    }
}
