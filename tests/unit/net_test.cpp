#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "server/net/delivery_batch.hpp"
#include "server/net/outbound_queue.hpp"
#include "server/net/session_base.hpp"

namespace relais::net {
namespace {

protocol::frame frame(std::string bytes) {
    return std::make_shared<const std::string>(std::move(bytes));
}

std::vector<std::string> texts(const std::vector<protocol::frame>& frames) {
    std::vector<std::string> out;
    for (const auto& f : frames) {
        out.push_back(*f);
    }
    return out;
}

class outbound_queue_test : public ::testing::Test {
  protected:
    queue_limits limits{3, 10};
    outbound_queue queue{limits};
    std::vector<protocol::frame> dropped;
};

TEST_F(outbound_queue_test, frames_wait_in_delivery_order_within_both_bounds) {
    EXPECT_EQ(queue.push(frame("un"), dropped), outbound_queue::push_result::queued);
    EXPECT_EQ(queue.push(frame("deux"), dropped), outbound_queue::push_result::queued);
    EXPECT_EQ(queue.push(frame("troi"), dropped), outbound_queue::push_result::queued);
    EXPECT_EQ(queue.bytes(), 10u);
    EXPECT_EQ(texts(queue.frames()), (std::vector<std::string>{"un", "deux", "troi"}));
    EXPECT_FALSE(queue.closing());
    EXPECT_TRUE(dropped.empty());
    queue.clear_frames();
    EXPECT_FALSE(queue.has_frames());
    EXPECT_EQ(queue.bytes(), 0u);
    EXPECT_EQ(queue.push(frame("quatre"), dropped), outbound_queue::push_result::queued);
}

TEST_F(outbound_queue_test, one_frame_more_than_the_frame_bound_cuts_the_slow_reader_off) {
    for (const char* f : {"a", "b", "c"}) {
        ASSERT_EQ(queue.push(frame(f), dropped), outbound_queue::push_result::queued);
    }
    EXPECT_EQ(queue.push(frame("d"), dropped), outbound_queue::push_result::cut_off);
    // What it held is handed back to be freed, and none of it is sent.
    EXPECT_EQ(texts(dropped), (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_FALSE(queue.has_frames());
    EXPECT_EQ(queue.bytes(), 0u);
    EXPECT_TRUE(queue.closing());
    const auto close = queue.take_close();
    ASSERT_TRUE(close);
    ASSERT_GE(close->size(), 2u);
    EXPECT_EQ(
        static_cast<unsigned char>((*close)[0]) << 8 | static_cast<unsigned char>((*close)[1]),
        1008);
    EXPECT_NE(close->find("too slow"), std::string::npos);
    EXPECT_EQ(queue.push(frame("e"), dropped), outbound_queue::push_result::refused);
}

TEST_F(outbound_queue_test, one_byte_more_than_the_byte_bound_cuts_the_slow_reader_off) {
    ASSERT_EQ(queue.push(frame("123456"), dropped), outbound_queue::push_result::queued);
    ASSERT_EQ(queue.push(frame("7890"), dropped), outbound_queue::push_result::queued);
    EXPECT_EQ(queue.push(frame("x"), dropped), outbound_queue::push_result::cut_off);
    EXPECT_EQ(dropped.size(), 2u);
}

TEST_F(outbound_queue_test, a_frame_larger_than_the_whole_bound_still_goes_out_alone) {
    const std::string big(64, 'x');
    EXPECT_EQ(queue.push(frame(big), dropped), outbound_queue::push_result::queued);
    EXPECT_EQ(queue.frame_count(), 1u);
    // But nothing joins it until it has gone.
    EXPECT_EQ(queue.push(frame("y"), dropped), outbound_queue::push_result::cut_off);
    EXPECT_EQ(texts(dropped), std::vector<std::string>{big});
}

TEST_F(outbound_queue_test, the_close_frame_comes_after_every_frame_and_nothing_after_it) {
    queue.push(frame("un"), dropped);
    queue.push(frame("deux"), dropped);
    EXPECT_TRUE(queue.close(1001, "server shutting down"));
    // Frames delivered before the close still go, and first.
    EXPECT_EQ(queue.take_close(), std::nullopt);
    EXPECT_EQ(queue.push(frame("trois"), dropped), outbound_queue::push_result::refused);
    EXPECT_EQ(texts(queue.frames()), (std::vector<std::string>{"un", "deux"}));
    queue.clear_frames();
    const auto close = queue.take_close();
    ASSERT_TRUE(close);
    EXPECT_EQ(*close, std::string("\x03\xe9", 2) + "server shutting down");
    // Once only.
    EXPECT_EQ(queue.take_close(), std::nullopt);
    EXPECT_EQ(queue.push(frame("quatre"), dropped), outbound_queue::push_result::refused);
    EXPECT_FALSE(queue.has_frames());
}

TEST_F(outbound_queue_test, the_first_close_asked_for_wins) {
    EXPECT_TRUE(queue.close(1008, "kicked"));
    EXPECT_FALSE(queue.close(1001, "server shutting down"));
    EXPECT_EQ(queue.take_close(), std::string("\x03\xf0", 2) + "kicked");
}

TEST_F(outbound_queue_test, a_close_without_a_code_carries_no_payload_and_a_long_reason_is_cut) {
    EXPECT_TRUE(queue.close(0, "ignored without a code"));
    EXPECT_EQ(queue.take_close(), std::string());

    outbound_queue other(limits);
    other.close(1008, std::string(300, 'r'));
    const auto close = other.take_close();
    ASSERT_TRUE(close);
    // A control frame's payload is at most 125 bytes.
    EXPECT_EQ(close->size(), 125u);
}

TEST_F(outbound_queue_test, a_broken_connection_sends_nothing_more_not_even_a_close) {
    queue.push(frame("un"), dropped);
    queue.close(1008, "kicked");
    queue.abandon();
    EXPECT_FALSE(queue.has_frames());
    EXPECT_TRUE(queue.closing());
    EXPECT_EQ(queue.take_close(), std::nullopt);
    EXPECT_EQ(queue.push(frame("deux"), dropped), outbound_queue::push_result::refused);
}

// A session that joins delivery batches, as the server's plain TCP sessions
// do: what is delivered during a batch is written when the batch closes.
class batching_session final : public session_base {
  public:
    explicit batching_session(std::uint64_t id)
        : session_base(id, "192.0.2.1", core::rate_limiter::config{1, 1}) {}

    void deliver(protocol::frame f) override {
        queued.push_back(*f);
        if (auto* batch = delivery_batch::current()) {
            if (!joined) {
                joined = true;
                batch->join(std::static_pointer_cast<session_base>(shared_from_this()));
            }
        } else {
            flush_joined();
        }
    }
    void close(const std::string&) override {}
    void shutdown() override {}
    void sweep(std::int64_t) override {}
    std::size_t queued_bytes() override { return 0; }
    void post_flush(std::vector<std::shared_ptr<session_base>> batch) override {
        ++post_calls;
        for (auto& s : batch) {
            s->flush_joined();
        }
    }
    void flush_joined() override {
        joined = false;
        ++writes;
        written.insert(written.end(), queued.begin(), queued.end());
        queued.clear();
    }

    std::vector<std::string> queued, written;
    bool joined = false;
    int writes = 0, post_calls = 0;
};

TEST(delivery_batch, what_a_batch_delivers_is_written_when_it_closes_in_one_write_per_session) {
    auto a = std::make_shared<batching_session>(1);
    auto b = std::make_shared<batching_session>(2);
    auto c = std::make_shared<batching_session>(3);
    EXPECT_EQ(delivery_batch::current(), nullptr);
    {
        delivery_batch batch;
        EXPECT_EQ(delivery_batch::current(), &batch);
        a->deliver(frame("un"));
        b->deliver(frame("deux"));
        a->deliver(frame("trois"));
        {
            // A batch opened inside another flushes what joined it; a
            // session already in the outer one stays there, in order.
            delivery_batch inner;
            b->deliver(frame("quatre"));
            c->deliver(frame("cinq"));
        }
        EXPECT_EQ(delivery_batch::current(), &batch);
        EXPECT_TRUE(a->written.empty());
        EXPECT_TRUE(b->written.empty());
        EXPECT_EQ(c->written, (std::vector<std::string>{"cinq"}));
        a->deliver(frame("six"));
    }
    EXPECT_EQ(delivery_batch::current(), nullptr);
    EXPECT_EQ(a->written, (std::vector<std::string>{"un", "trois", "six"}));
    EXPECT_EQ(b->written, (std::vector<std::string>{"deux", "quatre"}));
    EXPECT_EQ(a->writes, 1);
    EXPECT_EQ(b->writes, 1);
    // One hand-off per batch, not one per session.
    EXPECT_EQ(a->post_calls + b->post_calls + c->post_calls, 2);
    b->deliver(frame("sept"));  // no batch: at once
    EXPECT_EQ(b->written.back(), "sept");
}

TEST(delivery_batch, deliver_in_one_batch_writes_once_what_its_callbacks_deliver) {
    auto a = std::make_shared<batching_session>(1);
    deliver_in_one_batch([&] {
        EXPECT_NE(delivery_batch::current(), nullptr);
        a->deliver(frame("un"));
        a->deliver(frame("deux"));
        EXPECT_TRUE(a->written.empty());
    });
    EXPECT_EQ(delivery_batch::current(), nullptr);
    EXPECT_EQ(a->written, (std::vector<std::string>{"un", "deux"}));
    EXPECT_EQ(a->writes, 1);
}

}  // namespace
}  // namespace relais::net
