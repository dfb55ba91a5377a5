#include "tests/integration/history_checker.hpp"

#include <set>

namespace relais::testing {

logged_event as_logged(const v1::Event& e) {
    return {e.seq(), e.has_message() ? e.message().client_msg_id() : std::string()};
}

asio::awaitable<outcome<std::vector<logged_event>>> read_log(client::client& reader,
                                                             std::uint64_t channel) {
    std::vector<logged_event> log;
    std::uint64_t after = 0;
    for (;;) {
        auto page = co_await reader.sync(client::client::by_id(channel), after);
        if (!page) {
            co_return page.error();
        }
        for (const auto& e : page->events()) {
            log.push_back(as_logged(e));
            after = e.seq();
        }
        if (!page->has_more()) {
            co_return log;
        }
    }
}

void history_checker::acknowledged(std::uint64_t channel, const std::string& client_msg_id,
                                   std::uint64_t seq) {
    auto [it, inserted] = acked_[channel].emplace(client_msg_id, seq);
    if (!inserted) {
        retried(channel, client_msg_id, seq);
    }
}

void history_checker::retried(std::uint64_t channel, const std::string& client_msg_id,
                              std::uint64_t seq) {
    retries_.push_back({channel, {client_msg_id, seq}});
}

std::string history_checker::findings::summary() const {
    std::string s = std::to_string(acknowledged) + " acknowledged, " + std::to_string(retries) +
                    " retries, " + std::to_string(lost) + " lost, " + std::to_string(moved) +
                    " moved, " + std::to_string(retry_mismatches) + " retry mismatches, " +
                    std::to_string(duplicates) + " duplicates, " + std::to_string(gaps) +
                    " seq gaps";
    for (const auto& e : examples) {
        s += "\n  " + e;
    }
    return s;
}

asio::awaitable<history_checker::findings> history_checker::check(client::client& reader) {
    findings f;
    auto note = [&f](std::string what) {
        if (f.examples.size() < 10) {
            f.examples.push_back(std::move(what));
        }
    };
    for (const auto& [channel, sends] : acked_) {
        auto log = co_await read_log(reader, channel);
        if (!log) {
            note("channel " + std::to_string(channel) + " unreadable: " + log.error().message);
            f.lost += sends.size();
            continue;
        }
        committed_[channel] = *log;
        std::map<std::string, std::uint64_t> stored;
        for (std::size_t i = 0; i < log->size(); ++i) {
            const auto& e = (*log)[i];
            if (e.seq != i + 1) {
                ++f.gaps;
                note("channel " + std::to_string(channel) + ": seq " + std::to_string(e.seq) +
                     " at position " + std::to_string(i + 1));
            }
            if (!e.client_msg_id.empty() && !stored.emplace(e.client_msg_id, e.seq).second) {
                ++f.duplicates;
                note("stored twice: " + e.client_msg_id);
            }
        }
        for (const auto& [id, seq] : sends) {
            ++f.acknowledged;
            auto it = stored.find(id);
            if (it == stored.end()) {
                ++f.lost;
                note("lost: " + id + " (acknowledged as seq " + std::to_string(seq) + ")");
            } else if (it->second != seq) {
                ++f.moved;
                note(id + " acknowledged as seq " + std::to_string(seq) + ", stored as " +
                     std::to_string(it->second));
            }
        }
    }
    for (const auto& [channel, retry] : retries_) {
        ++f.retries;
        const auto& [id, seq] = retry;
        auto& sends = acked_[channel];
        auto it = sends.find(id);
        if (it == sends.end() || it->second != seq) {
            ++f.retry_mismatches;
            note("a retry of " + id + " answered seq " + std::to_string(seq));
        }
    }
    co_return f;
}

const std::vector<logged_event>& history_checker::committed(std::uint64_t channel) const {
    static const std::vector<logged_event> none;
    auto it = committed_.find(channel);
    return it == committed_.end() ? none : it->second;
}

std::string history_checker::compare_delivered(std::uint64_t channel, std::uint64_t after_seq,
                                               const std::vector<logged_event>& delivered) const {
    const auto& log = committed(channel);
    std::vector<logged_event> expected;
    for (const auto& e : log) {
        if (e.seq > after_seq) {
            expected.push_back(e);
        }
    }
    if (delivered == expected) {
        return {};
    }
    std::size_t i = 0;
    while (i < delivered.size() && i < expected.size() && delivered[i] == expected[i]) {
        ++i;
    }
    auto describe = [](const std::vector<logged_event>& v, std::size_t at) {
        return at < v.size() ? "seq " + std::to_string(v[at].seq) + " '" + v[at].client_msg_id + "'"
                             : std::string("the end");
    };
    return "channel " + std::to_string(channel) + ": " + std::to_string(delivered.size()) +
           " delivered, " + std::to_string(expected.size()) + " committed; first difference at " +
           std::to_string(i) + ": delivered " + describe(delivered, i) + ", committed " +
           describe(expected, i);
}

}  // namespace relais::testing
