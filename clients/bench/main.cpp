// relais-bench: a load generator that speaks the protocol as a real client
// does (resumes bot sessions, joins, sends with client_msg_id, waits for acks,
// receives events), on one thread with one epoll loop for every connection.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/program_options.hpp>

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "bench.hpp"
#include "client.hpp"

namespace asio = boost::asio;
namespace po = boost::program_options;
namespace v1 = relais::v1;
using relais::client::client;

namespace {

using namespace relais::bench;

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

namespace relais::bench {

void add_usage(report& r, const options& o, const process_usage& before, double bench_cpu_before,
               double deliveries) {
    auto after = usage_of(o.server_pid);
    if (o.server_pid > 0) {
        const double cpu = after.cpu_seconds - before.cpu_seconds;
        r.add("server_cpu_s", cpu, "s");
        if (deliveries > 0) {
            r.add("server_cpu_per_delivery_us", cpu * 1e6 / deliveries, "µs");
        }
        r.add("server_rss_mib", after.rss_mib, "MiB");
    }
    r.add("bench_cpu_s", own_cpu_seconds() - bench_cpu_before, "s");
}

}  // namespace relais::bench

namespace {

// Thousands of connections need more descriptors than the usual soft limit.
void raise_descriptor_limit() {
    rlimit l{};
    if (::getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
        l.rlim_cur = l.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &l);
    }
}

}  // namespace

int main(int argc, char** argv) {
    options o;
    po::options_description d(
        "usage: relais-bench fanout|rooms|idle|durable|catchup|history --tokens FILE [options]\n"
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
        "rate", po::value(&o.rate)->default_value(o.rate),
        "fanout: messages/s per sender; rooms: messages/s per channel")(
        "window", po::value(&o.window)->default_value(o.window),
        "fanout: unacknowledged sends per sender (saturation); 0 = fixed rate")(
        "stalled", po::value(&o.stalled)->default_value(o.stalled),
        "fanout: extra members that stop reading once joined")(
        "compare-raw", po::value(&o.compare_raw),
        "fanout: then the same load against this plain WebSocket broadcast server")(
        "raw-pid", po::value(&o.raw_pid),
        "fanout: the broadcast server's process, for CPU and RSS")(
        "text-bytes", po::value(&o.text_bytes)->default_value(o.text_bytes),
        "fanout, rooms: pad each message's text to this many bytes")(
        "channels", po::value(&o.channels)->default_value(o.channels), "rooms: channels")(
        "channel-members", po::value(&o.channel_members)->default_value(o.channel_members),
        "rooms: members per channel")("per-connection",
                                      po::value(&o.per_connection)->default_value(o.per_connection),
                                      "rooms: channels each connection is in")(
        "connections", po::value(&o.connections)->default_value(o.connections),
        "idle: authenticated idle connections")(
        "duration", po::value(&o.duration)->default_value(o.duration), "seconds of sending")(
        "messages", po::value(&o.messages)->default_value(o.messages),
        "catchup: messages missed; history: messages stored")(
        "reads", po::value(&o.reads)->default_value(o.reads), "history: pages read")(
        "scenario", po::value(&o.scenario), "fanout, rooms, idle, durable, catchup or history");
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
        raise_descriptor_limit();
        asio::io_context io(1);
        std::future<report> result;
        if (o.scenario == "fanout") {
            result = asio::co_spawn(io, fanout(o), asio::use_future);
        } else if (o.scenario == "rooms") {
            result = asio::co_spawn(io, rooms(o), asio::use_future);
        } else if (o.scenario == "idle") {
            result = asio::co_spawn(io, idle(o), asio::use_future);
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
