#include "server/core/log.hpp"

#include <atomic>
#include <cstdio>
#include <exception>
#include <mutex>

namespace relais::core::log {
namespace {

std::atomic<level> min_level{level::info};
std::mutex write_mu;

const char* name_of(level l) {
    switch (l) {
        case level::debug:
            return "debug";
        case level::info:
            return "info";
        case level::warn:
            return "warn";
        case level::error:
            return "error";
    }
    return "error";
}

void append_value(std::string& out, std::string_view value) {
    bool plain = !value.empty();
    for (unsigned char c : value) {
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c == 0x7F) {
            plain = false;
            break;
        }
    }
    if (plain) {
        out.append(value);
        return;
    }
    out.push_back('"');
    for (unsigned char c : value) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c == '\n') {
            out.append("\\n");
        } else if (c < ' ' || c == 0x7F) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out.append(hex);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
    out.push_back('"');
}

}  // namespace

void set_min_level(level l) {
    min_level = l;
}

bool enabled(level l) {
    return l >= min_level.load(std::memory_order_relaxed);
}

std::optional<level> parse_level(std::string_view name) {
    for (level l : {level::debug, level::info, level::warn, level::error}) {
        if (name == name_of(l)) {
            return l;
        }
    }
    return std::nullopt;
}

std::string format(level l, std::string_view event, std::initializer_list<field> fields) {
    std::string line = "level=";
    line.append(name_of(l));
    line.append(" event=");
    append_value(line, event);
    for (const auto& f : fields) {
        line.push_back(' ');
        line.append(f.key);
        line.push_back('=');
        append_value(line, f.value);
    }
    line.push_back('\n');
    return line;
}

void write(level l, std::string_view event, std::initializer_list<field> fields) {
    if (!enabled(l)) {
        return;
    }
    const auto line = format(l, event, fields);
    std::lock_guard lock(write_mu);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}

std::string current_exception_text() {
    try {
        throw;
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace relais::core::log
