#include "clients/bench/wire.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstring>
#include <stdexcept>

#include "protocol/websocket.hpp"

namespace relais::bench {

using tcp = asio::ip::tcp;

endpoint parse_url(const std::string& url) {
    auto e = protocol::parse_ws_url(url);
    if (!e) {
        throw std::invalid_argument("not a ws:// or wss:// address: " + url);
    }
    return *e;
}

wire::wire(asio::io_context& io, asio::ssl::context* tls, int receive_buffer)
    : socket_(io), in_(16 * 1024), unpause_(io) {
    if (receive_buffer > 0) {
        socket_.open(tcp::v4());
        socket_.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
    }
    if (tls) {
        tls_.emplace(socket_, *tls);
    }
}

asio::awaitable<std::size_t> wire::read_some(char* data, std::size_t size) {
    if (tls_) {
        co_return co_await tls_->async_read_some(asio::buffer(data, size), asio::use_awaitable);
    }
    co_return co_await socket_.async_read_some(asio::buffer(data, size), asio::use_awaitable);
}

asio::awaitable<void> wire::open(const endpoint& to) {
    tcp::resolver resolver(socket_.get_executor());
    auto addresses = co_await resolver.async_resolve(to.host, to.port, asio::use_awaitable);
    if (socket_.is_open()) {
        // Opened early for its receive buffer size: connect that socket.
        co_await socket_.async_connect(*addresses.begin(), asio::use_awaitable);
    } else {
        co_await asio::async_connect(socket_, addresses, asio::use_awaitable);
    }
    socket_.set_option(tcp::no_delay(true));
    std::string request = "GET " + to.path + " HTTP/1.1\r\nHost: " + to.host + ":" + to.port +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n";
    std::string answer;
    if (tls_) {
        SSL_set_tlsext_host_name(tls_->native_handle(), to.host.c_str());
        co_await tls_->async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
        co_await asio::async_write(*tls_, asio::buffer(request), asio::use_awaitable);
        co_await asio::async_read_until(*tls_, asio::dynamic_buffer(answer), "\r\n\r\n",
                                        asio::use_awaitable);
    } else {
        co_await asio::async_write(socket_, asio::buffer(request), asio::use_awaitable);
        co_await asio::async_read_until(socket_, asio::dynamic_buffer(answer), "\r\n\r\n",
                                        asio::use_awaitable);
    }
    if (answer.rfind("HTTP/1.1 101", 0) != 0) {
        throw std::runtime_error("WebSocket upgrade refused: " +
                                 answer.substr(0, answer.find('\r')));
    }
    // Frames the server sent right behind its answer.
    const auto head = answer.find("\r\n\r\n") + 4;
    const auto extra = answer.size() - head;
    std::memcpy(in_.data(), answer.data() + head, extra);
    in_begin_ = 0;
    in_end_ = extra;
}

asio::awaitable<void> wire::read_loop(on_message handler) {
    for (;;) {
        // Parse every complete frame in the buffer.
        for (;;) {
            const std::size_t available = in_end_ - in_begin_;
            if (available < 2) {
                break;
            }
            const auto* p = reinterpret_cast<const unsigned char*>(in_.data() + in_begin_);
            const bool fin = (p[0] & 0x80) != 0;
            const std::uint8_t opcode = p[0] & 0x0F;
            std::uint64_t length = p[1] & 0x7F;
            std::size_t header = 2;
            if (length == 126) {
                if (available < 4) {
                    break;
                }
                length = (std::uint64_t{p[2]} << 8) | p[3];
                header = 4;
            } else if (length == 127) {
                if (available < 10) {
                    break;
                }
                length = 0;
                for (int i = 0; i < 8; ++i) {
                    length = (length << 8) | p[2 + i];
                }
                header = 10;
            }
            if ((p[1] & 0x80) != 0) {
                throw std::runtime_error("the server masked a frame");
            }
            if (available < header + length) {
                if (header + length > in_.size()) {
                    in_.resize(header + length);
                }
                break;
            }
            const std::string_view payload(in_.data() + in_begin_ + header, length);
            in_begin_ += header + length;
            switch (opcode) {
                case 0x0:
                case 0x1:
                case 0x2:
                    if (fin && fragments_.empty() && opcode != 0x0) {
                        handler(payload, opcode == 0x1);
                    } else {
                        if (opcode != 0x0) {
                            // Remember the kind of the first fragment in front.
                            fragments_.assign(1, static_cast<char>(opcode));
                        }
                        fragments_.append(payload);
                        if (fin) {
                            handler(std::string_view(fragments_).substr(1), fragments_[0] == 0x1);
                            fragments_.clear();
                        }
                    }
                    break;
                case 0x8:
                    if (payload.size() >= 2) {
                        close_code_ = (static_cast<unsigned char>(payload[0]) << 8) |
                                      static_cast<unsigned char>(payload[1]);
                        close_reason_.assign(payload.substr(2));
                    } else {
                        close_code_ = 1005;
                    }
                    if (!close_sent_) {
                        close_sent_ = true;
                        write_frame(0x8, payload.substr(0, 2));
                    }
                    ended_ = true;
                    co_return;
                case 0x9:
                    write_frame(0xA, payload);
                    break;
                default:
                    break;
            }
        }
        // Keep the partial frame at the front, then read more behind it.
        if (in_begin_ > 0) {
            std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
            in_end_ -= in_begin_;
            in_begin_ = 0;
        }
        while (paused_) {
            unpause_.expires_at(asio::steady_timer::time_point::max());
            co_await unpause_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        std::size_t n = 0;
        try {
            n = co_await read_some(in_.data() + in_end_, in_.size() - in_end_);
        } catch (const boost::system::system_error&) {
            ended_ = true;
            co_return;
        }
        in_end_ += n;
    }
}

void wire::send(std::string_view payload, bool text) {
    write_frame(text ? 0x1 : 0x2, payload);
}

void wire::close() {
    if (!close_sent_ && !ended_) {
        close_sent_ = true;
        write_frame(0x8, std::string_view("\x03\xe8", 2));  // 1000
    }
}

void wire::abort() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    ended_ = true;
    resume_reading();
}

void wire::resume_reading() {
    paused_ = false;
    unpause_.cancel();
}

void wire::write_frame(std::uint8_t opcode, std::string_view payload) {
    // A client must mask; the key needs no strength against a test server.
    mask_state_ = mask_state_ * 1664525u + 1013904223u;
    char mask[4];
    std::memcpy(mask, &mask_state_, 4);
    protocol::append_masked_frame(out_, opcode, payload, mask);
    flush();
}

void wire::flush() {
    if (writing_ || out_.empty() || ended_) {
        return;
    }
    writing_ = true;
    out_flight_.swap(out_);
    auto done = [this](boost::system::error_code ec, std::size_t) {
        writing_ = false;
        out_flight_.clear();
        if (ec) {
            out_.clear();
            return;
        }
        flush();
    };
    if (tls_) {
        asio::async_write(*tls_, asio::buffer(out_flight_), done);
    } else {
        asio::async_write(socket_, asio::buffer(out_flight_), done);
    }
}

}  // namespace relais::bench
