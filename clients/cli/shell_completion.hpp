#pragma once

// Tab completion of `relais` in bash, from the command registry:
// `source <(relais completion bash)` installs it; bash then calls
// `relais __complete CWORD WORD...` at each Tab.

#include <string>
#include <vector>

namespace relais::cli {

std::string bash_completion_script();
// Prints what may replace words[cword] (words[0] is the program), one per
// line. Channel names come from the server when a session token is cached
// for the server and user the line names (or the settings); nothing is
// ever asked for.
int print_completions(std::size_t cword, const std::vector<std::string>& words);

}  // namespace relais::cli
