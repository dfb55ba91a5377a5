#include "protocol/url.hpp"

namespace relais::protocol {

std::optional<ws_url> parse_ws_url(std::string_view url) {
    ws_url out;
    if (url.starts_with("wss://")) {
        out.tls = true;
        url.remove_prefix(6);
    } else if (url.starts_with("ws://")) {
        url.remove_prefix(5);
    } else {
        return std::nullopt;
    }
    const auto slash = url.find('/');
    const std::string_view authority = url.substr(0, slash);
    if (slash != std::string_view::npos) {
        out.path = std::string(url.substr(slash));
    }
    std::size_t colon;
    if (authority.starts_with("[")) {
        const auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        out.host = std::string(authority.substr(1, close - 1));
        colon = authority.find(':', close);
    } else {
        colon = authority.rfind(':');
        out.host = std::string(authority.substr(0, colon));
    }
    out.port = colon == std::string_view::npos ? (out.tls ? "443" : "80")
                                               : std::string(authority.substr(colon + 1));
    if (out.host.empty() || out.port.empty()) {
        return std::nullopt;
    }
    return out;
}

}  // namespace relais::protocol
