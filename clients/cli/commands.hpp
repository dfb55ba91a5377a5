#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "clients/lib/client.hpp"

namespace relais::cli {

struct arguments {
    std::string server;
    std::string user;
    std::string ca_file;
    bool password_stdin = false;
    bool json = false;
    bool is_private = false;
    std::string topic;
    std::string display_name;
    std::optional<std::uint64_t> limit, before, after, count;
    // Every other option of a command, by name, with its values in order
    // (--tag a --tag b); a switch has no value.
    std::map<std::string, std::vector<std::string>> values;
    std::vector<std::string> words;  // the command and its positional arguments
    // The options given that belong to some commands only (--topic, --limit...).
    std::vector<std::string> options_given;
};

class usage_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Throws usage_error for anything but a whole non-negative number.
std::uint64_t to_number(const std::string& s);
// SetChannelOptions for `options ... invite|topic members|moderators`.
v1::SetChannelOptions options_request(const std::string& what, const std::string& who);
// Prints the failure in plain words on stderr; returns the exit code 1.
int report(const relais::failure& f);
// What is wrong with the command and its words (a.words[0] first), if
// anything: unknown, missing or extra words, options of another command.
std::optional<std::string> check_command(const arguments& a);
// Runs one of the one-shot subcommands (a.words[0]); returns the exit code.
boost::asio::awaitable<int> run_command(relais::client::client& c, const arguments& a);

}  // namespace relais::cli
