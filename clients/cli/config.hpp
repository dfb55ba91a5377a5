#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace relais::cli {

// Where the client keeps its settings: $XDG_CONFIG_HOME/relais, or
// ~/.config/relais.
std::filesystem::path config_dir();

// The `config` file there: `server = ...`, `user = ...`, `ca-file = ...`
// lines. Flags and environment variables override it.
struct settings {
    std::string server;
    std::string user;
    std::string ca_file;
};
settings read_settings();

// Session tokens cached per server and user in `sessions`, mode 0600, so the
// password is asked once.
std::optional<std::string> cached_token(const std::string& server, const std::string& user);
void cache_token(const std::string& server, const std::string& user, const std::string& token);
void forget_token(const std::string& server, const std::string& user);

}  // namespace relais::cli
