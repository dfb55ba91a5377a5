#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "clients/lib/client.hpp"

namespace relais::cli {

// The full-screen terminal client, on a connected and logged-in client.
// Returns the process exit code once the user quits.
boost::asio::awaitable<int> run_tui(client::client& c, const std::string& user);

}  // namespace relais::cli
