#include "server/core/connection.hpp"
#include "server/core/credentials.hpp"
#include "server/core/log.hpp"
#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

class core : public core_test {};
using relais::core::login_throttle;

// A connection keeps its session's token hash as 32 bytes and gives back the
// very text the sessions table holds.
TEST(token_digest, gives_back_the_hex_it_was_made_from_and_refuses_anything_else) {
    const auto hex = relais::core::hash_token("jeton de session");
    ASSERT_EQ(hex.size(), 64u);
    EXPECT_EQ(relais::core::token_digest(hex).hex(), hex);
    EXPECT_EQ(relais::core::token_digest(hex.substr(1)).hex(), "");
    EXPECT_EQ(relais::core::token_digest(std::string(63, '0') + "g").hex(), "");
    EXPECT_EQ(relais::core::token_digest().hex(), "");
}

TEST_F(core, requests_before_hello_and_before_login_are_refused) {
    auto conn = std::make_shared<test_connection>(99, "192.0.2.9");
    v1::ClientMessage list;
    list.mutable_list_channels();
    EXPECT_EQ(code(call(conn, list)), v1::BAD_REQUEST);
    v1::ClientMessage hello;
    hello.mutable_hello()->set_protocol_version(1);
    auto welcome = call(conn, hello);
    ASSERT_TRUE(welcome.has_welcome());
    EXPECT_GT(welcome.welcome().limits().max_frame_bytes(), 0u);
    EXPECT_EQ(code(call(conn, list)), v1::UNAUTHENTICATED);
}

TEST_F(core, unsupported_protocol_version_is_refused_and_closed) {
    auto conn = std::make_shared<test_connection>(98, "192.0.2.9");
    v1::ClientMessage hello;
    hello.mutable_hello()->set_protocol_version(2);
    EXPECT_EQ(code(call(conn, hello)), v1::BAD_REQUEST);
    EXPECT_FALSE(conn->close_reason().empty());
}

TEST_F(core, unknown_user_and_wrong_password_get_the_same_answer) {
    add_user("alice");
    auto conn = open();
    auto wrong = login(conn, "alice", "nope");
    auto unknown = login(conn, "zoe", "nope");
    EXPECT_EQ(code(wrong), v1::UNAUTHENTICATED);
    EXPECT_EQ(code(unknown), v1::UNAUTHENTICATED);
    EXPECT_EQ(wrong.error().message(), unknown.error().message());
}

TEST_F(core, failed_logins_are_slowed_per_account) {
    add_user("alice");
    auto conn = open("192.0.2.50");
    for (int i = 0; i < login_throttle::per_account.free_failures + 1; ++i) {
        EXPECT_EQ(code(login(conn, "alice", "wrong")), v1::UNAUTHENTICATED);
    }
    // Even the right password waits now, from another address too.
    auto other = open("192.0.2.51");
    auto slowed = login(other, "alice", "secret-alice");
    ASSERT_EQ(code(slowed), v1::RATE_LIMITED);
    EXPECT_GT(slowed.error().retry_after_ms(), 0u);
    clock_.advance(slowed.error().retry_after_ms());
    EXPECT_TRUE(login(other, "alice", "secret-alice").has_session());
}

TEST_F(core, token_resumes_a_session_until_logout) {
    add_user("alice");
    auto first = open();
    auto session = login(first, "alice", "secret-alice");
    ASSERT_TRUE(session.has_session());
    const auto token = session.session().token();
    EXPECT_EQ(token.size(), 64u);  // 256 random bits, hex

    auto second = open();
    v1::ClientMessage resume;
    resume.mutable_resume()->set_token(token);
    ASSERT_TRUE(call(second, resume).has_session());

    v1::ClientMessage logout;
    logout.mutable_logout();
    EXPECT_TRUE(call(second, logout).has_ok());
    EXPECT_EQ(first->close_reason(), "logged out");  // same token elsewhere is closed too
    auto third = open();
    EXPECT_EQ(code(call(third, resume)), v1::UNAUTHENTICATED);
}

