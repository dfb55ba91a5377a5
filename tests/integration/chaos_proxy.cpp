#include "tests/integration/chaos_proxy.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <cstdio>
#include <limits>

namespace relais::testing {
namespace {

using tcp = asio::ip::tcp;
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

void log_failure(std::exception_ptr e);

struct link {
    link(tcp::socket down, tcp::socket up) : downstream(std::move(down)), upstream(std::move(up)) {}
    tcp::socket downstream;
    tcp::socket upstream;
    static constexpr std::uint64_t never = std::numeric_limits<std::uint64_t>::max();
    std::uint64_t budget = never;  // total bytes through before the cut
    std::uint64_t passed = 0;
    bool ended = false;

    void end() {
        ended = true;
        boost::system::error_code ignored;
        downstream.close(ignored);
        upstream.close(ignored);
    }
};

asio::awaitable<void> pump(std::shared_ptr<link> l, tcp::socket& from, tcp::socket& to,
                           std::shared_ptr<chaos_proxy::state> s) {
    std::array<char, 16384> buf;
    while (!l->ended) {
        auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), nothrow);
        if (ec || l->ended) {
            break;
        }
        if (!s->cutting) {
            l->budget = link::never;
        } else if (l->budget == link::never) {
            l->budget = s->draw_budget(l->passed);
        }
        const auto pass = static_cast<std::size_t>(
            std::min<std::uint64_t>(n, l->budget - std::min(l->budget, l->passed)));
        if (pass > 0) {
            auto [wec, written] = co_await asio::async_write(to, asio::buffer(buf, pass), nothrow);
            if (wec) {
                break;
            }
        }
        l->passed += pass;
        if (l->passed >= l->budget) {
            ++s->cuts;
            if (l->passed < 1024) {
                ++s->early_cuts;
            }
            break;
        }
    }
    if (!l->ended) {
        l->end();
    }
}

asio::awaitable<void> serve(tcp::socket downstream, std::uint16_t upstream_port,
                            std::shared_ptr<chaos_proxy::state> s) {
    tcp::socket upstream(downstream.get_executor());
    auto [ec] = co_await upstream.async_connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), upstream_port), nothrow);
    if (ec) {
        co_return;
    }
    auto l = std::make_shared<link>(std::move(downstream), std::move(upstream));
    asio::co_spawn(l->downstream.get_executor(), pump(l, l->downstream, l->upstream, s),
                   log_failure);
    asio::co_spawn(l->downstream.get_executor(), pump(l, l->upstream, l->downstream, s),
                   log_failure);
}

void log_failure(std::exception_ptr e) {
    if (e) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& ex) {
            std::fprintf(stderr, "chaos proxy: %s\n", ex.what());
        }
    }
}

}  // namespace

std::uint64_t chaos_proxy::state::draw_budget(std::uint64_t passed) {
    // One connection in six dies before its handshakes are over.
    if (passed < 1024 && std::uniform_int_distribution<int>(0, 5)(random) == 0) {
        return std::uniform_int_distribution<std::uint64_t>(passed + 1, 1023)(random);
    }
    return passed + std::uniform_int_distribution<std::uint64_t>(1024, 12000)(random);
}

chaos_proxy::chaos_proxy(asio::any_io_executor executor, std::uint16_t upstream_port,
                         std::uint64_t seed)
    : acceptor_(executor, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
      upstream_port_(upstream_port),
      state_(std::make_shared<state>(seed)) {
    asio::co_spawn(executor, accept_loop(), log_failure);
}

chaos_proxy::~chaos_proxy() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

std::uint16_t chaos_proxy::port() const {
    return acceptor_.local_endpoint().port();
}

asio::awaitable<void> chaos_proxy::accept_loop() {
    // Copies: after the acceptor closes, `this` may be gone.
    const auto port = upstream_port_;
    const auto s = state_;
    auto& acceptor = acceptor_;
    for (;;) {
        auto [ec, downstream] = co_await acceptor.async_accept(nothrow);
        if (ec) {
            co_return;
        }
        asio::co_spawn(downstream.get_executor(), serve(std::move(downstream), port, s),
                       log_failure);
    }
}

}  // namespace relais::testing
