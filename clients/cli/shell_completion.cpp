#include "clients/cli/shell_completion.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <iostream>

#include "clients/cli/command_registry.hpp"
#include "clients/cli/config.hpp"
#include "clients/lib/client.hpp"

namespace relais::cli {

namespace asio = boost::asio;

std::string bash_completion_script() {
    return R"(# relais: Tab completion for bash. Install: source <(relais completion bash)
_relais() {
    local IFS=$'\n'
    COMPREPLY=($(relais __complete "$COMP_CWORD" "${COMP_WORDS[@]}" 2> /dev/null))
}
complete -o default -F _relais relais
)";
}

namespace {

// Options of any command that take a value, and the client's own.
bool takes_value(const std::string& option) {
    for (const char* o :
         {"--server", "--user", "--ca-file", "--limit", "--before", "--after", "--count"}) {
        if (option == o) {
            return true;
        }
    }
    return option_takes_value(option).value_or(false);
}

// The channels the server shows this user, if a cached session lets us ask
// without a password; nothing after two seconds.
std::vector<std::string> channels_of(const std::string& server, const std::string& ca_file,
                                     const std::string& user) {
    std::vector<std::string> names;
    auto token = cached_token(server, user);
    if (!token) {
        return names;
    }
    asio::io_context io;
    client::options opts;
    opts.url = server;
    opts.ca_file = ca_file;
    opts.client_name = "relais-complete/0.1";
    opts.reconnect = false;
    opts.request_timeout = std::chrono::seconds(2);
    client::client c(io.get_executor(), opts);
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            if (!co_await c.connect() || !co_await c.resume(*token)) {
                co_return;
            }
            if (auto list = co_await c.list_channels()) {
                for (const auto& ch : *list) {
                    if (ch.kind() != v1::DIRECT) {
                        names.push_back(ch.name());
                    }
                }
            }
            co_await c.close();
        },
        asio::detached);
    io.run_for(std::chrono::seconds(2));
    return names;
}

}  // namespace

int print_completions(std::size_t cword, const std::vector<std::string>& words) {
    if (words.empty() || cword == 0 || cword > words.size()) {
        return 0;
    }
    auto saved = read_settings();
    std::string server = saved.server, user = saved.user, ca_file = saved.ca_file;
    if (const char* s = std::getenv("RELAIS_SERVER"); s && *s) {
        server = s;
    }
    if (const char* u = std::getenv("RELAIS_USER"); u && *u) {
        user = u;
    }
    // The words before the one completed, without the options.
    std::vector<std::string> before;
    for (std::size_t i = 1; i < cword; ++i) {
        const auto& w = words[i];
        if (w.starts_with("--")) {
            if (takes_value(w)) {
                if (i + 1 == cword) {
                    // Its value is being typed: its choices, if it has some.
                    const std::string typed = cword < words.size() ? words[cword] : "";
                    for (const auto& choice : option_choices(w)) {
                        if (choice.starts_with(typed)) {
                            std::cout << choice << "\n";
                        }
                    }
                    return 0;
                }
                const auto& value = words[++i];
                if (w == "--server") {
                    server = value;
                } else if (w == "--user") {
                    user = value;
                } else if (w == "--ca-file") {
                    ca_file = value;
                }
            }
            continue;
        }
        before.push_back(w);
    }
    if (server.empty()) {
        server = "ws://127.0.0.1:7680";
    }
    const std::string prefix = cword < words.size() ? words[cword] : "";
    std::vector<std::string> offers;
    if (before.empty() && prefix.starts_with("-")) {
        for (const char* o :
             {"--server", "--user", "--password-stdin", "--ca-file", "--json", "--help"}) {
            if (std::string(o).starts_with(prefix)) {
                offers.emplace_back(o);
            }
        }
    } else {
        completion_source source;
        source.channels = [&] { return channels_of(server, ca_file, user); };
        offers = complete(front::cli, before, prefix, source);
    }
    for (const auto& o : offers) {
        std::cout << o << "\n";
    }
    return 0;
}

}  // namespace relais::cli
