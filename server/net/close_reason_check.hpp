#pragma once

// Follows the frames a client sends, only to notice a close frame whose
// reason is not UTF-8. RFC 6455 (8.1) and Autobahn (case 7.5.1) want such a
// connection failed with 1007 (invalid payload); Boost.Beast 1.81 fails it
// with 1002, hard-coded in its frame reader. The write combiner, which sees
// both directions, uses this to send 1007 instead.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec.hpp"

namespace relais::net {

class close_reason_check {
  public:
    // The next bytes the client sent, in order.
    void feed(const unsigned char* data, std::size_t size) {
        while (size > 0) {
            if (in_header_) {
                header_[header_size_++] = *data++;
                --size;
                if (header_size_ == 2) {
                    const auto length7 = header_[1] & 0x7F;
                    header_needed_ = 2 +
                                     (length7 == 126   ? 2
                                      : length7 == 127 ? 8
                                                       : 0) +
                                     ((header_[1] & 0x80) != 0 ? 4 : 0);
                }
                if (header_size_ == header_needed_) {
                    start_payload();
                }
                continue;
            }
            const auto take = static_cast<std::size_t>(
                std::min<std::uint64_t>(remaining_, static_cast<std::uint64_t>(size)));
            if (is_close_) {
                for (std::size_t i = 0; i < take && close_payload_.size() < 125; ++i) {
                    close_payload_.push_back(static_cast<char>(data[i] ^ mask_[(offset_ + i) & 3]));
                }
            }
            offset_ += take;
            remaining_ -= take;
            data += take;
            size -= take;
            if (remaining_ == 0) {
                end_frame();
            }
        }
    }

    // A close frame with a reason that is not UTF-8 has been seen.
    bool saw_invalid_close_reason() const { return invalid_close_reason_; }

  private:
    void start_payload() {
        const auto length7 = header_[1] & 0x7F;
        std::size_t at = 2;
        remaining_ = length7;
        if (length7 == 126 || length7 == 127) {
            const std::size_t bytes = length7 == 126 ? 2 : 8;
            remaining_ = 0;
            for (std::size_t i = 0; i < bytes; ++i) {
                remaining_ = remaining_ << 8 | header_[at++];
            }
        }
        for (std::size_t i = 0; i < 4; ++i) {
            mask_[i] = (header_[1] & 0x80) != 0 ? header_[at + i] : 0;
        }
        is_close_ = (header_[0] & 0x0F) == 0x8;
        close_payload_.clear();
        offset_ = 0;
        header_size_ = 0;
        header_needed_ = 2;
        in_header_ = false;
        if (remaining_ == 0) {
            end_frame();
        }
    }

    void end_frame() {
        if (is_close_ && close_payload_.size() > 2 &&
            !protocol::valid_utf8(std::string_view(close_payload_).substr(2))) {
            invalid_close_reason_ = true;
        }
        is_close_ = false;
        in_header_ = true;
    }

    bool in_header_ = true;
    unsigned char header_[14] = {};
    std::size_t header_size_ = 0;
    std::size_t header_needed_ = 2;
    std::uint64_t remaining_ = 0;
    std::uint64_t offset_ = 0;
    unsigned char mask_[4] = {};
    bool is_close_ = false;
    std::string close_payload_;
    bool invalid_close_reason_ = false;
};

}  // namespace relais::net
