// Invitations in the core: who may make them, what they give, and every way
// a code can be refused with nothing stored; on a fake clock for expiry.
#include "server/core/validation.hpp"
#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

class invitations_test : public core_test {
  protected:
    void SetUp() override {
        core_test::SetUp();
        core::accounts accounts(store(), clock_, protocol::limits{});
        ASSERT_TRUE(accounts.add("coco", "secret-coco", v1::COORDINATOR, "Coco"));
        coco_ = open();
        ASSERT_TRUE(login(coco_, "coco", "secret-coco").has_session());
        ASSERT_TRUE(create(coco_, "accueil").has_channel());
    }

    v1::ServerMessage invite(const conn_ptr& c, std::uint32_t uses, std::uint32_t days = 0,
                             v1::Role role = v1::ROLE_UNSPECIFIED,
                             std::vector<std::string> channels = {}) {
        v1::ClientMessage m;
        auto& in = *m.mutable_create_invitation();
        in.set_uses(uses);
        in.set_expires_in_days(days);
        in.set_role(role);
        for (const auto& name : channels) {
            *in.add_channels() = ref(name);
        }
        return call(c, m);
    }
    v1::ServerMessage register_as(const std::string& code, const std::string& name,
                                  const std::string& password = "un-mot-de-passe-long",
                                  const std::string& address = "198.51.100.7") {
        v1::ClientMessage m;
        auto& in = *m.mutable_register_();
        in.set_code(code);
        in.set_name(name);
        in.set_password(password);
        return call(open(address), m);
    }
    std::size_t accounts_count() {
        return storage::read_now(store(),
                                 [](storage::reader& r) { return r.list_accounts().size(); });
    }

    conn_ptr coco_;
};

TEST_F(invitations_test, a_code_for_two_admits_two_into_its_channels_with_its_role_then_no_one) {
    auto made = invite(coco_, 2, 0, v1::MEDIATOR, {"accueil"});
    ASSERT_TRUE(made.has_invitation()) << made.DebugString();
    const auto code = made.invitation().code();
    EXPECT_EQ(code.size(), 26u);
    EXPECT_EQ(made.invitation().label(), code.substr(0, 6));
    EXPECT_EQ(made.invitation().expires_at_ms(), clock_.now_ms() + 7 * 86'400'000LL);
    for (const char* name : {"lea", "marc"}) {
        auto r = register_as(code, name);
        ASSERT_TRUE(r.has_session()) << r.DebugString();
        EXPECT_EQ(r.session().user().role(), v1::MEDIATOR);
    }
    const auto before = accounts_count();
    auto third = register_as(code, "nour");
    ASSERT_TRUE(third.has_error());
    EXPECT_EQ(third.error().code(), v1::FORBIDDEN);
    EXPECT_NE(third.error().message().find("used by as many people"), std::string::npos);
    EXPECT_EQ(accounts_count(), before);
    // Both joined the channel, each as a member, announced in its history.
    v1::ClientMessage ask_members;
    *ask_members.mutable_list_members()->mutable_channel() = ref("accueil");
    auto members = call(coco_, ask_members);
    ASSERT_TRUE(members.has_members());
    EXPECT_EQ(members.members().members_size(), 3);
    v1::ClientMessage ask_list;
    ask_list.mutable_list_invitations();
    auto list = call(coco_, ask_list);
    ASSERT_EQ(list.invitations().invitations_size(), 1);
    EXPECT_EQ(list.invitations().invitations(0).used(), 2u);
    EXPECT_EQ(list.invitations().invitations(0).code(), "");  // never again
    EXPECT_EQ(list.invitations().invitations(0).channels(0), "accueil");
    EXPECT_EQ(list.invitations().invitations(0).created_by(), "coco");
}

