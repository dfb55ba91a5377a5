#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "protocol/errc.hpp"
#include "protocol/limits.hpp"
#include "protocol/relais.pb.h"

namespace relais::core {

// Each succeeds when the input is acceptable, else fails with errc::bad_request
// (errc::too_large for a length over its limit) saying what is wrong.
outcome<void> check_channel_name(std::string_view name, const protocol::limits& l);
outcome<void> check_user_name(std::string_view name, const protocol::limits& l);
// A password a person chooses: at least 10 characters (code points), at most
// max_password_bytes, and not one of the common passwords the server ships
// (server/core/data/common-passwords.txt, compared in lower case).
// BAD_REQUEST or TOO_LARGE, saying which.
outcome<void> check_new_password(std::string_view password, const protocol::limits& l);
// A theme's or an audience's slug: the same rule as a channel's name.
outcome<void> check_vocabulary_slug(std::string_view slug, const protocol::limits& l);
// A text a person reads as a name (a user's or a channel's display name;
// later tags and titles): NFC-normalised, spaces at either end trimmed, and
// refused (BAD_REQUEST) with a control, format or invisible character
// (U+200B and the like), a private-use, unassigned or surrogate code point,
// or a line or paragraph separator. Returns the text to store; an empty
// result is allowed (no display name).
outcome<std::string> visible_name(std::string_view what, std::string_view text, std::size_t max);
outcome<std::string> check_display_name(std::string_view name, const protocol::limits& l);
outcome<void> check_topic(std::string_view topic, const protocol::limits& l);
outcome<void> check_text(std::string_view text, const protocol::limits& l);
// Valid UTF-8 without NUL, at most max bytes (TOO_LARGE), and not empty
// unless allowed; `what` names it in the error.
outcome<void> check_free_text(std::string_view what, std::string_view text, std::size_t max,
                              bool allow_empty);
// Empty, or an http:// or https:// URL with a host, no space or control character.
outcome<void> check_link(std::string_view link, const protocol::limits& l);
// Empty, or an INSEE commune code: five digits, or 2A/2B and three digits.
outcome<void> check_commune(std::string_view code);
// A calendar date, YYYY-MM-DD.
outcome<void> check_date(std::string_view what, std::string_view date);
outcome<void> check_client_msg_id(std::string_view id, const protocol::limits& l);

// A resource as a request gives it, checked and normalised: the title
// under the display-name rule (required), the link (empty, or http(s)
// with a host, no space or control character), the description (a
// message's text, may be empty), the kind (unspecified: OTHER) and
// licence in range, tags through normalise_tag, at most max_tags, and
// duplicates of tags, themes and audiences dropped. Themes and audiences
// are checked against the server's lists by the caller.
outcome<v1::Resource> check_resource(const v1::Resource& in, const protocol::limits& l);
// A tag: the display-name rule, then lower case (accents kept), not empty.
outcome<std::string> normalise_tag(std::string_view tag, const protocol::limits& l);
// One emoji (a sequence: flags, skin tones, joiners, keycaps) or a
// :short_name: of lowercase ASCII letters, digits, '_', '+' and '-'.
outcome<void> check_emoji(std::string_view emoji, const protocol::limits& l);

// Who a text mentions: each @name (a user name's characters, any case,
// not inside a word or an e-mail address), and whether it says @channel.
struct mentions {
    std::vector<std::string> names;  // lower case, without '@', each once
    bool channel = false;
};
mentions parse_mentions(std::string_view text);

}  // namespace relais::core