TEST_F(core, disabled_account_cannot_log_in) {
    add_user("alice");
    ::relais::core::accounts accounts(store(), clock_, protocol::limits{});
    ASSERT_TRUE(accounts.set_disabled("alice", true));
    EXPECT_EQ(code(login(open(), "alice", "secret-alice")), v1::UNAUTHENTICATED);
}

TEST_F(core, creating_a_taken_channel_name_is_a_conflict) {
    auto alice = user("alice");
    ASSERT_TRUE(create(alice, "accueil").has_channel());
    EXPECT_EQ(code(create(alice, "accueil")), v1::CONFLICT);
    EXPECT_EQ(code(create(alice, "Pas Valide")), v1::BAD_REQUEST);
}

TEST_F(core, seq_is_gapless_across_every_kind_of_event) {
    auto alice = user("alice");
    auto bob = user("bob");
    create(alice, "accueil");
    join(bob, "accueil");
    auto sent = send(alice, "accueil", "bonjour", "m1");
    ASSERT_TRUE(sent.has_sent());
    v1::ClientMessage edit;
    *edit.mutable_edit_message()->mutable_channel() = ref("accueil");
    edit.mutable_edit_message()->set_seq(sent.sent().event().seq());
    edit.mutable_edit_message()->set_text("bonjour à tous");
    ASSERT_TRUE(call(alice, edit).has_ok());
    send(bob, "accueil", "salut", "m2");
    auto page = history(bob, "accueil");
    ASSERT_TRUE(page.has_events());
    std::uint64_t expected = 1;
    for (const auto& e : page.events().events()) {
        EXPECT_EQ(e.seq(), expected++);
    }
    EXPECT_EQ(page.events().last_seq(), expected - 1);
    const auto& message = page.events().events(sent.sent().event().seq() - 1);
    EXPECT_EQ(message.message().text(), "bonjour à tous");
    EXPECT_NE(message.message().edited_at_ms(), 0);
}

TEST_F(core, duplicate_client_msg_id_returns_original) {
    auto alice = user("alice");
    create(alice, "accueil");
    create(alice, "autre");
    auto first = send(alice, "accueil", "une fois", "same-id");
    auto again = send(alice, "accueil", "une fois", "same-id");
    ASSERT_TRUE(first.has_sent());
    ASSERT_TRUE(again.has_sent());
    EXPECT_FALSE(first.sent().duplicate());
    EXPECT_TRUE(again.sent().duplicate());
    EXPECT_EQ(first.sent().event().seq(), again.sent().event().seq());
    EXPECT_EQ(code(send(alice, "autre", "ailleurs", "same-id")), v1::CONFLICT);
    int messages = 0;
    auto page = history(alice, "accueil");
    for (const auto& e : page.events().events()) {
        messages += e.has_message();
    }
    EXPECT_EQ(messages, 1);
}

// GetChannel describes one channel exactly as ListChannels does, by id or
// by name, for whoever may see it.
TEST_F(core, get_channel_describes_one_channel_as_the_listing_does_by_id_or_by_name) {
    auto alice = user("alice");
    auto bob = user("bob");
    ASSERT_TRUE(create(alice, "accueil").has_channel());
    ASSERT_TRUE(send(alice, "accueil", "Bienvenue", "m1").has_sent());
    auto get = [&](const conn_ptr& c, const v1::ChannelRef& r) {
        v1::ClientMessage m;
        *m.mutable_get_channel()->mutable_channel() = r;
        return call(c, m);
    };
    v1::ClientMessage list;
    list.mutable_list_channels();
    const auto listed = call(alice, list).channels().channels(0);
    const auto by_name = get(alice, ref("accueil"));
    ASSERT_TRUE(by_name.has_channel()) << by_name.DebugString();
    EXPECT_EQ(by_name.channel().SerializeAsString(), listed.SerializeAsString());
    v1::ChannelRef id;
    id.set_id(listed.id());
    EXPECT_EQ(get(alice, id).channel().SerializeAsString(), listed.SerializeAsString());
    // A public channel, seen from outside: no membership, no unread count.
    const auto outside = get(bob, id);
    ASSERT_TRUE(outside.has_channel()) << outside.DebugString();
    EXPECT_FALSE(outside.channel().is_member());
    EXPECT_EQ(outside.channel().unread_count(), 0u);
    EXPECT_EQ(outside.channel().member_count(), 1u);
    EXPECT_EQ(code(get(bob, ref("absent"))), v1::NOT_FOUND);
    EXPECT_EQ(code(get(bob, v1::ChannelRef())), v1::BAD_REQUEST);
}

