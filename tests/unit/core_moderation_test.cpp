// Moderation in the core: mutes with the time left, bans that keep people
// out, reports to moderators, and the audit log of it all; on a fake clock.
#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

class moderation_test : public core_test {
  protected:
    void SetUp() override {
        core_test::SetUp();
        owner_ = user("olga");
        modo_ = user("momo");
        lea_ = user("lea");
        ASSERT_TRUE(create(owner_, "accueil").has_channel());
        for (const auto& c : {modo_, lea_}) {
            ASSERT_TRUE(join(c, "accueil").has_channel());
        }
        v1::ClientMessage promote;
        auto& r = *promote.mutable_set_member_role();
        *r.mutable_channel() = ref("accueil");
        r.set_user("momo");
        r.set_role(v1::MODERATOR);
        ASSERT_TRUE(call(owner_, promote).has_ok());
    }

    v1::ServerMessage mute(const conn_ptr& c, const std::string& who, std::uint32_t minutes,
                           bool unmute = false) {
        v1::ClientMessage m;
        auto& in = *m.mutable_mute();
        *in.mutable_channel() = ref("accueil");
        in.set_user(who);
        in.set_minutes(minutes);
        in.set_reason("propos déplacés");
        in.set_unmute(unmute);
        return call(c, m);
    }
    v1::ServerMessage ban(const conn_ptr& c, const std::string& who, bool unban = false) {
        v1::ClientMessage m;
        auto& in = *m.mutable_ban();
        *in.mutable_channel() = ref("accueil");
        in.set_user(who);
        in.set_reason("spam répété");
        in.set_unban(unban);
        return call(c, m);
    }
    v1::ServerMessage report(const conn_ptr& c, std::uint64_t seq, const std::string& reason) {
        v1::ClientMessage m;
        auto& in = *m.mutable_report_message();
        *in.mutable_channel() = ref("accueil");
        in.set_seq(seq);
        in.set_reason(reason);
        return call(c, m);
    }
    v1::ServerMessage reports(const conn_ptr& c, bool all = false) {
        v1::ClientMessage m;
        m.mutable_list_reports()->set_include_resolved(all);
        return call(c, m);
    }
    v1::ServerMessage resolve(const conn_ptr& c, std::uint64_t id) {
        v1::ClientMessage m;
        m.mutable_resolve_report()->set_report_id(id);
        m.mutable_resolve_report()->set_note("message supprimé, rappel de la charte");
        return call(c, m);
    }

    conn_ptr owner_, modo_, lea_;
};

