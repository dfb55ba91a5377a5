// The export of one's own data: everything about the caller, nothing about
// others, in pages that together hold every event.
#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

class data_test : public core_test {
  protected:
    v1::MyData page(const conn_ptr& c, std::uint64_t cursor) {
        v1::ClientMessage m;
        m.mutable_export_my_data()->set_cursor(cursor);
        auto answer = call(c, m);
        EXPECT_TRUE(answer.has_my_data()) << answer.DebugString();
        return answer.my_data();
    }
};

TEST_F(data_test, the_export_holds_the_callers_profile_channels_and_events_and_nobody_elses) {
    auto lea = user("lea");
    auto marc = user("marc");
    ASSERT_TRUE(create(lea, "accueil").has_channel());
    ASSERT_TRUE(join(marc, "accueil").has_channel());
    auto sent = send(lea, "accueil", "premier jet", "e1");
    const auto seq = sent.sent().event().seq();
    v1::ClientMessage edit;
    *edit.mutable_edit_message()->mutable_channel() = ref("accueil");
    edit.mutable_edit_message()->set_seq(seq);
    edit.mutable_edit_message()->set_text("version corrigée");
    ASSERT_TRUE(call(lea, edit).has_ok());
    v1::ClientMessage react;
    *react.mutable_react()->mutable_channel() = ref("accueil");
    react.mutable_react()->set_seq(seq);
    react.mutable_react()->set_emoji("👍");
    ASSERT_TRUE(call(lea, react).has_ok());
    ASSERT_TRUE(send(marc, "accueil", "le message de marc", "e2").has_sent());

    auto first = page(lea, 0);
    EXPECT_EQ(first.profile().user().name(), "lea");
    ASSERT_EQ(first.memberships_size(), 1);
    EXPECT_EQ(first.memberships(0).name(), "accueil");
    EXPECT_EQ(first.sessions_size(), 1);
    EXPECT_EQ(first.next_cursor(), 0u);
    std::vector<std::string> texts;
    for (const auto& e : first.events()) {
        EXPECT_EQ(e.actor().name(), "lea");
        if (e.has_message()) {
            texts.push_back(e.message().text());
        } else if (e.has_edited()) {
            texts.push_back("edit: " + e.edited().text());
        } else if (e.has_reaction()) {
            texts.push_back("reaction: " + e.reaction().emoji());
        }
    }
    EXPECT_EQ(texts, (std::vector<std::string>{"version corrigée", "edit: version corrigée",
                                               "reaction: 👍"}));
}

TEST_F(data_test, a_long_history_comes_in_pages_that_hold_every_event_once) {
    auto lea = user("lea");
    ASSERT_TRUE(create(lea, "journal").has_channel());
    // Around the send budget: one connection per batch, the clock moved on.
    const int count = 1100;
    for (int i = 0; i < count; ++i) {
        if (i % 10 == 0) {
            clock_.advance(10'000);
        }
        ASSERT_TRUE(
            send(lea, "journal", "n" + std::to_string(i), "p" + std::to_string(i)).has_sent());
    }
    std::uint64_t cursor = 0;
    int pages = 0;
    std::vector<std::string> seen;
    do {
        auto p = page(lea, cursor);
        ++pages;
        for (const auto& e : p.events()) {
            if (e.has_message()) {
                seen.push_back(e.message().text());
            }
        }
        EXPECT_TRUE(cursor == 0 || p.memberships_size() == 0);  // once, on the first page
        cursor = p.next_cursor();
    } while (cursor != 0 && pages < 10);
    EXPECT_EQ(pages, 3);
    ASSERT_EQ(seen.size(), static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
        EXPECT_EQ(seen[static_cast<std::size_t>(i)], "n" + std::to_string(i));
    }
}

}  // namespace
}  // namespace relais::testing
