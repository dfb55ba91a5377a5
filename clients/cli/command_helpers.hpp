#pragma once

// What the one-shot subcommands share (commands.cpp, session_commands.cpp).

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "clients/cli/commands.hpp"

namespace relais::cli {

// The protocol's own JSON of a message: field names as in relais.proto.
std::string proto_json(const google::protobuf::Message& m);
// The words from `from` on, joined by spaces.
std::string joined_words(const std::vector<std::string>& words, std::size_t from);
// "2026-12-01T14:05:00.000Z".
std::string rfc3339(std::int64_t ms);
// Options given by name (arguments::values): the last value, every value,
// or whether a switch was given.
std::optional<std::string> option_value(const arguments& a, const char* name);
std::vector<std::string> option_values(const arguments& a, const char* name);
bool has_switch(const arguments& a, const char* name);

inline v1::ChannelRef ref(const arguments& a, std::size_t i) {
    return client::client::by_name(a.words.at(i));
}

// Sends a request whose answer says nothing but that it was done.
template <class Request>
boost::asio::awaitable<int> ask_done(client::client& c, Request body) {
    auto done = co_await c.ask(std::move(body));
    co_return done ? 0 : report(done.error());
}

// A word of the command line among `names`, by its index in them.
template <class Enum>
Enum choose(const std::string& option, const std::string& word,
            std::initializer_list<std::pair<const char*, Enum>> names) {
    std::string allowed;
    for (const auto& [name, value] : names) {
        if (word == name) {
            return value;
        }
        allowed += allowed.empty() ? "" : "|";
        allowed += name;
    }
    throw usage_error(option + " " + word + " : " + allowed);
}

// One action per command of the registry (command_registry.hpp), by its
// name there; its words have been checked against the registry.
using action = boost::asio::awaitable<int> (*)(client::client&, const arguments&);

// The `session ...` subcommands, by their names in the registry.
const std::vector<std::pair<const char*, action>>& session_actions();
// `invitation ...`, by their names in the registry.
const std::vector<std::pair<const char*, action>>& people_actions();

}  // namespace relais::cli
