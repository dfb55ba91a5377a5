#pragma once

#include <boost/system/result.hpp>

#include <cstdint>
#include <string>

#include "protocol/relais.pb.h"

namespace relais {

// Expected failures, mirroring the wire's v1::ErrorCode one to one.
enum class errc {
    bad_request = 1,
    unauthenticated = 2,
    forbidden = 3,
    not_found = 4,
    conflict = 5,
    rate_limited = 6,
    too_large = 7,
    unavailable = 8,
    internal = 9,
};

// An expected failure with the plain-words message a person will read.
struct failure {
    errc code = errc::internal;
    std::string message;
    std::uint32_t retry_after_ms = 0;
};

// What every fallible domain function returns.
template <class T>
using outcome = boost::system::result<T, failure>;

inline failure fail(errc code, std::string message, std::uint32_t retry_after_ms = 0) {
    return failure{code, std::move(message), retry_after_ms};
}

// Required by boost::system::result when value() is called on an error.
[[noreturn]] void throw_exception_from_error(const failure& f, const boost::source_location& loc);

const char* to_string(errc code);

// The one mapping from domain failures to the wire.
v1::ErrorCode to_wire(errc code);
void fill_error(v1::Error& out, const failure& f);

}  // namespace relais
