#include "server/core/hub.hpp"

#include <algorithm>
#include <mutex>
#include <set>

namespace relais::core {

bool hub::attach(user_id user, const std::shared_ptr<connection>& conn) {
    std::unique_lock lock(mu_);
    auto& list = by_user_[user];
    std::erase_if(list, [](const auto& weak) { return weak.expired(); });
    list.push_back(conn);
    return list.size() == 1;
}

bool hub::detach(user_id user, const connection* conn) {
    std::unique_lock lock(mu_);
    auto it = by_user_.find(user);
    if (it == by_user_.end()) {
        return false;
    }
    auto before = it->second.size();
    std::erase_if(it->second, [conn](const auto& weak) {
        auto strong = weak.lock();
        return !strong || strong.get() == conn;
    });
    bool removed = it->second.size() != before;
    if (it->second.empty()) {
        by_user_.erase(it);
        return removed;
    }
    return false;
}

bool hub::online(user_id user) const {
    std::shared_lock lock(mu_);
    return by_user_.count(user) != 0;
}

std::size_t hub::connection_count() const {
    std::shared_lock lock(mu_);
    std::size_t n = 0;
    for (const auto& [user, list] : by_user_) {
        n += list.size();
    }
    return n;
}

void hub::send_to(const std::vector<user_id>& users, const protocol::frame& f) const {
    // Copied out, then delivered with mu_ released (Beast's chat-multi): a
    // connection's deliver takes its own lock, may close its socket and give
    // memory back, and none of that may hold up attach or detach.
    std::vector<std::shared_ptr<connection>> targets;
    {
        std::shared_lock lock(mu_);
        targets.reserve(users.size());
        for (user_id user : users) {
            auto it = by_user_.find(user);
            if (it == by_user_.end()) {
                continue;
            }
            for (const auto& weak : it->second) {
                if (auto conn = weak.lock()) {
                    targets.push_back(std::move(conn));
                }
            }
        }
    }
    for (const auto& conn : targets) {
        conn->deliver(f);
    }
    deliveries_.add(targets.size());
}

void hub::send_to(user_id user, const protocol::frame& f) const {
    send_to(std::vector<user_id>{user}, f);
}

std::vector<std::pair<user_id, std::string>> hub::sessions() const {
    std::set<std::pair<user_id, std::string>> distinct;
    {
        std::shared_lock lock(mu_);
        for (const auto& [user, list] : by_user_) {
            for (const auto& weak : list) {
                auto conn = weak.lock();
                if (auto who = conn ? conn->who() : std::nullopt) {
                    distinct.emplace(user, who->token_hash.hex());
                }
            }
        }
    }
    return {distinct.begin(), distinct.end()};
}

std::vector<std::string> hub::sessions_of(user_id user) const {
    std::set<std::string> distinct;
    {
        std::shared_lock lock(mu_);
        if (auto it = by_user_.find(user); it != by_user_.end()) {
            for (const auto& weak : it->second) {
                auto conn = weak.lock();
                if (auto who = conn ? conn->who() : std::nullopt) {
                    distinct.insert(who->token_hash.hex());
                }
            }
        }
    }
    return {distinct.begin(), distinct.end()};
}

template <class Pick>
std::vector<std::shared_ptr<connection>> hub::close_where(user_id user, const std::string& reason,
                                                          Pick pick) {
    std::vector<std::shared_ptr<connection>> victims;
    {
        std::shared_lock lock(mu_);
        auto it = by_user_.find(user);
        if (it == by_user_.end()) {
            return victims;
        }
        for (const auto& weak : it->second) {
            auto conn = weak.lock();
            if (conn && pick(conn->who())) {
                victims.push_back(std::move(conn));
            }
        }
    }
    for (auto& conn : victims) {
        conn->close(reason);
    }
    return victims;
}

std::vector<std::shared_ptr<connection>> hub::close_user(user_id user, const std::string& reason,
                                                         const std::string& token_hash) {
    return close_where(user, reason, [&](const std::optional<identity>& who) {
        return token_hash.empty() || (who && who->token_hash.hex() == token_hash);
    });
}

std::vector<std::shared_ptr<connection>> hub::close_user_except(user_id user,
                                                                const std::string& reason,
                                                                const std::string& kept) {
    return close_where(user, reason, [&](const std::optional<identity>& who) {
        return !who || who->token_hash.hex() != kept;
    });
}

}  // namespace relais::core