TEST_F(moderation_test, a_muted_member_is_told_the_time_left_until_it_is_up) {
    EXPECT_EQ(code(mute(lea_, "momo", 10)), v1::FORBIDDEN);   // a plain member
    EXPECT_EQ(code(mute(modo_, "olga", 10)), v1::FORBIDDEN);  // the owner
    EXPECT_EQ(code(mute(modo_, "lea", 0)), v1::BAD_REQUEST);
    EXPECT_EQ(code(mute(modo_, "lea", 43201)), v1::BAD_REQUEST);
    EXPECT_EQ(code(mute(modo_, "personne", 10)), v1::NOT_FOUND);
    ASSERT_TRUE(send(lea_, "accueil", "avant", "m1").has_sent());

    ASSERT_TRUE(mute(modo_, "lea", 10).has_ok());
    auto refused = send(lea_, "accueil", "pendant", "m2");
    ASSERT_EQ(code(refused), v1::FORBIDDEN);
    EXPECT_EQ(refused.error().message(), "you are muted in #accueil for 10 more minutes");
    EXPECT_EQ(refused.error().retry_after_ms(), 600'000u);
    clock_.advance(9 * 60'000 + 30'000);
    EXPECT_EQ(send(lea_, "accueil", "pendant", "m3").error().message(),
              "you are muted in #accueil for 1 more minute");
    // Others speak; the history holds nothing of the refused sends.
    ASSERT_TRUE(send(modo_, "accueil", "rappel de la charte", "m4").has_sent());
    clock_.advance(30'000);
    ASSERT_TRUE(send(lea_, "accueil", "après", "m5").has_sent());

    ASSERT_TRUE(mute(modo_, "lea", 60).has_ok());
    ASSERT_TRUE(mute(modo_, "lea", 0, true).has_ok());
    EXPECT_TRUE(send(lea_, "accueil", "levé", "m6").has_sent());
    auto h = history(lea_, "accueil");
    int texts = 0;
    for (const auto& e : h.events().events()) {
        texts += e.has_message() && e.message().text() == "pendant";
    }
    EXPECT_EQ(texts, 0);
}

TEST_F(moderation_test, a_ban_removes_and_keeps_out_until_lifted) {
    EXPECT_EQ(code(ban(lea_, "momo")), v1::FORBIDDEN);
    EXPECT_EQ(code(ban(modo_, "olga")), v1::FORBIDDEN);
    ASSERT_TRUE(ban(modo_, "lea").has_ok());
    // Removed: a KICKED event, and the channel is no longer hers.
    EXPECT_EQ(code(send(lea_, "accueil", "encore", "b1")), v1::NOT_FOUND);
    auto rejoin = join(lea_, "accueil");
    ASSERT_EQ(code(rejoin), v1::FORBIDDEN);
    EXPECT_EQ(rejoin.error().message(), "you are banned from #accueil");
    v1::ClientMessage invite;
    *invite.mutable_invite()->mutable_channel() = ref("accueil");
    invite.mutable_invite()->set_user("lea");
    EXPECT_EQ(code(call(owner_, invite)), v1::FORBIDDEN);

    ASSERT_TRUE(ban(modo_, "lea", true).has_ok());
    EXPECT_EQ(code(ban(modo_, "lea", true)), v1::NOT_FOUND);  // nothing left to lift
    EXPECT_TRUE(join(lea_, "accueil").has_channel());
}

TEST_F(moderation_test, a_report_reaches_the_moderators_who_resolve_it_once) {
    auto sent = send(modo_, "accueil", "un message douteux", "r1");
    const auto seq = sent.sent().event().seq();
    EXPECT_EQ(code(report(lea_, seq, "")), v1::BAD_REQUEST);
    EXPECT_EQ(code(report(lea_, seq + 100, "arnaque")), v1::NOT_FOUND);
    ASSERT_TRUE(report(lea_, seq, "ressemble à une arnaque").has_ok());

    // Pushed to the owner and the moderator, not to the reporter.
    auto pushed = [](const conn_ptr& c) {
        int n = 0;
        for (const auto& m : c->all()) {
            n += m.has_reported();
        }
        return n;
    };
    EXPECT_EQ(pushed(owner_), 1);
    EXPECT_EQ(pushed(modo_), 1);
    EXPECT_EQ(pushed(lea_), 0);

    EXPECT_EQ(reports(lea_).reports().reports_size(), 0);  // moderates nothing
    auto open = reports(owner_);
    ASSERT_EQ(open.reports().reports_size(), 1) << open.DebugString();
    const auto& r = open.reports().reports(0);
    EXPECT_EQ(r.reason(), "ressemble à une arnaque");
    EXPECT_EQ(r.reporter().name(), "lea");
    EXPECT_EQ(r.message().message().text(), "un message douteux");

    EXPECT_EQ(code(resolve(lea_, r.id())), v1::NOT_FOUND);
    ASSERT_TRUE(resolve(owner_, r.id()).has_ok());
    EXPECT_EQ(code(resolve(modo_, r.id())), v1::CONFLICT);
    EXPECT_EQ(reports(owner_).reports().reports_size(), 0);
    auto all = reports(owner_, true);
    ASSERT_EQ(all.reports().reports_size(), 1);
    EXPECT_EQ(all.reports().reports(0).resolved_by().name(), "olga");
}

TEST_F(moderation_test, every_moderation_action_is_in_the_audit_log_for_admins_only) {
    core::accounts accounts(store(), clock_, protocol::limits{});
    ASSERT_TRUE(accounts.add("root", "secret-root", v1::ADMIN, ""));
    auto root = open();
    ASSERT_TRUE(login(root, "root", "secret-root").has_session());
    ASSERT_TRUE(mute(modo_, "lea", 5).has_ok());
    ASSERT_TRUE(ban(modo_, "lea").has_ok());
    v1::ClientMessage ask;
    ask.mutable_get_audit_log();
    EXPECT_EQ(code(call(modo_, ask)), v1::FORBIDDEN);
    auto log = call(root, ask);
    ASSERT_TRUE(log.has_audit_log()) << log.DebugString();
    std::vector<std::string> actions;
    for (const auto& e : log.audit_log().entries()) {
        actions.push_back(e.action());
    }
    // Newest first: the ban, the mute, root's account, the promotion, then
    // the accounts made on the machine.
    ASSERT_GE(actions.size(), 4u);
    EXPECT_EQ(actions[0], "ban");
    EXPECT_EQ(actions[1], "mute");
    EXPECT_EQ(actions[2], "user_add");
    EXPECT_EQ(actions[3], "set_member_role");
    const auto& banned = log.audit_log().entries(0);
    EXPECT_EQ(banned.actor().name(), "momo");
    EXPECT_EQ(banned.subject().name(), "lea");
    EXPECT_EQ(banned.channel_name(), "accueil");
    EXPECT_EQ(banned.reason(), "spam répété");
    EXPECT_EQ(log.audit_log().entries(1).detail(), "5 min");
    EXPECT_EQ(log.audit_log().entries(actions.size() - 1).action(), "user_add");
    EXPECT_FALSE(log.audit_log().entries(actions.size() - 1).has_actor());
}

}  // namespace
}  // namespace relais::testing
