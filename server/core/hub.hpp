#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "protocol/codec.hpp"
#include "server/core/connection.hpp"
#include "server/core/metrics.hpp"

namespace relais::core {

using user_id = std::uint64_t;

// Who is logged in where: the fan-out targets and the presence source.
// Thread-safe: guarded by mu_ (shared to look up, exclusive to change).
// Nothing is called out of mu_: targets are copied out, the lock released,
// then they are delivered to or closed.
class hub {
  public:
    // Returns true when this is the user's first connection (they came online).
    bool attach(user_id user, const std::shared_ptr<connection>& conn);
    // Returns true when it was the user's last connection (they went offline).
    bool detach(user_id user, const connection* conn);
    bool online(user_id user) const;
    std::size_t connection_count() const;

    // Hands the same encoded frame to every connection of every listed user.
    void send_to(const std::vector<user_id>& users, const protocol::frame& f) const;
    void send_to(user_id user, const protocol::frame& f) const;
    // Who is logged in, with which session: one entry per distinct session.
    std::vector<std::pair<user_id, std::string>> sessions() const;
    // The sessions (token hashes) the user's connections use now.
    std::vector<std::string> sessions_of(user_id user) const;
    // Frames handed to connections by send_to, ever (for /metrics).
    std::uint64_t deliveries() const { return deliveries_.value(); }
    // Closes the user's connections (only those logged in with token_hash
    // when it is not empty) and returns them, so that the caller can end
    // their sessions before a request racing the close is served.
    std::vector<std::shared_ptr<connection>> close_user(user_id user, const std::string& reason,
                                                        const std::string& token_hash = {});
    // The same for every session of the user but `kept`.
    std::vector<std::shared_ptr<connection>> close_user_except(user_id user,
                                                               const std::string& reason,
                                                               const std::string& kept);

  private:
    template <class Pick>
    std::vector<std::shared_ptr<connection>> close_where(user_id user, const std::string& reason,
                                                         Pick pick);

    mutable std::shared_mutex mu_;
    // Once per fan-out, not per connection: the count stays off the hot loop.
    mutable metrics::counter deliveries_;
    std::unordered_map<user_id, std::vector<std::weak_ptr<connection>>> by_user_;
};

}  // namespace relais::core
