#include "protocol/errc.hpp"

#include <stdexcept>

namespace relais {

void throw_exception_from_error(const failure& f, const boost::source_location&) {
    throw std::runtime_error(std::string(to_string(f.code)) + ": " + f.message);
}

const char* to_string(errc code) {
    switch (code) {
        case errc::bad_request:
            return "BAD_REQUEST";
        case errc::unauthenticated:
            return "UNAUTHENTICATED";
        case errc::forbidden:
            return "FORBIDDEN";
        case errc::not_found:
            return "NOT_FOUND";
        case errc::conflict:
            return "CONFLICT";
        case errc::rate_limited:
            return "RATE_LIMITED";
        case errc::too_large:
            return "TOO_LARGE";
        case errc::unavailable:
            return "UNAVAILABLE";
        case errc::internal:
            return "INTERNAL";
    }
    return "INTERNAL";
}

v1::ErrorCode to_wire(errc code) {
    return static_cast<v1::ErrorCode>(static_cast<int>(code));
}

void fill_error(v1::Error& out, const failure& f) {
    out.set_code(to_wire(f.code));
    out.set_message(f.message);
    out.set_retry_after_ms(f.retry_after_ms);
}

}  // namespace relais
