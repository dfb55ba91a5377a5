// relais: the reference command-line client. One-shot subcommands for people
// and scripts.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "clients/cli/command_helpers.hpp"
#include "clients/cli/command_registry.hpp"
#include "clients/cli/commands.hpp"
#include "clients/cli/config.hpp"
#include "clients/cli/messages.hpp"
#include "clients/cli/shell_completion.hpp"
#include "clients/cli/tui.hpp"
#include "clients/lib/client.hpp"

namespace asio = boost::asio;
namespace json = boost::json;
using relais::outcome;
namespace v1 = relais::v1;
using relais::cli::arguments;
using relais::cli::front;
using relais::cli::report;
using relais::cli::text;
using relais::cli::to_number;
using relais::cli::tr;
using relais::cli::usage_error;
using relais::client::client;

namespace {

arguments parse(int argc, char** argv) {
    // The config file, then the environment, then flags: the last one wins.
    auto saved = relais::cli::read_settings();
    arguments a;
    a.server = saved.server;
    a.user = saved.user;
    a.ca_file = saved.ca_file;
    if (const char* s = std::getenv("RELAIS_SERVER"); s && *s) {
        a.server = s;
    }
    if (const char* u = std::getenv("RELAIS_USER"); u && *u) {
        a.user = u;
    }
    a.server = a.server.empty() ? "ws://127.0.0.1:7680" : a.server;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                throw usage_error(arg + " ?");
            }
            return argv[++i];
        };
        if (arg == "--server") {
            a.server = value();
        } else if (arg == "--user") {
            a.user = value();
        } else if (arg == "--ca-file") {
            a.ca_file = value();
        } else if (arg == "--password-stdin") {
            a.password_stdin = true;
        } else if (arg == "--json") {
            a.json = true;
        } else if (arg == "--private") {
            a.is_private = true;
            a.options_given.push_back(arg);
        } else if (arg == "--display-name") {
            a.display_name = value();
            a.options_given.push_back(arg);
        } else if (arg == "--topic") {
            a.topic = value();
            a.options_given.push_back(arg);
        } else if (arg == "--limit") {
            a.limit = to_number(value());
            a.options_given.push_back(arg);
        } else if (arg == "--before") {
            a.before = to_number(value());
            a.options_given.push_back(arg);
        } else if (arg == "--after") {
            a.after = to_number(value());
            a.options_given.push_back(arg);
        } else if (arg == "--count") {
            a.count = to_number(value());
            a.options_given.push_back(arg);
        } else if (auto takes_value = relais::cli::option_takes_value(arg)) {
            auto& values = a.values[arg];
            if (*takes_value) {
                values.push_back(value());
            }
            a.options_given.push_back(arg);
        } else if (arg == "--help" || arg == "-h") {
            a.words = {"help"};
            return a;
        } else if (arg == "--") {
            for (++i; i < argc; ++i) {
                a.words.emplace_back(argv[i]);
            }
        } else if (arg.size() > 1 && arg[0] == '-' && arg[1] == '-') {
            throw usage_error(std::string(tr(text::unknown_command)) + ": " + arg);
        } else {
            a.words.push_back(arg);
        }
    }
    if (a.before && a.after) {
        throw usage_error("--before / --after");
    }
    a.words = relais::cli::grouped(std::move(a.words), front::cli);
    return a;
}

std::string read_password_from_terminal(std::string prompt = tr(text::password_prompt)) {
    int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY);
    if (fd < 0) {
        return {};
    }
    termios saved{};
    ::tcgetattr(fd, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(fd, TCSANOW, &quiet);
    (void)!::write(fd, prompt.data(), prompt.size());
    std::string password;
    char c;
    while (::read(fd, &c, 1) == 1 && c != '\n') {
        password.push_back(c);
    }
    ::tcsetattr(fd, TCSANOW, &saved);
    (void)!::write(fd, "\n", 1);
    ::close(fd);
    return password;
}

std::string stdin_line() {
    std::string line;
    std::getline(std::cin, line);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    return line;
}

