// The permission matrix of docs/security.md, cell by cell: every request
// kind that acts on a channel, asked by a non-member, a member, a moderator,
// the owner, a coordinator (a member of the channel) and an admin (not a
// member), on a public, a private and a direct channel. Each cell runs on a
// channel of its own, so that no cell changes what another one sees. A
// request kind added to relais.proto without a row here fails the test.
#include <google/protobuf/descriptor.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

// The roles, in the order of the expectation strings below.
enum role_index { non_member, member, moderator, owner, coordinator, admin, role_count };
const char* const role_names[] = {"non-member", "member",      "moderator",
                                  "owner",      "coordinator", "admin"};

// One request on channel `c` about message `seq` (written by the member;
// seq + 1 is a resource the member posted) and the user `target` (a plain
// member).
using request_maker = std::function<v1::ClientMessage(const v1::ChannelRef& c, std::uint64_t seq)>;

struct row {
    request_maker make;
    // One letter per role: y = served, n = NOT_FOUND (as for a channel that
    // does not exist), f = FORBIDDEN. Public, private, direct; a direct
    // conversation's two participants sit in the member's and the owner's
    // places (both are plain members there).
    const char* on_public;
    const char* on_private;
    const char* on_direct;
};

template <class Set>
request_maker on_channel(Set set) {
    return [set](const v1::ChannelRef& c, std::uint64_t seq) {
        v1::ClientMessage m;
        set(m, c, seq);
        return m;
    };
}