// A channel's display name is what people read: normalised, checked for
// what cannot be seen, changed with an event members receive.
TEST_F(core, a_channel_display_name_is_normalised_checked_and_renamed_with_an_event) {
    auto alice = user("alice");
    v1::ClientMessage create_msg;
    create_msg.mutable_create_channel()->set_name("echanges");
    create_msg.mutable_create_channel()->set_display_name("  E\u0301changes de pratiques ");
    const auto created = call(alice, create_msg);
    ASSERT_TRUE(created.has_channel()) << created.DebugString();
    EXPECT_EQ(created.channel().display_name(), "\u00c9changes de pratiques");
    create_msg.mutable_create_channel()->set_name("lobby");
    create_msg.mutable_create_channel()->set_display_name("lobby\u200b");
    EXPECT_EQ(code(call(alice, create_msg)), v1::BAD_REQUEST);

    v1::ClientMessage rename;
    *rename.mutable_set_display_name()->mutable_channel() = ref("echanges");
    rename.mutable_set_display_name()->set_display_name("Ateliers du jeudi");
    EXPECT_TRUE(call(alice, rename).has_ok());
    bool seen = false;
    for (const auto& e : alice->events()) {
        seen = seen ||
               (e.has_display_name() && e.display_name().display_name() == "Ateliers du jeudi");
    }
    EXPECT_TRUE(seen);
    v1::ClientMessage get;
    *get.mutable_get_channel()->mutable_channel() = ref("echanges");
    EXPECT_EQ(call(alice, get).channel().display_name(), "Ateliers du jeudi");
    rename.mutable_set_display_name()->set_display_name(std::string(65, 'x'));
    EXPECT_EQ(code(call(alice, rename)), v1::TOO_LARGE);
}

// Accounts are visible to every logged-in user (docs/security.md), so the
// requests naming one may say it does not exist; a disabled account answers
// exactly as one that never existed.
TEST_F(core, a_disabled_account_answers_as_one_that_does_not_exist) {
    auto alice = user("alice");
    add_user("parti");
    relais::core::accounts accounts(store(), clock_, protocol::limits{});
    ASSERT_TRUE(accounts.set_disabled("parti", true));
    ASSERT_TRUE(create(alice, "accueil").has_channel());
    auto answers = [&](const std::string& who) {
        std::vector<std::string> out;
        v1::ClientMessage direct;
        direct.mutable_open_direct()->set_user(who);
        v1::ClientMessage invite;
        *invite.mutable_invite()->mutable_channel() = ref("accueil");
        invite.mutable_invite()->set_user(who);
        v1::ClientMessage kick;
        *kick.mutable_kick()->mutable_channel() = ref("accueil");
        kick.mutable_kick()->set_user(who);
        for (const auto& m : {direct, invite, kick}) {
            auto answer = call(alice, m);
            EXPECT_EQ(code(answer), v1::NOT_FOUND) << answer.DebugString();
            auto text = answer.error().message();
            text.replace(text.find(who), who.size(), "X");
            out.push_back(text);
        }
        return out;
    };
    EXPECT_EQ(answers("parti"), answers("jamais"));
}

