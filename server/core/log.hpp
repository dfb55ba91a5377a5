#pragma once

// The server's log: one line per event on stderr, which journald keeps, in
// key=value form that both people and log tools read:
//   level=error event=request_failed conn=12 request=4 what="no such table"
// Never pass passwords, tokens or message text.
// Thread-safe: a line is formatted first, then written whole under a lock.

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

namespace relais::core::log {

enum class level { debug, info, warn, error };

// Lines below this level are dropped (default: info).
void set_min_level(level l);
bool enabled(level l);
// "debug", "info", "warn" or "error"; nullopt otherwise.
std::optional<level> parse_level(std::string_view name);

struct field {
    field(std::string_view k, std::string_view v) : key(k), value(v) {}
    field(std::string_view k, const char* v) : key(k), value(v ? v : "") {}
    field(std::string_view k, const std::string& v) : key(k), value(v) {}
    field(std::string_view k, std::uint64_t v) : key(k), value(std::to_string(v)) {}
    std::string_view key;
    std::string value;
};

// `level=L event=E k=v ...`; a value with spaces, quotes, `=` or control
// characters is quoted and escaped, so one event is always one line.
std::string format(level l, std::string_view event, std::initializer_list<field> fields);
void write(level l, std::string_view event, std::initializer_list<field> fields);

// What the exception being handled says (call inside a catch block).
std::string current_exception_text();

}  // namespace relais::core::log
