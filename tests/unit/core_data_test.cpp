// The export of one's own data: everything about the caller, nothing about
// others, in pages that together hold every event.
#include <future>

#include "server/core/accounts.hpp"
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

class erasure_test : public data_test {
  protected:
    v1::ServerMessage set_retention(const conn_ptr& c, const std::string& channel,
                                    std::uint32_t days) {
        v1::ClientMessage m;
        *m.mutable_set_retention()->mutable_channel() = ref(channel);
        m.mutable_set_retention()->set_days(days);
        return call(c, m);
    }
    std::uint64_t retention_pass() {
        std::promise<std::uint64_t> done;
        service_->apply_retention([&](std::uint64_t n) { done.set_value(n); });
        return done.get_future().get();
    }
    std::size_t hits(const conn_ptr& c, const std::string& query) {
        v1::ClientMessage m;
        m.mutable_search()->set_query(query);
        auto answer = call(c, m);
        EXPECT_TRUE(answer.has_search_results()) << answer.DebugString();
        return static_cast<std::size_t>(answer.search_results().hits_size());
    }
    core::accounts accounts() { return core::accounts(store(), clock_, protocol::limits{}); }
    static constexpr auto tombstones = core::accounts::messages_become::tombstones;
    static constexpr auto removed = core::accounts::messages_become::removed;
    // As after `relais-server user erase`, which runs with the server
    // stopped: a new service, and `name` logged in again.
    conn_ptr restart_as(const std::string& name) {
        service_ = std::make_unique<core::service>(store(), clock_, core::service_config{});
        service_->start();
        auto conn = open();
        EXPECT_TRUE(login(conn, name, "secret-" + name).has_session());
        return conn;
    }
};

TEST_F(erasure_test, retention_tombstones_what_is_older_than_the_period_and_keeps_the_rest) {
    auto lea = user("lea");
    auto marc = user("marc");
    ASSERT_TRUE(create(lea, "archives").has_channel());
    ASSERT_TRUE(join(marc, "archives").has_channel());
    const auto old1 = send(lea, "archives", "compte rendu de janvier", "r1").sent().event().seq();
    const auto old2 = send(marc, "archives", "photos de l'atelier", "r2").sent().event().seq();
    // Only the owner (or an admin) decides, within a hundred years.
    EXPECT_EQ(code(set_retention(marc, "archives", 30)), v1::FORBIDDEN);
    EXPECT_EQ(code(set_retention(lea, "archives", 36501)), v1::BAD_REQUEST);
    auto set = set_retention(lea, "archives", 30);
    ASSERT_TRUE(set.has_channel()) << set.DebugString();
    EXPECT_EQ(set.channel().options().retention_days(), 30u);
    EXPECT_EQ(retention_pass(), 0u) << "nothing is 30 days old yet";

    clock_.advance(31LL * 86'400'000);
    const auto fresh = send(lea, "archives", "ordre du jour de mars", "r3").sent().event().seq();
    EXPECT_EQ(retention_pass(), 2u);
    EXPECT_EQ(retention_pass(), 0u) << "a tombstone is not expired twice";
    auto h = history(marc, "archives");
    ASSERT_TRUE(h.has_events());
    std::uint64_t expected_seq = h.events().events(0).seq();
    for (const auto& e : h.events().events()) {
        EXPECT_EQ(e.seq(), expected_seq++) << "a gap in the history";
        if (e.seq() == old1 || e.seq() == old2) {
            EXPECT_TRUE(e.message().deleted());
            EXPECT_EQ(e.message().text(), "");
        }
        if (e.seq() == fresh) {
            EXPECT_EQ(e.message().text(), "ordre du jour de mars");
        }
    }
    EXPECT_EQ(hits(marc, "atelier"), 0u);
    EXPECT_EQ(hits(marc, "mars"), 1u);
}

