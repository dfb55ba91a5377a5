// The scenarios, on the bench's lean connections so that one thread can
// send and receive for thousands of members.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl.hpp>

#include <unistd.h>

#include <charconv>
#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <unordered_map>
#include <unordered_set>

#include "clients/bench/bench.hpp"
#include "clients/bench/wire.hpp"
#include "protocol/relais.pb.h"

namespace relais::bench {

namespace {

namespace ssl = asio::ssl;

// Answers to the setup requests carry ids from here up; message sends use
// their send time in nanoseconds as id, far below.
constexpr std::uint64_t setup_ids = std::uint64_t{1} << 62;

// "b42": a prefix and a number. Appended, not `"b" + std::to_string(n)`:
// GCC 12 at -O3 misreads that as an overlapping copy (GCC bug 105329).
template <class Number>
std::string numbered(const char* prefix, Number n) {
    std::string out(prefix);
    out += std::to_string(n);
    return out;
}

std::unique_ptr<ssl::context> tls_context(const endpoint& to, const options& o) {
    if (!to.tls) {
        return nullptr;
    }
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    if (o.ca_file.empty()) {
        ctx->set_default_verify_paths();
    } else {
        ctx->load_verify_file(o.ca_file);
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

// Where a scenario connects: the loop, the address and, for wss://, the
// TLS context.
struct target {
    asio::io_context& io;
    endpoint to;
    std::unique_ptr<ssl::context> tls;
};

asio::awaitable<target> target_of(const std::string& url, const options& o) {
    auto& io = static_cast<asio::io_context&>((co_await asio::this_coro::executor).context());
    auto to = parse_url(url);
    auto tls = tls_context(to, o);
    co_return target{io, std::move(to), std::move(tls)};
}

// A member speaking relais.v1 on a lean connection.
class member {
  public:
    std::function<void(const v1::ServerMessage&)> on_push;    // events, presence
    std::function<void(const v1::ServerMessage&)> on_answer;  // answers to sends

    member(asio::io_context& io, ssl::context* tls, int receive_buffer = 0)
        : wire_(io, tls, receive_buffer) {}

    asio::awaitable<void> connect(const endpoint& to, const std::string& token) {
        co_await wire_.open(to);
        auto executor = co_await asio::this_coro::executor;
        asio::co_spawn(executor, read(), [this](std::exception_ptr) {
            reading_ = false;
            for (auto& [id, timer] : waiting_) {
                timer->cancel();
            }
        });
        reading_ = true;
        v1::ClientMessage hello;
        hello.mutable_hello()->set_protocol_version(1);
        hello.mutable_hello()->set_client_name("relais-bench/0.2");
        co_await request(hello);
        v1::ClientMessage resume;
        resume.mutable_resume()->set_token(token);
        co_await request(resume);
    }

    // A setup request; several may be in flight. Throws on an error answer.
    asio::awaitable<v1::ServerMessage> request(v1::ClientMessage m) {
        const auto id = next_setup_id_++;
        m.set_request_id(id);
        wire_.send(m.SerializeAsString(), false);
        const auto deadline = steady::now() + std::chrono::seconds(60);
        asio::steady_timer wake(co_await asio::this_coro::executor);
        waiting_[id] = &wake;
        auto found = answers_.end();
        while ((found = answers_.find(id)) == answers_.end() && reading_ &&
               steady::now() < deadline) {
            wake.expires_after(std::chrono::seconds(1));
            co_await wake.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        waiting_.erase(id);
        require(reading_ || found != answers_.end(), "connection lost during setup");
        require(found != answers_.end(), "no answer within 60 s during setup");
        auto answer = std::move(found->second);
        answers_.erase(found);
        require(!answer.has_error(), "setup request refused: " + answer.error().message());
        co_return answer;
    }

    // A message whose ack comes to on_answer with `request_id`.
    void send_message(std::uint64_t channel, std::uint64_t request_id, const std::string& text) {
        out_.Clear();
        out_.set_request_id(request_id);
        auto* send = out_.mutable_send_message();
        send->mutable_channel()->set_id(channel);
        send->set_client_msg_id(numbered("b", request_id));
        send->set_text(text);
        wire_.send(out_.SerializeAsString(), false);
    }

    // Any request whose answer comes to on_answer with its request_id.
    void send_request(v1::ClientMessage& m, std::uint64_t request_id) {
        m.set_request_id(request_id);
        wire_.send(m.SerializeAsString(), false);
    }

    wire& connection() { return wire_; }
    bool reading() const { return reading_; }

  private:
    asio::awaitable<void> read() {
        co_await wire_.read_loop([this](std::string_view payload, bool text) {
            if (text) {
                return;
            }
            // Parsed on the bench's arena: at 200,000 deliveries/s, a heap
            // block for every event, actor and string would cost the bench
            // a tenth of its time (seen with perf).
            message_arena().Reset();
            auto& in = *google::protobuf::Arena::CreateMessage<v1::ServerMessage>(&message_arena());
            if (!in.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
                return;
            }
            if (in.request_id() >= setup_ids) {
                answers_[in.request_id()] = in;
                if (auto w = waiting_.find(in.request_id()); w != waiting_.end()) {
                    w->second->cancel();
                }
            } else if (in.request_id() == 0) {
                if (on_push) {
                    on_push(in);
                }
            } else if (on_answer) {
                on_answer(in);
            }
        });
    }

    // One for the whole bench, which runs on one thread; what a handler is
    // given lives until the next message is parsed.
    static google::protobuf::Arena& message_arena() {
        static google::protobuf::Arena arena;
        return arena;
    }

    wire wire_;
    bool reading_ = false;
    std::uint64_t next_setup_id_ = setup_ids;
    std::unordered_map<std::uint64_t, v1::ServerMessage> answers_;
    std::unordered_map<std::uint64_t, asio::steady_timer*> waiting_;
    v1::ClientMessage out_;
};

// Runs f(0..count-1) with at most `width` running at once; rethrows the
// first failure once all have ended.
template <class F>
asio::awaitable<void> for_each_parallel(std::size_t count, std::size_t width, F f) {
    std::size_t next = 0, running = 0;
    std::exception_ptr failure;
    auto executor = co_await asio::this_coro::executor;
    auto worker = [&]() -> asio::awaitable<void> {
        while (next < count && !failure) {
            co_await f(next++);
        }
    };
    for (std::size_t w = 0; w < std::min(width, count); ++w) {
        ++running;
        asio::co_spawn(executor, worker(), [&](std::exception_ptr e) {
            if (e && !failure) {
                failure = e;
            }
            --running;
        });
    }
    while (running > 0) {
        co_await sleep_for(std::chrono::milliseconds(2));
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

// Closes every connection and waits until nothing refers to them any more.
template <class Connections, class Wire, class Finished>
asio::awaitable<void> close_all(Connections& all, Wire wire_of, Finished finished) {
    for (auto& c : all) {
        wire_of(*c).resume_reading();
        wire_of(*c).close();
    }
    const auto deadline = steady::now() + std::chrono::seconds(5);
    auto quiet = [&] {
        for (auto& c : all) {
            if (!wire_of(*c).ended() || wire_of(*c).busy()) {
                return false;
            }
        }
        return true;
    };
    while (!quiet() && steady::now() < deadline) {
        co_await sleep_for(std::chrono::milliseconds(5));
    }
    for (auto& c : all) {
        wire_of(*c).abort();
    }
    auto all_finished = [&] {
        for (auto& c : all) {
            if (!finished(*c)) {
                return false;
            }
        }
        return true;
    };
    while (!quiet() || !all_finished()) {
        co_await sleep_for(std::chrono::milliseconds(5));
    }
}

asio::awaitable<std::vector<std::unique_ptr<member>>> connect_members(const target& at,
                                                                      const std::vector<bot>& bots,
                                                                      std::size_t first,
                                                                      std::size_t count,
                                                                      int receive_buffer = 0) {
    std::vector<std::unique_ptr<member>> members;
    for (std::size_t i = 0; i < count; ++i) {
        members.push_back(std::make_unique<member>(at.io, at.tls.get(), receive_buffer));
    }
    co_await for_each_parallel(count, 64, [&](std::size_t i) -> asio::awaitable<void> {
        co_await members[i]->connect(at.to, bots[first + i].token);
    });
    co_return members;
}

// Closes members' connections and waits until nothing refers to them.
asio::awaitable<void> close_members(std::vector<std::unique_ptr<member>>& members) {
    co_await close_all(
        members, [](member& m) -> wire& { return m.connection(); },
        [](member& m) { return !m.reading(); });
}

std::string unique_name(const std::string& scenario, std::size_t index) {
    return scenario + "-" + std::to_string(::getpid()) + "-" +
           std::to_string(std::chrono::system_clock::now().time_since_epoch().count() % 1000000) +
           "-" + std::to_string(index);
}

asio::awaitable<std::uint64_t> create_channel(member& creator, const std::string& name) {
    v1::ClientMessage create;
    auto* c = create.mutable_create_channel();
    c->set_name(name);
    c->set_topic("relais-bench");
    auto answer = co_await creator.request(create);
    require(answer.has_channel(), "create_channel: no channel in the answer");
    co_return answer.channel().id();
}

asio::awaitable<void> join(member& m, std::uint64_t channel) {
    v1::ClientMessage join;
    join.mutable_join_channel()->mutable_channel()->set_id(channel);
    co_await m.request(join);
}

// "<send time ns> <sender>" padded to `bytes`.
std::string message_text(std::int64_t t, std::size_t sender, std::size_t bytes) {
    auto text = std::to_string(t) + " " + std::to_string(sender);
    if (text.size() < bytes) {
        text.resize(bytes, '.');
    }
    return text;
}

struct stamp {
    std::int64_t t = 0;
    std::size_t sender = 0;
};
std::optional<stamp> parse_text(std::string_view text) {
    stamp s;
    const char* end = text.data() + text.size();
    auto r = std::from_chars(text.data(), end, s.t);
    if (r.ec != std::errc() || r.ptr == end) {
        return std::nullopt;
    }
    r = std::from_chars(r.ptr + 1, end, s.sender);
    if (r.ec != std::errc()) {
        return std::nullopt;
    }
    return s;
}

// A send's id is its send time in nanoseconds, so that the ack's latency
// needs no table, and its client_msg_id is unique across runs too.
std::int64_t next_send_id(std::int64_t& last) {
    last = std::max(now_ns(), last + 1);
    return last;
}

// What a fan-out run saw, whatever the server.
struct load_figures {
    std::uint64_t sent = 0, acked = 0, failed = 0, delivered = 0, expected = 0;
    double send_seconds = 0, active_seconds = 0;
    samples deliver_latency, ack_latency;
    steady::time_point start, last_delivery;

    void delivery(std::int64_t t) {
        deliver_latency.add((now_ns() - t) / 1000);
        ++delivered;
        last_delivery = steady::now();
    }
    void ack(std::int64_t t) {
        ++acked;
        ack_latency.add((now_ns() - t) / 1000);
    }
    // The answer to a send whose id is its send time: an ack, after which
    // `deliveries` events are due, or a refusal.
    void answer(const v1::ServerMessage& m, std::uint64_t deliveries) {
        if (m.has_sent()) {
            ack(static_cast<std::int64_t>(m.request_id()));
            expected += deliveries;
        } else {
            ++failed;
        }
    }
};

// Drives `senders` at o.rate each (or with o.window unacknowledged each)
// for o.duration seconds through `send(sender)`; `figures` is updated by
// the connections' handlers, which call `acked(sender)` on each ack.
class load_driver {
  public:
    load_driver(const options& o, load_figures& f, std::function<void(std::size_t)> send)
        : o_(o), f_(f), send_(std::move(send)) {}

    // An ack or a refusal came back for `sender`: in saturation, send again.
    void answered(std::size_t sender) {
        if (o_.window > 0 && steady::now() < end_) {
            ++f_.sent;
            send_(sender);
        }
    }

    asio::awaitable<void> run() {
        auto executor = co_await asio::this_coro::executor;
        f_.start = f_.last_delivery = steady::now();
        end_ = f_.start + std::chrono::duration_cast<steady::duration>(
                              std::chrono::duration<double>(o_.duration));
        int pacers = 0;
        auto pace = [&](std::size_t sender) -> asio::awaitable<void> {
            const auto interval =
                std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / std::max(o_.rate, 0.001)));
            auto next = f_.start;
            while (next < end_) {
                ++f_.sent;
                send_(sender);
                next += interval;
                if (next > steady::now()) {
                    co_await sleep_for(next - steady::now());
                }
            }
        };
        for (std::size_t s = 0; s < o_.senders; ++s) {
            if (o_.window > 0) {
                for (std::size_t w = 0; w < o_.window; ++w) {
                    ++f_.sent;
                    send_(s);
                }
            } else {
                ++pacers;
                asio::co_spawn(executor, pace(s), [&](std::exception_ptr) { --pacers; });
            }
        }
        const auto give_up = end_ + std::chrono::seconds(30);
        while ((pacers > 0 || steady::now() < end_ || f_.acked + f_.failed < f_.sent) &&
               steady::now() < give_up) {
            co_await sleep_for(std::chrono::milliseconds(5));
        }
        f_.send_seconds = seconds_since(f_.start);
        const auto drain_deadline = steady::now() + std::chrono::seconds(10);
        while (f_.delivered < f_.expected && steady::now() < drain_deadline) {
            co_await sleep_for(std::chrono::milliseconds(5));
        }
        f_.active_seconds = std::chrono::duration<double>(f_.last_delivery - f_.start).count();
    }

  private:
    const options& o_;
    load_figures& f_;
    std::function<void(std::size_t)> send_;
    steady::time_point end_;
};

void add_load(report& r, load_figures& f, const std::string& prefix = {}) {
    r.add(prefix + "sent", static_cast<double>(f.sent));
    r.add(prefix + "acked", static_cast<double>(f.acked));
    r.add(prefix + "send_failures", static_cast<double>(f.failed));
    r.add(prefix + "acked_per_s", static_cast<double>(f.acked) / f.send_seconds, "msg/s");
    r.add(prefix + "deliveries", static_cast<double>(f.delivered));
    r.add(prefix + "deliveries_per_s",
          static_cast<double>(f.delivered) / std::max(f.active_seconds, 1e-3), "/s");
    r.add(prefix + "missing",
          static_cast<double>(f.expected > f.delivered ? f.expected - f.delivered : 0));
    r.add(prefix + "deliver_p50_ms", f.deliver_latency.quantile(0.5) / 1000, "ms");
    r.add(prefix + "deliver_p90_ms", f.deliver_latency.quantile(0.9) / 1000, "ms");
    r.add(prefix + "deliver_p99_ms", f.deliver_latency.quantile(0.99) / 1000, "ms");
    r.add(prefix + "deliver_max_ms", f.deliver_latency.quantile(1.0) / 1000, "ms");
    r.add(prefix + "ack_p50_ms", f.ack_latency.quantile(0.5) / 1000, "ms");
    r.add(prefix + "ack_p99_ms", f.ack_latency.quantile(0.99) / 1000, "ms");
}

// The same fan-out against a plain broadcast server: every connection
// receives every frame, a sender's own copy is its ack.
asio::awaitable<void> fanout_raw(const options& o, report& r, double relais_cpu_per_delivery,
                                 double relais_deliveries_per_s) {
    const auto at = co_await target_of(o.compare_raw, o);
    std::vector<std::unique_ptr<wire>> wires;
    for (std::size_t i = 0; i < o.members; ++i) {
        wires.push_back(std::make_unique<wire>(at.io, at.tls.get()));
    }
    co_await for_each_parallel(o.members, 64, [&](std::size_t i) -> asio::awaitable<void> {
        co_await wires[i]->open(at.to);
    });
    load_figures f;
    std::unique_ptr<load_driver> driver;
    auto executor = co_await asio::this_coro::executor;
    int readers = 0;
    for (std::size_t i = 0; i < wires.size(); ++i) {
        auto read = [&, i]() -> asio::awaitable<void> {
            co_await wires[i]->read_loop([&, i](std::string_view payload, bool) {
                auto s = parse_text(payload);
                if (!s) {
                    return;
                }
                f.delivery(s->t);
                if (s->sender == i) {
                    f.ack(s->t);
                    f.expected += o.members;
                    driver->answered(i);
                }
            });
        };
        ++readers;
        asio::co_spawn(executor, read(), [&](std::exception_ptr) { --readers; });
    }
    driver = std::make_unique<load_driver>(o, f, [&](std::size_t sender) {
        wires[sender]->send(message_text(now_ns(), sender, o.text_bytes), true);
    });
    auto before = usage_of(o.raw_pid);
    co_await driver->run();
    auto after = usage_of(o.raw_pid);
    add_load(r, f, "raw_");
    const double delivered = static_cast<double>(f.delivered);
    if (o.raw_pid > 0 && delivered > 0) {
        const double cpu_per_delivery = (after.cpu_seconds - before.cpu_seconds) * 1e6 / delivered;
        r.add("raw_server_cpu_per_delivery_us", cpu_per_delivery, "µs");
        r.add("raw_server_rss_mib", after.rss_mib, "MiB");
        if (relais_cpu_per_delivery > 0) {
            r.add("cpu_per_delivery_vs_raw", relais_cpu_per_delivery / cpu_per_delivery, "×");
        }
    }
    const double raw_rate = delivered / std::max(f.active_seconds, 1e-3);
    if (raw_rate > 0) {
        r.add("deliveries_per_s_vs_raw", relais_deliveries_per_s / raw_rate, "×");
    }
    co_await close_all(
        wires, [](wire& w) -> wire& { return w; }, [](wire&) { return true; });
    while (readers > 0) {
        co_await sleep_for(std::chrono::milliseconds(5));
    }
}

}  // namespace

// fanout: every member online in one channel; senders at a fixed rate, or
// with a window of unacknowledged sends each (saturation).
asio::awaitable<report> fanout(const options& o) {
    require(o.senders >= 1 && o.senders <= o.members, "--senders must be 1 to --members");
    const auto at = co_await target_of(o.server, o);
    auto bots = read_tokens(o.tokens, o.members + o.stalled);
    auto members = co_await connect_members(at, bots, 0, o.members);
    const auto channel = co_await create_channel(*members[0], unique_name("fanout", 0));
    co_await for_each_parallel(o.members - 1, 64, [&](std::size_t i) -> asio::awaitable<void> {
        co_await join(*members[i + 1], channel);
    });
    load_figures f;
    std::unique_ptr<load_driver> driver;
    for (std::size_t i = 0; i < members.size(); ++i) {
        members[i]->on_push = [&f, channel](const v1::ServerMessage& m) {
            if (m.has_event() && m.event().channel_id() == channel && m.event().has_message()) {
                if (auto s = parse_text(m.event().message().text())) {
                    f.delivery(s->t);
                }
            }
        };
    }
    for (std::size_t s = 0; s < o.senders; ++s) {
        members[s]->on_answer = [&f, &driver, &o, s](const v1::ServerMessage& m) {
            f.answer(m, o.members);
            driver->answered(s);
        };
    }
    std::int64_t last_id = 0;
    auto send = [&](std::size_t sender) {
        const auto t = next_send_id(last_id);
        members[sender]->send_message(channel, static_cast<std::uint64_t>(t),
                                      message_text(t, sender, o.text_bytes));
    };
    // Outlives the warm-up's driver, which keeps a reference.
    auto warmup = o;
    warmup.duration = o.warmup;
    if (o.warmup > 0) {
        driver = std::make_unique<load_driver>(warmup, f, send);
        co_await driver->run();
        f = load_figures{};
    }
    // Stalled members: a small socket buffer, so that the server's queue
    // is what fills once they stop reading.
    auto stalled = co_await connect_members(at, bots, o.members, o.stalled, 4096);
    for (auto& s : stalled) {
        co_await join(*s, channel);
        s->connection().pause_reading();
    }
    driver = std::make_unique<load_driver>(o, f, send);
    auto usage_before = start_usage(o.server_pid);
    const double bench_before = own_cpu_seconds();
    co_await driver->run();

    report r("fanout");
    r.add("members", static_cast<double>(o.members));
    r.add("senders", static_cast<double>(o.senders));
    r.add(o.window > 0 ? "window" : "rate_per_sender",
          o.window > 0 ? static_cast<double>(o.window) : o.rate);
    add_load(r, f);
    add_usage(r, o, usage_before, bench_before, static_cast<double>(f.delivered));
    if (o.stalled > 0) {
        // Reading again, those the server cut off find their connection
        // ended, with a close frame (1008) behind what they had not read, or
        // without when their full socket never let it out; the others stay.
        for (auto& s : stalled) {
            s->connection().resume_reading();
        }
        const auto deadline = steady::now() + std::chrono::seconds(3);
        std::size_t cut = 0, told = 0;
        while (steady::now() < deadline) {
            cut = told = 0;
            for (auto& s : stalled) {
                cut += s->connection().ended();
                told += s->connection().close_code() == 1008;
            }
            if (cut == stalled.size()) {
                break;
            }
            co_await sleep_for(std::chrono::milliseconds(20));
        }
        r.add("stalled", static_cast<double>(o.stalled));
        r.add("stalled_cut_off", static_cast<double>(cut));
        r.add("stalled_told_why", static_cast<double>(told));
    }
    if (!o.compare_raw.empty()) {
        double cpu_per_delivery = 0;
        if (o.server_pid > 0 && f.delivered > 0) {
            cpu_per_delivery = (usage_of(o.server_pid).cpu_seconds - usage_before.cpu_seconds) *
                               1e6 / static_cast<double>(f.delivered);
        }
        co_await fanout_raw(o, r, cpu_per_delivery,
                            static_cast<double>(f.delivered) / std::max(f.active_seconds, 1e-3));
    }
    co_await close_members(members);
    co_await close_members(stalled);
    co_return r;
}

// rooms: `channels` channels of `channel_members` members, each connection
// in `per_connection` of them; every channel gets o.rate messages/s.
asio::awaitable<report> rooms(const options& o) {
    require(o.per_connection >= 1 && o.per_connection <= o.channels,
            "--per-connection must be 1 to --channels");
    const std::size_t memberships = o.channels * o.channel_members;
    require(memberships % o.per_connection == 0,
            "--channels × --channel-members must be a multiple of --per-connection");
    const std::size_t connections = memberships / o.per_connection;
    require(o.channel_members <= connections, "--channel-members larger than the connections");
    const auto at = co_await target_of(o.server, o);
    auto bots = read_tokens(o.tokens, connections);
    auto usage_before_connect = usage_of(o.server_pid);
    const auto setup_start = steady::now();
    auto members = co_await connect_members(at, bots, 0, connections);
    // Membership slot s: channel s / M, connection s % N. Consecutive slots
    // are distinct connections, and each connection gets K slots.
    std::vector<std::uint64_t> ids(o.channels);
    auto creator = [&](std::size_t c) { return (c * o.channel_members) % connections; };
    co_await for_each_parallel(o.channels, 64, [&](std::size_t c) -> asio::awaitable<void> {
        ids[c] = co_await create_channel(*members[creator(c)], unique_name("rooms", c));
    });
    co_await for_each_parallel(memberships, 64, [&](std::size_t s) -> asio::awaitable<void> {
        if (s % o.channel_members != 0) {
            co_await join(*members[s % connections], ids[s / o.channel_members]);
        }
    });
    const double setup_seconds = seconds_since(setup_start);

    load_figures f;
    std::unordered_map<std::uint64_t, std::size_t> channel_index;
    for (std::size_t c = 0; c < o.channels; ++c) {
        channel_index[ids[c]] = c;
    }
    for (auto& m : members) {
        m->on_push = [&](const v1::ServerMessage& msg) {
            if (msg.has_event() && msg.event().has_message() &&
                channel_index.count(msg.event().channel_id())) {
                if (auto s = parse_text(msg.event().message().text())) {
                    f.delivery(s->t);
                }
            }
        };
        m->on_answer = [&](const v1::ServerMessage& msg) { f.answer(msg, o.channel_members); };
    }
    // One pacer for every channel, in turn: o.rate × channels messages/s.
    options paced = o;
    paced.senders = 1;
    paced.window = 0;
    paced.rate = o.rate * static_cast<double>(o.channels);
    std::size_t turn = 0;
    std::int64_t last_id = 0;
    load_driver driver(paced, f, [&](std::size_t) {
        const auto c = turn++ % o.channels;
        const auto t = next_send_id(last_id);
        members[creator(c)]->send_message(ids[c], static_cast<std::uint64_t>(t),
                                          message_text(t, c, o.text_bytes));
    });
    auto usage_before = start_usage(o.server_pid);
    const double bench_before = own_cpu_seconds();
    co_await driver.run();

    report r("rooms");
    r.add("connections", static_cast<double>(connections));
    r.add("channels", static_cast<double>(o.channels));
    r.add("channel_members", static_cast<double>(o.channel_members));
    r.add("per_connection", static_cast<double>(o.per_connection));
    r.add("rate_per_channel", o.rate, "msg/s");
    r.add("setup_s", setup_seconds, "s");
    add_load(r, f);
    add_usage(r, o, usage_before, bench_before, static_cast<double>(f.delivered));
    if (o.server_pid > 0) {
        const auto now = usage_of(o.server_pid);
        r.add(
            "server_rss_per_connection_kib",
            (now.rss_mib - usage_before_connect.rss_mib) * 1024 / static_cast<double>(connections),
            "KiB");
    }
    co_await close_members(members);
    co_return r;
}

// idle: `connections` authenticated connections that do nothing.
asio::awaitable<report> idle(const options& o) {
    const auto at = co_await target_of(o.server, o);
    auto bots = read_tokens(o.tokens, o.connections);
    const auto before = usage_of(o.server_pid);
    const auto start = steady::now();
    auto members = co_await connect_members(at, bots, 0, o.connections);
    const double setup_seconds = seconds_since(start);
    // Let the server settle (presence notices, first allocations).
    co_await sleep_for(std::chrono::seconds(2));
    const auto after = usage_of(o.server_pid);
    report r("idle");
    r.add("connections", static_cast<double>(o.connections));
    r.add("setup_s", setup_seconds, "s");
    r.add("connections_per_s", static_cast<double>(o.connections) / setup_seconds, "/s");
    if (o.server_pid > 0) {
        r.add("server_rss_before_mib", before.rss_mib, "MiB");
        r.add("server_rss_mib", after.rss_mib, "MiB");
        r.add("server_rss_per_connection_kib",
              (after.rss_mib - before.rss_mib) * 1024 / static_cast<double>(o.connections), "KiB");
    }
    co_await close_members(members);
    co_return r;
}

// durable: acknowledged sends per second from concurrent senders, each in
// a channel of its own (the cost measured is storing, not fanning out), each
// with o.window sends awaiting their ack (1 unless given).
asio::awaitable<report> durable(const options& o) {
    const auto at = co_await target_of(o.server, o);
    auto bots = read_tokens(o.tokens, o.senders);
    auto senders = co_await connect_members(at, bots, 0, o.senders);
    std::vector<std::uint64_t> channels(o.senders);
    co_await for_each_parallel(o.senders, 64, [&](std::size_t s) -> asio::awaitable<void> {
        channels[s] = co_await create_channel(*senders[s], unique_name("durable", s));
    });
    options windowed = o;
    windowed.window = std::max<std::size_t>(o.window, 1);
    load_figures f;
    std::unique_ptr<load_driver> driver;
    for (std::size_t s = 0; s < o.senders; ++s) {
        // Each sender sees its own message come back as an event.
        senders[s]->on_push = [&f, channel = channels[s]](const v1::ServerMessage& m) {
            if (m.has_event() && m.event().channel_id() == channel && m.event().has_message()) {
                if (auto st = parse_text(m.event().message().text())) {
                    f.delivery(st->t);
                }
            }
        };
        senders[s]->on_answer = [&f, &driver, s](const v1::ServerMessage& m) {
            f.answer(m, 1);
            driver->answered(s);
        };
    }
    std::int64_t last_id = 0;
    driver = std::make_unique<load_driver>(windowed, f, [&](std::size_t sender) {
        const auto t = next_send_id(last_id);
        senders[sender]->send_message(channels[sender], static_cast<std::uint64_t>(t),
                                      message_text(t, sender, o.text_bytes));
    });
    auto usage_before = start_usage(o.server_pid);
    const double bench_before = own_cpu_seconds();
    co_await driver->run();
    report r("durable");
    r.add("senders", static_cast<double>(o.senders));
    r.add("window", static_cast<double>(windowed.window));
    r.add("acked", static_cast<double>(f.acked));
    r.add("send_failures", static_cast<double>(f.failed));
    r.add("acked_per_s", static_cast<double>(f.acked) / f.send_seconds, "msg/s");
    r.add("ack_p50_ms", f.ack_latency.quantile(0.5) / 1000, "ms");
    r.add("ack_p99_ms", f.ack_latency.quantile(0.99) / 1000, "ms");
    r.add("missing", static_cast<double>(f.expected > f.delivered ? f.expected - f.delivered : 0));
    add_usage(r, o, usage_before, bench_before, 0);
    co_await close_members(senders);
    co_return r;
}

namespace {

// Sends `count` short messages from `writer` with 256 awaiting their ack;
// their events come back to the writer and are dropped.
// Sends `count` requests made by make(i), 256 in flight at a time, and
// waits for every answer; each must be `accepted`.
template <class Make, class Accepted>
asio::awaitable<void> pump(member& writer, std::size_t count, Make make, Accepted accepted,
                           const char* what) {
    std::size_t sent = 0, answered = 0, refused = 0;
    std::int64_t last_id = 0;
    std::string first_refusal;
    v1::ClientMessage out;
    auto send_next = [&] {
        if (sent < count) {
            out.Clear();
            make(sent, out);
            writer.send_request(out, static_cast<std::uint64_t>(next_send_id(last_id)));
            ++sent;
        }
    };
    auto previous_push = std::move(writer.on_push);
    writer.on_push = nullptr;
    writer.on_answer = [&](const v1::ServerMessage& m) {
        ++answered;
        if (!accepted(m)) {
            if (refused++ == 0) {
                first_refusal = m.DebugString();
            }
        }
        send_next();
    };
    for (int w = 0; w < 256; ++w) {
        send_next();
    }
    while (answered < count && writer.reading()) {
        co_await sleep_for(std::chrono::milliseconds(5));
    }
    writer.on_answer = nullptr;
    writer.on_push = std::move(previous_push);
    require(answered == count && refused == 0,
            std::string(what) + ": " + std::to_string(refused) + " refused (" + first_refusal +
                "), " + std::to_string(answered) + " answered of " + std::to_string(count));
}

asio::awaitable<void> fill(member& writer, std::uint64_t channel, std::size_t count) {
    std::int64_t id = 0;
    co_await pump(
        writer, count,
        [&](std::size_t i, v1::ClientMessage& m) {
            auto* send = m.mutable_send_message();
            send->mutable_channel()->set_id(channel);
            send->set_client_msg_id(numbered("f", next_send_id(id)));
            send->set_text("message " + std::to_string(i));
        },
        [](const v1::ServerMessage& m) { return m.has_sent(); }, "filling the channel");
}

asio::awaitable<v1::Events> ask_events(member& m, v1::ClientMessage request) {
    auto answer = co_await m.request(std::move(request));
    require(answer.has_events(), "no events in the answer");
    co_return std::move(*answer.mutable_events());
}

}  // namespace

// catchup: a member misses `messages` messages (after `stored` it had seen),
// then fetches them all with Sync.
asio::awaitable<report> catchup(const options& o) {
    const auto at = co_await target_of(o.server, o);
    auto bots = read_tokens(o.tokens, 2);
    auto both = co_await connect_members(at, bots, 0, 2);
    auto& writer = *both[0];
    const auto channel = co_await create_channel(writer, unique_name("catchup", 0));
    v1::ClientMessage join_request;
    join_request.mutable_join_channel()->mutable_channel()->set_id(channel);
    const auto joined = co_await both[1]->request(join_request);
    std::vector<std::unique_ptr<member>> away;
    away.push_back(std::move(both[1]));
    co_await close_members(away);
    co_await fill(writer, channel, o.stored);
    const std::uint64_t from = joined.channel().last_seq() + o.stored;
    co_await fill(writer, channel, o.messages);
    // What the server still does after the writes (its search indexes
    // catching up) may be let finish first: --settle SECONDS.
    co_await sleep_for(std::chrono::milliseconds(static_cast<std::int64_t>(o.settle * 1000)));

    auto back = co_await connect_members(at, bots, 1, 1);
    const auto start = steady::now();
    std::uint64_t after = from, events = 0, bytes = 0;
    for (;;) {
        v1::ClientMessage sync;
        sync.mutable_sync()->mutable_channel()->set_id(channel);
        sync.mutable_sync()->set_after_seq(after);
        const auto page = co_await ask_events(*back[0], sync);
        bytes += page.ByteSizeLong();
        events += static_cast<std::uint64_t>(page.events_size());
        if (page.events_size() > 0) {
            after = page.events(page.events_size() - 1).seq();
        }
        if (!page.has_more()) {
            break;
        }
    }
    const double ms = seconds_since(start) * 1000;
    report r("catchup");
    r.add("stored_before", static_cast<double>(o.stored));
    r.add("missed_events", static_cast<double>(events));
    r.add("catchup_ms", ms, "ms");
    r.add("payload_bytes", static_cast<double>(bytes), "B");
    co_await close_members(back);
    both.resize(1);
    co_await close_members(both);
    co_return r;
}

// history: random pages of 100 over a channel of `messages` messages.
asio::awaitable<report> history(const options& o) {
    const auto at = co_await target_of(o.server, o);
    auto bots = read_tokens(o.tokens, 1);
    auto one = co_await connect_members(at, bots, 0, 1);
    auto& reader = *one[0];
    const auto channel = co_await create_channel(reader, unique_name("history", 0));
    const auto fill_start = steady::now();
    co_await fill(reader, channel, o.messages);
    const double fill_seconds = seconds_since(fill_start);
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<std::uint64_t> pick(1, o.messages + 2);
    samples latency;
    for (std::size_t i = 0; i < o.reads; ++i) {
        v1::ClientMessage page_request;
        auto* h = page_request.mutable_get_history();
        h->mutable_channel()->set_id(channel);
        h->set_before_seq(pick(rng));
        h->set_limit(100);
        const auto t = now_ns();
        co_await ask_events(reader, page_request);
        latency.add((now_ns() - t) / 1000);
    }
    report r("history");
    r.add("stored_messages", static_cast<double>(o.messages));
    r.add("fill_per_s", static_cast<double>(o.messages) / fill_seconds, "msg/s");
    r.add("reads", static_cast<double>(o.reads));
    r.add("page_p50_ms", latency.quantile(0.5) / 1000, "ms");
    r.add("page_p99_ms", latency.quantile(0.99) / 1000, "ms");
    co_await close_members(one);
    co_return r;
}

namespace {

// Words as mediators write them, most frequent first; the tail is made of
// rarer words, so that word frequencies fall off as in real text (Zipf).
const char* const common_words[] = {"le",
                                    "la",
                                    "de",
                                    "et",
                                    "pour",
                                    "avec",
                                    "sur",
                                    "une",
                                    "des",
                                    "les",
                                    "en",
                                    "du",
                                    "compte",
                                    "démarche",
                                    "atelier",
                                    "usager",
                                    "dossier",
                                    "mot",
                                    "passe",
                                    "caf",
                                    "ameli",
                                    "impôts",
                                    "franceconnect",
                                    "simulateur",
                                    "logement",
                                    "retraite",
                                    "emploi",
                                    "identité",
                                    "carte",
                                    "vitale",
                                    "tutoriel",
                                    "fiche",
                                    "smartphone",
                                    "tablette",
                                    "ordinateur",
                                    "courriel",
                                    "arnaque",
                                    "hameçonnage",
                                    "sécurité",
                                    "rendez-vous",
                                    "médiation",
                                    "permanence",
                                    "accompagnement",
                                    "formulaire",
                                    "justificatif",
                                    "attestation",
                                    "déclaration",
                                    "prélèvement",
                                    "banque",
                                    "application",
                                    "téléchargement",
                                    "imprimante",
                                    "scanner",
                                    "photo",
                                    "signature",
                                    "agenda",
                                    "France",
                                    "Services",
                                    "numérique",
                                    "inclusion",
                                    "seniors",
                                    "jeunes",
                                    "allocation",
                                    "aide",
                                    "APL",
                                    "RSA",
                                    "prime",
                                    "activité",
                                    "Pôle",
                                    "travail",
                                    "santé",
                                    "mutuelle",
                                    "ordonnance",
                                    "Doctolib",
                                    "visio",
                                    "Jitsi",
                                    "échange",
                                    "pratiques",
                                    "réseau",
                                    "conseiller",
                                    "bénévole"};

struct text_maker {
    explicit text_maker(std::uint64_t seed) : rng(seed) {
        const std::size_t vocabulary = 50000;
        words.assign(std::begin(common_words), std::end(common_words));
        // The rest: words of two to four syllables, as varied as a
        // language's (they share prefixes as French words do, not all one).
        const char* const onsets[] = {"b", "c", "d", "f",  "g",  "l",  "m",  "n",  "p",  "r",
                                      "s", "t", "v", "ch", "pr", "tr", "gr", "pl", "qu", ""};
        const char* const vowels[] = {"a", "e", "i", "o", "u", "é", "ou", "ai", "on", "an"};
        std::mt19937_64 make(5);
        std::unordered_set<std::string> seen(words.begin(), words.end());
        while (words.size() < vocabulary) {
            std::string w;
            for (std::size_t k = 0, n = 2 + make() % 3; k < n; ++k) {
                w += onsets[make() % std::size(onsets)];
                w += vowels[make() % std::size(vowels)];
            }
            if (seen.insert(w).second) {
                words.push_back(std::move(w));
            }
        }
        std::vector<double> weights(vocabulary);
        for (std::size_t i = 0; i < vocabulary; ++i) {
            weights[i] = 1.0 / static_cast<double>(i + 1);
        }
        rank = std::discrete_distribution<std::size_t>(weights.begin(), weights.end());
    }
    const std::string& word() { return words[rank(rng)]; }
    std::string sentence(std::size_t count) {
        std::string out;
        for (std::size_t i = 0; i < count; ++i) {
            if (i) {
                out += ' ';
            }
            out += word();
        }
        return out;
    }
    std::mt19937_64 rng;
    std::vector<std::string> words;
    std::discrete_distribution<std::size_t> rank;
};

asio::awaitable<void> invite(member& inviter, std::uint64_t channel, const std::string& user) {
    v1::ClientMessage m;
    m.mutable_invite()->mutable_channel()->set_id(channel);
    m.mutable_invite()->set_user(user);
    co_await inviter.request(m);
}

asio::awaitable<std::uint64_t> create_private(member& creator, const std::string& name) {
    v1::ClientMessage create;
    create.mutable_create_channel()->set_name(name);
    create.mutable_create_channel()->set_private_(true);
    auto answer = co_await creator.request(create);
    co_return answer.channel().id();
}

}  // namespace

// search: `messages` messages of ~12 words in `channels` private channels,
// of which the searcher reads `readable`; then `reads` searches of one or
// two words, prefixes and pieces of words, timed one at a time.
asio::awaitable<report> search(const options& o) {
    const auto at = co_await target_of(o.server, o);
    auto bots = read_tokens(o.tokens, 2);
    auto both = co_await connect_members(at, bots, 0, 2);
    auto& searcher = *both[0];
    auto& writer = *both[1];
    std::vector<std::uint64_t> channels(o.channels);
    for (std::size_t c = 0; c < o.channels; ++c) {
        channels[c] = co_await create_private(writer, unique_name("search", c));
        if (c < o.readable) {
            co_await invite(writer, channels[c], bots[0].name);
        }
    }
    text_maker text(42);
    std::int64_t id = 0;
    const auto fill_start = steady::now();
    co_await pump(
        writer, o.messages,
        [&](std::size_t i, v1::ClientMessage& m) {
            auto* send = m.mutable_send_message();
            send->mutable_channel()->set_id(channels[i % channels.size()]);
            send->set_client_msg_id(numbered("s", next_send_id(id)));
            send->set_text(text.sentence(8 + i % 9));
        },
        [](const v1::ServerMessage& m) { return m.has_sent(); }, "filling the channels");
    const double fill_seconds = seconds_since(fill_start);
    // What people type: a word, two words, the start of a word, a piece of one.
    std::mt19937_64 rng(7);
    samples latency;
    std::uint64_t hits = 0;
    for (std::size_t i = 0; i < o.reads; ++i) {
        std::string query = text.word();
        switch (i % 4) {
            case 1:
                query += " " + text.word();
                break;
            case 2:
                // The first five characters.
                for (std::size_t k = 0, chars = 0; k < query.size(); ++k) {
                    if ((static_cast<unsigned char>(query[k]) & 0xC0) != 0x80 && chars++ == 5) {
                        query.resize(k);
                        break;
                    }
                }
                break;
            case 3:
                if (query.size() > 6) {
                    // Four bytes from the third, moved to whole characters.
                    auto from = std::size_t{2}, to = std::size_t{6};
                    auto inside = [&](std::size_t k) {
                        return k < query.size() &&
                               (static_cast<unsigned char>(query[k]) & 0xC0) == 0x80;
                    };
                    while (inside(from)) {
                        ++from;
                    }
                    while (inside(to)) {
                        ++to;
                    }
                    query = query.substr(from, to - from);
                }
                break;
        }
        v1::ClientMessage q;
        q.mutable_search()->set_query(query);
        q.mutable_search()->set_limit(20);
        const auto t = now_ns();
        auto answer = co_await searcher.request(q);
        latency.add((now_ns() - t) / 1000);
        if (getenv("SLOW") && (now_ns() - t) > 30'000'000) {
            std::cerr << "slow: '" << query << "' " << (now_ns() - t) / 1'000'000 << " ms, "
                      << answer.search_results().hits_size() << " hits\n";
        }
        hits += static_cast<std::uint64_t>(answer.search_results().hits_size());
    }
    report r("search");
    r.add("stored_messages", static_cast<double>(o.messages));
    r.add("channels", static_cast<double>(o.channels));
    r.add("readable_channels", static_cast<double>(std::min(o.readable, o.channels)));
    r.add("fill_per_s", static_cast<double>(o.messages) / fill_seconds, "msg/s");
    r.add("searches", static_cast<double>(o.reads));
    r.add("hits_per_search", static_cast<double>(hits) / static_cast<double>(o.reads));
    r.add("search_p50_ms", latency.quantile(0.5) / 1000, "ms");
    r.add("search_p99_ms", latency.quantile(0.99) / 1000, "ms");
    co_await close_members(both);
    co_return r;
}

// library: `messages` resources in `channels` public channels, with themes,
// audiences, kinds and tags; then `reads` library queries with two filters
// and a sort, timed one at a time.
asio::awaitable<report> library(const options& o) {
    const auto at = co_await target_of(o.server, o);
    auto bots = read_tokens(o.tokens, 2);
    auto both = co_await connect_members(at, bots, 0, 2);
    auto& reader = *both[0];
    auto& writer = *both[1];
    v1::ClientMessage vocabulary_request;
    vocabulary_request.mutable_list_vocabulary();
    const auto vocabulary = (co_await reader.request(vocabulary_request)).vocabulary();
    require(vocabulary.themes_size() > 0 && vocabulary.audiences_size() > 0, "no vocabulary");
    std::vector<std::uint64_t> channels(o.channels);
    for (std::size_t c = 0; c < o.channels; ++c) {
        channels[c] = co_await create_channel(writer, unique_name("library", c));
    }
    text_maker text(43);
    std::mt19937_64 rng(11);
    std::int64_t id = 0;
    const auto fill_start = steady::now();
    co_await pump(
        writer, o.messages,
        [&](std::size_t i, v1::ClientMessage& m) {
            auto* post = m.mutable_post_resource();
            post->mutable_channel()->set_id(channels[i % channels.size()]);
            post->set_client_msg_id(numbered("l", next_send_id(id)));
            auto* r = post->mutable_resource();
            r->set_title(text.sentence(4));
            r->set_description(text.sentence(20));
            r->set_kind(static_cast<v1::ResourceKind>(1 + rng() % 6));
            r->add_themes(
                vocabulary.themes(static_cast<int>(rng() % vocabulary.themes_size())).slug());
            r->add_audiences(
                vocabulary.audiences(static_cast<int>(rng() % vocabulary.audiences_size())).slug());
            r->add_tags(numbered("tag", rng() % 200));
            r->add_tags(numbered("tag", rng() % 200));
        },
        [](const v1::ServerMessage& m) { return m.has_sent(); }, "posting the resources");
    const double fill_seconds = seconds_since(fill_start);
    samples latency;
    std::uint64_t listed = 0;
    for (std::size_t i = 0; i < o.reads; ++i) {
        v1::ClientMessage q;
        auto* l = q.mutable_list_resources();
        // Two filters and a sort, in turn.
        switch (i % 3) {
            case 0:
                l->set_theme(
                    vocabulary.themes(static_cast<int>(rng() % vocabulary.themes_size())).slug());
                l->set_kind(static_cast<v1::ResourceKind>(1 + rng() % 6));
                l->set_sort(v1::ListResources::NEWEST);
                break;
            case 1:
                l->set_audience(
                    vocabulary.audiences(static_cast<int>(rng() % vocabulary.audiences_size()))
                        .slug());
                l->add_tags(numbered("tag", rng() % 200));
                l->set_sort(v1::ListResources::DISCUSSED);
                break;
            case 2:
                l->set_theme(
                    vocabulary.themes(static_cast<int>(rng() % vocabulary.themes_size())).slug());
                l->set_audience(
                    vocabulary.audiences(static_cast<int>(rng() % vocabulary.audiences_size()))
                        .slug());
                l->set_sort(v1::ListResources::ACTIVE);
                break;
        }
        l->set_limit(50);
        const auto t = now_ns();
        auto answer = co_await reader.request(q);
        latency.add((now_ns() - t) / 1000);
        listed += static_cast<std::uint64_t>(answer.resources().resources_size());
    }
    report r("library");
    r.add("resources", static_cast<double>(o.messages));
    r.add("post_per_s", static_cast<double>(o.messages) / fill_seconds, "res/s");
    r.add("queries", static_cast<double>(o.reads));
    r.add("listed_per_query", static_cast<double>(listed) / static_cast<double>(o.reads));
    r.add("query_p50_ms", latency.quantile(0.5) / 1000, "ms");
    r.add("query_p99_ms", latency.quantile(0.99) / 1000, "ms");
    co_await close_members(both);
    co_return r;
}

// session: a live practice-exchange session of `members` participants (the
// first one facilitates). Actions at `rate` per second, in turn: a
// participant raises a hand, the facilitator gives the floor. Each makes one
// session event through the channel's fan-out; its latency runs from the
// action's send to each participant's receipt, and to the last one's.
asio::awaitable<report> session(const options& o) {
    require(o.members >= 2, "--members must be 2 or more");
    const auto at = co_await target_of(o.server, o);
    auto bots = read_tokens(o.tokens, o.members);
    auto members = co_await connect_members(at, bots, 0, o.members);
    auto& facilitator = *members[0];
    const auto channel = co_await create_channel(facilitator, unique_name("session", 0));
    co_await for_each_parallel(o.members - 1, 64, [&](std::size_t i) -> asio::awaitable<void> {
        co_await join(*members[i + 1], channel);
    });
    v1::ClientMessage create;
    auto* c = create.mutable_create_meeting();
    c->mutable_channel()->set_id(channel);
    c->set_title("relais-bench");
    c->set_start_ms(std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count());
    c->add_phases()->set_name("Tour de parole");
    const auto meeting = (co_await facilitator.request(create)).meeting().meeting().id();
    v1::ClientMessage start;
    start.mutable_set_meeting_state()->set_meeting_id(meeting);
    start.mutable_set_meeting_state()->set_state(v1::LIVE);
    co_await facilitator.request(start);
    co_await for_each_parallel(o.members, 64, [&](std::size_t i) -> asio::awaitable<void> {
        v1::ClientMessage join_meeting;
        join_meeting.mutable_join_meeting()->set_meeting_id(meeting);
        co_await members[i]->request(join_meeting);
    });
    v1::ClientMessage first_phase;
    first_phase.mutable_set_phase()->set_meeting_id(meeting);
    co_await facilitator.request(first_phase);

    // Actions of one connection are handled in order, so the n-th floor
    // event of an actor is that actor's n-th action.
    std::unordered_map<std::uint64_t, std::size_t> actor_of_user;  // user id -> member index
    std::vector<std::vector<std::int64_t>> sent_at(o.members);     // per member: send times
    struct action_state {
        std::size_t received = 0;
        std::int64_t last = 0;
    };
    std::vector<std::vector<action_state>> progress(o.members);
    // seen_by[receiver][actor]: how many of the actor's events it got.
    std::vector<std::vector<std::size_t>> seen_by(o.members, std::vector<std::size_t>(o.members));
    samples each, everyone;
    std::size_t completed = 0;
    for (std::size_t i = 0; i < o.members; ++i) {
        members[i]->on_answer = [](const v1::ServerMessage& m) {
            require(!m.has_error(), "action refused: " + m.error().message());
        };
        members[i]->on_push = [&, i](const v1::ServerMessage& m) {
            if (!m.has_event() || m.event().channel_id() != channel || !m.event().has_meeting() ||
                m.event().meeting().change() != v1::MeetingEvent::FLOOR) {
                return;
            }
            const auto now = now_ns();
            const auto user = m.event().actor().id();
            auto [it, fresh] = actor_of_user.try_emplace(user, o.members);
            if (fresh) {
                for (std::size_t k = 0; k < o.members; ++k) {
                    if (bots[k].name == m.event().actor().name()) {
                        it->second = k;
                    }
                }
            }
            const auto actor = it->second;
            require(actor < o.members, "an event from nobody of the bench");
            // Which of the actor's actions: counted per receiving member.
            const auto n = seen_by[i][actor]++;
            require(n < sent_at[actor].size(), "an event before its action");
            const auto latency = now - sent_at[actor][n];
            each.add(latency / 1000);
            auto& p = progress[actor][n];
            ++p.received;
            p.last = std::max(p.last, latency);
            if (p.received == o.members) {
                everyone.add(p.last / 1000);
                ++completed;
            }
        };
    }
    const std::size_t actions = o.reads;
    std::vector<int> tag(o.members, 0);
    std::uint64_t request_id = 0;
    const auto usage_before = start_usage(o.server_pid);
    const double bench_before = own_cpu_seconds();
    const auto began = steady::now();
    for (std::size_t a = 0; a < actions; ++a) {
        const auto due =
            began + std::chrono::duration_cast<steady::duration>(
                        std::chrono::duration<double>(static_cast<double>(a) / o.rate));
        if (due > steady::now()) {
            co_await sleep_for(std::chrono::duration_cast<std::chrono::milliseconds>(
                due - steady::now() + std::chrono::microseconds(999)));
        }
        v1::ClientMessage m;
        std::size_t actor = 0;
        if (a % 2 == 0) {
            actor = 1 + (a / 2) % (o.members - 1);
            auto* raise = m.mutable_raise_hand();
            raise->set_meeting_id(meeting);
            // A new tag each time, so that every raise changes the queue.
            raise->set_tag(tag[actor]++ % 2 == 0 ? v1::INFORMATION : v1::ADVICE);
        } else {
            m.mutable_give_floor()->set_meeting_id(meeting);
        }
        sent_at[actor].push_back(now_ns());
        progress[actor].emplace_back();
        members[actor]->send_request(m, ++request_id);
    }
    const auto deadline = steady::now() + std::chrono::seconds(30);
    while (completed < actions && steady::now() < deadline) {
        co_await sleep_for(std::chrono::milliseconds(10));
    }
    const double active = seconds_since(began);
    report r("session");
    r.add("participants", static_cast<double>(o.members));
    r.add("actions", static_cast<double>(actions));
    r.add("rate", o.rate, "actions/s");
    r.add("completed", static_cast<double>(completed));
    r.add("deliveries_per_s", static_cast<double>(each.count()) / active, "ev/s");
    r.add("delivery_p50_ms", each.quantile(0.5) / 1000, "ms");
    r.add("delivery_p99_ms", each.quantile(0.99) / 1000, "ms");
    r.add("to_everyone_p50_ms", everyone.quantile(0.5) / 1000, "ms");
    r.add("to_everyone_p99_ms", everyone.quantile(0.99) / 1000, "ms");
    r.add("to_everyone_max_ms", everyone.quantile(1.0) / 1000, "ms");
    add_usage(r, o, usage_before, bench_before, static_cast<double>(each.count()));
    co_await close_members(members);
    co_return r;
}

}  // namespace relais::bench
