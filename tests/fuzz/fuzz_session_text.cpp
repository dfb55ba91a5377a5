// libFuzzer target: the text people write about sessions, on any bytes. A
// template's JSON (relais-server template add) is checked as an agenda:
// whatever passes has 1 to 30 named phases of valid UTF-8. A moment
// (relais session create --start) parses or is refused, never crashes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "clients/lib/meeting_export.hpp"
#include "protocol/codec.hpp"
#include "server/core/service.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const relais::protocol::limits limits;
    if (auto t = relais::core::check_meeting_template(text, limits)) {
        if (t->phases_size() < 1 || t->phases_size() > 30) {
            __builtin_trap();
        }
        for (const auto& p : t->phases()) {
            if (p.name().empty() || !relais::protocol::valid_utf8(p.name())) {
                __builtin_trap();
            }
        }
    }
    (void)relais::client::parse_moment(text);
    return 0;
}
