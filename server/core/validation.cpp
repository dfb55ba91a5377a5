#include "server/core/validation.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <unordered_set>

#include "protocol/codec.hpp"

namespace relais::core {

// Generated at build time from server/core/data/common-passwords.txt.
extern const std::string_view common_passwords_text;

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

}  // namespace

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

outcome<void> check_channel_name(std::string_view name, const protocol::limits& l) {
    return check_name("channel name", name, l.max_name_bytes);
}

outcome<void> check_user_name(std::string_view name, const protocol::limits& l) {
    return check_name("user name", name, l.max_name_bytes);
}

outcome<void> check_vocabulary_slug(std::string_view slug, const protocol::limits& l) {
    return check_name("slug", slug, l.max_name_bytes);
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

namespace {

template <class T>
void drop_duplicates(std::vector<T>& items) {
    std::vector<T> kept;
    for (auto& item : items) {
        if (std::find(kept.begin(), kept.end(), item) == kept.end()) {
            kept.push_back(std::move(item));
        }
    }
    items = std::move(kept);
}

}  // namespace

outcome<void> check_link(std::string_view link, const protocol::limits& l) {
    if (link.empty()) {
        return {};
    }
    if (link.size() > l.max_link_bytes) {
        return fail(errc::too_large,
                    "link is longer than " + std::to_string(l.max_link_bytes) + " bytes");
    }
    if (!protocol::valid_utf8(link)) {
        return fail(errc::bad_request, "link is not valid UTF-8");
    }
    auto lower = std::string(link.substr(0, std::min<std::size_t>(link.size(), 8)));
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::size_t rest = 0;
    if (lower.starts_with("https://")) {
        rest = 8;
    } else if (lower.starts_with("http://")) {
        rest = 7;
    } else {
        return fail(errc::bad_request, "link must start with http:// or https://");
    }
    for (unsigned char c : link) {
        if (c <= 0x20 || c == 0x7f) {
            return fail(errc::bad_request, "link holds a space or a control character");
        }
    }
    const auto host_end = std::min(link.find_first_of("/?#", rest), link.size());
    auto authority = link.substr(rest, host_end - rest);
    // user:password@ is no part of a link to share.
    if (authority.find('@') != std::string_view::npos) {
        return fail(errc::bad_request, "link holds a user name or password");
    }
    const auto port = authority.rfind(':');
    auto host = port == std::string_view::npos || authority.find(']') > port
                    ? authority
                    : authority.substr(0, port);
    if (host.empty()) {
        return fail(errc::bad_request, "link has no host");
    }
    if (port != std::string_view::npos && authority.find(']') == std::string_view::npos) {
        auto digits = authority.substr(port + 1);
        if (digits.empty() || digits.size() > 5 ||
            !std::all_of(digits.begin(), digits.end(),
                         [](char c) { return c >= '0' && c <= '9'; })) {
            return fail(errc::bad_request, "link has an invalid port");
        }
    }
    return {};
}

outcome<std::string> normalise_tag(std::string_view tag, const protocol::limits& l) {
    auto name = visible_name("tag", tag, l.max_tag_bytes);
    if (!name) {
        return name.error();
    }
    if (name->empty()) {
        return fail(errc::bad_request, "a tag is empty");
    }
    // Lower case, code point by code point: accents stay ("Démarche" is
    // "démarche"), and nothing else changes.
    std::string lower;
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(name->data());
    const auto size = static_cast<utf8proc_ssize_t>(name->size());
    for (utf8proc_ssize_t at = 0; at < size;) {
        utf8proc_int32_t cp = 0;
        at += utf8proc_iterate(p + at, size - at, &cp);
        utf8proc_uint8_t encoded[4];
        const auto n = utf8proc_encode_char(utf8proc_tolower(cp), encoded);
        lower.append(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(n));
    }
    if (lower.size() > l.max_tag_bytes) {
        return fail(errc::too_large,
                    "tag is longer than " + std::to_string(l.max_tag_bytes) + " bytes");
    }
    return lower;
}

outcome<v1::Resource> check_resource(const v1::Resource& in, const protocol::limits& l) {
    v1::Resource out;
    auto title = visible_name("title", in.title(), l.max_title_bytes);
    if (!title) {
        return title.error();
    }
    if (title->empty()) {
        return fail(errc::bad_request, "a resource needs a title");
    }
    out.set_title(std::move(*title));
    if (auto ok = check_link(in.link(), l); !ok) {
        return ok.error();
    }
    out.set_link(in.link());
    if (auto ok = check_free_text("description", in.description(), l.max_text_bytes, true); !ok) {
        return ok.error();
    }
    out.set_description(in.description());
    const int kind = in.kind();
    if (kind < 0 || kind > v1::ResourceKind_MAX) {
        return fail(errc::bad_request, "unknown resource kind " + std::to_string(kind));
    }
    out.set_kind(kind == v1::RESOURCE_KIND_UNSPECIFIED ? v1::OTHER : in.kind());
    const int licence = in.licence();
    if (licence < 0 || licence > v1::Licence_MAX) {
        return fail(errc::bad_request, "unknown licence " + std::to_string(licence));
    }
    out.set_licence(in.licence());
    std::vector<std::string> tags;
    for (const auto& t : in.tags()) {
        auto tag = normalise_tag(t, l);
        if (!tag) {
            return tag.error();
        }
        tags.push_back(std::move(*tag));
    }
    drop_duplicates(tags);
    if (tags.size() > l.max_tags) {
        return fail(errc::bad_request,
                    "a resource has at most " + std::to_string(l.max_tags) + " tags");
    }
    for (auto& t : tags) {
        out.add_tags(std::move(t));
    }
    std::vector<std::string> themes(in.themes().begin(), in.themes().end());
    std::vector<std::string> audiences(in.audiences().begin(), in.audiences().end());
    drop_duplicates(themes);
    drop_duplicates(audiences);
    for (auto& t : themes) {
        out.add_themes(std::move(t));
    }
    for (auto& a : audiences) {
        out.add_audiences(std::move(a));
    }
    return out;
}

outcome<void> check_emoji(std::string_view emoji, const protocol::limits& l) {
    if (emoji.empty()) {
        return fail(errc::bad_request, "no emoji given");
    }
    if (emoji.size() > l.max_emoji_bytes) {
        return fail(errc::too_large,
                    "emoji is longer than " + std::to_string(l.max_emoji_bytes) + " bytes");
    }
    // Built by appending, not `"'" + std::string(emoji)`: GCC 12 at -O3
    // misreads that as an overlapping copy (GCC bug 105329, -Wrestrict).
    std::string quoted;
    quoted.append("'").append(emoji).append("' is not an emoji nor a :short_name:");
    const auto not_emoji = fail(errc::bad_request, quoted);
    if (emoji.size() >= 3 && emoji.front() == ':' && emoji.back() == ':') {
        for (unsigned char c : emoji.substr(1, emoji.size() - 2)) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                            c == '+' || c == '-';
            if (!ok) {
                return not_emoji;
            }
        }
        return {};
    }
    if (!protocol::valid_utf8(emoji)) {
        return not_emoji;
    }
    bool pictograph = false;
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(emoji.data());
    const auto size = static_cast<utf8proc_ssize_t>(emoji.size());
    for (utf8proc_ssize_t at = 0; at < size;) {
        utf8proc_int32_t cp = 0;
        at += utf8proc_iterate(p + at, size - at, &cp);
        const auto category = utf8proc_category(cp);
        if (category == UTF8PROC_CATEGORY_SO) {
            pictograph = true;  // emoji, regional indicators (flags)
        } else if (cp == 0x20E3) {
            pictograph = true;  // keycap
        } else if (category == UTF8PROC_CATEGORY_SK || category == UTF8PROC_CATEGORY_MN ||
                   cp == 0x200D || (cp >= 0xE0020 && cp <= 0xE007F) || (cp >= '0' && cp <= '9') ||
                   cp == '#' || cp == '*') {
            // Skin tones, variation selectors, joiners, tag sequences and
            // what a keycap caps.
        } else {
            return not_emoji;
        }
    }
    if (!pictograph) {
        return not_emoji;
    }
    return {};
}

