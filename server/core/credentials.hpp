#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace relais::core {

// Argon2id at OWASP's minimum (m = 19 MiB, t = 2, p = 1), through libsodium.
// Thread-safe (libsodium is, once initialised).
std::string hash_password(std::string_view password);
bool verify_password(std::string_view hash, std::string_view password);
// A hash of a password nobody knows: verified against when the account does
// not exist, so that an unknown name costs the same time as a wrong password.
const std::string& decoy_password_hash();

// A new session token: 256 random bits, hex encoded.
std::string new_token();
// True for what new_token makes: 64 lowercase hex digits. Anything else is
// refused before storage is asked.
bool is_well_formed_token(std::string_view token);
// What the store keeps instead of the token: SHA-256, hex encoded.
std::string hash_token(std::string_view token);

// An invitation code: 128 random bits in lowercase base32 (26 characters of
// a-z and 2-7), easy to read out or type; stored as hash_token(code).
std::string new_invitation_code();
// How far one invitation goes.
inline constexpr std::uint32_t max_invitation_uses = 500;
inline constexpr std::uint32_t max_invitation_days = 90;
bool is_well_formed_invitation_code(std::string_view code);

// Slows failed logins per account name and per remote address: the first few
// failures are free, then each attempt must wait twice as long as the last.
// An account is guarded hard (a guesser gets about ten tries in 30 minutes,
// from any number of addresses); an address more gently, since a whole
// France Services office may share one.
// Thread-safe: guarded by mu_.
class login_throttle {
  public:
    struct schedule {
        int free_failures;
        std::int64_t first_delay_ms;
    };
    static constexpr schedule per_account{3, 30'000};
    static constexpr schedule per_address{5, 1'000};
    static constexpr std::int64_t max_delay_ms = 15 * 60 * 1000;

    // 0 when a login may be tried now, else the milliseconds to wait. An empty
    // name (a token resume) is counted against the address alone.
    std::uint32_t wait_ms(std::string_view name, std::string_view address, std::int64_t now_ms);
    void failed(std::string_view name, std::string_view address, std::int64_t now_ms);
    // A correct password clears the account's count, not the address's: one
    // account of an attacker's own must not reset the address's count.
    void succeeded(std::string_view name);

  private:
    struct entry {
        int failures = 0;
        std::int64_t next_allowed_ms = 0;
        std::int64_t last_failure_ms = 0;
    };
    std::uint32_t wait_for(const std::string& key, std::int64_t now_ms) const;
    void record(const std::string& key, const schedule& s, std::int64_t now_ms);
    void prune(std::int64_t now_ms);

    std::mutex mu_;
    std::unordered_map<std::string, entry> entries_;
};

}  // namespace relais::core
