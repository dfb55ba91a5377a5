// relais-server: configuration and wiring. The only file that names the
// SQLite store.
#include <boost/program_options.hpp>

#include <systemd/sd-daemon.h>

#include <malloc.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "server/core/accounts.hpp"
#include "server/core/clock.hpp"
#include "server/core/credentials.hpp"
#include "server/core/log.hpp"
#include "server/core/metrics.hpp"
#include "server/core/service.hpp"
#include "server/core/validation.hpp"
#include "server/net/delivery_batch.hpp"
#include "server/net/server.hpp"
#include "storage/files/file_store.hpp"
#include "storage/sqlite/maintenance.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace po = boost::program_options;

namespace {

constexpr const char* version = "relais-server 0.1.0";

int usage(std::ostream& out, int code) {
    out << "usage:\n"
           "  relais-server serve [--data DIR] [--listen HOST:PORT] [--tls-cert PEM --tls-key "
           "PEM]\n"
           "                      [--config FILE] [options]\n"
           "  relais-server user add NAME [--data DIR] [--role mediator|coordinator|admin]\n"
           "                      [--display-name TEXT] [--structure TEXT] [--commune INSEE]\n"
           "                      (password on stdin, one line)\n"
           "  relais-server user profile NAME [--structure TEXT] [--commune INSEE] [--data DIR]\n"
           "  relais-server user list [--data DIR]\n"
           "  relais-server user disable NAME [--data DIR]\n"
           "  relais-server user enable NAME [--data DIR]\n"
           "  relais-server user passwd NAME [--data DIR]   (password on stdin, one line)\n"
           "  relais-server user erase NAME [--remove-messages] [--data DIR]\n"
           "                      (GDPR erasure, server stopped: messages become tombstones,\n"
           "                      or with --remove-messages leave nothing but their seqs)\n"
           "  relais-server user add-bots PREFIX --count N [--data DIR]\n"
           "                      (accounts for bots and load tests: prints NAME TOKEN lines)\n"
           "  relais-server vocabulary list [--data DIR]\n"
           "  relais-server vocabulary add theme|audience SLUG --fr LABEL [--en LABEL] [--data "
           "DIR]\n"
           "                      (the themes and audiences resources may carry)\n"
           "  relais-server template list [--data DIR]\n"
           "  relais-server template add FILE.json [--data DIR]\n"
           "  relais-server template remove NAME [--data DIR]\n"
           "                      (the agendas practice-exchange sessions start from)\n"
           "  relais-server invitation create [--uses N] [--expires DAYS] [--role ROLE]\n"
           "                      [--channel NAME]... [--data DIR]   (prints the code)\n"
           "  relais-server invitation list [--data DIR]\n"
           "  relais-server invitation revoke CODE [--data DIR]\n"
           "  relais-server audit [--limit N] [--data DIR]\n"
           "  relais-server backup --data DIR FILE      (a consistent copy, while serving)\n"
           "  relais-server backup --data DIR [--keep N] FOLDER\n"
           "                      (a dated copy in FOLDER; only the N newest stay)\n"
           "  relais-server restore FILE --data DIR     (refused while a server uses DIR)\n"
           "  relais-server integrity --data DIR\n"
           "  relais-server check-config FILE           (each error with its line)\n"
           "  relais-server serve --help                    (every server option)\n";
    return code;
}

struct serve_options {
    std::string data = "data";
    std::string listen = "127.0.0.1:7680";
    std::string admin_listen = "127.0.0.1:7681";
    std::string tls_cert;
    std::string tls_key;
    std::string durability = "full";
    std::size_t threads = 0;
    std::size_t reader_threads = 2;
    std::vector<std::string> allowed_origins;
    relais::protocol::limits limits;
    std::size_t max_queue_bytes = 4 * 1024 * 1024;
    std::size_t max_queue_frames = 8192;
    double connection_rate = 100;
    double connection_burst = 400;
    double accept_rate = 20;
    double accept_burst = 60;
    std::string log_level = "info";
    std::uint64_t max_attachment_mb = 20;
    std::uint64_t attachment_quota_mb = 1024;
};

po::options_description serve_description(serve_options& o) {
    po::options_description d("relais-server serve options (also valid in --config files)");
    auto& l = o.limits;
    d.add_options()("data", po::value(&o.data)->default_value(o.data),
                    "data folder (SQLite database)")(
        "listen", po::value(&o.listen)->default_value(o.listen),
        "HOST:PORT to listen on; port 0 picks a free one")(
        "admin-listen", po::value(&o.admin_listen)->default_value(o.admin_listen),
        "HOST:PORT of the admin listener (/metrics, /healthz, /readyz; plain HTTP, keep it "
        "on 127.0.0.1); off for none")("tls-cert", po::value(&o.tls_cert),
                                       "PEM certificate chain: serve wss:// instead of ws://")(
        "tls-key", po::value(&o.tls_key), "PEM private key for --tls-cert")(
        "durability", po::value(&o.durability)->default_value(o.durability),
        "full (fsync every commit) or normal")("threads",
                                               po::value(&o.threads)->default_value(o.threads),
                                               "network threads; 0 = one per core")(
        "log-level", po::value(&o.log_level)->default_value(o.log_level),
        "debug, info, warn or error: the least severe log lines written to stderr")(
        "reader-threads", po::value(&o.reader_threads)->default_value(o.reader_threads),
        "storage reader threads")("allowed-origin", po::value(&o.allowed_origins)->composing(),
                                  "browser Origin allowed to connect (repeatable)")(
        "max-frame-bytes", po::value(&l.max_frame_bytes)->default_value(l.max_frame_bytes),
        "largest WebSocket message accepted")(
        "max-text-bytes", po::value(&l.max_text_bytes)->default_value(l.max_text_bytes),
        "longest message text")("max-page-size",
                                po::value(&l.max_page_size)->default_value(l.max_page_size),
                                "most events in one history or sync page")(
        "send-rate", po::value(&l.send_rate_per_second)->default_value(l.send_rate_per_second),
        "messages per second per account, sustained")(
        "send-burst", po::value(&l.send_burst)->default_value(l.send_burst),
        "messages an account may send at once")(
        "idle-timeout", po::value(&l.idle_timeout_seconds)->default_value(l.idle_timeout_seconds),
        "seconds of silence before a ping, then a close")(
        "connection-rate", po::value(&o.connection_rate)->default_value(o.connection_rate),
        "requests per second per connection, sustained")(
        "connection-burst", po::value(&o.connection_burst)->default_value(o.connection_burst),
        "requests a connection may make at once")(
        "accept-rate", po::value(&o.accept_rate)->default_value(o.accept_rate),
        "new connections per second per remote address, sustained")(
        "accept-burst", po::value(&o.accept_burst)->default_value(o.accept_burst),
        "new connections a remote address may open at once")(
        "max-queue-bytes", po::value(&o.max_queue_bytes)->default_value(o.max_queue_bytes),
        "outbound bytes queued per connection before it is cut off")(
        "max-queue-frames", po::value(&o.max_queue_frames)->default_value(o.max_queue_frames),
        "outbound messages queued per connection before it is cut off")(
        "max-attachment-mb", po::value(&o.max_attachment_mb)->default_value(o.max_attachment_mb),
        "largest attached file, in MiB; 0 turns attachments off")(
        "attachment-quota-mb",
        po::value(&o.attachment_quota_mb)->default_value(o.attachment_quota_mb),
        "all of one account's attached files together, in MiB");
    return d;
}

relais::storage::sqlite::options store_options(const std::string& data,
                                               const std::string& durability, std::size_t readers) {
    relais::storage::sqlite::options opts;
    opts.data_dir = data;
    opts.reader_threads = readers;
    opts.report_error = [](std::string_view event, std::string_view detail) {
        namespace log = relais::core::log;
        log::write(log::level::error, event, {{"error", detail}});
    };
    if (durability == "full") {
        opts.durability = relais::storage::sqlite::connection::durability::full;
    } else if (durability == "normal") {
        opts.durability = relais::storage::sqlite::connection::durability::normal;
    } else {
        throw std::invalid_argument("--durability must be full or normal, not '" + durability +
                                    "'");
    }
    return opts;
}

std::pair<std::string, std::uint16_t> split_host_port(const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
        throw std::invalid_argument("--listen must be HOST:PORT, not '" + listen + "'");
    }
    std::string host = listen.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    int port = std::stoi(listen.substr(colon + 1));
    if (port < 0 || port > 65535) {
        throw std::invalid_argument("port out of range in --listen '" + listen + "'");
    }
    if (host == "localhost") {
        host = "127.0.0.1";
    }
    return {host, static_cast<std::uint16_t>(port)};
}

