// Passwords and sessions in the core: changing one's password ends the other
// sessions, the list of sessions and ending one, reset codes (who may make
// them, what redeeming one does, every refusal storing nothing).
#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

class passwords_test : public core_test {
  protected:
    conn_ptr open_as(const std::string& client, const std::string& device) {
        auto conn = std::make_shared<test_connection>(next_id_++, "192.0.2.9");
        v1::ClientMessage hello;
        hello.mutable_hello()->set_protocol_version(1);
        hello.mutable_hello()->set_client_name(client);
        hello.mutable_hello()->set_device(device);
        EXPECT_TRUE(call(conn, hello).has_welcome());
        return conn;
    }
    v1::ServerMessage change(const conn_ptr& c, const std::string& old_password,
                             const std::string& new_password) {
        v1::ClientMessage m;
        m.mutable_change_password()->set_old_password(old_password);
        m.mutable_change_password()->set_new_password(new_password);
        return call(c, m);
    }
    v1::ServerMessage sessions(const conn_ptr& c) {
        v1::ClientMessage m;
        m.mutable_list_sessions();
        return call(c, m);
    }
    v1::ServerMessage end(const conn_ptr& c, const std::string& id) {
        v1::ClientMessage m;
        m.mutable_end_session()->set_id(id);
        return call(c, m);
    }
    v1::ServerMessage make_reset(const conn_ptr& c, const std::string& user) {
        v1::ClientMessage m;
        m.mutable_create_password_reset()->set_user(user);
        return call(c, m);
    }
    v1::ServerMessage redeem(const std::string& user, const std::string& code,
                             const std::string& password) {
        v1::ClientMessage m;
        auto& in = *m.mutable_reset_password();
        in.set_user(user);
        in.set_code(code);
        in.set_new_password(password);
        return call(open_as("relais-cli/0.1", "poste-accueil"), m);
    }
    std::string password_hash(const std::string& name) {
        return storage::read_now(
            store(), [&](storage::reader& r) { return r.find_account(name)->password_hash; });
    }

    std::uint64_t next_id_ = 1000;
};

TEST_F(passwords_test, changing_ones_password_ends_the_other_sessions_and_keeps_this_one) {
    add_user("lea");
    auto laptop = open_as("relais-tui/0.1", "portable");
    ASSERT_TRUE(login(laptop, "lea", "secret-lea").has_session());
    auto phone = open_as("relais-cli/0.1", "telephone");
    auto phone_session = login(phone, "lea", "secret-lea");
    ASSERT_TRUE(phone_session.has_session());

    // A wrong current password, a weak new one: refused, nothing changed.
    const auto before = password_hash("lea");
    EXPECT_EQ(code(change(laptop, "pas-le-bon", "un-mot-de-passe-neuf")), v1::UNAUTHENTICATED);
    EXPECT_EQ(code(change(laptop, "secret-lea", "court")), v1::BAD_REQUEST);
    EXPECT_EQ(code(change(laptop, "secret-lea", "motdepasse123")), v1::BAD_REQUEST);
    EXPECT_EQ(password_hash("lea"), before);
    EXPECT_EQ(phone->close_reason(), "");

    ASSERT_TRUE(change(laptop, "secret-lea", "un-mot-de-passe-neuf").has_ok());
    EXPECT_NE(phone->close_reason().find("password was changed"), std::string::npos);
    // The phone's token no longer resumes; the laptop goes on.
    v1::ClientMessage resume;
    resume.mutable_resume()->set_token(phone_session.session().token());
    EXPECT_EQ(code(call(open(), resume)), v1::UNAUTHENTICATED);
    EXPECT_TRUE(sessions(laptop).has_sessions());
    EXPECT_EQ(code(login(open(), "lea", "secret-lea")), v1::UNAUTHENTICATED);
    EXPECT_TRUE(login(open(), "lea", "un-mot-de-passe-neuf").has_session());
}

