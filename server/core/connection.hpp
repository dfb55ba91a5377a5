#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "protocol/codec.hpp"
#include "protocol/relais.pb.h"
#include "server/core/rate_limiter.hpp"

namespace relais::core {

// A session token's SHA-256, kept as its 32 bytes: its hex text would take
// a heap allocation on every logged-in connection.
class token_digest {
  public:
    token_digest() = default;
    // From hash_token()'s 64 hex digits; anything else gives an empty digest.
    explicit token_digest(std::string_view hex);
    // The hex text, as stored in the sessions table.
    std::string hex() const;

  private:
    std::array<unsigned char, 32> bytes_{};
    bool set_ = false;
};

// Who is logged in on a connection.
struct identity {
    v1::User user;
    token_digest token_hash;
};

// One client connection as the domain sees it. The transport (server/net)
// implements deliver and close; core keeps the login state here.
// Thread-safe: deliver/close may be called from any thread; the state is
// guarded by mu_.
class connection : public std::enable_shared_from_this<connection> {
  public:
    connection(std::uint64_t id, std::string remote_address, const rate_limiter::config& requests)
        : id_(id), remote_address_(std::move(remote_address)), requests_(requests) {}
    virtual ~connection() = default;

    // Queues one encoded ServerMessage for sending, in call order.
    virtual void deliver(protocol::frame f) = 0;
    // Ends the connection with a close frame carrying `reason`.
    virtual void close(const std::string& reason) = 0;
    std::uint64_t id() const { return id_; }
    const std::string& remote_address() const { return remote_address_; }

    bool greeted() const {
        std::lock_guard lock(mu_);
        return greeted_;
    }
    // Hello's words, kept for the sessions this connection starts.
    void set_greeted(std::string client_name, std::string device) {
        std::lock_guard lock(mu_);
        greeted_ = true;
        hello_ = std::make_unique<std::pair<std::string, std::string>>(std::move(client_name),
                                                                       std::move(device));
    }
    std::pair<std::string, std::string> client_and_device() const {
        std::lock_guard lock(mu_);
        return hello_ ? *hello_ : std::pair<std::string, std::string>{};
    }
    std::optional<identity> who() const {
        std::lock_guard lock(mu_);
        return who_;
    }
    void set_who(std::optional<identity> who) {
        std::lock_guard lock(mu_);
        who_ = std::move(who);
    }
    // Charges `cost` to this connection's request budget; returns the wait in
    // milliseconds when it is exhausted, 0 when the request may go on.
    std::uint32_t charge_request(std::int64_t now_ms, double cost) {
        std::lock_guard lock(mu_);
        return requests_.take(now_ms, cost);
    }

  private:
    const std::uint64_t id_;
    const std::string remote_address_;
    mutable std::mutex mu_;
    bool greeted_ = false;
    // Read once per login, never on the delivery path: kept out of line so
    // that every connection stays as small as before.
    std::unique_ptr<std::pair<std::string, std::string>> hello_;
    std::optional<identity> who_;
    rate_limiter requests_;
};

}  // namespace relais::core