// What is wrong with a configuration file, one line each, "FILE:LINE: ...":
// an unknown option, a value of the wrong type or outside the allowed ones,
// an option set twice, a file that cannot be read. `serve --config` refuses
// to start on the same words.
std::vector<std::string> config_problems(const std::string& file,
                                         const po::options_description& d) {
    std::vector<std::string> problems;
    std::ifstream in(file);
    if (!in) {
        return {file + ": cannot read it"};
    }
    std::map<std::string, int> seen;
    std::string tls_cert, tls_key;
    int tls_cert_line = 0;
    std::string line;
    for (int n = 1; std::getline(in, line); ++n) {
        auto at = [&](const std::string& what) {
            problems.push_back(file + ":" + std::to_string(n) + ": " + what);
        };
        if (auto hash = line.find('#'); hash != std::string::npos) {
            line.erase(hash);
        }
        auto trim = [](std::string t) {
            t.erase(0, t.find_first_not_of(" \t\r"));
            t.erase(t.find_last_not_of(" \t\r") + 1);
            return t;
        };
        line = trim(line);
        if (line.empty()) {
            continue;
        }
        const auto equals = line.find('=');
        if (equals == std::string::npos) {
            at("'" + line + "' is not 'option = value'");
            continue;
        }
        const auto key = trim(line.substr(0, equals));
        const auto value = trim(line.substr(equals + 1));
        const auto* option = d.find_nothrow(key, false);
        if (!option || key == "config" || key == "help") {
            at("unknown option '" + key + "' (relais-server serve --help lists them)");
            continue;
        }
        if (key != "allowed-origin") {
            if (auto earlier = seen.find(key); earlier != seen.end()) {
                at(key + " is set twice (first at line " + std::to_string(earlier->second) + ")");
                continue;
            }
        }
        seen.emplace(key, n);
        boost::any parsed;
        try {
            option->semantic()->parse(parsed, {value}, true);
        } catch (const std::exception&) {
            at(key + " = " + value + ": not a whole number");
            continue;
        }
        auto one_of = [&](std::initializer_list<const char*> allowed) {
            std::string names;
            for (const auto* a : allowed) {
                if (value == a) {
                    return;
                }
                names += names.empty() ? "" : ", ";
                names += a;
            }
            at(key + " must be one of " + names + ", not '" + value + "'");
        };
        if (key == "durability") {
            one_of({"full", "normal"});
        } else if (key == "log-level") {
            one_of({"debug", "info", "warn", "error"});
        } else if (key == "listen" || (key == "admin-listen" && value != "off")) {
            try {
                split_host_port(value);
            } catch (const std::exception&) {
                at(key + " must be HOST:PORT (port 0 to 65535)" +
                   (key == "admin-listen" ? " or off" : "") + ", not '" + value + "'");
            }
        } else if (key == "tls-cert" || key == "tls-key") {
            if (!std::ifstream(value)) {
                at(key + " = " + value + ": cannot read that file");
            }
            (key == "tls-cert" ? tls_cert : tls_key) = value;
            if (key == "tls-cert") {
                tls_cert_line = n;
            }
        } else if (value.empty()) {
            at(key + " has no value");
        }
    }
    if (tls_cert.empty() != tls_key.empty()) {
        problems.push_back(file + ":" + std::to_string(tls_cert_line ? tls_cert_line : 1) +
                           ": tls-cert and tls-key go together");
    }
    return problems;
}