// A password the user gave on purpose, from the environment or stdin.
std::optional<std::string> explicit_password(const arguments& a) {
    if (const char* p = std::getenv("RELAIS_PASSWORD")) {
        return std::string(p);
    }
    if (a.password_stdin) {
        return stdin_line();
    }
    return std::nullopt;
}

// A password the user chooses: the one given on purpose, or typed twice.
std::string chosen_password(std::optional<std::string> given) {
    if (!given) {
        given = read_password_from_terminal(
            tr(relais::cli::words{"nouveau mot de passe (10 caractères ou plus) : ",
                                  "new password (10 characters or more): "}));
        const auto again = read_password_from_terminal(
            tr(relais::cli::words{"le même, encore : ", "the same again: "}));
        if (again != *given) {
            throw usage_error(tr(relais::cli::words{"les deux mots de passe diffèrent",
                                                    "the two passwords differ"}));
        }
    }
    if (given->empty()) {
        throw usage_error(tr(text::no_password));
    }
    return *given;
}

// A code as people copy it: spaces around, capitals.
std::string typed_code(std::string code) {
    code.erase(0, code.find_first_not_of(" \t"));
    code.erase(code.find_last_not_of(" \t") + 1);
    std::transform(code.begin(), code.end(), code.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return code;
}

asio::awaitable<outcome<void>> authenticate(client& c, const arguments& a) {
    auto password = explicit_password(a);
    if (!password) {
        if (auto token = relais::cli::cached_token(a.server, a.user)) {
            auto resumed = co_await c.resume(*token);
            if (resumed) {
                co_return outcome<void>{};
            }
            if (resumed.error().code != relais::errc::unauthenticated) {
                co_return resumed.error();
            }
            relais::cli::forget_token(a.server, a.user);
        }
        password = read_password_from_terminal();
    }
    if (password->empty()) {
        throw usage_error(tr(text::no_password));
    }
    auto session = co_await c.login(a.user, *password);
    if (!session) {
        co_return session.error();
    }
    relais::cli::cache_token(a.server, a.user, session->token());
    co_return outcome<void>{};
}

// `relais register --invite CODE --user NAME`: the account is made and
// logged in at once; its session is kept as a login's is.
asio::awaitable<int> register_account(client& c, const arguments& a) {
    relais::v1::Register m;
    m.set_code(typed_code(relais::cli::option_value(a, "--invite").value_or("")));
    m.set_name(a.user);
    m.set_display_name(a.display_name);
    m.set_password(chosen_password(explicit_password(a)));
    auto session = co_await c.ask(std::move(m));
    if (!session) {
        co_return report(session.error());
    }
    relais::cli::cache_token(a.server, a.user, session->token());
    std::cout << tr(relais::cli::words{"compte ", "account "}) << session->user().name()
              << tr(relais::cli::words{" créé ; vous êtes connecté·e",
                                       " created; you are logged in"})
              << "\n";
    co_return 0;
}

// Which session this is, in the user's list of sessions.
std::string device_name() {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) {
        return {};
    }
    return host;
}

// `relais password change`: logs in with the current password, then
// changes it; this session stays, the others end.
asio::awaitable<int> change_password(client& c, const arguments& a) {
    auto current = explicit_password(a);
    if (!current) {
        current = read_password_from_terminal(
            tr(relais::cli::words{"mot de passe actuel : ", "current password: "}));
    }
    std::optional<std::string> wanted;
    if (const char* p = std::getenv("RELAIS_NEW_PASSWORD")) {
        wanted = p;
    } else if (a.password_stdin) {
        wanted = stdin_line();  // the second line: the first was the current one
    }
    const auto chosen = chosen_password(wanted);
    auto session = co_await c.login(a.user, *current);
    if (!session) {
        co_return report(session.error());
    }
    relais::cli::cache_token(a.server, a.user, session->token());
    v1::ChangePassword m;
    m.set_old_password(*current);
    m.set_new_password(chosen);
    if (auto done = co_await c.ask(std::move(m)); !done) {
        co_return report(done.error());
    }
    std::cout << tr(relais::cli::words{"mot de passe changé ; vos autres connexions sont fermées",
                                       "password changed; your other sessions have ended"})
              << "\n";
    co_return 0;
}