// What a non-member may learn of a private channel: that its name is
// taken, in the words used for any taken name; and nothing from its id.
TEST_F(core, a_private_channel_s_name_and_id_tell_a_non_member_no_more_than_a_public_one_s) {
    auto alice = user("alice");
    auto bob = user("bob");
    const auto secret = create(alice, "secret", true);
    ASSERT_TRUE(create(alice, "ouvert").has_channel());
    const auto taken_private = create(bob, "secret");
    const auto taken_public = create(bob, "ouvert");
    EXPECT_EQ(code(taken_private), v1::CONFLICT);
    auto words = taken_private.error().message();
    words.replace(words.find("secret"), 6, "ouvert");
    EXPECT_EQ(words, taken_public.error().message());
    // By id: the private channel's answers the never-used id's, word for word.
    auto get = [&](std::uint64_t id) {
        v1::ClientMessage m;
        m.mutable_get_channel()->mutable_channel()->set_id(id);
        return call(bob, m);
    };
    const auto probed = get(secret.channel().id());
    const auto never = get(999);
    EXPECT_EQ(code(probed), v1::NOT_FOUND);
    auto probed_words = probed.error().message();
    probed_words.replace(probed_words.find(std::to_string(secret.channel().id())),
                         std::to_string(secret.channel().id()).size(), "999");
    EXPECT_EQ(probed_words, never.error().message());
}

TEST_F(core, private_channel_is_invisible_to_non_members) {
    auto alice = user("alice");
    auto mallory = user("mallory");
    ASSERT_TRUE(create(alice, "coordination", true).has_channel());
    send(alice, "coordination", "secret", "s1");

    auto missing = history(mallory, "nexiste-pas");
    auto hidden = history(mallory, "coordination");
    // Exactly the answer for a channel that does not exist.
    EXPECT_EQ(code(hidden), v1::NOT_FOUND);
    EXPECT_EQ(code(missing), v1::NOT_FOUND);
    EXPECT_EQ(hidden.error().message(), "no channel 'coordination'");
    EXPECT_EQ(missing.error().message(), "no channel 'nexiste-pas'");
    EXPECT_EQ(code(join(mallory, "coordination")), v1::NOT_FOUND);
    EXPECT_EQ(code(send(mallory, "coordination", "hello", "x")), v1::NOT_FOUND);
    v1::ClientMessage list;
    list.mutable_list_channels();
    EXPECT_EQ(call(mallory, list).channels().channels_size(), 0);
    v1::ClientMessage members;
    *members.mutable_list_members()->mutable_channel() = ref("coordination");
    EXPECT_EQ(code(call(mallory, members)), v1::NOT_FOUND);
    for (const auto& e : mallory->events()) {
        EXPECT_NE(e.channel_id(), 1u) << "an event of a private channel reached a non-member";
    }
}

TEST_F(core, invited_member_sees_the_private_channel) {
    auto alice = user("alice");
    auto bob = user("bob");
    create(alice, "coordination", true);
    v1::ClientMessage invite;
    *invite.mutable_invite()->mutable_channel() = ref("coordination");
    invite.mutable_invite()->set_user("bob");
    ASSERT_TRUE(call(alice, invite).has_ok());
    send(alice, "coordination", "bienvenue", "w1");
    EXPECT_TRUE(history(bob, "coordination").has_events());
    bool saw = false;
    for (const auto& e : bob->events()) {
        saw |= e.has_message() && e.message().text() == "bienvenue";
    }
    EXPECT_TRUE(saw);
}

