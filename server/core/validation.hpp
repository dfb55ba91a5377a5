#pragma once

#include <string>
#include <string_view>

#include "protocol/errc.hpp"
#include "protocol/limits.hpp"

namespace relais::core {

// Each succeeds when the input is acceptable, else fails with errc::bad_request
// (errc::too_large for a length over its limit) saying what is wrong.
outcome<void> check_channel_name(std::string_view name, const protocol::limits& l);
outcome<void> check_user_name(std::string_view name, const protocol::limits& l);
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
outcome<void> check_client_msg_id(std::string_view id, const protocol::limits& l);

}  // namespace relais::core
