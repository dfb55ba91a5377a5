#pragma once

// A WebSocket client over a plain socket that writes exactly the frames it is
// told to: for conformance and hostile-client tests.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "tests/integration/harness.hpp"

namespace relais::testing {

enum opcode : std::uint8_t {
    continuation = 0x0,
    text = 0x1,
    binary = 0x2,
    close = 0x8,
    ping = 0x9,
    pong = 0xA,
};

struct ws_frame {
    bool fin = true;
    std::uint8_t rsv = 0;  // the three reserved bits, 0..7
    std::uint8_t op = binary;
    std::string payload;
};

// A WebSocket client that writes exactly the bytes it is told to.
class raw_ws {
  public:
    struct socket_options {
        int receive_buffer = 0;   // SO_RCVBUF before connecting; 0 = the default
        std::string source = {};  // a 127.x.y.z address to connect from
        bool handshake = true;    // send the HTTP upgrade and check the answer
    };
    explicit raw_ws(const server_process& server) : raw_ws(server, socket_options{}) {}
    raw_ws(const server_process& server, const socket_options& o) {
        const auto& url = server.url();
        const auto port = std::stoi(url.substr(url.rfind(':') + 1));
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (o.receive_buffer > 0) {
            ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &o.receive_buffer, sizeof o.receive_buffer);
        }
        if (!o.source.empty()) {
            sockaddr_in from{};
            from.sin_family = AF_INET;
            ::inet_pton(AF_INET, o.source.c_str(), &from.sin_addr);
            ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from);
        }
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        ::inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            throw std::runtime_error("connect failed");
        }
        if (o.handshake) {
            handshake();
        }
    }
    ~raw_ws() { ::close(fd_); }
    raw_ws(const raw_ws&) = delete;
    raw_ws& operator=(const raw_ws&) = delete;

    // The HTTP upgrade; throws unless the server switches protocols.
    void handshake() {
        put("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        std::string head;
        while (head.find("\r\n\r\n") == std::string::npos) {
            auto c = get(1);
            if (!c) {
                throw std::runtime_error("no handshake answer");
            }
            head += *c;
        }
        if (head.rfind("HTTP/1.1 101", 0) != 0 ||
            head.find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == std::string::npos) {
            throw std::runtime_error("bad handshake answer: " + head);
        }
    }

    void send(const ws_frame& f, bool masked = true) {
        std::string out;
        out.push_back(static_cast<char>((f.fin ? 0x80 : 0) | (f.rsv << 4) | f.op));
        const std::uint8_t mask_bit = masked ? 0x80 : 0;
        const auto n = f.payload.size();
        if (n < 126) {
            out.push_back(static_cast<char>(mask_bit | n));
        } else if (n < 65536) {
            out.push_back(static_cast<char>(mask_bit | 126));
            out.push_back(static_cast<char>(n >> 8));
            out.push_back(static_cast<char>(n & 0xff));
        } else {
            out.push_back(static_cast<char>(mask_bit | 127));
            for (int shift = 56; shift >= 0; shift -= 8) {
                out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xff));
            }
        }
        const char key[4] = {0x12, 0x34, 0x56, 0x78};
        if (masked) {
            out.append(key, 4);
        }
        for (std::size_t i = 0; i < n; ++i) {
            out.push_back(masked ? static_cast<char>(f.payload[i] ^ key[i % 4]) : f.payload[i]);
        }
        put(out);
    }

    // The next frame from the server; nullopt when the connection ended.
    std::optional<ws_frame> receive() {
        auto head = get(2);
        if (!head) {
            return std::nullopt;
        }
        ws_frame f;
        const auto b0 = static_cast<std::uint8_t>((*head)[0]);
        const auto b1 = static_cast<std::uint8_t>((*head)[1]);
        f.fin = b0 & 0x80;
        f.rsv = (b0 >> 4) & 0x7;
        f.op = b0 & 0x0f;
        EXPECT_EQ(b1 & 0x80, 0) << "a server must not mask its frames";
        std::uint64_t n = b1 & 0x7f;
        if (n >= 126) {
            auto ext = get(n == 126 ? 2 : 8);
            if (!ext) {
                return std::nullopt;
            }
            n = 0;
            for (char c : *ext) {
                n = (n << 8) | static_cast<std::uint8_t>(c);
            }
        }
        auto payload = get(static_cast<std::size_t>(n));
        if (!payload) {
            return std::nullopt;
        }
        f.payload = std::move(*payload);
        return f;
    }

    // Reads until the server's close frame and returns its code (0 when the
    // connection ended without one); pongs and data before it are skipped.
    int close_code() {
        while (auto f = receive()) {
            if (f->op == close) {
                close_reason_ = f->payload.size() > 2 ? f->payload.substr(2) : "";
                return f->payload.size() >= 2 ? (static_cast<std::uint8_t>(f->payload[0]) << 8) |
                                                    static_cast<std::uint8_t>(f->payload[1])
                                              : 1005;
            }
        }
        return 0;
    }
    const std::string& close_reason() const { return close_reason_; }
    // True when a read gave up after 10 s of silence: the connection had
    // not ended.
    bool timed_out() const { return timed_out_; }

    // True when the server closed the TCP connection (after its close frame).
    bool ended() {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 5000) <= 0) {
            return false;
        }
        char c;
        return ::recv(fd_, &c, 1, 0) <= 0;
    }

    int fd() const { return fd_; }
    // Raw bytes, as they are.
    void put(const std::string& bytes) {
        std::size_t done = 0;
        while (done < bytes.size()) {
            auto n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
            if (n <= 0) {
                return;  // the server may close first: what it said is read next
            }
            done += static_cast<std::size_t>(n);
        }
    }

  private:
    std::optional<std::string> get(std::size_t n) {
        std::string out(n, '\0');
        std::size_t done = 0;
        while (done < n) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 10000) <= 0) {
                timed_out_ = true;
                return std::nullopt;
            }
            auto got = ::recv(fd_, out.data() + done, n - done, 0);
            if (got <= 0) {
                return std::nullopt;
            }
            done += static_cast<std::size_t>(got);
        }
        return out;
    }

    int fd_ = -1;
    std::string close_reason_;
    bool timed_out_ = false;
};

}  // namespace relais::testing