outcome<void> check_commune(std::string_view code) {
    auto digit = [](char c) { return c >= '0' && c <= '9'; };
    bool ok = code.size() == 5 && std::all_of(code.begin() + 2, code.end(), digit) &&
              ((digit(code[0]) && digit(code[1])) ||
               (code[0] == '2' && (code[1] == 'A' || code[1] == 'B')));
    if (!code.empty() && !ok) {
        return fail(errc::bad_request,
                    "commune must be an INSEE code: five digits, or 2A or 2B and three digits");
    }
    return {};
}

outcome<void> check_date(std::string_view what, std::string_view date) {
    auto digits = [&](std::size_t from, std::size_t n) {
        int v = 0;
        for (std::size_t i = from; i < from + n; ++i) {
            if (date[i] < '0' || date[i] > '9') {
                return -1;
            }
            v = v * 10 + (date[i] - '0');
        }
        return v;
    };
    if (date.size() == 10 && date[4] == '-' && date[7] == '-') {
        const int year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
        constexpr int days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        if (year >= 1970 && month >= 1 && month <= 12 && day >= 1 && day <= days[month - 1]) {
            return {};
        }
    }
    return fail(errc::bad_request, std::string(what) + " must be a date: YYYY-MM-DD");
}

mentions parse_mentions(std::string_view text) {
    mentions out;
    auto name_char = [](unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    };
    for (std::size_t at = text.find('@'); at != std::string_view::npos;
         at = text.find('@', at + 1)) {
        // Not inside a word: "anne@mairie.fr" mentions nobody.
        if (at > 0 && (name_char(static_cast<unsigned char>(text[at - 1])) ||
                       static_cast<unsigned char>(text[at - 1]) >= 0x80)) {
            continue;
        }
        std::size_t end = at + 1;
        while (end < text.size() && name_char(static_cast<unsigned char>(text[end]))) {
            ++end;
        }
        // A sentence's full stop or a dash after the name is not part of it.
        while (end > at + 1 &&
               (text[end - 1] == '.' || text[end - 1] == '-' || text[end - 1] == '_')) {
            --end;
        }
        if (end == at + 1) {
            continue;
        }
        std::string name(text.substr(at + 1, end - at - 1));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (name == "channel") {
            out.channel = true;
        } else if (std::find(out.names.begin(), out.names.end(), name) == out.names.end()) {
            out.names.push_back(std::move(name));
        }
    }
    return out;
}

