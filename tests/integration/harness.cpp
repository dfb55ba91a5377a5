#include "tests/integration/harness.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;

namespace relais::testing {
namespace {

std::string read_all(int fd) {
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    for (auto& s : v) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

// Children get `env`, then the runner's environment without what configures
// a Relais client: a developer who followed the README's quick start has
// RELAIS_SERVER, RELAIS_USER and RELAIS_PASSWORD exported, and a test that
// means to run without a password must not log in with theirs.
// `own_session`: no controlling terminal, so a client that asks for a
// password fails at once instead of waiting on the runner's terminal.
pid_t spawn(std::vector<std::string> argv, int in_fd, int out_fd, int err_fd,
            std::vector<std::string> env, bool own_session = false) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (in_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, in_fd, 0);
    }
    if (out_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, out_fd, 1);
    }
    if (err_fd >= 0) {
        posix_spawn_file_actions_adddup2(&actions, err_fd, 2);
    }
    for (char** e = environ; *e; ++e) {
        const std::string_view var(*e);
        if (!var.starts_with("RELAIS_") && !var.starts_with("XDG_CONFIG_HOME=")) {
            env.emplace_back(var);
        }
    }
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    if (own_session) {
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
    }
    auto args = c_strings(argv);
    auto envp = c_strings(env);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, args[0], &actions, &attributes, args.data(), envp.data());
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

std::string server_binary() {
    return RELAIS_SERVER_BINARY;
}

std::string cli_binary() {
    return RELAIS_CLI_BINARY;
}

run_result run_program(const std::vector<std::string>& argv, const std::string& input,
                       const std::vector<std::string>& env) {
    int in[2], out[2], err[2];
    if (::pipe2(in, O_CLOEXEC) || ::pipe2(out, O_CLOEXEC) || ::pipe2(err, O_CLOEXEC)) {
        throw std::runtime_error("pipe failed");
    }
    pid_t pid = spawn(argv, in[0], out[1], err[1], env, /*own_session=*/true);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    std::thread writer([&] {
        (void)!::write(in[1], input.data(), input.size());
        ::close(in[1]);
    });
    run_result r;
    std::thread err_reader([&] { r.err = read_all(err[0]); });
    r.out = read_all(out[0]);
    err_reader.join();
    writer.join();
    ::close(out[0]);
    ::close(err[0]);
    r.exit_code = wait_exit(pid);
    return r;
}

server_process::server_process(std::vector<std::string> extra_args, bool tls)
    : extra_args_(std::move(extra_args)) {
    std::string pattern = (std::filesystem::temp_directory_path() / "relais-it-XXXXXX").string();
    root_ = ::mkdtemp(pattern.data());
    data_dir_ = root_ / "data";
    if (tls) {
        cert_ = (root_ / "cert.pem").string();
        key_ = (root_ / "key.pem").string();
        auto r = run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key_, "-out",
                              cert_, "-days", "2", "-subj", "/CN=localhost", "-addext",
                              "subjectAltName=IP:127.0.0.1,DNS:localhost"});
        if (r.exit_code != 0) {
            throw std::runtime_error("openssl could not make a test certificate: " + r.err);
        }
    }
}

server_process::~server_process() {
    if (pid_ > 0) {
        kill_hard();
    }
    if (::testing::Test::HasFailure()) {
        std::fprintf(stderr, "--- relais-server's log ---\n%s---\n", log().c_str());
    }
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
}

void server_process::start() {
    int out[2];
    if (::pipe2(out, O_CLOEXEC)) {
        throw std::runtime_error("pipe failed");
    }
    // A restart listens where the first start did, so that clients can come back.
    const std::string listen =
        url_.empty() ? "127.0.0.1:0" : "127.0.0.1:" + url_.substr(url_.rfind(':') + 1);
    std::vector<std::string> argv = {server_binary(), "serve", "--data",         data_dir_.string(),
                                     "--listen",      listen,  "--admin-listen", "127.0.0.1:0"};
    if (!cert_.empty()) {
        argv.insert(argv.end(), {"--tls-cert", cert_, "--tls-key", key_});
    }
    argv.insert(argv.end(), extra_args_.begin(), extra_args_.end());
    int log_fd =
        ::open((root_ / "server.log").c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    pid_ = spawn(argv, -1, out[1], log_fd, env_);
    ::close(out[1]);
    ::close(log_fd);
    stdout_fd_ = out[0];
    // The server says where it listens once it accepts connections, then
    // where its admin listener does.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    auto next_line = [&] {
        std::string line;
        char c;
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{stdout_fd_, POLLIN, 0};
            if (::poll(&p, 1, 100) <= 0) {
                continue;
            }
            if (::read(stdout_fd_, &c, 1) != 1 || c == '\n') {
                break;
            }
            line.push_back(c);
        }
        return line;
    };
    const std::string prefix = "listening on ", admin_prefix = "admin listening on ";
    auto line = next_line();
    if (line.rfind(prefix, 0) != 0) {
        throw std::runtime_error("relais-server did not start: '" + line + "'");
    }
    url_ = line.substr(prefix.size());
    line = next_line();
    if (line.rfind(admin_prefix, 0) != 0) {
        throw std::runtime_error("relais-server's admin listener did not start: '" + line + "'");
    }
    admin_url_ = line.substr(admin_prefix.size());
}