int check_config(int argc, char** argv) {
    if (argc != 2) {
        return usage(std::cerr, 2);
    }
    serve_options o;
    auto d = serve_description(o);
    const auto problems = config_problems(argv[1], d);
    for (const auto& p : problems) {
        std::cout << p << "\n";
    }
    if (!problems.empty()) {
        return 1;
    }
    std::cout << argv[1] << ": ok\n";
    return 0;
}

// Process settings a busy server needs.
void tune_process() {
    // SQLite allocates and frees a savepoint's page bitmap for every write
    // job. With glibc's adaptive trim threshold, each free at the top of the
    // writer thread's arena gave the pages back to the kernel (one madvise
    // per message, 8% of the server's CPU under `relais-bench durable`) and
    // the next job faulted them in again. Fixed thresholds stop that.
    mallopt(M_TRIM_THRESHOLD, 32 << 20);
    mallopt(M_MMAP_THRESHOLD, 4 << 20);
    // One descriptor per connection: the usual soft limit of 1024 is far too
    // low; the hard limit is what the administrator allows.
    rlimit files{};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
        files.rlim_cur = files.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &files);
    }
}

int serve(int argc, char** argv) {
    tune_process();
    serve_options o;
    auto description = serve_description(o);
    std::string config_file;
    description.add_options()("config", po::value(&config_file),
                              "configuration file (key = value lines)")("help",
                                                                        "show these options");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, description), vm);
    if (vm.count("help")) {
        std::cout << description;
        return 0;
    }
    if (vm.count("config")) {
        const auto file = vm["config"].as<std::string>();
        if (auto problems = config_problems(file, serve_description(o)); !problems.empty()) {
            for (const auto& p : problems) {
                std::cerr << "relais-server: " << p << "\n";
            }
            std::cerr << "relais-server: not started; relais-server check-config " << file
                      << " says the same\n";
            return 2;
        }
        po::store(po::parse_config_file(file.c_str(), description), vm);
    }
    po::notify(vm);
    if (o.tls_cert.empty() != o.tls_key.empty()) {
        throw std::invalid_argument("--tls-cert and --tls-key go together");
    }
    if (auto level = relais::core::log::parse_level(o.log_level)) {
        relais::core::log::set_min_level(*level);
    } else {
        throw std::invalid_argument("--log-level must be debug, info, warn or error, not '" +
                                    o.log_level + "'");
    }

    relais::core::metrics::service_metrics metrics;
    auto opts = store_options(o.data, o.durability, o.reader_threads);
    // What one group commit or one read job delivers leaves together.
    opts.callback_scope = relais::net::deliver_in_one_batch;
    opts.on_commit = [&metrics](std::size_t jobs, double seconds) {
        metrics.commit_group_size.observe(static_cast<double>(jobs));
        metrics.commit_seconds.observe(seconds);
    };
    opts.on_checkpoint = [&metrics](double seconds) {
        metrics.checkpoint_seconds.observe(seconds);
    };
    relais::storage::sqlite::sqlite_store store(std::move(opts));
    relais::core::system_clock clock;
    relais::core::service_config sc;
    sc.limits = o.limits;
    sc.limits.max_attachment_bytes = o.max_attachment_mb * 1024 * 1024;
    sc.limits.attachment_quota_bytes = o.attachment_quota_mb * 1024 * 1024;
    // A chunk and its request's other fields fit one frame.
    sc.limits.attachment_chunk_bytes = std::min<std::uint32_t>(
        sc.limits.attachment_chunk_bytes,
        sc.limits.max_frame_bytes > 8192 ? sc.limits.max_frame_bytes - 4096 : 4096);
    std::optional<relais::storage::file_store> files;
    if (o.max_attachment_mb != 0) {
        files.emplace(o.data);
        sc.files = &*files;
    }
    sc.server_version = version;
    sc.connection_requests = {o.connection_rate, o.connection_burst};
    sc.metrics = &metrics;
    relais::core::service service(store, clock, sc);
    service.start();

    relais::net::server_config nc;
    std::tie(nc.host, nc.port) = split_host_port(o.listen);
    if (!o.tls_cert.empty()) {
        nc.tls = relais::net::tls_files{o.tls_cert, o.tls_key};
    }
    nc.allowed_origins = o.allowed_origins;
    nc.threads = o.threads;
    nc.max_queue_bytes = o.max_queue_bytes;
    nc.max_queue_frames = o.max_queue_frames;
    nc.accept_rate = o.accept_rate;
    nc.accept_burst = o.accept_burst;
    if (o.admin_listen != "off") {
        nc.admin = split_host_port(o.admin_listen);
    }
    const auto database = relais::storage::sqlite::sqlite_store::database_path(o.data);
    nc.more_metrics = [database](relais::core::metrics::text& out) {
        auto size = [](const std::filesystem::path& file) {
            std::error_code ec;
            const auto bytes = std::filesystem::file_size(file, ec);
            return ec ? std::uint64_t{0} : static_cast<std::uint64_t>(bytes);
        };
        out.family("relais_database_bytes", "gauge", "Size of the SQLite database file.");
        out.sample("relais_database_bytes", "", size(database));
        out.family("relais_wal_bytes", "gauge",
                   "Size of the SQLite write-ahead log (checkpoints copy it into the database).");
        out.sample("relais_wal_bytes", "", size(database.string() + "-wal"));
    };
    relais::net::server server(service, nc);
    server.listen();
    // Once listening (a second server on the same port says so first): one
    // server per data folder, and no restore under it.
    relais::storage::sqlite::data_lock lock(o.data);
    std::cout << "listening on " << server.url() << std::endl;
    if (const auto admin = server.admin_url(); !admin.empty()) {
        std::cout << "admin listening on " << admin << std::endl;
    }
    // Under systemd (Type=notify), `systemctl start` returns now; elsewhere
    // NOTIFY_SOCKET is unset and this does nothing.
    sd_notifyf(0, "READY=1\nSTATUS=listening on %s", server.url().c_str());
    server.run();
    sd_notify(0, "STOPPING=1");
    // File jobs answer through the service and write to the store: they
    // finish first, then the store's (a file job queued after is dropped).
    if (files) {
        files->close();
    }
    store.close();
    std::cerr << "relais-server stopped\n";
    return 0;
}

