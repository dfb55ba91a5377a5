// libFuzzer target: the request handler. Each input is one frame handed to
// the real service on a real SQLite store, on a logged-in connection and on a
// fresh one; each must get exactly one answer and never crash.
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "protocol/codec.hpp"
#include "server/core/accounts.hpp"
#include "server/core/service.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace {

using namespace relais;

class fuzz_clock final : public core::clock {
  public:
    std::int64_t now_ms() const override { return 1'790'000'000'000; }
};

class counting_connection final : public core::connection {
  public:
    explicit counting_connection(std::uint64_t id)
        : core::connection(id, "192.0.2.7", core::rate_limiter::config{1e9, 1e9}) {}

    void deliver(protocol::frame f) override {
        auto msg = protocol::decode_server(*f, 1 << 30);
        if (!msg) {
            __builtin_trap();  // the server must only ever send valid envelopes
        }
        if (msg->has_event() || msg->has_presence()) {
            return;
        }
        std::lock_guard lock(mu_);
        ++answers_;
        cv_.notify_all();
    }
    void close(const std::string&) override {}

    std::uint64_t answers() {
        std::lock_guard lock(mu_);
        return answers_;
    }
    // Every frame gets exactly one answer; wait for it so that work does not
    // pile up between inputs.
    void wait_for(std::uint64_t count) {
        std::unique_lock lock(mu_);
        if (!cv_.wait_for(lock, std::chrono::seconds(30), [&] { return answers_ >= count; })) {
            std::fprintf(stderr, "no answer to a frame within 30 s\n");
            __builtin_trap();
        }
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::uint64_t answers_ = 0;
};

struct world {
    world() {
        char pattern[] = "/tmp/relais-fuzz-XXXXXX";
        dir = ::mkdtemp(pattern);
        storage::sqlite::options opts;
        opts.data_dir = dir;
        opts.durability = storage::sqlite::connection::durability::normal;
        store = std::make_unique<storage::sqlite::sqlite_store>(opts);
        service = std::make_unique<core::service>(*store, clock, core::service_config{});
        service->start();
        core::accounts(*store, clock, protocol::limits{})
            .add("fuzz", "fuzz-password", v1::MEDIATOR, "");
        member = std::make_shared<counting_connection>(1);
        frame(member, [](v1::ClientMessage& m) { m.mutable_hello()->set_protocol_version(1); });
        frame(member, [](v1::ClientMessage& m) {
            m.mutable_login()->set_name("fuzz");
            m.mutable_login()->set_password("fuzz-password");
        });
        frame(member,
              [](v1::ClientMessage& m) { m.mutable_create_channel()->set_name("accueil"); });
    }
    ~world() {
        store->close();
        service.reset();
        store.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }

    template <class Fill>
    void frame(const std::shared_ptr<counting_connection>& conn, Fill fill) {
        v1::ClientMessage m;
        m.set_request_id(1);
        fill(m);
        feed(conn, protocol::encode(m));
    }
    void feed(const std::shared_ptr<counting_connection>& conn, std::string_view bytes) {
        auto expected = conn->answers() + 1;
        service->on_frame(conn, bytes);
        conn->wait_for(expected);
    }

    std::filesystem::path dir;
    fuzz_clock clock;
    std::unique_ptr<storage::sqlite::sqlite_store> store;
    std::unique_ptr<core::service> service;
    std::shared_ptr<counting_connection> member;
    std::uint64_t next_id = 100;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static world w;
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    w.feed(w.member, bytes);
    auto stranger = std::make_shared<counting_connection>(++w.next_id);
    w.feed(stranger, bytes);
    w.service->on_close(stranger);
    return 0;
}