void server_process::kill_hard() {
    ::kill(pid_, SIGKILL);
    wait_exit(pid_);
    pid_ = -1;
    ::close(stdout_fd_);
}

int server_process::terminate() {
    ::kill(pid_, SIGTERM);
    int code = wait_exit(pid_);
    pid_ = -1;
    ::close(stdout_fd_);
    return code;
}

std::string server_process::log() const {
    int fd = ::open((root_ / "server.log").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return {};
    }
    auto text = read_all(fd);
    ::close(fd);
    return text;
}

std::string server_process::http_get(const std::string& path) const {
    return http_raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
}

std::string server_process::admin_get(const std::string& path) const {
    return http_raw("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
                    admin_url_);
}

std::string server_process::http_raw(const std::string& request) const {
    return http_raw(request, url_);
}

std::string server_process::http_raw(const std::string& request, const std::string& url) const {
    auto port = std::stoi(url.substr(url.rfind(':') + 1));
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(fd);
        return {};
    }
    (void)!::write(fd, request.data(), request.size());
    // A WebSocket upgrade stays open: read what arrives within a moment.
    timeval wait{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    auto response = read_all(fd);
    ::close(fd);
    return response;
}

void server_process::add_user(const std::string& name) const {
    auto r = run_program({server_binary(), "user", "add", name, "--data", data_dir_.string()},
                         password_of(name) + "\n");
    if (r.exit_code != 0) {
        throw std::runtime_error("user add " + name + " failed: " + r.err);
    }
}

std::vector<std::pair<std::string, std::string>> server_process::add_bots(const std::string& prefix,
                                                                          int count) const {
    auto r = run_program({server_binary(), "user", "add-bots", prefix, "--count",
                          std::to_string(count), "--data", data_dir_.string()});
    if (r.exit_code != 0) {
        throw std::runtime_error("user add-bots failed: " + r.err);
    }
    std::vector<std::pair<std::string, std::string>> bots;
    std::istringstream lines(r.out);
    std::string name, token;
    while (lines >> name >> token) {
        bots.emplace_back(name, token);
    }
    return bots;
}

client::options server_process::client_options() const {
    client::options o;
    o.url = url_;
    o.ca_file = cert_;
    o.client_name = "relais-integration-test";
    o.max_backoff = std::chrono::milliseconds(500);
    return o;
}

asio::awaitable<std::unique_ptr<client::client>> logged_in(const server_process&,
                                                           const std::string& name,
                                                           client::options opts) {
    auto c = std::make_unique<client::client>(co_await asio::this_coro::executor, opts);
    auto welcome = co_await c->connect();
    EXPECT_TRUE(welcome) << (welcome ? "" : welcome.error().message);
    auto session = co_await c->login(name, server_process::password_of(name));
    EXPECT_TRUE(session) << (session ? "" : session.error().message);
    co_return c;
}

asio::awaitable<std::unique_ptr<client::client>> resumed(const std::string& token,
                                                         client::options opts) {
    auto c = std::make_unique<client::client>(co_await asio::this_coro::executor, opts);
    auto welcome = co_await c->connect();
    EXPECT_TRUE(welcome) << (welcome ? "" : welcome.error().message);
    auto session = co_await c->resume(token);
    EXPECT_TRUE(session) << (session ? "" : session.error().message);
    co_return c;
}

asio::awaitable<std::unique_ptr<client::client>> logged_in(const server_process& server,
                                                           const std::string& name) {
    co_return co_await logged_in(server, name, server.client_options());
}

}  // namespace relais::testing