TEST_F(passwords_test, the_list_of_sessions_names_client_device_and_ends_one_by_its_id) {
    add_user("marc");
    auto laptop = open_as("relais-tui/0.1", "portable-marc");
    ASSERT_TRUE(login(laptop, "marc", "secret-marc").has_session());
    clock_.advance(60'000);
    auto phone = open_as("relais-cli/0.1", "telephone-marc");
    ASSERT_TRUE(login(phone, "marc", "secret-marc").has_session());

    auto list = sessions(laptop);
    ASSERT_EQ(list.sessions().sessions_size(), 2) << list.DebugString();
    const auto& newest = list.sessions().sessions(0);  // the most recently seen first
    EXPECT_EQ(newest.client_name(), "relais-cli/0.1");
    EXPECT_EQ(newest.device(), "telephone-marc");
    EXPECT_FALSE(newest.current());
    EXPECT_TRUE(newest.connected());
    EXPECT_EQ(newest.last_seen_ms(), clock_.now_ms());
    const auto& mine = list.sessions().sessions(1);
    EXPECT_EQ(mine.device(), "portable-marc");
    EXPECT_TRUE(mine.current());
    EXPECT_EQ(mine.id().size(), 12u);

    // Someone else's id, a malformed one, the current one: refused.
    auto nour = user("nour");
    EXPECT_EQ(code(end(nour, newest.id())), v1::NOT_FOUND);
    EXPECT_EQ(code(end(laptop, "abc")), v1::BAD_REQUEST);
    EXPECT_EQ(code(end(laptop, mine.id())), v1::BAD_REQUEST);
    EXPECT_EQ(phone->close_reason(), "");

    ASSERT_TRUE(end(laptop, newest.id()).has_ok());
    EXPECT_NE(phone->close_reason().find("ended"), std::string::npos);
    auto after = sessions(laptop);
    ASSERT_EQ(after.sessions().sessions_size(), 1);
    EXPECT_TRUE(after.sessions().sessions(0).current());
}

TEST_F(passwords_test, a_coordinator_resets_a_mediators_password_and_every_session_ends) {
    core::accounts accounts(store(), clock_, protocol::limits{});
    ASSERT_TRUE(accounts.add("coco", "secret-coco", v1::COORDINATOR, ""));
    ASSERT_TRUE(accounts.add("other", "secret-other", v1::COORDINATOR, ""));
    auto coco = open();
    ASSERT_TRUE(login(coco, "coco", "secret-coco").has_session());
    auto lea = user("lea");

    // Only coordinators, only for mediators; an unknown user.
    EXPECT_EQ(code(make_reset(lea, "lea")), v1::FORBIDDEN);
    EXPECT_EQ(code(make_reset(coco, "other")), v1::FORBIDDEN);
    EXPECT_EQ(code(make_reset(coco, "personne")), v1::NOT_FOUND);

    auto first = make_reset(coco, "lea");
    ASSERT_TRUE(first.has_password_reset()) << first.DebugString();
    EXPECT_EQ(first.password_reset().expires_at_ms(), clock_.now_ms() + 86'400'000LL);
    // A second code replaces the first.
    auto made = make_reset(coco, "lea");
    const auto code_text = made.password_reset().code();
    EXPECT_EQ(code(redeem("lea", first.password_reset().code(), "un-mot-de-passe-neuf")),
              v1::FORBIDDEN);

    // Someone else's name with the code, a weak password: refused, stored nothing.
    const auto before = password_hash("lea");
    EXPECT_EQ(code(redeem("coco", code_text, "un-mot-de-passe-neuf")), v1::FORBIDDEN);
    EXPECT_EQ(code(redeem("lea", code_text, "azertyuiop")), v1::BAD_REQUEST);
    EXPECT_EQ(password_hash("lea"), before);
    EXPECT_EQ(lea->close_reason(), "");

    auto redeemed = redeem("lea", code_text, "un-mot-de-passe-neuf");
    ASSERT_TRUE(redeemed.has_session()) << redeemed.DebugString();
    EXPECT_NE(lea->close_reason().find("reset"), std::string::npos);
    EXPECT_TRUE(login(open(), "lea", "un-mot-de-passe-neuf").has_session());
    // Used once: never again.
    EXPECT_EQ(code(redeem("lea", code_text, "encore-un-autre-mot")), v1::FORBIDDEN);
}

TEST_F(passwords_test, a_reset_code_expires_after_a_day) {
    core::accounts accounts(store(), clock_, protocol::limits{});
    ASSERT_TRUE(accounts.add("root", "secret-root", v1::ADMIN, ""));
    auto root = open();
    ASSERT_TRUE(login(root, "root", "secret-root").has_session());
    add_user("lea");
    auto made = make_reset(root, "lea");
    ASSERT_TRUE(made.has_password_reset());
    clock_.advance(86'400'000LL);
    auto late = redeem("lea", made.password_reset().code(), "un-mot-de-passe-neuf");
    ASSERT_EQ(code(late), v1::FORBIDDEN);
    EXPECT_NE(late.error().message().find("expired"), std::string::npos);
}

}  // namespace
}  // namespace relais::testing