// `relais password redeem --code CODE --user NAME`: a new password with the
// code a coordinator gave; every other session ends, this one is kept.
asio::awaitable<int> redeem_reset(client& c, const arguments& a) {
    v1::ResetPassword m;
    m.set_user(a.user);
    m.set_code(typed_code(relais::cli::option_value(a, "--code").value_or("")));
    m.set_new_password(chosen_password(explicit_password(a)));
    auto session = co_await c.ask(std::move(m));
    if (!session) {
        co_return report(session.error());
    }
    relais::cli::cache_token(a.server, a.user, session->token());
    std::cout << tr(relais::cli::words{"nouveau mot de passe enregistré ; vous êtes connecté·e",
                                       "new password saved; you are logged in"})
              << "\n";
    co_return 0;
}

asio::awaitable<int> run(const arguments& a, bool interactive) {
    if (a.user.empty()) {
        throw usage_error(tr(text::no_user));
    }
    relais::client::options opts;
    opts.url = a.server;
    opts.ca_file = a.ca_file;
    opts.client_name = interactive ? "relais-tui/0.1" : "relais-cli/0.1";
    opts.device = device_name();
    opts.report = [](std::string_view what) { std::cerr << "relais: " << what << "\n"; };
    if (interactive) {
        // Messages typed during an outage wait for the link to come back.
        opts.request_timeout = std::chrono::minutes(10);
    }
    client c(co_await asio::this_coro::executor, opts);
    auto welcome = co_await c.connect();
    if (!welcome) {
        co_return report(welcome.error());
    }
    // What needs no login, or a login of its own.
    if (!interactive) {
        const auto& word = a.words.at(0);
        auto special = word == "register"          ? register_account
                       : word == "password redeem" ? redeem_reset
                       : word == "password change" ? change_password
                                                   : nullptr;
        if (special) {
            const int code = co_await special(c, a);
            co_await c.close();
            co_return code;
        }
    }
    if (auto ok = co_await authenticate(c, a); !ok) {
        co_return report(ok.error());
    }
    int code = interactive ? co_await relais::cli::run_tui(c, a.user)
                           : co_await relais::cli::run_command(c, a);
    co_await c.close();
    co_return code;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        // Asked by bash at each Tab (see completion): not for people.
        if (argc >= 3 && std::string_view(argv[1]) == "__complete") {
            return relais::cli::print_completions(std::strtoul(argv[2], nullptr, 10),
                                                  std::vector<std::string>(argv + 3, argv + argc));
        }
        auto args = parse(argc, argv);
        const bool interactive =
            args.words.empty() && ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
        if (!interactive && (args.words.empty() || args.words[0] == "help")) {
            const auto* wanted = args.words.size() > 1
                                     ? relais::cli::find_command(args.words[1], front::cli)
                                     : nullptr;
            if (wanted) {
                std::cout << relais::cli::synopsis(*wanted, front::cli) << " — "
                          << relais::cli::tr(wanted->help) << "\n";
            } else {
                std::cout << relais::cli::cli_usage();
            }
            return args.words.empty() ? 2 : 0;
        }
        // Wrong words are told before anything is asked, or connected to.
        if (!interactive) {
            if (auto problem = relais::cli::check_command(args)) {
                throw usage_error(*problem);
            }
        }
        if (!interactive && args.words[0] == "completion") {
            std::cout << relais::cli::bash_completion_script();
            return 0;
        }
        asio::io_context io;
        auto result = asio::co_spawn(io, run(args, interactive), asio::use_future);
        io.run();
        return result.get();
    } catch (const usage_error& e) {
        std::cerr << "relais: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cerr << "relais: " << e.what() << "\n";
        return 1;
    }
}
