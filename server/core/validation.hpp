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
outcome<void> check_display_name(std::string_view name, const protocol::limits& l);
outcome<void> check_topic(std::string_view topic, const protocol::limits& l);
outcome<void> check_text(std::string_view text, const protocol::limits& l);
outcome<void> check_client_msg_id(std::string_view id, const protocol::limits& l);

}  // namespace relais::core