// A public channel can be read before joining it, as in Zulip and
// Mattermost; a private one is invisible to non-members, history included.
TEST_F(core, public_channel_history_may_be_read_before_joining_and_private_history_not) {
    auto alice = user("alice");
    auto bob = user("bob");
    create(alice, "accueil");
    ASSERT_TRUE(send(alice, "accueil", "Bienvenue", "w1").has_sent());
    const auto preview = history(bob, "accueil");
    ASSERT_TRUE(preview.has_events()) << preview.DebugString();
    EXPECT_EQ(preview.events().events(preview.events().events_size() - 1).message().text(),
              "Bienvenue");
    // Reading does not join: no events pushed, no read marker.
    v1::ClientMessage mark;
    *mark.mutable_mark_read()->mutable_channel() = ref("accueil");
    mark.mutable_mark_read()->set_seq(1);
    EXPECT_EQ(code(call(bob, mark)), v1::NOT_FOUND);
    create(alice, "secret", true);
    EXPECT_EQ(code(history(bob, "secret")), v1::NOT_FOUND);
}

TEST_F(core, only_the_author_edits_and_moderators_may_delete_any_message) {
    auto alice = user("alice");  // owner
    auto bob = user("bob");
    auto carol = user("carol");
    create(alice, "accueil");
    join(bob, "accueil");
    join(carol, "accueil");
    auto sent = send(bob, "accueil", "de bob", "b1");
    const auto seq = sent.sent().event().seq();
    v1::ClientMessage edit;
    *edit.mutable_edit_message()->mutable_channel() = ref("accueil");
    edit.mutable_edit_message()->set_seq(seq);
    edit.mutable_edit_message()->set_text("pas à moi");
    EXPECT_EQ(code(call(carol, edit)), v1::FORBIDDEN);
    v1::ClientMessage del;
    *del.mutable_delete_message()->mutable_channel() = ref("accueil");
    del.mutable_delete_message()->set_seq(seq);
    EXPECT_EQ(code(call(carol, del)), v1::FORBIDDEN);
    EXPECT_TRUE(call(alice, del).has_ok());
    auto page = history(bob, "accueil");
    const v1::Event* tombstone = nullptr;
    for (const auto& e : page.events().events()) {
        if (e.seq() == seq) {
            tombstone = &e;
        }
    }
    ASSERT_NE(tombstone, nullptr) << "the deleted message must keep its seq";
    EXPECT_TRUE(tombstone->message().deleted());
    EXPECT_TRUE(tombstone->message().text().empty());
}

TEST_F(core, kicked_member_receives_nothing_after_removal) {
    auto alice = user("alice");
    auto bob = user("bob");
    create(alice, "accueil");
    join(bob, "accueil");
    v1::ClientMessage kick;
    *kick.mutable_kick()->mutable_channel() = ref("accueil");
    kick.mutable_kick()->set_user("bob");
    EXPECT_EQ(code(call(bob, kick)), v1::FORBIDDEN);  // members cannot kick
    ASSERT_TRUE(call(alice, kick).has_ok());
    send(alice, "accueil", "après", "a1");
    for (const auto& e : bob->events()) {
        EXPECT_FALSE(e.has_message()) << "message delivered after removal";
    }
    *kick.mutable_kick()->mutable_channel() = ref("accueil");
    kick.mutable_kick()->set_user("alice");
    EXPECT_EQ(code(call(alice, kick)), v1::FORBIDDEN);  // the owner stays
}

TEST_F(core, read_markers_drive_unread_counts) {
    auto alice = user("alice");
    auto bob = user("bob");
    create(alice, "accueil");
    join(bob, "accueil");
    send(alice, "accueil", "un", "1");
    auto two = send(alice, "accueil", "deux", "2");
    send(alice, "accueil", "trois", "3");
    v1::ClientMessage list;
    list.mutable_list_channels();
    EXPECT_EQ(call(bob, list).channels().channels(0).unread_count(), 3u);
    EXPECT_EQ(call(alice, list).channels().channels(0).unread_count(), 0u);
    v1::ClientMessage mark;
    *mark.mutable_mark_read()->mutable_channel() = ref("accueil");
    mark.mutable_mark_read()->set_seq(two.sent().event().seq());
    ASSERT_TRUE(call(bob, mark).has_ok());
    auto after = call(bob, list).channels().channels(0);
    EXPECT_EQ(after.unread_count(), 1u);
    EXPECT_EQ(after.last_read_seq(), two.sent().event().seq());
}

