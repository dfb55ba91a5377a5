#pragma once

#include <string_view>
#include <utility>
#include <vector>

namespace relais::storage {

// The meeting templates that ship with the server (storage/templates/*.json,
// read in at build time): name and JSON text, in the order they are listed.
const std::vector<std::pair<std::string_view, std::string_view>>& shipped_meeting_templates();

}  // namespace relais::storage
