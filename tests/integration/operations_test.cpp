// What an administrator running the server under systemd relies on: the
// admin listener's /metrics (read by Prometheus' own parser), /healthz and
// /readyz, the READY=1 that makes `systemctl start` return, and SIGHUP
// reading a renewed TLS certificate without dropping anyone.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/integration/harness.hpp"

namespace relais::testing {
namespace {

// Each sample of /metrics as Prometheus' parser read it, by
// "sample_name{label=value,...}"; the parser's refusal fails the test.
std::map<std::string, double> parsed_metrics(const server_process& server,
                                             std::map<std::string, std::string>* types = nullptr) {
    const auto response = server.admin_get("/metrics");
    EXPECT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response;
    EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
              std::string::npos)
        << response;
    const auto body = response.substr(response.find("\r\n\r\n") + 4);
    auto parsed = run_program({"/usr/bin/python3", std::string(RELAIS_SOURCE_DIR) +
                                                       "/tests/integration/parse_metrics.py"},
                              body);
    EXPECT_EQ(parsed.exit_code, 0) << parsed.err << "\n" << body;
    std::map<std::string, double> samples;
    std::istringstream lines(parsed.out);
    std::string family, type, name, labels;
    double value = 0;
    while (lines >> family >> type >> name >> labels >> value) {
        samples[labels == "{}" ? name : name + labels] = value;
        if (types) {
            (*types)[family] = type;
        }
    }
    return samples;
}

TEST(operations, metrics_parse_with_prometheus_parser_and_count_what_happened) {
    server_process server;
    server.add_user("alice");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto opts = server.client_options();
        client::client c(co_await asio::this_coro::executor, opts);
        require(co_await c.connect(), "connect");
        EXPECT_FALSE(co_await c.login("alice", "pas-le-bon"));
        require(co_await c.login("alice", server_process::password_of("alice")), "login");
        require(co_await c.create_channel("atelier", "", false), "channel");
        for (int i = 0; i < 3; ++i) {
            require(co_await c.send(client::client::by_name("atelier"), "bonjour"), "send");
        }
        EXPECT_FALSE(co_await c.join(client::client::by_name("nulle-part")));
        std::map<std::string, std::string> types;
        auto m = parsed_metrics(server, &types);
        EXPECT_EQ(m["relais_connections"], 1);
        EXPECT_EQ(m["relais_logged_in_connections"], 1);
        EXPECT_EQ(m["relais_logins_total"], 1);
        EXPECT_EQ(m["relais_login_failures_total"], 1);
        EXPECT_EQ(m["relais_messages_sent_total"], 3);
        EXPECT_EQ(m["relais_requests_total{code=ok,kind=send_message}"], 3);
        EXPECT_EQ(m["relais_requests_total{code=unauthenticated,kind=login}"], 1);
        EXPECT_EQ(m["relais_requests_total{code=not_found,kind=join_channel}"], 1);
        // The channel's creation and the three messages, to alice's one connection.
        EXPECT_GE(m["relais_deliveries_total"], 4);
        EXPECT_EQ(m["relais_rate_limited_requests_total"], 0);
        EXPECT_EQ(m["relais_slow_reader_closes_total"], 0);
        EXPECT_EQ(m["relais_outbound_queue_bytes"], 0);
        // Every write is a commit: the channel and the messages at least.
        EXPECT_GE(m["relais_commit_seconds_count"], 4);
        EXPECT_EQ(m["relais_commit_seconds_bucket{le=+Inf}"], m["relais_commit_seconds_count"]);
        EXPECT_GT(m["relais_commit_seconds_sum"], 0);
        EXPECT_EQ(m["relais_commit_group_jobs_count"], m["relais_commit_seconds_count"]);
        EXPECT_GT(m["relais_database_bytes"], 0);
        EXPECT_GT(m["relais_wal_bytes"], 0);
        EXPECT_EQ(types["relais_requests"], "counter");
        EXPECT_EQ(types["relais_commit_seconds"], "histogram");
        EXPECT_EQ(types["relais_checkpoint_seconds"], "histogram");
        EXPECT_EQ(types["relais_outbound_queue_bytes"], "gauge");
        co_await c.close();
    }());
}