// The global roles as the command line names them.
std::optional<relais::v1::Role> role_named(const std::string& name) {
    if (name == "mediator") {
        return relais::v1::MEDIATOR;
    }
    if (name == "coordinator") {
        return relais::v1::COORDINATOR;
    }
    if (name == "admin") {
        return relais::v1::ADMIN;
    }
    return std::nullopt;
}

const char* role_word(relais::v1::Role role) {
    return role == relais::v1::ADMIN         ? "admin"
           : role == relais::v1::COORDINATOR ? "coordinator"
                                             : "mediator";
}

std::string read_password() {
    const bool tty = ::isatty(STDIN_FILENO);
    termios saved{};
    if (tty) {
        std::cerr << "password: " << std::flush;
        ::tcgetattr(STDIN_FILENO, &saved);
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string password;
    std::getline(std::cin, password);
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        std::cerr << "\n";
    }
    if (!password.empty() && password.back() == '\r') {
        password.pop_back();
    }
    return password;
}

int user_command(int argc, char** argv) {
    std::string action, name, data = "data", role_name = "mediator", display_name;
    std::optional<std::string> structure, commune;
    std::size_t count = 0;
    po::options_description d("relais-server user options");
    d.add_options()("data", po::value(&data)->default_value(data), "data folder")(
        "role", po::value(&role_name)->default_value(role_name), "mediator, coordinator or admin")(
        "display-name", po::value(&display_name), "name shown to others")(
        "structure", po::value<std::string>(), "where the person works")(
        "commune", po::value<std::string>(), "the INSEE code of their commune")(
        "count", po::value(&count)->default_value(0), "with add-bots: how many accounts")(
        "remove-messages", "with erase: remove the messages instead of leaving tombstones")(
        "action", po::value(&action), "add, add-bots, list, disable, enable, passwd or erase")(
        "name", po::value(&name), "user name");
    po::positional_options_description p;
    p.add("action", 1).add("name", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(d).positional(p).run(), vm);
    po::notify(vm);
    if (vm.count("structure")) {
        structure = vm["structure"].as<std::string>();
    }
    if (vm.count("commune")) {
        commune = vm["commune"].as<std::string>();
    }

    if (action.empty() || (action != "list" && name.empty())) {
        return usage(std::cerr, 2);
    }
    relais::storage::sqlite::sqlite_store store(store_options(data, "full", 1));
    relais::core::system_clock clock;
    relais::core::accounts accounts(store, clock, relais::protocol::limits{});
    auto report = [](const relais::failure& f) {
        std::cerr << "relais-server: " << f.message << "\n";
        return 1;
    };
    if (action == "list") {
        for (const auto& a : accounts.list()) {
            std::cout << a.name << "\t" << role_word(a.role) << "\t"
                      << (a.erased_at_ms != 0 ? "erased"
                          : a.disabled        ? "disabled"
                                              : "active")
                      << "\t" << a.display_name << "\n";
        }
        return 0;
    }
    if (action == "add-bots") {
        // `user add-bots PREFIX --count N`: the name slot holds the prefix.
        if (count == 0) {
            std::cerr << "relais-server: add-bots needs --count N\n";
            return 2;
        }
        auto bots = accounts.add_bots(name, count);
        if (!bots) {
            return report(bots.error());
        }
        for (const auto& bot : *bots) {
            std::cout << bot.name << " " << bot.token << "\n";
        }
        return 0;
    }
    if (action == "add") {
        const auto role = role_named(role_name);
        if (!role) {
            std::cerr << "relais-server: --role must be mediator, coordinator or admin\n";
            return 2;
        }
        auto added = accounts.add(name, read_password(), *role, display_name);
        if (!added) {
            return report(added.error());
        }
        if (structure || commune) {
            if (auto r = accounts.set_profile(name, structure, commune); !r) {
                return report(r.error());
            }
        }
        std::cout << "user " << added->name << " created\n";
        return 0;
    }
    if (action == "profile") {
        if (!structure && !commune) {
            std::cerr << "relais-server: user profile needs --structure or --commune\n";
            return 2;
        }
        if (auto r = accounts.set_profile(name, structure, commune); !r) {
            return report(r.error());
        }
        std::cout << "profile of " << name << " saved\n";
        return 0;
    }
    if (action == "disable" || action == "enable") {
        if (auto r = accounts.set_disabled(name, action == "disable"); !r) {
            return report(r.error());
        }
        std::cout << "user " << name << " " << action << "d\n";
        return 0;
    }
    if (action == "erase") {
        // Offline only: a serving server keeps names and memberships in
        // memory, which must not outlive the erasure; the lock also keeps
        // one from starting meanwhile.
        std::optional<relais::storage::sqlite::data_lock> lock;
        try {
            lock.emplace(data);
        } catch (const relais::storage::sqlite::maintenance_error&) {
            std::cerr << "relais-server: a server is serving " << data
                      << ": stop it (systemctl stop relais), erase, then start it again\n";
            return 1;
        }
        const bool remove = vm.count("remove-messages") != 0;
        using messages_become = relais::core::accounts::messages_become;
        auto erased =
            accounts.erase(name, remove ? messages_become::removed : messages_become::tombstones);
        if (!erased) {
            return report(erased.error());
        }
        // Their files, unless someone else's message carries the same bytes.
        relais::storage::file_collection gone;
        relais::storage::write_now(store, [&](relais::storage::writer& w) {
            gone = w.collect_files(clock.now_ms());
            return true;
        });
        {
            relais::storage::file_store files(data);
            for (const auto& id : gone.partial_uploads) {
                files.drop_partial(id);
            }
            for (const auto& sha256 : gone.files) {
                files.drop_file(sha256);
            }
        }
        std::cout << "user " << name << " erased: " << *erased
                  << (remove ? " message(s) removed (a thread's first message others "
                               "replied to stays as a tombstone)"
                             : " message(s) replaced by tombstones")
                  << ", profile, sessions and memberships gone, files scrubbed\n";
        // A restore moves the database it replaces aside, into the folder:
        // what it holds is out of the erasure's reach.
        for (const auto& entry : std::filesystem::directory_iterator(data)) {
            if (entry.is_directory() && entry.path().filename().string().starts_with("replaced-")) {
                std::cerr << "relais-server: " << entry.path().string()
                          << " holds a database from before a restore, with this account in "
                             "it: delete it for the erasure to be complete\n";
            }
        }
        return 0;
    }
    if (action == "passwd") {
        if (auto r = accounts.set_password(name, read_password()); !r) {
            return report(r.error());
        }
        std::cout << "password of " << name << " changed\n";
        return 0;
    }
    std::cerr << "relais-server: unknown user action '" << action << "'\n";
    return usage(std::cerr, 2);
}