TEST_F(core, sends_beyond_the_account_rate_are_rate_limited_with_a_delay) {
    auto alice = user("alice");
    create(alice, "accueil");
    int accepted = 0;
    int limited = 0;
    for (int i = 0; i < 20; ++i) {
        auto r = send(alice, "accueil", "flood", "f" + std::to_string(i));
        if (r.has_sent()) {
            ++accepted;
        } else {
            EXPECT_EQ(code(r), v1::RATE_LIMITED);
            EXPECT_GT(r.error().retry_after_ms(), 0u);
            ++limited;
        }
    }
    EXPECT_EQ(accepted, 10);  // the burst
    EXPECT_EQ(limited, 10);
    clock_.advance(1000);
    EXPECT_TRUE(send(alice, "accueil", "plus tard", "later").has_sent());
}

TEST_F(core, text_over_the_limit_is_too_large_and_stores_nothing) {
    auto alice = user("alice");
    create(alice, "accueil");
    auto r = send(alice, "accueil", std::string(service_->limits().max_text_bytes + 1, 'x'), "big");
    EXPECT_EQ(code(r), v1::TOO_LARGE);
    EXPECT_EQ(history(alice, "accueil").events().last_seq(), 2u);
}

TEST_F(core, malformed_frames_get_a_typed_error) {
    auto alice = user("alice");
    service_->on_frame(alice, std::string("\x0a\xff\xff", 3));
    service_->on_frame(alice, "");
    // Answered with request id 0, both as BAD_REQUEST.
    auto answer = alice->answer(0);
    EXPECT_EQ(code(answer), v1::BAD_REQUEST);
}

TEST_F(core, members_receive_events_and_presence) {
    auto alice = user("alice");
    auto bob = user("bob");
    create(alice, "accueil");
    join(bob, "accueil");
    send(bob, "accueil", "coucou", "c");
    bool got = false;
    for (const auto& e : alice->events()) {
        got |= e.has_message() && e.message().text() == "coucou" && e.actor().name() == "bob";
    }
    EXPECT_TRUE(got);
    auto bob2 = open();
    login(bob2, "bob", "secret-bob");  // bob already online: no new presence
    service_->on_close(bob);
    service_->on_close(bob2);
    auto presences = alice->presences();
    ASSERT_FALSE(presences.empty());
    EXPECT_EQ(presences.back().user().name(), "bob");
    EXPECT_FALSE(presences.back().online());
}

TEST_F(core, direct_conversation_is_created_once_and_private_to_the_pair) {
    auto alice = user("alice");
    auto bob = user("bob");
    auto eve = user("eve");
    v1::ClientMessage open_dm;
    open_dm.mutable_open_direct()->set_user("bob");
    auto first = call(alice, open_dm);
    ASSERT_TRUE(first.has_channel());
    EXPECT_EQ(first.channel().name(), "bob");
    EXPECT_EQ(first.channel().kind(), v1::DIRECT);
    auto again = call(alice, open_dm);
    EXPECT_EQ(again.channel().id(), first.channel().id());
    v1::ClientMessage peek;
    peek.mutable_get_history()->mutable_channel()->set_id(first.channel().id());
    EXPECT_EQ(code(call(eve, peek)), v1::NOT_FOUND);
    EXPECT_TRUE(call(bob, peek).has_events());
}

}  // namespace
}  // namespace relais::testing