TEST(operations,
     the_admin_listener_answers_health_and_readiness_and_metrics_stay_off_the_public_port) {
    server_process server;
    server.start();
    EXPECT_EQ(server.admin_url().rfind("http://127.0.0.1:", 0), 0u) << server.admin_url();
    EXPECT_EQ(server.admin_get("/healthz").rfind("HTTP/1.1 200 OK", 0), 0u);
    const auto ready = server.admin_get("/readyz");
    EXPECT_EQ(ready.rfind("HTTP/1.1 200 OK", 0), 0u) << ready;
    EXPECT_NE(ready.find("ready\n"), std::string::npos);
    EXPECT_EQ(server.admin_get("/nothing").rfind("HTTP/1.1 404", 0), 0u);
    EXPECT_EQ(server.http_get("/metrics").rfind("HTTP/1.1 404", 0), 0u);
    // A HEAD from a load balancer's check gets the status alone.
    const auto head = server.http_raw("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(head.rfind("HTTP/1.1 200 OK", 0), 0u) << head;
    EXPECT_EQ(head.substr(head.find("\r\n\r\n") + 4), "");
}

TEST(operations, a_taken_admin_port_stops_the_start_with_the_option_to_change) {
    server_process first;
    first.start();
    const auto admin = first.admin_url().substr(std::string("http://").size());
    server_process unused;  // only for its data folder
    auto second = run_program({server_binary(), "serve", "--data", unused.data_dir().string(),
                               "--listen", "127.0.0.1:0", "--admin-listen", admin});
    EXPECT_EQ(second.exit_code, 1);
    EXPECT_EQ(second.err, "relais-server: cannot listen on " + admin +
                              " (the admin listener): Address already in use (another server "
                              "already uses this port: stop it or pass --admin-listen)\n");
    EXPECT_EQ(second.out, "");
}

// systemd's side of Type=notify: a datagram socket named by NOTIFY_SOCKET.
class notify_socket {
  public:
    explicit notify_socket(const std::filesystem::path& path) : path_(path) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
        EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        timeval wait{10, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
    }
    ~notify_socket() {
        ::close(fd_);
        std::filesystem::remove(path_);
    }
    std::string next() {
        char buffer[1024];
        const auto n = ::recv(fd_, buffer, sizeof buffer, 0);
        return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
    }

  private:
    std::filesystem::path path_;
    int fd_ = -1;
};

TEST(operations, systemd_hears_ready_once_the_server_listens_and_stopping_at_the_end) {
    server_process server;
    const auto path = server.data_dir().parent_path() / "notify.sock";
    notify_socket systemd(path);
    server.set_environment({"NOTIFY_SOCKET=" + path.string()});
    server.start();
    EXPECT_EQ(systemd.next(), "READY=1\nSTATUS=listening on " + server.url());
    EXPECT_EQ(server.terminate(), 0);
    EXPECT_EQ(systemd.next(), "STOPPING=1");
}

void make_certificate(const server_process& server, const std::string& name) {
    auto r = run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
                          server.ca_file() + ".key-new", "-out", server.ca_file() + ".new", "-days",
                          "2", "-subj", "/CN=" + name, "-addext",
                          "subjectAltName=IP:127.0.0.1,DNS:localhost"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // As certbot does: the new files replace the old ones whole.
    const auto key = std::filesystem::path(server.ca_file()).parent_path() / "key.pem";
    std::filesystem::rename(server.ca_file() + ".key-new", key);
    std::filesystem::rename(server.ca_file() + ".new", server.ca_file());
}

bool log_has(const server_process& server, const std::string& text) {
    for (int i = 0; i < 500; ++i) {
        if (server.log().find(text) != std::string::npos) {
            return true;
        }
        usleep(10'000);
    }
    return false;
}

TEST(operations, sighup_serves_a_renewed_certificate_to_new_connections_and_keeps_open_ones) {
    server_process server({}, /*tls=*/true);
    server.add_user("alice");
    server.add_user("bob");
    server.start();
    run_sync([&]() -> asio::awaitable<void> {
        auto before = co_await logged_in(server, "alice");
        require(co_await before->create_channel("atelier", "", false), "channel");
        const auto first_ca = server.ca_file() + ".first";
        std::filesystem::copy_file(server.ca_file(), first_ca);

        make_certificate(server, "renouvele");
        ::kill(server.pid(), SIGHUP);
        require(log_has(server, "event=reload tls_cert="), "the reload is logged");
        // The new certificate is the one a new connection must trust now...
        auto after = co_await logged_in(server, "bob");
        require(co_await after->join(client::client::by_name("atelier")), "join");
        // ...and the old one no longer passes.
        auto old_trust = server.client_options();
        old_trust.ca_file = first_ca;
        old_trust.reconnect = false;
        client::client stale(co_await asio::this_coro::executor, old_trust);
        EXPECT_FALSE(co_await stale.connect());
        // The connection opened before the reload still works.
        require(co_await before->send(client::client::by_name("atelier"), "toujours la"),
                "send on the connection opened before the reload");

        // A broken renewal: the server says so and keeps the last good pair.
        const auto second_ca = server.ca_file() + ".second";
        std::filesystem::copy_file(server.ca_file(), second_ca);
        std::ofstream(server.ca_file(), std::ios::trunc) << "pas un certificat\n";
        ::kill(server.pid(), SIGHUP);
        require(log_has(server, "event=reload_failed"), "the failed reload is logged");
        auto still = server.client_options();
        still.ca_file = second_ca;
        auto later = co_await logged_in(server, "bob", still);
        require(co_await later->send(client::client::by_name("atelier"), "encore"),
                "send after a failed reload");
    }());
    EXPECT_NE(server.log().find("the previous certificate stays in use"), std::string::npos)
        << server.log();
}

}  // namespace
}  // namespace relais::testing
