// Every seq and id a request carries, at its boundaries: 0, 1, the last,
// the last + 1, 2^63 - 1, 2^63 and 2^64 - 1. Stored values are below 2^63;
// a larger one is larger than any (relais.proto, "Sequence numbers and
// ids"), never wrapped to a negative number.
#include <cstdint>
#include <limits>
#include <vector>

#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

class bounds : public core_test {
  protected:
    void SetUp() override {
        core_test::SetUp();
        alice_ = user("alice");
        ASSERT_TRUE(create(alice_, "bornes").has_channel());
        for (int i = 0; i < 4; ++i) {
            ASSERT_TRUE(
                send(alice_, "bornes", "message " + std::to_string(i), "b" + std::to_string(i))
                    .has_sent());
        }
        last_ = page(0, 0, 0).events().last_seq();
        ASSERT_EQ(last_, 6u);  // created, the owner's join, then four messages
        first_message_ = last_ - 3;
    }

    // GetHistory, or Sync when `sync` is set.
    v1::ServerMessage page(std::uint64_t before, std::uint64_t after, bool sync) {
        v1::ClientMessage m;
        if (sync) {
            *m.mutable_sync()->mutable_channel() = ref("bornes");
            m.mutable_sync()->set_after_seq(after);
        } else {
            *m.mutable_get_history()->mutable_channel() = ref("bornes");
            m.mutable_get_history()->set_before_seq(before);
            m.mutable_get_history()->set_after_seq(after);
        }
        auto answer = call(alice_, m);
        EXPECT_TRUE(answer.has_events()) << answer.DebugString();
        return answer;
    }
    static std::vector<std::uint64_t> seqs(const v1::ServerMessage& m) {
        std::vector<std::uint64_t> out;
        for (const auto& e : m.events().events()) {
            out.push_back(e.seq());
        }
        return out;
    }
    std::vector<std::uint64_t> values() const {
        return {0, 1, last_, last_ + 1, max_signed, max_signed + 1, max_unsigned};
    }

    static constexpr std::uint64_t max_signed = std::numeric_limits<std::int64_t>::max();
    static constexpr std::uint64_t max_unsigned = std::numeric_limits<std::uint64_t>::max();
    conn_ptr alice_;
    std::uint64_t last_ = 0;
    std::uint64_t first_message_ = 0;
};

TEST_F(bounds, after_seq_past_the_end_gives_nothing_and_says_so) {
    for (bool sync : {false, true}) {
        for (auto v : values()) {
            SCOPED_TRACE((sync ? "Sync after " : "GetHistory after ") + std::to_string(v));
            if (v == 0 && !sync) {
                continue;  // after_seq 0 means "before_seq" paging: below
            }
            const auto answer = page(0, v, sync);
            std::vector<std::uint64_t> expected;
            for (auto s = v + 1; v < last_ && s <= last_; ++s) {
                expected.push_back(s);
            }
            EXPECT_EQ(seqs(answer), expected);
            EXPECT_EQ(answer.events().full_resync(), v > last_);
            EXPECT_FALSE(answer.events().has_more());
            EXPECT_EQ(answer.events().last_seq(), last_);
        }
    }
}

TEST_F(bounds, before_seq_past_the_end_gives_the_newest_page) {
    for (auto v : values()) {
        SCOPED_TRACE("GetHistory before " + std::to_string(v));
        const auto answer = page(v, 0, false);
        std::vector<std::uint64_t> expected;
        // 0 and anything past the end: the newest page; otherwise what is
        // strictly before v.
        const auto end = (v == 0 || v > last_) ? last_ + 1 : v;
        for (std::uint64_t s = 1; s < end; ++s) {
            expected.push_back(s);
        }
        EXPECT_EQ(seqs(answer), expected);
        EXPECT_FALSE(answer.events().has_more());
        EXPECT_FALSE(answer.events().full_resync());
    }
}

TEST_F(bounds, a_seq_or_an_id_past_the_end_names_nothing) {
    v1::ClientMessage list;
    list.mutable_list_channels();
    const auto channel_id = call(alice_, list).channels().channels(0).id();
    for (auto v : values()) {
        SCOPED_TRACE(v);
        const bool a_message = v >= first_message_ && v <= last_;
        v1::ClientMessage edit;
        *edit.mutable_edit_message()->mutable_channel() = ref("bornes");
        edit.mutable_edit_message()->set_seq(v);
        edit.mutable_edit_message()->set_text("corrigé");
        const auto edited = call(alice_, edit);
        EXPECT_EQ(code(edited), a_message ? v1::ERROR_CODE_UNSPECIFIED : v1::NOT_FOUND)
            << edited.DebugString();

        v1::ClientMessage mark;
        *mark.mutable_mark_read()->mutable_channel() = ref("bornes");
        mark.mutable_mark_read()->set_seq(v);
        EXPECT_TRUE(call(alice_, mark).has_ok());

        v1::ClientMessage get;
        get.mutable_get_channel()->mutable_channel()->set_id(v);
        const auto got = call(alice_, get);
        if (v == channel_id) {
            EXPECT_TRUE(got.has_channel()) << got.DebugString();
            // The read marker never passes the last seq, whatever was asked.
            EXPECT_LE(got.channel().last_read_seq(), last_);
        } else {
            EXPECT_EQ(code(got), v1::NOT_FOUND) << got.DebugString();
        }
    }
    for (auto v : values()) {
        SCOPED_TRACE(v);
        v1::ClientMessage del;
        *del.mutable_delete_message()->mutable_channel() = ref("bornes");
        del.mutable_delete_message()->set_seq(v);
        const bool a_message = v >= first_message_ && v <= last_;
        EXPECT_EQ(code(call(alice_, del)), a_message ? v1::ERROR_CODE_UNSPECIFIED : v1::NOT_FOUND);
    }
}

}  // namespace
}  // namespace relais::testing
