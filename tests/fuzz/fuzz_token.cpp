// The session token parser: whatever a client sends in Resume, the check is
// total, accepts exactly what new_token makes, and hashing never fails.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/core/credentials.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view token(reinterpret_cast<const char*>(data), size);
    const bool accepted = relais::core::is_well_formed_token(token);
    bool expected = size == 64;
    for (char c : token) {
        expected = expected && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }
    if (accepted != expected) {
        std::abort();
    }
    const auto hash = relais::core::hash_token(token);
    if (!relais::core::is_well_formed_token(hash)) {
        std::abort();  // the stored hash has the token's shape, never the token itself
    }
    return 0;
}