// The themes and audiences resources may carry: data in the database, which
// an admin extends (a term added again gets the new labels).
int vocabulary_command(int argc, char** argv) {
    std::string action, list, slug, data = "data", label_fr, label_en;
    po::options_description d("relais-server vocabulary options");
    d.add_options()("data", po::value(&data)->default_value(data), "data folder")(
        "fr", po::value(&label_fr), "the label in French")(
        "en", po::value(&label_en), "the label in English (the French one if not given)")(
        "action", po::value(&action), "list or add")("list", po::value(&list), "theme or audience")(
        "slug", po::value(&slug), "what resources carry: lowercase ASCII, digits, '-'");
    po::positional_options_description p;
    p.add("action", 1).add("list", 1).add("slug", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(d).positional(p).run(), vm);
    po::notify(vm);
    if (action == "list" && list.empty()) {
        relais::storage::sqlite::sqlite_store store(store_options(data, "full", 1));
        for (const auto& t : relais::storage::read_now(
                 store, [](relais::storage::reader& r) { return r.vocabulary(); })) {
            std::cout << t.list << "\t" << t.slug << "\t" << t.label_fr << "\t" << t.label_en
                      << "\n";
        }
        return 0;
    }
    if (action != "add" || (list != "theme" && list != "audience") || slug.empty() ||
        label_fr.empty()) {
        return usage(std::cerr, 2);
    }
    const relais::protocol::limits limits;
    if (auto ok = relais::core::check_vocabulary_slug(slug, limits); !ok) {
        std::cerr << "relais-server: " << ok.error().message << "\n";
        return 2;
    }
    auto fr = relais::core::visible_name("label", label_fr, limits.max_title_bytes);
    auto en = relais::core::visible_name("label", label_en.empty() ? label_fr : label_en,
                                         limits.max_title_bytes);
    for (const auto* label : {&fr, &en}) {
        if (!*label || (*label)->empty()) {
            std::cerr << "relais-server: "
                      << (*label ? std::string("a label is empty") : label->error().message)
                      << "\n";
            return 2;
        }
    }
    relais::storage::sqlite::sqlite_store store(store_options(data, "full", 1));
    const bool stored = relais::storage::write_now(store, [&](relais::storage::writer& w) {
        w.add_vocabulary_term({list, slug, *fr, *en});
        return true;
    });
    if (!stored) {
        std::cerr << "relais-server: the term could not be saved\n";
        return 1;
    }
    std::cout << list << " " << slug << " saved\n";
    return 0;
}

