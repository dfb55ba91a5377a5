#pragma once

// Every command a person can type, in the one-shot client (`relais NAME
// ...`) and in the terminal client (`/NAME ...`): its names, its arguments,
// its help in French and English, and what Tab completes for each argument.
// Each front end binds its own actions to these names; the usage lines, the
// help, the argument checks and the completion come from here only.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relais::cli {

// A text in both languages; shown in the user's (messages.hpp, english()).
struct words {
    const char* fr;
    const char* en;
};
const char* tr(const words& w);

// Where a command exists.
enum class front : std::uint8_t { cli = 1, tui = 2, both = 3 };

enum class arg_kind : std::uint8_t {
    channel,  // an existing channel's name: Tab offers the channels
    user,     // an account's name: Tab offers the people seen
    number,   // a message's seq
    choice,   // one of the words of its label, "moderator|member"
    word,     // any one word (a new channel's name, a command's name)
    text,     // the rest of the line, spaces included
};

// How an argument is given in one front end.
enum class given : std::uint8_t {
    required,
    optional,
    // Not typed: the terminal client uses the channel on screen.
    current_channel,
    // Not in this front end.
    absent,
};

struct argument {
    arg_kind kind;
    words label;  // NOM / NAME, as usage lines show it
    given in_cli = given::required;
    given in_tui = given::required;
    // In the one-shot client, given as `--flag VALUE` rather than by place.
    const char* cli_flag = nullptr;
};

// A flag without a value (`--private`), or an option of the one-shot client
// with one (`--limit N`).
struct option {
    const char* name;
    const char* value = nullptr;  // its placeholder; none for a switch
    front where = front::both;
};

struct command {
    const char* name;
    // The terminal client's name, when it differs ("msg" for "dm").
    const char* tui_name;
    front where;
    std::vector<argument> arguments;
    std::vector<option> options;
    words help;  // what it does, in a few words
    // The terminal client's, when it differs (defaults it has there).
    words tui_help = {nullptr, nullptr};

    std::string name_in(front f) const { return f == front::tui && tui_name ? tui_name : name; }
    const words& help_in(front f) const { return f == front::tui && tui_help.fr ? tui_help : help; }
};

// A message's number as typed: digits only, within 64 bits.
std::optional<std::uint64_t> parse_number(std::string_view s);

const std::vector<command>& commands();
// Whether the option called `name` (of any command) takes a value; nothing
// when no command has it.
std::optional<bool> option_takes_value(std::string_view name);
// The values an option may take, when it names them ("--sort" takes
// newest|discussed|active); empty otherwise.
std::vector<std::string> option_choices(std::string_view name);
// Words with a command of two words ("session create") as one: the
// registry names such a command with its space.
std::vector<std::string> grouped(std::vector<std::string> words, front f);
// The command called `name` in front end `f` (without the terminal's '/').
const command* find_command(std::string_view name, front f);
// Its usage line: "invite NOM UTILISATEUR" or "/invite PERSONNE".
std::string synopsis(const command& c, front f);
// "  synopsis — help" for each command of `f`, one per line.
std::string help_lines(front f);
// The one-shot client's whole usage text.
std::string cli_usage();

// Checks the positional words of a command (`words[0]` is its name) against
// its arguments in front end `f`: how many, choices, numbers, and options
// that belong to another command. Returns the error to show, or nothing.
std::optional<std::string> check_arguments(const command& c, front f,
                                           const std::vector<std::string>& words,
                                           const std::vector<std::string>& options_given = {});

// What Tab may put in place of the word being typed. `before` holds the
// words typed before it (the command's name first, without '/'); `prefix`
// is what is typed of it so far.
struct completion_source {
    std::function<std::vector<std::string>()> channels;
    std::function<std::vector<std::string>()> people;
};
std::vector<std::string> complete(front f, const std::vector<std::string>& before,
                                  const std::string& prefix, const completion_source& source);

}  // namespace relais::cli