TEST_F(invitations_test, expired_revoked_and_unknown_codes_and_weak_passwords_store_nothing) {
    const auto code = invite(coco_, 5, 1).invitation().code();
    const auto before = accounts_count();
    auto weak = register_as(code, "lea", "azertyuiop");
    EXPECT_EQ(weak.error().code(), v1::BAD_REQUEST);
    EXPECT_NE(weak.error().message().find("most common"), std::string::npos);
    auto short_one = register_as(code, "lea", "court-123");
    EXPECT_EQ(short_one.error().code(), v1::BAD_REQUEST);
    EXPECT_NE(short_one.error().message().find("9 characters; it needs at least 10"),
              std::string::npos);
    auto bad_name = register_as(code, "Léa Martin");
    EXPECT_EQ(bad_name.error().code(), v1::BAD_REQUEST);
    auto unknown = register_as(std::string(26, 'a'), "lea");
    EXPECT_EQ(unknown.error().code(), v1::FORBIDDEN);
    EXPECT_EQ(unknown.error().message(), "unknown invitation code");
    clock_.advance(86'400'000);
    auto expired = register_as(code, "lea");
    EXPECT_EQ(expired.error().code(), v1::FORBIDDEN);
    EXPECT_NE(expired.error().message().find("expired"), std::string::npos);
    const auto fresh = invite(coco_, 5).invitation().code();
    v1::ClientMessage revoke;
    revoke.mutable_revoke_invitation()->set_code(fresh.substr(0, 6));  // by its label
    EXPECT_TRUE(call(coco_, revoke).has_ok());
    auto revoked = register_as(fresh, "lea");
    EXPECT_EQ(revoked.error().code(), v1::FORBIDDEN);
    EXPECT_NE(revoked.error().message().find("revoked"), std::string::npos);
    EXPECT_EQ(accounts_count(), before);
    // A taken name is CONFLICT, and the invitation keeps its uses.
    const auto third = invite(coco_, 1).invitation().code();
    EXPECT_EQ(register_as(third, "coco").error().code(), v1::CONFLICT);
    EXPECT_TRUE(register_as(third, "lea").has_session());
}

TEST_F(invitations_test, guessing_codes_from_one_address_is_slowed_down) {
    auto guess = [&](int i) {
        return register_as(std::string(25, 'b') + static_cast<char>('a' + i), "lea",
                           "un-mot-de-passe-long", "203.0.113.9");
    };
    int tries = 0;
    v1::ServerMessage r;
    for (; tries < 10; ++tries) {
        r = guess(tries);
        if (r.error().code() == v1::RATE_LIMITED) {
            break;
        }
        EXPECT_EQ(r.error().code(), v1::FORBIDDEN);
    }
    ASSERT_EQ(r.error().code(), v1::RATE_LIMITED) << "still guessing after 10 wrong codes";
    EXPECT_GE(tries, 3);  // a mistyped code or two costs nothing
    ASSERT_GT(r.error().retry_after_ms(), 0u);
    // Another address is not held up by it.
    const auto code = invite(coco_, 1).invitation().code();
    EXPECT_TRUE(register_as(code, "lea", "un-mot-de-passe-long", "203.0.113.10").has_session());
    // Once the wait is over, the address is answered again.
    clock_.advance(r.error().retry_after_ms());
    EXPECT_EQ(guess(9).error().code(), v1::FORBIDDEN);
}

TEST_F(invitations_test, only_coordinators_and_admins_invite_and_never_above_their_role) {
    auto mediator = user("mona");
    EXPECT_EQ(invite(mediator, 1).error().code(), v1::FORBIDDEN);
    v1::ClientMessage list;
    list.mutable_list_invitations();
    EXPECT_EQ(call(mediator, list).error().code(), v1::FORBIDDEN);
    EXPECT_EQ(invite(coco_, 1, 0, v1::ADMIN).error().code(), v1::FORBIDDEN);
    EXPECT_TRUE(invite(coco_, 1, 0, v1::COORDINATOR).has_invitation());
    EXPECT_EQ(invite(coco_, 501).error().code(), v1::BAD_REQUEST);
    EXPECT_EQ(invite(coco_, 1, 91).error().code(), v1::BAD_REQUEST);
    // A private channel the coordinator is not in does not exist for them.
    auto other = user("olga");
    ASSERT_TRUE(create(other, "prive", /*is_private=*/true).has_channel());
    EXPECT_EQ(invite(coco_, 1, 0, v1::MEDIATOR, {"prive"}).error().code(), v1::NOT_FOUND);
}

TEST(passwords, ten_characters_at_least_counted_as_people_count_them_and_not_a_common_one) {
    const protocol::limits l;
    EXPECT_FALSE(core::check_new_password("123456789", l));
    EXPECT_TRUE(core::check_new_password("éléphant-1", l));  // 10 characters, 12 bytes
    EXPECT_FALSE(core::check_new_password("éléphant1", l));
    EXPECT_FALSE(core::check_new_password("MotDePasse123", l));  // common, whatever the case
    EXPECT_FALSE(core::check_new_password("1234567890", l));
    EXPECT_TRUE(core::check_new_password("la-mediatheque-de-brest", l));
    EXPECT_EQ(core::check_new_password(std::string(l.max_password_bytes + 1, 'x'), l).error().code,
              errc::too_large);
}

}  // namespace
}  // namespace relais::testing
