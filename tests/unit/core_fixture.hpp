#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/codec.hpp"
#include "server/core/accounts.hpp"
#include "server/core/service.hpp"
#include "storage/sqlite/sqlite_store.hpp"
#include "tests/unit/temp_dir.hpp"

namespace relais::testing {

class fake_clock final : public core::clock {
  public:
    std::int64_t now_ms() const override { return now_.load(); }
    void advance(std::int64_t ms) { now_ += ms; }

  private:
    std::atomic<std::int64_t> now_{1'790'000'000'000};
};

// A connection without a socket: it keeps what the service delivers.
class test_connection final : public core::connection {
  public:
    test_connection(std::uint64_t id, std::string address)
        : core::connection(id, std::move(address), core::rate_limiter::config{1000, 1000}) {}

    void deliver(protocol::frame f) override {
        auto msg = protocol::decode_server(*f, 1 << 30);
        std::lock_guard lock(mu_);
        received_.push_back(*msg);
        cv_.notify_all();
    }
    void close(const std::string& reason) override {
        std::lock_guard lock(mu_);
        close_reason_ = reason;
        cv_.notify_all();
    }

    v1::ServerMessage answer(std::uint64_t request_id) {
        std::unique_lock lock(mu_);
        v1::ServerMessage found;
        bool ok = cv_.wait_for(lock, std::chrono::seconds(20), [&] {
            for (const auto& m : received_) {
                if (m.request_id() == request_id) {
                    found = m;
                    return true;
                }
            }
            return false;
        });
        EXPECT_TRUE(ok) << "no answer to request " << request_id;
        return found;
    }
    // Events pushed so far (responses excluded).
    std::vector<v1::Event> events() {
        std::lock_guard lock(mu_);
        std::vector<v1::Event> out;
        for (const auto& m : received_) {
            if (m.has_event()) {
                out.push_back(m.event());
            }
        }
        return out;
    }
    std::vector<v1::ServerMessage> all() {
        std::lock_guard lock(mu_);
        return received_;
    }
    std::vector<v1::Presence> presences() {
        std::lock_guard lock(mu_);
        std::vector<v1::Presence> out;
        for (const auto& m : received_) {
            if (m.has_presence()) {
                out.push_back(m.presence());
            }
        }
        return out;
    }
    std::string close_reason() {
        std::lock_guard lock(mu_);
        return close_reason_;
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::vector<v1::ServerMessage> received_;
    std::string close_reason_;
};

using conn_ptr = std::shared_ptr<test_connection>;

// The real service on the real SQLite store in a temporary folder, a fake
// clock and socket-less connections.
class core_test : public ::testing::Test {
  protected:
    void SetUp() override {
        storage::sqlite::options opts;
        opts.data_dir = dir_.path();
        sqlite_ = std::make_unique<storage::sqlite::sqlite_store>(opts);
        core::service_config config;
        config.limits.send_rate_per_second = 5;
        config.limits.send_burst = 10;
        service_ = std::make_unique<core::service>(store(), clock_, config);
        service_->start();
    }
    void TearDown() override {
        // Storage threads call into the service: stop them first.
        sqlite_->close();
        service_.reset();
        sqlite_.reset();
    }

    virtual storage::store& store() { return *sqlite_; }

    conn_ptr open(const std::string& address = "192.0.2.1") {
        auto conn = std::make_shared<test_connection>(++next_connection_, address);
        v1::ClientMessage hello;
        hello.mutable_hello()->set_protocol_version(1);
        EXPECT_TRUE(call(conn, hello).has_welcome());
        return conn;
    }

    v1::ServerMessage call(const conn_ptr& conn, v1::ClientMessage msg) {
        const auto id = ++next_request_;
        msg.set_request_id(id);
        service_->on_frame(conn, protocol::encode(msg));
        return conn->answer(id);
    }

    void add_user(const std::string& name) {
        core::accounts accounts(store(), clock_, protocol::limits{});
        ASSERT_TRUE(accounts.add(name, "secret-" + name, v1::MEDIATOR, ""));
    }

    v1::ServerMessage login(const conn_ptr& conn, const std::string& name,
                            const std::string& password) {
        v1::ClientMessage msg;
        msg.mutable_login()->set_name(name);
        msg.mutable_login()->set_password(password);
        return call(conn, msg);
    }

    // A new account, logged in on a new connection.
    conn_ptr user(const std::string& name) {
        add_user(name);
        auto conn = open();
        auto answer = login(conn, name, "secret-" + name);
        EXPECT_TRUE(answer.has_session()) << answer.DebugString();
        return conn;
    }

    static v1::ChannelRef ref(const std::string& name) {
        v1::ChannelRef r;
        r.set_name(name);
        return r;
    }

    v1::ServerMessage create(const conn_ptr& c, const std::string& name, bool is_private = false) {
        v1::ClientMessage msg;
        msg.mutable_create_channel()->set_name(name);
        msg.mutable_create_channel()->set_private_(is_private);
        return call(c, msg);
    }
    v1::ServerMessage join(const conn_ptr& c, const std::string& name) {
        v1::ClientMessage msg;
        *msg.mutable_join_channel()->mutable_channel() = ref(name);
        return call(c, msg);
    }
    // A reply in the thread of `thread_seq` when it is not 0.
    v1::ServerMessage send(const conn_ptr& c, const std::string& channel, const std::string& text,
                           const std::string& client_msg_id, std::uint64_t thread_seq = 0) {
        v1::ClientMessage msg;
        auto& s = *msg.mutable_send_message();
        *s.mutable_channel() = ref(channel);
        s.set_text(text);
        s.set_client_msg_id(client_msg_id);
        s.set_thread_seq(thread_seq);
        return call(c, msg);
    }
    v1::ServerMessage history(const conn_ptr& c, const std::string& channel) {
        v1::ClientMessage msg;
        *msg.mutable_get_history()->mutable_channel() = ref(channel);
        return call(c, msg);
    }

    static v1::ErrorCode code(const v1::ServerMessage& m) {
        return m.has_error() ? m.error().code() : v1::ERROR_CODE_UNSPECIFIED;
    }

    temp_dir dir_;
    fake_clock clock_;
    std::unique_ptr<storage::sqlite::sqlite_store> sqlite_;
    std::unique_ptr<core::service> service_;
    std::uint64_t next_connection_ = 0;
    std::uint64_t next_request_ = 0;
};

}  // namespace relais::testing
