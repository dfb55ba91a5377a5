#pragma once

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <sys/types.h>

#include <filesystem>
#include <source_location>
#include <stdexcept>
#include <string>
#include <vector>

#include "clients/lib/client.hpp"

namespace relais::testing {

namespace asio = boost::asio;

// The result of running a program to its end.
struct run_result {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs `argv` with `input` on stdin and extra environment entries.
run_result run_program(const std::vector<std::string>& argv, const std::string& input = {},
                       const std::vector<std::string>& env = {});

// The real relais-server binary on 127.0.0.1, port 0, in its own data folder.
class server_process {
  public:
    explicit server_process(std::vector<std::string> extra_args = {}, bool tls = false);
    ~server_process();
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;

    void start();
    // Extra `NAME=value` entries for the server's environment at its next start.
    void set_environment(std::vector<std::string> env) { env_ = std::move(env); }
    void kill_hard();  // SIGKILL, as a crash would
    int terminate();   // SIGTERM; returns the exit code
    bool running() const { return pid_ > 0; }

    const std::string& url() const { return url_; }
    const std::filesystem::path& data_dir() const { return data_dir_; }
    // A private folder for clients' configuration (XDG_CONFIG_HOME).
    std::filesystem::path config_home() const { return root_ / "config"; }
    const std::string& ca_file() const { return cert_; }
    pid_t pid() const { return pid_; }
    // Everything the server wrote to stderr, over all its starts (shown when
    // a test fails).
    std::string log() const;
    std::string http_get(const std::string& path) const;  // status line + body
    // The same on the admin listener (/metrics, /healthz, /readyz).
    std::string admin_get(const std::string& path) const;
    const std::string& admin_url() const { return admin_url_; }
    // Sends raw bytes on a fresh connection; returns everything read back.
    std::string http_raw(const std::string& request) const;

    // `relais-server user add NAME` with password "pw-NAME".
    void add_user(const std::string& name) const;
    static std::string password_of(const std::string& name) { return "pw-" + name; }
    // `relais-server user add-bots PREFIX --count N`: names and their tokens.
    std::vector<std::pair<std::string, std::string>> add_bots(const std::string& prefix,
                                                              int count) const;

    client::options client_options() const;

  private:
    std::filesystem::path root_;
    std::filesystem::path data_dir_;
    std::vector<std::string> extra_args_;
    std::string cert_, key_;
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::string url_;
    std::string admin_url_;
    std::vector<std::string> env_;
    std::string http_raw(const std::string& request, const std::string& url) const;
};

// Server flags that lift every rate limit, for tests that send or connect
// much faster than a person does.
inline const std::vector<std::string> unthrottled = {
    "--send-rate",        "100000", "--send-burst",  "100000", "--connection-rate", "100000",
    "--connection-burst", "100000", "--accept-rate", "100000", "--accept-burst",    "100000"};

std::string server_binary();
std::string cli_binary();

// gtest's ASSERT_* macros `return`, which a coroutine cannot: these record
// the failure and end the test by throwing, which run_sync passes on.
struct test_aborted : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <class T>
std::string describe_value(const T& value) {
    if constexpr (requires { value.error().message; }) {
        return value ? "" : ": " + value.error().message;
    } else {
        return "";
    }
}

template <class T>
void require(const T& value, const std::string& what,
             std::source_location where = std::source_location::current()) {
    if (!value) {
        ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line()))
            << "required: " << what << describe_value(value);
        throw test_aborted(what);
    }
}

template <class A, class B>
void require_eq(const A& a, const B& b, const std::string& what,
                std::source_location where = std::source_location::current()) {
    if (!(a == b)) {
        ADD_FAILURE_AT(where.file_name(), static_cast<int>(where.line()))
            << what << ": " << ::testing::PrintToString(a) << " != " << ::testing::PrintToString(b);
        throw test_aborted(what);
    }
}

// Runs a coroutine to its end on a fresh io_context and returns its value.
template <class T>
T run_sync(asio::awaitable<T> body) {
    asio::io_context io;
    auto future = asio::co_spawn(io, std::move(body), asio::use_future);
    io.run();
    return future.get();
}

// Polls `done` every few milliseconds, without blocking the io_context,
// until it holds or `timeout` passes; returns its last value.
template <class Predicate>
asio::awaitable<bool> wait_until(Predicate done, std::chrono::milliseconds timeout) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
        timer.expires_after(std::chrono::milliseconds(5));
        co_await timer.async_wait(asio::use_awaitable);
    }
    co_return done();
}

// A connected, logged-in client (fails the test otherwise).
asio::awaitable<std::unique_ptr<client::client>> logged_in(const server_process& server,
                                                           const std::string& name,
                                                           client::options opts);
asio::awaitable<std::unique_ptr<client::client>> logged_in(const server_process& server,
                                                           const std::string& name);
// A connected client with a session resumed from a bot's token.
asio::awaitable<std::unique_ptr<client::client>> resumed(const std::string& token,
                                                         client::options opts);

}  // namespace relais::testing
