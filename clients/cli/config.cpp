#include "clients/cli/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace relais::cli {
namespace {

std::string trim(const std::string& s) {
    auto begin = s.find_first_not_of(" \t\r");
    auto end = s.find_last_not_of(" \t\r");
    return begin == std::string::npos ? std::string() : s.substr(begin, end - begin + 1);
}

std::filesystem::path sessions_file() {
    return config_dir() / "sessions";
}

struct session_line {
    std::string server, user, token;
};

std::vector<session_line> read_sessions() {
    std::vector<session_line> lines;
    std::ifstream in(sessions_file());
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        session_line s;
        if (fields >> s.server >> s.user >> s.token) {
            lines.push_back(std::move(s));
        }
    }
    return lines;
}

// Rewrites the file through a private temporary one, so that a token is
// never readable by others, not even for a moment. The temporary file is
// this process's own: two commands run at once (`relais tail` beside
// `relais send`) must not rename each other's. The last one to finish
// wins; the cache is only a cache (the loser's user logs in again).
void write_sessions(const std::vector<session_line>& lines) {
    std::filesystem::create_directories(config_dir());
    auto path = sessions_file();
    auto temporary = path;
    temporary += ".tmp." + std::to_string(::getpid());
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        return;
    }
    ::fchmod(fd, 0600);
    std::string text;
    for (const auto& s : lines) {
        text += s.server + " " + s.user + " " + s.token + "\n";
    }
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    ok = ::fsync(fd) == 0 && ok;
    ::close(fd);
    std::error_code ec;
    if (ok) {
        std::filesystem::rename(temporary, path, ec);
    }
    if (!ok || ec) {
        std::filesystem::remove(temporary, ec);
    }
}

}  // namespace

std::filesystem::path config_dir() {
    if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
        return std::filesystem::path(xdg) / "relais";
    }
    const char* home = std::getenv("HOME");
    return std::filesystem::path(home && *home ? home : ".") / ".config" / "relais";
}

settings read_settings() {
    settings s;
    std::ifstream in(config_dir() / "config");
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') {
            continue;
        }
        auto eq = line.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        auto key = trim(line.substr(0, eq));
        auto value = trim(line.substr(eq + 1));
        if (key == "server") {
            s.server = value;
        } else if (key == "user") {
            s.user = value;
        } else if (key == "ca-file") {
            s.ca_file = value;
        }
    }
    return s;
}

std::optional<std::string> cached_token(const std::string& server, const std::string& user) {
    for (const auto& s : read_sessions()) {
        if (s.server == server && s.user == user) {
            return s.token;
        }
    }
    return std::nullopt;
}

void cache_token(const std::string& server, const std::string& user, const std::string& token) {
    auto lines = read_sessions();
    std::erase_if(lines, [&](const auto& s) { return s.server == server && s.user == user; });
    lines.push_back({server, user, token});
    write_sessions(lines);
}

void forget_token(const std::string& server, const std::string& user) {
    auto lines = read_sessions();
    auto before = lines.size();
    std::erase_if(lines, [&](const auto& s) { return s.server == server && s.user == user; });
    if (lines.size() != before) {
        write_sessions(lines);
    }
}

}  // namespace relais::cli