TEST_F(erasure_test, an_erased_account_is_an_anonymous_tombstone_author_and_cannot_log_in) {
    auto lea = user("lea");
    auto marc = user("marc");
    ASSERT_TRUE(create(lea, "accueil").has_channel());
    ASSERT_TRUE(join(marc, "accueil").has_channel());
    const auto said = send(marc, "accueil", "mon numéro est le 06 12", "e1").sent().event().seq();
    ASSERT_TRUE(send(lea, "accueil", "merci marc", "e2").has_sent());
    v1::ClientMessage edit;
    *edit.mutable_edit_message()->mutable_channel() = ref("accueil");
    edit.mutable_edit_message()->set_seq(said);
    edit.mutable_edit_message()->set_text("mon numéro est le 07 34");
    ASSERT_TRUE(call(marc, edit).has_ok());

    auto erased = accounts().erase("marc", tombstones);
    ASSERT_TRUE(erased) << erased.error().message;
    EXPECT_EQ(*erased, 1u);
    EXPECT_EQ(accounts().erase("marc", tombstones).error().code, errc::not_found);

    lea = restart_as("lea");
    auto h = history(lea, "accueil");
    ASSERT_TRUE(h.has_events());
    bool saw_tombstone = false, saw_lea = false;
    for (const auto& e : h.events().events()) {
        if (e.has_message() && e.seq() == said) {
            saw_tombstone = true;
            EXPECT_TRUE(e.message().deleted());
            EXPECT_EQ(e.message().text(), "");
            EXPECT_TRUE(e.actor().erased());
            EXPECT_EQ(e.actor().name(), "#" + std::to_string(e.actor().id()));
            EXPECT_EQ(e.actor().display_name(), "");
        }
        if (e.has_edited()) {
            EXPECT_EQ(e.edited().text(), "") << "an edit keeps the erased words";
        }
        saw_lea = saw_lea || (e.has_message() && e.message().text() == "merci marc");
    }
    EXPECT_TRUE(saw_tombstone);
    EXPECT_TRUE(saw_lea);
    EXPECT_EQ(hits(lea, "numéro"), 0u);
    v1::ClientMessage members;
    *members.mutable_list_members()->mutable_channel() = ref("accueil");
    EXPECT_EQ(call(lea, members).members().members_size(), 1);
    EXPECT_FALSE(login(open(), "marc", "secret-marc").has_session());
}

TEST_F(erasure_test, removed_messages_leave_their_seqs_and_nothing_else) {
    auto lea = user("lea");
    auto marc = user("marc");
    ASSERT_TRUE(create(lea, "accueil").has_channel());
    ASSERT_TRUE(join(marc, "accueil").has_channel());
    const auto alone = send(marc, "accueil", "mon adresse perso", "m1").sent().event().seq();
    const auto asked = send(marc, "accueil", "qui connaît Pix ?", "m2").sent().event().seq();
    const auto answer = send(lea, "accueil", "moi, Pix est gratuit", "l1", asked);
    ASSERT_TRUE(answer.has_sent()) << answer.DebugString();
    const auto own_thread = send(marc, "accueil", "mes notes", "m3").sent().event().seq();
    ASSERT_TRUE(send(marc, "accueil", "suite de mes notes", "m4", own_thread).has_sent());
    v1::ClientMessage react;
    *react.mutable_react()->mutable_channel() = ref("accueil");
    react.mutable_react()->set_seq(answer.sent().event().seq());
    react.mutable_react()->set_emoji("👍");
    ASSERT_FALSE(call(marc, react).has_error());

    auto erased = accounts().erase("marc", removed);
    ASSERT_TRUE(erased) << erased.error().message;
    EXPECT_EQ(*erased, 4u);

    lea = restart_as("lea");
    v1::ClientMessage sync;
    sync.mutable_sync()->mutable_channel()->set_name("accueil");
    auto events = call(lea, sync);
    ASSERT_TRUE(events.has_events()) << events.DebugString();
    std::uint64_t expected_seq = 1, removed_events = 0;
    for (const auto& e : events.events().events()) {
        EXPECT_EQ(e.seq(), expected_seq++) << "a gap in the history";
        if (e.has_removed()) {
            ++removed_events;
            EXPECT_FALSE(e.has_actor()) << e.DebugString();
            continue;
        }
        EXPECT_NE(e.seq(), alone) << "a removed message still shows";
        EXPECT_NE(e.seq(), own_thread) << "a thread only its author wrote still shows";
        EXPECT_FALSE(e.has_reaction()) << "their reaction still shows";
        if (e.seq() == asked) {
            // Lea's answer keeps the question it answers, as a tombstone.
            EXPECT_TRUE(e.message().deleted());
            EXPECT_EQ(e.message().text(), "");
            EXPECT_TRUE(e.actor().erased());
            EXPECT_EQ(e.message().thread().reply_count(), 1u);
        }
    }
    EXPECT_EQ(removed_events, 4u) << "3 messages and 1 reaction";
    EXPECT_EQ(hits(lea, "Pix"), 1u) << "only Lea's answer is found";
    EXPECT_EQ(hits(lea, "notes"), 0u);
}

TEST_F(erasure_test, the_last_admin_who_can_log_in_is_not_erased) {
    ASSERT_TRUE(accounts().add("root", "un-mot-de-passe-long", v1::ADMIN, ""));
    auto refused = accounts().erase("root", tombstones);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, errc::forbidden);
    ASSERT_TRUE(accounts().add("root2", "un-mot-de-passe-long", v1::ADMIN, ""));
    ASSERT_TRUE(accounts().set_disabled("root2", true));
    EXPECT_FALSE(accounts().erase("root", tombstones)) << "a disabled admin cannot take over";
    ASSERT_TRUE(accounts().set_disabled("root2", false));
    EXPECT_TRUE(accounts().erase("root", tombstones));
    EXPECT_EQ(accounts().erase("nobody", tombstones).error().code, errc::not_found);
}

}  // namespace
}  // namespace relais::testing