namespace relais::testing {
namespace {

TEST_F(core_test, typing_is_shown_to_the_other_members_only) {
    auto alice = user("alice");
    auto bob = user("bob");
    auto eve = user("eve");
    create(alice, "accueil");
    join(bob, "accueil");
    v1::ClientMessage typing;
    *typing.mutable_typing()->mutable_channel() = ref("accueil");
    ASSERT_TRUE(call(alice, typing).has_ok());
    EXPECT_EQ(code(call(eve, typing)), v1::NOT_FOUND);
    auto notices = [](const conn_ptr& c) {
        int n = 0;
        for (const auto& m : c->all()) {
            n += m.has_typing() && m.typing().user().name() == "alice";
        }
        return n;
    };
    EXPECT_EQ(notices(bob), 1);
    EXPECT_EQ(notices(alice), 0);
    EXPECT_EQ(notices(eve), 0);
}

}  // namespace
}  // namespace relais::testing

namespace relais::testing {
namespace {

TEST_F(core_test, the_owner_makes_moderators_who_may_then_kick) {
    auto alice = user("alice");  // owner
    auto bob = user("bob");
    auto carol = user("carol");
    create(alice, "accueil");
    join(bob, "accueil");
    join(carol, "accueil");
    auto set_role = [&](const conn_ptr& by, const std::string& who, v1::MemberRole role) {
        v1::ClientMessage m;
        *m.mutable_set_member_role()->mutable_channel() = ref("accueil");
        m.mutable_set_member_role()->set_user(who);
        m.mutable_set_member_role()->set_role(role);
        return call(by, m);
    };
    auto kick = [&](const conn_ptr& by, const std::string& who) {
        v1::ClientMessage m;
        *m.mutable_kick()->mutable_channel() = ref("accueil");
        m.mutable_kick()->set_user(who);
        return call(by, m);
    };
    EXPECT_EQ(code(set_role(bob, "carol", v1::MODERATOR)), v1::FORBIDDEN);
    EXPECT_EQ(code(set_role(alice, "alice", v1::MEMBER)), v1::FORBIDDEN);
    EXPECT_EQ(code(set_role(alice, "bob", v1::OWNER)), v1::BAD_REQUEST);
    ASSERT_TRUE(set_role(alice, "bob", v1::MODERATOR).has_ok());
    EXPECT_TRUE(kick(bob, "carol").has_ok());
    ASSERT_TRUE(set_role(alice, "bob", v1::MEMBER).has_ok());
    join(carol, "accueil");
    EXPECT_EQ(code(kick(bob, "carol")), v1::FORBIDDEN);
    bool announced = false;
    for (const auto& e : alice->events()) {
        announced |= e.has_member() && e.member().change() == v1::MemberChanged::ROLE_CHANGED &&
                     e.member().user().name() == "bob" && e.member().role() == v1::MEMBER;
    }
    EXPECT_TRUE(announced);
}

}  // namespace
}  // namespace relais::testing

namespace relais::testing {
namespace {

TEST_F(core_test, sync_pages_say_when_more_is_left_and_when_the_cursor_is_unknown) {
    auto alice = user("alice");
    create(alice, "accueil");
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(send(alice, "accueil", "m", "s" + std::to_string(i)).has_sent());
    }
    v1::ClientMessage sync;
    *sync.mutable_sync()->mutable_channel() = ref("accueil");
    sync.mutable_sync()->set_limit(2);
    auto first = call(alice, sync);
    ASSERT_TRUE(first.has_events());
    EXPECT_EQ(first.events().events_size(), 2);
    EXPECT_TRUE(first.events().has_more());
    EXPECT_FALSE(first.events().full_resync());
    // A cursor past the channel's end: the server's history was restored
    // from an older backup.
    sync.mutable_sync()->set_after_seq(first.events().last_seq() + 50);
    auto past = call(alice, sync);
    ASSERT_TRUE(past.has_events());
    EXPECT_TRUE(past.events().full_resync());
    EXPECT_EQ(past.events().events_size(), 0);
    EXPECT_FALSE(past.events().has_more());
}

}  // namespace
}  // namespace relais::testing