// Keyed by the ClientMessage field's name.
std::map<std::string, row> matrix() {
    using M = v1::ClientMessage;
    using R = const v1::ChannelRef&;
    return {
        {"get_channel",
         {on_channel([](M& m, R c, auto) { *m.mutable_get_channel()->mutable_channel() = c; }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"list_members",
         {on_channel([](M& m, R c, auto) { *m.mutable_list_members()->mutable_channel() = c; }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"join_channel",
         {on_channel([](M& m, R c, auto) { *m.mutable_join_channel()->mutable_channel() = c; }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"leave_channel",
         {on_channel([](M& m, R c, auto) { *m.mutable_leave_channel()->mutable_channel() = c; }),
          "nyyyyn", "nyyyyn", "nfnfnn"}},
        {"invite",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_invite()->mutable_channel() = c;
              m.mutable_invite()->set_user("gus");
          }),
          "nyyyyn", "nfyyfn", "nfnfnn"}},
        {"kick",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_kick()->mutable_channel() = c;
              m.mutable_kick()->set_user("cible");
          }),
          "nfyyfn", "nfyyfn", "nfnfnn"}},
        {"mute",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_mute()->mutable_channel() = c;
              m.mutable_mute()->set_user("cible");
              m.mutable_mute()->set_minutes(5);
          }),
          "nfyyfn", "nfyyfn", "nfnfnn"}},
        {"ban",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_ban()->mutable_channel() = c;
              m.mutable_ban()->set_user("cible");
          }),
          "nfyyfn", "nfyyfn", "nfnfnn"}},
        {"report_message",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_report_message()->mutable_channel() = c;
              m.mutable_report_message()->set_seq(seq);
              m.mutable_report_message()->set_reason("hors charte");
          }),
          "nyyyyn", "nyyyyn", "nynynn"}},
        {"list_reports",
         {on_channel([](M& m, R c, auto) { *m.mutable_list_reports()->mutable_channel() = c; }),
          "nfyyfn", "nfyyfn", "nfnfnn"}},
        {"set_member_role",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_set_member_role()->mutable_channel() = c;
              m.mutable_set_member_role()->set_user("cible");
              m.mutable_set_member_role()->set_role(v1::MODERATOR);
          }),
          "nffyfn", "nffyfn", "nfnfnn"}},
        {"set_topic",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_set_topic()->mutable_channel() = c;
              m.mutable_set_topic()->set_topic("Nouveau sujet");
          }),
          "nyyyyn", "nfyyfn", "nfnfnn"}},
        {"set_display_name",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_set_display_name()->mutable_channel() = c;
              m.mutable_set_display_name()->set_display_name("Atelier");
          }),
          "nyyyyn", "nfyyfn", "nfnfnn"}},
        {"set_channel_options",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_set_channel_options()->mutable_channel() = c;
              m.mutable_set_channel_options()->set_members_can_invite(false);
          }),
          "nfyyfn", "nfyyfn", "nfnfnn"}},
        {"set_retention",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_set_retention()->mutable_channel() = c;
              m.mutable_set_retention()->set_days(30);
          }),
          "fffyfy", "nffyfn", "nfnfnn"}},
        {"send_message",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_send_message()->mutable_channel() = c;
              m.mutable_send_message()->set_text("Bonjour");
              m.mutable_send_message()->set_client_msg_id(
                  "perm-" + std::to_string(c.id()) + "-" +
                  std::to_string(reinterpret_cast<std::uintptr_t>(&m)));
          }),
          "nyyyyn", "nyyyyn", "nynynn"}},
        {"edit_message",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_edit_message()->mutable_channel() = c;
              m.mutable_edit_message()->set_seq(seq);
              m.mutable_edit_message()->set_text("corrigé");
          }),
          "nyfffn", "nyfffn", "nynfnn"}},
        {"delete_message",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_delete_message()->mutable_channel() = c;
              m.mutable_delete_message()->set_seq(seq);
          }),
          "nyyyfn", "nyyyfn", "nynfnn"}},
        {"get_history",
         {on_channel([](M& m, R c, auto) { *m.mutable_get_history()->mutable_channel() = c; }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"sync",
         {on_channel([](M& m, R c, auto) { *m.mutable_sync()->mutable_channel() = c; }), "yyyyyy",
          "nyyyyn", "nynynn"}},
        {"mark_read",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_mark_read()->mutable_channel() = c;
              m.mutable_mark_read()->set_seq(seq);
          }),
          "nyyyyn", "nyyyyn", "nynynn"}},
        {"typing",
         {on_channel([](M& m, R c, auto) { *m.mutable_typing()->mutable_channel() = c; }), "nyyyyn",
          "nyyyyn", "nynynn"}},
        {"post_resource",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_post_resource()->mutable_channel() = c;
              m.mutable_post_resource()->mutable_resource()->set_title("Guide");
              m.mutable_post_resource()->set_client_msg_id(
                  "res-" + std::to_string(c.id()) + "-" +
                  std::to_string(reinterpret_cast<std::uintptr_t>(&m)));
          }),
          "nyyyyn", "nyyyyn", "nynynn"}},
        {"edit_resource",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_edit_resource()->mutable_channel() = c;
              m.mutable_edit_resource()->set_seq(seq + 1);
              m.mutable_edit_resource()->mutable_resource()->set_title("Guide revu");
          }),
          "nyyyfn", "nyyyfn", "nynfnn"}},
        {"get_resource_versions",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_get_resource_versions()->mutable_channel() = c;
              m.mutable_get_resource_versions()->set_seq(seq + 1);
          }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"list_resources",
         {on_channel([](M& m, R c, auto) { *m.mutable_list_resources()->mutable_channel() = c; }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"search",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_search()->mutable_channel() = c;
              m.mutable_search()->set_query("corriger");
          }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"get_thread",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_get_thread()->mutable_channel() = c;
              m.mutable_get_thread()->set_root_seq(seq);
          }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"follow_thread",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_follow_thread()->mutable_channel() = c;
              m.mutable_follow_thread()->set_root_seq(seq);
              m.mutable_follow_thread()->set_follow(true);
          }),
          "nyyyyn", "nyyyyn", "nynynn"}},
        {"mark_thread_read",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_mark_thread_read()->mutable_channel() = c;
              m.mutable_mark_thread_read()->set_root_seq(seq);
              m.mutable_mark_thread_read()->set_seq(seq);
          }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"solve_question",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_solve_question()->mutable_channel() = c;
              m.mutable_solve_question()->set_root_seq(seq);
          }),
          "nyyyfn", "nyyyfn", "nynfnn"}},
        {"list_questions",
         {on_channel([](M& m, R c, auto) { *m.mutable_list_questions()->mutable_channel() = c; }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"react",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_react()->mutable_channel() = c;
              m.mutable_react()->set_seq(seq);
              m.mutable_react()->set_emoji("👍");
          }),
          "nyyyyn", "nyyyyn", "nynynn"}},
        {"pin",
         {on_channel([](M& m, R c, std::uint64_t seq) {
              *m.mutable_pin()->mutable_channel() = c;
              m.mutable_pin()->set_seq(seq);
          }),
          "nfyyfn", "nfyyfn", "nfnfnn"}},
        {"list_pins",
         {on_channel([](M& m, R c, auto) { *m.mutable_list_pins()->mutable_channel() = c; }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        // Moderators, and coordinators and admins who belong to the channel.
        {"create_meeting",
         {on_channel([](M& m, R c, auto) {
              auto& create = *m.mutable_create_meeting();
              *create.mutable_channel() = c;
              create.set_title("Analyse de pratiques");
              create.set_start_ms(1'800'000'000'000);
              create.set_template_name("analyse-de-pratiques");
          }),
          "nfyyyn", "nfyyyn", "nfnfnn"}},
        {"list_meetings",
         {on_channel([](M& m, R c, auto) { *m.mutable_list_meetings()->mutable_channel() = c; }),
          "yyyyyy", "nyyyyn", "nynynn"}},
        {"submit_case",
         {on_channel([](M& m, R c, auto) {
              *m.mutable_submit_case()->mutable_channel() = c;
              m.mutable_submit_case()->set_text("Une usagère sans adresse e-mail");
          }),
          "nyyyyn", "nyyyyn", "nfnfnn"}},
    };
}

// Requests that name no channel, and why they are not in the matrix.
const std::set<std::string> not_about_a_channel = {
    "hello",
    "login",
    "resume",
    "logout",           // the session, before and after
    "create_channel",   // anyone logged in may create one
    "list_channels",    // listings: core_authz_test.cpp
    "open_direct",      // any two accounts may talk
    "list_vocabulary",  // the server's lists, for everyone
    // The caller's own: their followed threads and their mentions, in the
    // channels they can read (core_test.cpp and the integration tests).
    "list_threads",
    "list_mentions",
    // Profiles: one's own, or an admin's edit; the directory, for everyone
    // logged in (core_people_test.cpp).
    "set_profile",
    "get_profile",
    "list_people",
    // A report, by its id: NOT_FOUND unless the caller moderates its
    // channel; the audit log is the admins' (core_moderation_test.cpp).
    "resolve_report",
    "get_audit_log",
    "export_my_data",  // the caller's own data (core_data_test.cpp)
    // Files: an upload is the caller's own; a download names a channel but
    // needs a message with a file, which this matrix's channels do not
    // have: its places (member, public non-member, private non-member) are
    // in core_files_test.cpp.
    "start_upload",
    "upload_chunk",
    "download",
    // Invitations: coordinators and admins, and registering without a
    // login: core_invitations_test.cpp (a channel an invitation names is
    // checked as Invite checks it).
    "create_invitation",
    "list_invitations",
    "revoke_invitation",
    "register",
    // Passwords and sessions: one's own, or by role (core_passwords_test.cpp).
    "change_password",
    "list_sessions",
    "end_session",
    "create_password_reset",
    "reset_password",
    "list_meeting_templates",  // the server's templates, for everyone
    "get_meeting_report",      // coordinators and admins: core_meetings_test.cpp
    // A meeting, by its id: whoever cannot see its channel gets NOT_FOUND
    // as for channel requests, and inside, who may do what depends on the
    // meeting's roles: core_meetings_test.cpp, row by row.
    "get_meeting",
    "set_meeting_state",
    "join_meeting",
    "set_phase",
    "set_meeting_role",
    "raise_hand",
    "give_floor",
    "open_poll",
    "vote",
    "close_poll",
    "arrange_tables",
    "list_cases",
    "set_note",
    "get_minutes",
    "edit_minutes",
    "get_attendance",
};

class permissions : public core_test {
  protected:
    void SetUp() override {
        core_test::SetUp();
        core::accounts accounts(store(), clock_, protocol::limits{});
        const std::pair<const char*, v1::Role> cast[] = {
            {"ugo", v1::MEDIATOR},   {"mia", v1::MEDIATOR},     {"marc", v1::MEDIATOR},
            {"olive", v1::MEDIATOR}, {"coco", v1::COORDINATOR}, {"ada", v1::ADMIN},
            {"cible", v1::MEDIATOR}, {"gus", v1::MEDIATOR}};
        for (const auto& [name, role] : cast) {
            ASSERT_TRUE(accounts.add(name, std::string("secret-") + name, role, ""));
            auto conn = open();
            ASSERT_TRUE(login(conn, name, std::string("secret-") + name).has_session());
            conns_[name] = conn;
        }
        // The direct conversation is mia's and olive's.
        v1::ClientMessage direct;
        direct.mutable_open_direct()->set_user("olive");
        const auto opened = call(conns_["mia"], direct).channel();
        direct_ = opened.id();
        ASSERT_NE(direct_, 0u);
        // Its options say what the matrix checks: nobody invites, no topic.
        EXPECT_FALSE(opened.options().members_can_invite());
        EXPECT_FALSE(opened.options().members_can_set_topic());
    }

    conn_ptr as(role_index r) {
        static const char* const who[] = {"ugo", "mia", "marc", "olive", "coco", "ada"};
        return conns_.at(who[r]);
    }

    // A fresh channel with its cast: olive owns it, marc moderates it, mia,
    // coco and cible are members; mia has just written a message.
    std::pair<v1::ChannelRef, std::uint64_t> fresh_channel(bool is_private) {
        const auto name = "c" + std::to_string(++channels_);
        auto& olive = conns_["olive"];
        EXPECT_TRUE(create(olive, name, is_private).has_channel());
        for (const char* who : {"marc", "mia", "coco", "cible"}) {
            if (is_private) {
                v1::ClientMessage invite;
                *invite.mutable_invite()->mutable_channel() = ref(name);
                invite.mutable_invite()->set_user(who);
                EXPECT_TRUE(call(olive, invite).has_ok());
            } else {
                EXPECT_TRUE(join(conns_[who], name).has_channel());
            }
        }
        v1::ClientMessage promote;
        *promote.mutable_set_member_role()->mutable_channel() = ref(name);
        promote.mutable_set_member_role()->set_user("marc");
        promote.mutable_set_member_role()->set_role(v1::MODERATOR);
        EXPECT_TRUE(call(olive, promote).has_ok());
        const auto sent = send(conns_["mia"], name, "à corriger", "m" + name);
        EXPECT_TRUE(sent.has_sent());
        post_resource(ref(name), "r" + name);
        v1::ClientMessage get;
        *get.mutable_get_channel()->mutable_channel() = ref(name);
        v1::ChannelRef by_id;
        by_id.set_id(call(olive, get).channel().id());
        return {by_id, sent.sent().event().seq()};
    }

    std::pair<v1::ChannelRef, std::uint64_t> direct_channel() {
        v1::ChannelRef c;
        c.set_id(direct_);
        v1::ClientMessage m;
        *m.mutable_send_message()->mutable_channel() = c;
        m.mutable_send_message()->set_text("à corriger");
        m.mutable_send_message()->set_client_msg_id("d" + std::to_string(++channels_));
        const auto sent = call(conns_["mia"], m);
        EXPECT_TRUE(sent.has_sent()) << sent.DebugString();
        post_resource(c, "dr" + std::to_string(channels_));
        return {c, sent.sent().event().seq()};
    }

    // The member's resource, right after their message.
    void post_resource(const v1::ChannelRef& c, const std::string& id) {
        v1::ClientMessage m;
        *m.mutable_post_resource()->mutable_channel() = c;
        m.mutable_post_resource()->set_client_msg_id(id);
        m.mutable_post_resource()->mutable_resource()->set_title("Fiche");
        EXPECT_TRUE(call(conns_["mia"], m).has_sent());
    }

    static char outcome_letter(const v1::ServerMessage& answer) {
        if (!answer.has_error()) {
            return 'y';
        }
        switch (answer.error().code()) {
            case v1::NOT_FOUND:
                return 'n';
            case v1::FORBIDDEN:
                return 'f';
            default:
                return '?';
        }
    }

    std::map<std::string, conn_ptr> conns_;
    std::uint64_t direct_ = 0;
    int channels_ = 0;
};

TEST_F(permissions, every_request_kind_is_in_the_matrix_or_names_no_channel) {
    const auto rows = matrix();
    const auto* body = v1::ClientMessage::descriptor()->FindOneofByName("body");
    for (int i = 0; i < body->field_count(); ++i) {
        const auto& name = body->field(i)->name();
        EXPECT_TRUE(rows.count(name) + not_about_a_channel.count(name) == 1)
            << "request kind '" << name << "' has no row in the permission matrix";
    }
}

TEST_F(permissions, each_role_may_do_on_each_kind_of_channel_what_the_matrix_says) {
    for (const auto& [request, r] : matrix()) {
        for (const auto* kind : {"public", "private", "direct"}) {
            const std::string expected = kind == std::string("public")    ? r.on_public
                                         : kind == std::string("private") ? r.on_private
                                                                          : r.on_direct;
            ASSERT_EQ(expected.size(), static_cast<std::size_t>(role_count)) << request;
            std::string got;
            for (int role = 0; role < role_count; ++role) {
                // Past every send budget: cells do not slow each other down.
                clock_.advance(60'000);
                auto [channel, seq] = kind == std::string("direct")
                                          ? direct_channel()
                                          : fresh_channel(kind == std::string("private"));
                const auto answer = call(as(static_cast<role_index>(role)), r.make(channel, seq));
                got.push_back(outcome_letter(answer));
                if (got.back() != expected[got.size() - 1]) {
                    ADD_FAILURE() << request << " by the " << role_names[role] << " on a " << kind
                                  << " channel: " << answer.DebugString();
                }
            }
            EXPECT_EQ(got, expected) << request << " on a " << kind << " channel";
        }
    }
}

}  // namespace
}  // namespace relais::testing