// The agendas sessions start from: JSON files (storage/templates shows the
// shipped ones), checked as the server checks an agenda, kept in the database.
int template_command(int argc, char** argv) {
    std::string action, target, data = "data";
    po::options_description d("relais-server template options");
    d.add_options()("data", po::value(&data)->default_value(data), "data folder")(
        "action", po::value(&action), "list, add or remove")(
        "target", po::value(&target), "a JSON file (add), a template's name (remove)");
    po::positional_options_description p;
    p.add("action", 1).add("target", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(d).positional(p).run(), vm);
    po::notify(vm);
    const relais::protocol::limits limits;
    if (action == "list" && target.empty()) {
        relais::storage::sqlite::sqlite_store store(store_options(data, "full", 1));
        for (const auto& t : relais::storage::read_now(
                 store, [](relais::storage::reader& r) { return r.meeting_templates(); })) {
            auto parsed = relais::core::check_meeting_template(t.json, limits);
            std::cout << t.name << "\t"
                      << (parsed ? parsed->title() : "(" + parsed.error().message + ")") << "\t"
                      << (parsed ? parsed->phases_size() : 0) << " phases\n";
        }
        return 0;
    }
    if ((action != "add" && action != "remove") || target.empty()) {
        return usage(std::cerr, 2);
    }
    relais::storage::meeting_template t;
    if (action == "add") {
        std::ifstream in(target, std::ios::binary);
        if (!in) {
            std::cerr << "relais-server: cannot read " << target << "\n";
            return 2;
        }
        std::stringstream text;
        text << in.rdbuf();
        auto parsed = relais::core::check_meeting_template(text.str(), limits);
        if (!parsed) {
            std::cerr << "relais-server: " << target << ": " << parsed.error().message << "\n";
            return 2;
        }
        t = {parsed->name(), text.str()};
    }
    relais::storage::sqlite::sqlite_store store(store_options(data, "full", 1));
    bool found = true;
    const bool stored = relais::storage::write_now(store, [&](relais::storage::writer& w) {
        if (action == "add") {
            w.put_meeting_template(t);
        } else {
            found = w.remove_meeting_template(target);
        }
        return true;
    });
    if (!stored) {
        std::cerr << "relais-server: the change could not be saved\n";
        return 1;
    }
    if (!found) {
        std::cerr << "relais-server: no template '" << target << "'\n";
        return 1;
    }
    std::cout << "template " << (action == "add" ? t.name + " saved" : target + " removed") << "\n";
    return 0;
}

// "2026-12-08 14:05 UTC".
std::string utc_minute(std::int64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%d %H:%M UTC", &utc);
    return text;
}

