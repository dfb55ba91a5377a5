#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace relais::protocol {

// Where a client connects: ws://HOST[:PORT][/PATH] or wss://...; an IPv6
// host is written in brackets. Without a port: 80 for ws, 443 for wss.
struct ws_url {
    bool tls = false;
    std::string host;
    std::string port;
    std::string path = "/";
};

// nullopt when `url` is not such an address.
std::optional<ws_url> parse_ws_url(std::string_view url);

}  // namespace relais::protocol
