#include "server/core/credentials.hpp"

#include "server/core/connection.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace relais::core {
namespace {

constexpr unsigned long long argon2_ops = 2;
constexpr std::size_t argon2_memory = 19u * 1024u * 1024u;

void ensure_sodium() {
    static const bool ready = [] {
        if (sodium_init() < 0) {
            throw std::runtime_error("libsodium cannot be initialised");
        }
        return true;
    }();
    (void)ready;
}

std::string to_hex(const unsigned char* data, std::size_t size) {
    std::string hex(size * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), data, size);
    hex.pop_back();
    return hex;
}

}  // namespace

std::string hash_password(std::string_view password) {
    ensure_sodium();
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password.data(), password.size(), argon2_ops, argon2_memory,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        throw std::runtime_error("out of memory while hashing a password");
    }
    return out;
}

bool verify_password(std::string_view hash, std::string_view password) {
    ensure_sodium();
    std::string terminated(hash);
    return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

const std::string& decoy_password_hash() {
    static const std::string decoy = [] {
        unsigned char random[32];
        ensure_sodium();
        randombytes_buf(random, sizeof random);
        return hash_password(to_hex(random, sizeof random));
    }();
    return decoy;
}

std::string new_token() {
    ensure_sodium();
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    return to_hex(bytes, sizeof bytes);
}

std::string new_invitation_code() {
    ensure_sodium();
    unsigned char bytes[16];
    randombytes_buf(bytes, sizeof bytes);
    static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    std::string code;
    unsigned buffer = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            code += alphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits > 0) {
        code += alphabet[(buffer << (5 - bits)) & 31];
    }
    return code;
}

bool is_well_formed_invitation_code(std::string_view code) {
    return code.size() == 26 && std::all_of(code.begin(), code.end(), [](char c) {
               return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
           });
}

bool is_well_formed_token(std::string_view token) {
    return token.size() == 64 && std::all_of(token.begin(), token.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

token_digest::token_digest(std::string_view hex) {
    ensure_sodium();
    std::size_t size = 0;
    const char* end = nullptr;
    set_ = hex.size() == 2 * bytes_.size() &&
           sodium_hex2bin(bytes_.data(), bytes_.size(), hex.data(), hex.size(), nullptr, &size,
                          &end) == 0 &&
           size == bytes_.size() && end == hex.data() + hex.size();
    if (!set_) {
        bytes_ = {};
    }
}

std::string token_digest::hex() const {
    return set_ ? to_hex(bytes_.data(), bytes_.size()) : std::string();
}

std::string hash_token(std::string_view token) {
    ensure_sodium();
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(token.data()), token.size());
    return to_hex(digest, sizeof digest);
}

std::uint32_t login_throttle::wait_for(const std::string& key, std::int64_t now_ms) const {
    auto it = entries_.find(key);
    if (it == entries_.end() || it->second.next_allowed_ms <= now_ms) {
        return 0;
    }
    return static_cast<std::uint32_t>(it->second.next_allowed_ms - now_ms);
}

std::uint32_t login_throttle::wait_ms(std::string_view name, std::string_view address,
                                      std::int64_t now_ms) {
    std::lock_guard lock(mu_);
    std::uint32_t by_address = wait_for("a:" + std::string(address), now_ms);
    return name.empty() ? by_address
                        : std::max(wait_for("u:" + std::string(name), now_ms), by_address);
}

void login_throttle::record(const std::string& key, const schedule& s, std::int64_t now_ms) {
    auto& e = entries_[key];
    e.failures += 1;
    e.last_failure_ms = now_ms;
    if (e.failures > s.free_failures) {
        int doublings = std::min(e.failures - s.free_failures - 1, 20);
        std::int64_t delay = std::min<std::int64_t>(s.first_delay_ms << doublings, max_delay_ms);
        e.next_allowed_ms = now_ms + delay;
    }
}

void login_throttle::prune(std::int64_t now_ms) {
    if (entries_.size() < 10000) {
        return;
    }
    std::erase_if(entries_, [now_ms](const auto& kv) {
        return kv.second.last_failure_ms + max_delay_ms < now_ms;
    });
}

void login_throttle::failed(std::string_view name, std::string_view address, std::int64_t now_ms) {
    std::lock_guard lock(mu_);
    prune(now_ms);
    if (!name.empty()) {
        record("u:" + std::string(name), per_account, now_ms);
    }
    record("a:" + std::string(address), per_address, now_ms);
}

void login_throttle::succeeded(std::string_view name) {
    std::lock_guard lock(mu_);
    entries_.erase("u:" + std::string(name));
}

}  // namespace relais::core