// "2026-12-08T14:05:09Z".
std::string utc_second(std::int64_t ms) {
    const std::time_t t = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    ::gmtime_r(&t, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

// `relais-server audit [--limit N] --data DIR`: the audit log, newest
// first, one tab-separated line an entry.
int audit_command(int argc, char** argv) {
    std::string data = "data";
    std::uint32_t limit = 100;
    po::options_description d("relais-server audit options");
    d.add_options()("data", po::value(&data)->default_value(data), "data folder")(
        "limit", po::value(&limit)->default_value(limit), "how many entries, newest first");
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(d).run(), vm);
    po::notify(vm);
    namespace st = relais::storage;
    relais::storage::sqlite::sqlite_store store(store_options(data, "full", 1));
    st::read_now(store, [&](st::reader& r) {
        auto name = [&](st::user_id id) -> std::string {
            if (id == 0) {
                return "";
            }
            auto a = r.find_account(id);
            return a ? a->name : "#" + std::to_string(id);
        };
        for (const auto& a : r.audit_log(0, limit)) {
            std::string channel;
            if (a.channel != 0) {
                auto c = r.find_channel(a.channel);
                channel = c ? "#" + c->name : "#" + std::to_string(a.channel);
            }
            std::cout << a.id << "\t" << utc_second(a.at_ms) << "\t"
                      << (a.actor == 0 ? std::string("(server)") : name(a.actor)) << "\t"
                      << a.action << "\t" << name(a.subject) << "\t" << channel << "\t" << a.reason
                      << "\t" << a.detail << "\n";
        }
    });
    return 0;
}

// Invitations made on the server's machine (the first admin's, say): the
// same records as `relais invitation`, with no creator.
int invitation_command(int argc, char** argv) {
    std::string action, code, data = "data", role_name = "mediator";
    std::uint32_t uses = 1, days = 7;
    std::vector<std::string> channels;
    po::options_description d("relais-server invitation options");
    d.add_options()("data", po::value(&data)->default_value(data), "data folder")(
        "uses", po::value(&uses)->default_value(uses), "how many people may register with it")(
        "expires", po::value(&days)->default_value(days), "days it stays valid (at most 90)")(
        "role", po::value(&role_name)->default_value(role_name), "mediator, coordinator or admin")(
        "channel", po::value(&channels)->composing(), "a channel joined on registering")(
        "action", po::value(&action), "create, list or revoke")("code", po::value(&code),
                                                                "revoke: the code or its label");
    po::positional_options_description p;
    p.add("action", 1).add("code", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(d).positional(p).run(), vm);
    po::notify(vm);
    namespace st = relais::storage;
    if (action == "list" && code.empty()) {
        relais::storage::sqlite::sqlite_store store(store_options(data, "full", 1));
        st::read_now(store, [&](st::reader& r) {
            for (const auto& i : r.list_invitations()) {
                std::string names;
                for (auto id : i.channels) {
                    if (auto c = r.find_channel(id)) {
                        names += " #" + c->name;
                    }
                }
                auto by = i.created_by ? r.find_account(i.created_by) : std::nullopt;
                std::cout << i.label << "\t" << i.used << "/" << i.uses << "\t" << role_word(i.role)
                          << "\t"
                          << (i.revoked ? std::string("revoked")
                                        : "until " + utc_minute(i.expires_at_ms))
                          << "\t" << (by ? by->name : std::string("(server)")) << names << "\n";
            }
            return 0;
        });
        return 0;
    }
    if (action == "create" && code.empty()) {
        const auto role = role_named(role_name);
        if (!role) {
            std::cerr << "relais-server: --role must be mediator, coordinator or admin\n";
            return 2;
        }
        if (uses < 1 || uses > relais::core::max_invitation_uses || days < 1 ||
            days > relais::core::max_invitation_days) {
            std::cerr << "relais-server: --uses goes from 1 to "
                      << relais::core::max_invitation_uses << ", --expires from 1 to "
                      << relais::core::max_invitation_days << " days\n";
            return 2;
        }
        relais::storage::sqlite::sqlite_store store(store_options(data, "full", 1));
        relais::core::system_clock clock;
        const auto fresh = relais::core::new_invitation_code();
        st::invitation_record i;
        i.code_hash = relais::core::hash_token(fresh);
        i.label = fresh.substr(0, 6);
        i.role = *role;
        i.uses = uses;
        i.created_at_ms = clock.now_ms();
        i.expires_at_ms = i.created_at_ms + static_cast<std::int64_t>(days) * 86'400'000;
        std::string missing;
        const bool stored = st::write_now(store, [&](st::writer& w) {
            for (const auto& name : channels) {
                auto c = w.find_channel(name);
                if (!c || c->kind == relais::v1::DIRECT) {
                    missing = name;
                    return false;
                }
                i.channels.push_back(c->id);
            }
            w.insert_invitation(i);
            st::audit_record a;
            a.at_ms = i.created_at_ms;
            a.action = "invitation_create";
            a.detail = i.label + ", " + std::to_string(i.uses) + " use(s), " +
                       relais::v1::Role_Name(i.role);
            w.append_audit(a);
            return true;
        });
        if (!missing.empty()) {
            std::cerr << "relais-server: no channel '" << missing << "'\n";
            return 1;
        }
        if (!stored) {
            std::cerr << "relais-server: the invitation could not be saved\n";
            return 1;
        }
        std::cout << fresh << "\n";
        return 0;
    }
    if (action == "revoke" && !code.empty()) {
        relais::storage::sqlite::sqlite_store store(store_options(data, "full", 1));
        int found = 0;
        const auto code_hash = relais::core::hash_token(code);
        st::write_now(store, [&](st::writer& w) {
            for (const auto& i : w.list_invitations()) {
                if (i.code_hash == code_hash || i.label == code) {
                    ++found;
                    if (found == 1) {
                        w.revoke_invitation(i.id);
                        st::audit_record a;
                        a.at_ms = relais::core::system_clock{}.now_ms();
                        a.action = "invitation_revoke";
                        a.detail = i.label;
                        w.append_audit(a);
                    }
                }
            }
            return found == 1;
        });
        if (found != 1) {
            std::cerr << "relais-server: "
                      << (found == 0 ? "no invitation '" + code + "'"
                                     : "several invitations start with '" + code +
                                           "': give the whole code")
                      << "\n";
            return 1;
        }
        std::cout << "invitation " << code << " revoked\n";
        return 0;
    }
    return usage(std::cerr, 2);
}

// backup --data DIR FILE, restore FILE --data DIR, integrity --data DIR.
int data_command(const std::string& command, int argc, char** argv) {
    std::string data = "data", file;
    std::size_t keep = 0;
    po::options_description d("relais-server " + command + " options");
    d.add_options()("data", po::value(&data)->default_value(data), "data folder")(
        "keep", po::value(&keep),
        "backup into a folder: keep only the N newest backups there (a daily timer's retention)")(
        "file", po::value(&file), "the backup file, or a folder for a dated file");
    po::positional_options_description p;
    p.add("file", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(d).positional(p).run(), vm);
    po::notify(vm);
    namespace sq = relais::storage::sqlite;
    try {
        if (command == "integrity") {
            if (!file.empty()) {
                return usage(std::cerr, 2);
            }
            if (!std::filesystem::exists(sq::sqlite_store::database_path(data))) {
                std::cerr << "relais-server: no database in " << data << "\n";
                return 1;
            }
            {
                // Opening migrates an older schema first, as serving would.
                sq::sqlite_store store(store_options(data, "full", 1));
                store.close();
            }
            const auto problems = sq::integrity_problems(sq::sqlite_store::database_path(data));
            for (const auto& problem : problems) {
                std::cout << problem << "\n";
            }
            if (!problems.empty()) {
                std::cerr << "relais-server: " << problems.size() << " problem(s) in " << data
                          << "\n";
                return 1;
            }
            std::cout << "integrity ok: " << data << "\n";
            return 0;
        }
        if (file.empty()) {
            return usage(std::cerr, 2);
        }
        if (command != "backup" && vm.count("keep")) {
            return usage(std::cerr, 2);
        }
        if (command == "backup" && std::filesystem::is_directory(file)) {
            const auto done = sq::backup_into(data, file, keep);
            std::cout << "backup of " << data << " written to " << done.file.string() << " ("
                      << done.bytes << " bytes)\n";
            for (const auto& old : done.removed) {
                std::cout << "older backup removed: " << old.string() << "\n";
            }
            return 0;
        }
        if (command == "backup" && vm.count("keep")) {
            std::cerr << "relais-server: --keep goes with a folder to back up into, and " << file
                      << " is not a folder\n";
            return 2;
        }
        if (command == "backup") {
            const auto bytes = sq::backup(data, file);
            std::cout << "backup of " << data << " written to " << file << " (" << bytes
                      << " bytes)\n";
            return 0;
        }
        const auto moved = sq::restore(file, data);
        std::cout << "restored " << file << " into " << data;
        if (!moved.empty()) {
            std::cout << " (the database it replaces is in " << moved.string() << ")";
        }
        std::cout << "\n";
        return 0;
    } catch (const sq::maintenance_error& e) {
        std::cerr << "relais-server: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        return usage(std::cerr, 2);
    }
    const std::string command = argv[1];
    try {
        if (command == "serve") {
            return serve(argc - 1, argv + 1);
        }
        if (command == "user") {
            return user_command(argc - 1, argv + 1);
        }
        if (command == "vocabulary") {
            return vocabulary_command(argc - 1, argv + 1);
        }
        if (command == "check-config") {
            return check_config(argc - 1, argv + 1);
        }
        if (command == "audit") {
            return audit_command(argc - 1, argv + 1);
        }
        if (command == "invitation") {
            return invitation_command(argc - 1, argv + 1);
        }
        if (command == "template") {
            return template_command(argc - 1, argv + 1);
        }
        if (command == "backup" || command == "restore" || command == "integrity") {
            return data_command(command, argc - 1, argv + 1);
        }
        if (command == "--version") {
            std::cout << version << "\n";
            return 0;
        }
        if (command == "--help" || command == "-h" || command == "help") {
            return usage(std::cout, 0);
        }
        std::cerr << "relais-server: unknown command '" << command << "'\n";
        return usage(std::cerr, 2);
    } catch (const std::exception& e) {
        std::cerr << "relais-server: " << e.what() << "\n";
        return 1;
    }
}
