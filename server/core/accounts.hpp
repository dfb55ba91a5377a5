#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/errc.hpp"
#include "protocol/limits.hpp"
#include "server/core/clock.hpp"
#include "storage/store.hpp"

namespace relais::core {

// Account administration, for `relais-server user ...` and tests. Blocking:
// call from a plain thread, never from a storage thread.
class accounts {
  public:
    accounts(storage::store& store, const clock& clock, protocol::limits limits)
        : store_(store), clock_(clock), limits_(limits) {}

    // CONFLICT when the name is taken; BAD_REQUEST/TOO_LARGE for a bad name,
    // display name or password.
    outcome<storage::account> add(std::string_view name, std::string_view password, v1::Role role,
                                  std::string_view display_name);
    std::vector<storage::account> list();

    // Accounts for bots and load tests: PREFIX0 ... PREFIX<count-1>, which
    // cannot log in with a password, each with a long-lived session token
    // (returned, stored hashed). One transaction, no password hashing, so
    // that 10,000 are ready in seconds. CONFLICT if a name is taken.
    struct issued {
        std::string name;
        std::string token;
    };
    outcome<std::vector<issued>> add_bots(std::string_view prefix, std::size_t count);
    // NOT_FOUND for an unknown name. Ends the account's sessions.
    outcome<void> set_disabled(std::string_view name, bool disabled);
    // NOT_FOUND for an unknown name; BAD_REQUEST for an empty password.
    // Ends the account's sessions.
    outcome<void> set_password(std::string_view name, std::string_view password);

    // Where the person works, for attendance sheets and reports; each
    // given field replaces the stored one. NOT_FOUND for an unknown name;
    // BAD_REQUEST or TOO_LARGE structure, BAD_REQUEST commune (INSEE code).
    // Sessions go on.
    outcome<void> set_profile(std::string_view name, std::optional<std::string> structure,
                              std::optional<std::string> commune);

    // GDPR erasure: the account becomes an anonymous "#<id>" and everything
    // it held goes (storage::writer::erase_account), then the store is
    // scrubbed so that none of it stays in the files. Returns how many of
    // its messages became tombstones. An erased account's name, "#<id>",
    // scrubs again. NOT_FOUND for an unknown name; FORBIDDEN for the last
    // admin who can still log in; UNAVAILABLE when the change or the scrub
    // failed (the message says how to finish it). `removed` leaves no
    // trace of its messages but their seqs (storage::event_kind::removed).
    enum class messages_become { tombstones, removed };
    outcome<std::uint64_t> erase(std::string_view name, messages_become messages);

  private:
    outcome<void> check_password(std::string_view password) const;
    // Applies `change` to the named account and ends its sessions.
    outcome<void> update(std::string_view name,
                         const std::function<void(storage::writer&, storage::user_id)>& change);

    storage::store& store_;
    const clock& clock_;
    protocol::limits limits_;
};

}  // namespace relais::core
