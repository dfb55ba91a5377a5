#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "clients/lib/client.hpp"

namespace relais::testing {

namespace asio = boost::asio;

// One entry of a channel's log, as a client sees it.
struct logged_event {
    std::uint64_t seq = 0;
    std::string client_msg_id;  // empty for events that are not messages

    bool operator==(const logged_event&) const = default;
};

// What the crash, power-loss and resync tests have in common: what clients
// were told (acknowledgements, retries, deliveries) against what the server
// committed, read back through the protocol.
// Not thread-safe: use it from the test's io_context thread.
class history_checker {
  public:
    // The server acknowledged a send with this seq (a second acknowledgement
    // of the same id, from two identical sends at once, counts as a retry).
    void acknowledged(std::uint64_t channel, const std::string& client_msg_id, std::uint64_t seq);
    // A retry of the same client_msg_id was answered with this seq.
    void retried(std::uint64_t channel, const std::string& client_msg_id, std::uint64_t seq);

    struct findings {
        std::size_t acknowledged = 0;
        std::size_t retries = 0;
        std::size_t lost = 0;              // acknowledged, not in the log
        std::size_t moved = 0;             // in the log at another seq than acknowledged
        std::size_t retry_mismatches = 0;  // a retry answered another seq
        std::size_t duplicates = 0;        // a client_msg_id stored twice
        std::size_t gaps = 0;              // seqs not 1, 2, 3, ...
        std::vector<std::string> examples;

        bool clean() const { return lost + moved + retry_mismatches + duplicates + gaps == 0; }
        std::string summary() const;
    };

    // Reads the whole log of every channel seen through `reader` (which must
    // be a member of them) and compares.
    asio::awaitable<findings> check(client::client& reader);

    // The committed log of a channel, as read by the last check.
    const std::vector<logged_event>& committed(std::uint64_t channel) const;
    // How a client's delivered log differs from the committed one after
    // `after_seq`: empty when identical.
    std::string compare_delivered(std::uint64_t channel, std::uint64_t after_seq,
                                  const std::vector<logged_event>& delivered) const;

  private:
    std::map<std::uint64_t, std::map<std::string, std::uint64_t>> acked_;
    std::vector<std::pair<std::uint64_t, std::pair<std::string, std::uint64_t>>> retries_;
    std::map<std::uint64_t, std::vector<logged_event>> committed_;
};

// The whole log of a channel, paged with Sync.
asio::awaitable<outcome<std::vector<logged_event>>> read_log(client::client& reader,
                                                             std::uint64_t channel);

logged_event as_logged(const v1::Event& e);

}  // namespace relais::testing
