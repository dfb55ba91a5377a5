#include "server/core/validation.hpp"

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

outcome<void> check_display_name(std::string_view name, const protocol::limits& l) {
    return check_free_text("display name", name, l.max_name_bytes, true);
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
