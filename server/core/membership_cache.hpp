#pragma once

#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <unordered_map>
#include <vector>

#include "storage/store.hpp"

namespace relais::core {

// Channel members in memory, for fan-out and presence without a query.
// Authorisation never relies on it: it reads the store inside the request.
// Thread-safe: guarded by mu_. Changed only after a commit, by the writer
// thread's completions, so it follows the database in commit order.
class membership_cache {
  public:
    using member_list = std::shared_ptr<const std::vector<storage::user_id>>;

    void load(storage::reader& r);
    void add(storage::channel_id channel, storage::user_id user);
    void remove(storage::channel_id channel, storage::user_id user);

    // An immutable snapshot: fan-out iterates it without holding the lock.
    member_list members(storage::channel_id channel) const;
    // Everybody who shares at least one channel with `user`, without `user`.
    std::vector<storage::user_id> co_members(storage::user_id user) const;

  private:
    mutable std::shared_mutex mu_;
    std::unordered_map<storage::channel_id, member_list> members_;
    std::unordered_map<storage::user_id, std::vector<storage::channel_id>> channels_of_;
};

}  // namespace relais::core