namespace relais::testing {
namespace {

TEST_F(core_test, malformed_and_unknown_tokens_get_the_same_answer) {
    auto conn = open();
    auto answer_for = [&](const std::string& token) {
        v1::ClientMessage resume;
        resume.mutable_resume()->set_token(token);
        return call(conn, resume);
    };
    auto unknown = answer_for(std::string(64, 'a'));
    for (const std::string& bad : std::vector<std::string>{
             "", "abc", std::string(64, 'A'), std::string(65, 'a'), std::string(63, 'a') + "g"}) {
        auto answer = answer_for(bad);
        EXPECT_EQ(code(answer), v1::UNAUTHENTICATED);
        EXPECT_EQ(answer.error().message(), unknown.error().message());
    }
    EXPECT_TRUE(::relais::core::is_well_formed_token(::relais::core::new_token()));
}

}  // namespace
}  // namespace relais::testing

namespace relais::testing {
namespace {

// 1,000 guesses at one account from 10 addresses over 30 minutes: only a
// handful are even checked; the owner still gets in once the attack stops.
TEST_F(core_test, brute_force_from_many_addresses_gets_a_handful_of_guesses_per_30_minutes) {
    add_user("alice");
    std::vector<conn_ptr> attackers;
    for (int i = 0; i < 10; ++i) {
        attackers.push_back(open("198.51.100." + std::to_string(i + 1)));
    }
    int evaluated = 0, refused_with_a_delay = 0;
    const std::int64_t spacing_ms = 30 * 60 * 1000 / 1000;
    for (int guess = 0; guess < 1000; ++guess) {
        auto answer = login(attackers[guess % 10], "alice", "guess-" + std::to_string(guess));
        ASSERT_TRUE(answer.has_error());
        if (answer.error().code() == v1::UNAUTHENTICATED) {
            ++evaluated;
        } else {
            ASSERT_EQ(answer.error().code(), v1::RATE_LIMITED);
            EXPECT_GT(answer.error().retry_after_ms(), 0u);
            ++refused_with_a_delay;
        }
        clock_.advance(spacing_ms);
    }
    std::printf("brute force: 1000 guesses in 30 min from 10 addresses: %d evaluated, %d refused\n",
                evaluated, refused_with_a_delay);
    EXPECT_LE(evaluated, 10);
    EXPECT_EQ(evaluated + refused_with_a_delay, 1000);
    clock_.advance(::relais::core::login_throttle::max_delay_ms);
    EXPECT_TRUE(login(open("192.0.2.77"), "alice", "secret-alice").has_session());
}

// An admin greps and journald splits the server's log by line: whatever a
// value holds (an SQLite message with quotes, a newline), one event stays
// one line of key=value pairs.
TEST(log, one_event_is_one_line_of_key_value_pairs_whatever_the_values_hold) {
    namespace log = relais::core::log;
    EXPECT_EQ(log::format(log::level::error, "request_failed",
                          {{"conn", std::uint64_t{12}},
                           {"user", "alice"},
                           {"error", "near \"x\": syntax error\nat = here"},
                           {"empty", ""}}),
              "level=error event=request_failed conn=12 user=alice "
              "error=\"near \\\"x\\\": syntax error\\nat = here\" empty=\"\"\n");
    EXPECT_EQ(log::format(log::level::warn, "odd", {{"bell", "\a"}}),
              "level=warn event=odd bell=\"\\x07\"\n");
}

TEST(log, lines_below_the_chosen_level_are_dropped) {
    namespace log = relais::core::log;
    ASSERT_EQ(log::parse_level("warn"), log::level::warn);
    EXPECT_FALSE(log::parse_level("verbose"));
    log::set_min_level(log::level::warn);
    EXPECT_FALSE(log::enabled(log::level::info));
    EXPECT_TRUE(log::enabled(log::level::warn));
    EXPECT_TRUE(log::enabled(log::level::error));
    log::set_min_level(log::level::info);
    EXPECT_TRUE(log::enabled(log::level::info));
    EXPECT_FALSE(log::enabled(log::level::debug));
}

}  // namespace
}  // namespace relais::testing
