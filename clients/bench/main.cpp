// relais-bench: a load generator that speaks the protocol as a real client
// does (resumes bot sessions, joins, sends with client_msg_id, waits for acks,
// receives events), on one thread with one epoll loop for every connection.
// The scenarios are in scenarios.cpp, the connections in wire.cpp.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/program_options.hpp>

#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "clients/bench/bench.hpp"

namespace asio = boost::asio;
namespace po = boost::program_options;

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
        r.add("server_rss_growth_mib", after.rss_mib - before.rss_mib, "MiB");
        if (before.peak_reset) {
            r.add("server_rss_peak_growth_mib", after.peak_rss_mib - before.rss_mib, "MiB");
        }
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
    using namespace relais::bench;
    options o;
    po::options_description d(
        "usage: relais-bench fanout|rooms|idle|durable|catchup|history|search|library|session "
        "--tokens "
        "FILE "
        "[options]\n"
        "bots: relais-server user add-bots bench --count N --data DIR > FILE\n"
        "options");
    d.add_options()("help", "this help")("server", po::value(&o.server)->default_value(o.server),
                                         "ws:// or wss:// address")(
        "ca-file", po::value(&o.ca_file), "PEM trusted for wss://")(
        "tokens", po::value(&o.tokens)->required(), "file of NAME TOKEN lines (add-bots output)")(
        "json", po::bool_switch(&o.json), "one JSON object instead of a table")(
        "server-pid", po::value(&o.server_pid), "report the server's CPU and RSS (local server)")(
        "members", po::value(&o.members)->default_value(o.members),
        "fanout: members online; session: participants")(
        "senders", po::value(&o.senders)->default_value(o.senders), "fanout, durable: senders")(
        "rate", po::value(&o.rate)->default_value(o.rate),
        "fanout: messages/s per sender; rooms: messages/s per channel; session: actions/s")(
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
        "channels", po::value(&o.channels)->default_value(o.channels),
        "rooms, search, library: channels")(
        "channel-members", po::value(&o.channel_members)->default_value(o.channel_members),
        "rooms: members per channel")("per-connection",
                                      po::value(&o.per_connection)->default_value(o.per_connection),
                                      "rooms: channels each connection is in")(
        "connections", po::value(&o.connections)->default_value(o.connections),
        "idle: authenticated idle connections")(
        "duration", po::value(&o.duration)->default_value(o.duration), "seconds of sending")(
        "warmup", po::value(&o.warmup)->default_value(o.warmup),
        "fanout: seconds of the same load first, not measured (server caches and "
        "allocator warm; stalled members join after it)")(
        "messages", po::value(&o.messages)->default_value(o.messages),
        "catchup: messages missed; history, search: messages stored; library: resources")(
        "settle", po::value(&o.settle)->default_value(o.settle),
        "catchup: seconds to wait between the writes and the catch-up")(
        "readable", po::value(&o.readable)->default_value(o.readable),
        "search: how many of the channels the searcher is in")(
        "stored", po::value(&o.stored)->default_value(o.stored),
        "catchup: messages in the channel before those missed")(
        "reads", po::value(&o.reads)->default_value(o.reads),
        "history: pages read; search: searches; library: queries; session: actions")(
        "scenario", po::value(&o.scenario),
        "fanout, rooms, idle, durable, catchup, history, search, library or session");
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
        } else if (o.scenario == "search") {
            result = asio::co_spawn(io, search(o), asio::use_future);
        } else if (o.scenario == "library") {
            result = asio::co_spawn(io, library(o), asio::use_future);
        } else if (o.scenario == "session") {
            result = asio::co_spawn(io, session(o), asio::use_future);
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