outcome<void> check_new_password(std::string_view password, const protocol::limits& l) {
    if (password.size() > l.max_password_bytes) {
        return fail(errc::too_large, "the password is longer than " +
                                         std::to_string(l.max_password_bytes) + " bytes");
    }
    // Characters, not bytes: "é" is one. Continuation bytes are not counted.
    const auto characters =
        static_cast<std::size_t>(std::count_if(password.begin(), password.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }));
    if (characters < 10) {
        return fail(errc::bad_request, "the password has " + std::to_string(characters) +
                                           " characters; it needs at least 10");
    }
    static const std::unordered_set<std::string_view> common = [] {
        std::unordered_set<std::string_view> words;
        std::string_view text = common_passwords_text;
        while (!text.empty()) {
            const auto end = std::min(text.find('\n'), text.size());
            const auto line = text.substr(0, end);
            if (!line.empty() && line.front() != '#') {
                words.insert(line);
            }
            text.remove_prefix(std::min(end + 1, text.size()));
        }
        return words;
    }();
    std::string folded(password);
    std::transform(folded.begin(), folded.end(), folded.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (common.count(folded)) {
        return fail(errc::bad_request,
                    "this password is one of the most common ones, which are tried first: "
                    "choose another");
    }
    return {};
}

}  // namespace relais::core
