#include "server/core/validation.hpp"

#include <utf8proc.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "protocol/codec.hpp"

namespace relais::core {
namespace {

// A slug: lowercase ASCII letters, digits, '-', '_' and '.', starting with a
// letter or digit. Nothing else, so that no two names look alike (no
// invisible characters, no look-alike letters from other scripts): accents
// and spaces belong in display names.
outcome<void> check_name(std::string_view what, std::string_view name, std::size_t max) {
    if (name.empty()) {
        return fail(errc::bad_request, std::string(what) + " is empty");
    }
    if (name.size() > max) {
        return fail(errc::too_large,
                    std::string(what) + " is longer than " + std::to_string(max) + " bytes");
    }
    auto allowed = [](unsigned char c, bool first) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               (!first && (c == '-' || c == '_' || c == '.'));
    };
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (!allowed(static_cast<unsigned char>(name[i]), i == 0)) {
            return fail(errc::bad_request,
                        std::string(what) +
                            " may only hold lowercase ASCII letters, digits, '-', '_' and '.', "
                            "starting with a letter or digit");
        }
    }
    return {};
}

outcome<void> check_free_text(std::string_view what, std::string_view text, std::size_t max,
                              bool allow_empty) {
    if (!allow_empty && text.empty()) {
        return fail(errc::bad_request, std::string(what) + " is empty");
    }
    if (text.size() > max) {
        return fail(errc::too_large,
                    std::string(what) + " is longer than " + std::to_string(max) + " bytes");
    }
    if (!protocol::valid_utf8(text)) {
        return fail(errc::bad_request, std::string(what) + " is not valid UTF-8");
    }
    if (text.find('\0') != std::string_view::npos) {
        return fail(errc::bad_request, std::string(what) + " contains a NUL character");
    }
    return {};
}

}  // namespace

outcome<void> check_channel_name(std::string_view name, const protocol::limits& l) {
    return check_name("channel name", name, l.max_name_bytes);
}

outcome<void> check_user_name(std::string_view name, const protocol::limits& l) {
    return check_name("user name", name, l.max_name_bytes);
}

outcome<std::string> visible_name(std::string_view what, std::string_view text, std::size_t max) {
    // Before normalising: a text far too long is refused without the work.
    if (text.size() > 4 * max) {
        return fail(errc::too_large,
                    std::string(what) + " is longer than " + std::to_string(max) + " bytes");
    }
    if (!protocol::valid_utf8(text)) {
        return fail(errc::bad_request, std::string(what) + " is not valid UTF-8");
    }
    // NFC: "é" typed as e + U+0301 and as U+00E9 is one name, stored once.
    // With its length, not as a C string: a NUL inside is a character like
    // the others (and refused below), not the end.
    utf8proc_uint8_t* mapped = nullptr;
    const auto mapped_size =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()),
                     static_cast<utf8proc_ssize_t>(text.size()), &mapped,
                     static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> nfc(mapped, &std::free);
    if (mapped_size < 0) {
        return fail(errc::bad_request, std::string(what) + " is not valid UTF-8");
    }
    std::string normal(reinterpret_cast<const char*>(nfc.get()),
                       static_cast<std::size_t>(mapped_size));
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(normal.data());
    const auto size = static_cast<utf8proc_ssize_t>(normal.size());
    for (utf8proc_ssize_t at = 0; at < size;) {
        utf8proc_int32_t cp = 0;
        const auto n = utf8proc_iterate(p + at, size - at, &cp);
        if (n <= 0) {
            return fail(errc::bad_request, std::string(what) + " is not valid UTF-8");
        }
        at += n;
        const auto* property = utf8proc_get_property(cp);
        switch (property->category) {
            case UTF8PROC_CATEGORY_CC:  // controls, tab and new line included
            case UTF8PROC_CATEGORY_CF:  // format: zero-width space, joiners, bidi
            case UTF8PROC_CATEGORY_CS:
            case UTF8PROC_CATEGORY_CO:
            case UTF8PROC_CATEGORY_CN:
            case UTF8PROC_CATEGORY_ZL:
            case UTF8PROC_CATEGORY_ZP: {
                char code[16];
                std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(cp));
                return fail(
                    errc::bad_request,
                    std::string(what) + " holds an invisible or control character (" + code + ")");
            }
            default:
                break;
        }
        if (property->ignorable) {
            char code[16];
            std::snprintf(code, sizeof code, "U+%04X", static_cast<unsigned>(cp));
            return fail(errc::bad_request,
                        std::string(what) + " holds an invisible character (" + code + ")");
        }
    }
    // Spaces at either end do not show: trimmed, so that " Alice" and
    // "Alice" are one name.
    auto is_space_at = [&](std::size_t i, utf8proc_int32_t& cp) {
        return utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(normal.data()) + i,
                                static_cast<utf8proc_ssize_t>(normal.size() - i), &cp);
    };
    std::size_t begin = 0;
    while (begin < normal.size()) {
        utf8proc_int32_t cp = 0;
        const auto n = is_space_at(begin, cp);
        if (utf8proc_category(cp) != UTF8PROC_CATEGORY_ZS) {
            break;
        }
        begin += static_cast<std::size_t>(n);
    }
    std::size_t end = normal.size();
    while (end > begin) {
        // Back to the start of the last code point.
        std::size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(normal[start]) & 0xC0) == 0x80) {
            --start;
        }
        utf8proc_int32_t cp = 0;
        is_space_at(start, cp);
        if (utf8proc_category(cp) != UTF8PROC_CATEGORY_ZS) {
            break;
        }
        end = start;
    }
    normal = normal.substr(begin, end - begin);
    if (normal.size() > max) {
        return fail(errc::too_large,
                    std::string(what) + " is longer than " + std::to_string(max) + " bytes");
    }
    return normal;
}

outcome<std::string> check_display_name(std::string_view name, const protocol::limits& l) {
    return visible_name("display name", name, l.max_name_bytes);
}

outcome<void> check_topic(std::string_view topic, const protocol::limits& l) {
    return check_free_text("topic", topic, l.max_topic_bytes, true);
}

outcome<void> check_text(std::string_view text, const protocol::limits& l) {
    return check_free_text("message text", text, l.max_text_bytes, false);
}

outcome<void> check_client_msg_id(std::string_view id, const protocol::limits& l) {
    if (id.empty()) {
        return fail(errc::bad_request, "client_msg_id is empty");
    }
    // A length over its limit is TOO_LARGE, as for every other field.
    if (id.size() > l.max_client_msg_id_bytes) {
        return fail(errc::too_large, "client_msg_id is longer than " +
                                         std::to_string(l.max_client_msg_id_bytes) + " bytes");
    }
    for (unsigned char c : id) {
        if (c < 0x21 || c > 0x7e) {
            return fail(errc::bad_request,
                        "client_msg_id may only hold visible ASCII characters, '!' to '~' "
                        "(no space)");
        }
    }
    return {};
}

}  // namespace relais::core
