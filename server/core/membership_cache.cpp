#include "server/core/membership_cache.hpp"

#include <algorithm>
#include <mutex>
#include <unordered_set>

namespace relais::core {

void membership_cache::load(storage::reader& r) {
    std::unordered_map<storage::channel_id, std::vector<storage::user_id>> members;
    std::unordered_map<storage::user_id, std::vector<storage::channel_id>> channels_of;
    for (const auto& channel : r.list_channels()) {
        auto& list = members[channel.id];
        for (const auto& m : r.members_of(channel.id)) {
            list.push_back(m.user);
            channels_of[m.user].push_back(channel.id);
        }
    }
    std::unique_lock lock(mu_);
    members_.clear();
    for (auto& [channel, list] : members) {
        members_[channel] = std::make_shared<const std::vector<storage::user_id>>(std::move(list));
    }
    channels_of_ = std::move(channels_of);
}

void membership_cache::add(storage::channel_id channel, storage::user_id user) {
    std::unique_lock lock(mu_);
    auto& list = members_[channel];
    std::vector<storage::user_id> next = list ? *list : std::vector<storage::user_id>{};
    if (std::find(next.begin(), next.end(), user) != next.end()) {
        return;
    }
    next.push_back(user);
    list = std::make_shared<const std::vector<storage::user_id>>(std::move(next));
    channels_of_[user].push_back(channel);
}

void membership_cache::remove(storage::channel_id channel, storage::user_id user) {
    std::unique_lock lock(mu_);
    if (auto it = members_.find(channel); it != members_.end() && it->second) {
        std::vector<storage::user_id> next = *it->second;
        std::erase(next, user);
        it->second = std::make_shared<const std::vector<storage::user_id>>(std::move(next));
    }
    if (auto it = channels_of_.find(user); it != channels_of_.end()) {
        std::erase(it->second, channel);
    }
}

membership_cache::member_list membership_cache::members(storage::channel_id channel) const {
    std::shared_lock lock(mu_);
    auto it = members_.find(channel);
    if (it == members_.end() || !it->second) {
        return std::make_shared<const std::vector<storage::user_id>>();
    }
    return it->second;
}

std::vector<storage::user_id> membership_cache::co_members(storage::user_id user) const {
    std::shared_lock lock(mu_);
    std::unordered_set<storage::user_id> seen;
    if (auto it = channels_of_.find(user); it != channels_of_.end()) {
        for (auto channel : it->second) {
            if (auto m = members_.find(channel); m != members_.end() && m->second) {
                seen.insert(m->second->begin(), m->second->end());
            }
        }
    }
    seen.erase(user);
    return {seen.begin(), seen.end()};
}

}  // namespace relais::core
