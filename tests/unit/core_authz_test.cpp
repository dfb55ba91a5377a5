// The authorization matrix: every request that names a channel, asked by a
// member, a non-member, a removed member and a disabled account, on a public
// and on a private channel.
#include <functional>
#include <map>
#include <set>
#include <thread>

#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

// A request on channel `name`; `seq` is a message of it, `who` a member.
using request_maker = std::function<v1::ClientMessage(const std::string& name, std::uint64_t seq,
                                                      const std::string& who)>;

v1::ChannelRef named(const std::string& name) {
    v1::ChannelRef r;
    r.set_name(name);
    return r;
}

// Every request kind that names a channel. `open_to_all_on_public` marks
// what a non-member may do on a public channel (join it, see who is in it).
struct request_kind {
    std::string label;
    request_maker make;
    bool open_to_all_on_public = false;
};

std::vector<request_kind> channel_requests() {
    std::vector<request_kind> kinds;
    kinds.push_back({"join",
                     [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_join_channel()->mutable_channel() = named(n);
                         return m;
                     },
                     true});
    kinds.push_back({"members",
                     [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_list_members()->mutable_channel() = named(n);
                         return m;
                     },
                     true});
    kinds.push_back({"get channel",
                     [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_get_channel()->mutable_channel() = named(n);
                         return m;
                     },
                     true});
    kinds.push_back({"leave", [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_leave_channel()->mutable_channel() = named(n);
                         return m;
                     }});
    kinds.push_back({"invite", [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_invite()->mutable_channel() = named(n);
                         m.mutable_invite()->set_user("outsider");
                         return m;
                     }});
    kinds.push_back({"kick", [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_kick()->mutable_channel() = named(n);
                         m.mutable_kick()->set_user("outsider");  // whom "invite" added
                         return m;
                     }});
    kinds.push_back({"role", [](const std::string& n, std::uint64_t, const std::string& who) {
                         v1::ClientMessage m;
                         *m.mutable_set_member_role()->mutable_channel() = named(n);
                         m.mutable_set_member_role()->set_user(who);
                         m.mutable_set_member_role()->set_role(v1::MODERATOR);
                         return m;
                     }});
    kinds.push_back({"topic", [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_set_topic()->mutable_channel() = named(n);
                         m.mutable_set_topic()->set_topic("pris");
                         return m;
                     }});
    kinds.push_back({"send", [](const std::string& n, std::uint64_t, const std::string&) {
                         static int next = 0;
                         v1::ClientMessage m;
                         *m.mutable_send_message()->mutable_channel() = named(n);
                         m.mutable_send_message()->set_text("intrusion");
                         m.mutable_send_message()->set_client_msg_id("x" + std::to_string(++next));
                         return m;
                     }});
    kinds.push_back({"edit", [](const std::string& n, std::uint64_t seq, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_edit_message()->mutable_channel() = named(n);
                         m.mutable_edit_message()->set_seq(seq);
                         m.mutable_edit_message()->set_text("modifié");
                         return m;
                     }});
    kinds.push_back({"delete", [](const std::string& n, std::uint64_t seq, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_delete_message()->mutable_channel() = named(n);
                         m.mutable_delete_message()->set_seq(seq);
                         return m;
                     }});
    kinds.push_back({"history",
                     [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_get_history()->mutable_channel() = named(n);
                         return m;
                     },
                     true});
    kinds.push_back({"history-after",
                     [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_get_history()->mutable_channel() = named(n);
                         m.mutable_get_history()->set_after_seq(1);
                         return m;
                     },
                     true});
    kinds.push_back({"sync",
                     [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_sync()->mutable_channel() = named(n);
                         return m;
                     },
                     true});
    kinds.push_back({"mark-read", [](const std::string& n, std::uint64_t seq, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_mark_read()->mutable_channel() = named(n);
                         m.mutable_mark_read()->set_seq(seq);
                         return m;
                     }});
    kinds.push_back({"typing", [](const std::string& n, std::uint64_t, const std::string&) {
                         v1::ClientMessage m;
                         *m.mutable_typing()->mutable_channel() = named(n);
                         return m;
                     }});
    return kinds;
}

class authorization : public core_test {
  protected:
    void SetUp() override {
        core_test::SetUp();
        owner_ = user("owner");
        member_ = user("member");
        removed_ = user("removed");
        stranger_ = user("stranger");
        disabled_ = user("disabled");
        outsider_ = user("outsider");
        for (const auto& [name, is_private] : {std::pair{"place", false}, {"secret", true}}) {
            ASSERT_TRUE(create(owner_, name, is_private).has_channel());
            for (const auto* who : {"member", "removed", "disabled"}) {
                if (is_private) {
                    v1::ClientMessage invite;
                    *invite.mutable_invite()->mutable_channel() = ref(name);
                    invite.mutable_invite()->set_user(who);
                    ASSERT_TRUE(call(owner_, invite).has_ok());
                } else {
                    ASSERT_TRUE(join(connection_of(who), name).has_channel());
                }
            }
            auto sent = send(owner_, name, "avant", std::string("a-") + name);
            ASSERT_TRUE(sent.has_sent());
            message_seq_[name] = sent.sent().event().seq();
            v1::ClientMessage kick;
            *kick.mutable_kick()->mutable_channel() = ref(name);
            kick.mutable_kick()->set_user("removed");
            ASSERT_TRUE(call(owner_, kick).has_ok());
            removal_seq_[name] = last_seq(name);
        }
        ::relais::core::accounts accounts(store(), clock_, protocol::limits{});
        ASSERT_TRUE(accounts.set_disabled("disabled", true));
        service_->check_sessions();
        for (int i = 0; i < 2000 && disabled_->close_reason().empty(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        ASSERT_FALSE(disabled_->close_reason().empty());
    }

    conn_ptr connection_of(const std::string& who) {
        static const std::map<std::string, conn_ptr authorization::*> by_name = {
            {"member", &authorization::member_},
            {"removed", &authorization::removed_},
            {"disabled", &authorization::disabled_}};
        return this->*by_name.at(who);
    }

    std::uint64_t last_seq(const std::string& name) {
        v1::ClientMessage sync;
        *sync.mutable_sync()->mutable_channel() = ref(name);
        auto page = call(owner_, sync);
        return page.events().last_seq();
    }

    conn_ptr owner_, member_, removed_, stranger_, disabled_, outsider_;
    std::map<std::string, std::uint64_t> message_seq_;
    std::map<std::string, std::uint64_t> removal_seq_;
};

TEST_F(authorization, outsiders_get_the_answer_of_a_missing_channel_for_every_request) {
    const std::map<std::string, conn_ptr> outsiders = {{"non-member", stranger_},
                                                       {"removed member", removed_}};
    int checked = 0;
    for (const auto& kind : channel_requests()) {
        const auto missing = call(stranger_, kind.make("absent", 1, "member"));
        ASSERT_EQ(code(missing), v1::NOT_FOUND) << kind.label;
        for (const auto& [role, conn] : outsiders) {
            for (const std::string channel : {"place", "secret"}) {
                SCOPED_TRACE(kind.label + " by a " + role + " on " + channel);
                const bool is_private = channel == "secret";
                if (!is_private && kind.open_to_all_on_public) {
                    continue;  // allowed, checked below
                }
                auto answer = call(conn, kind.make(channel, message_seq_.at(channel), "member"));
                ++checked;
                EXPECT_EQ(code(answer), v1::NOT_FOUND) << answer.DebugString();
                if (is_private) {
                    // Word for word the answer about a channel that does not exist.
                    auto expected = missing.error().message();
                    expected.replace(expected.find("absent"), 6, channel);
                    EXPECT_EQ(answer.error().message(), expected);
                }
            }
        }
    }
    EXPECT_EQ(checked, 2 * (2 * 16 - 6));
}

TEST_F(authorization, a_disabled_account_is_refused_everything_on_its_open_connection) {
    for (const auto& kind : channel_requests()) {
        for (const std::string channel : {"place", "secret"}) {
            SCOPED_TRACE(kind.label + " on " + channel);
            auto answer = call(disabled_, kind.make(channel, message_seq_.at(channel), "member"));
            EXPECT_EQ(code(answer), v1::UNAUTHENTICATED) << answer.DebugString();
        }
    }
    v1::ClientMessage list;
    list.mutable_list_channels();
    EXPECT_EQ(code(call(disabled_, list)), v1::UNAUTHENTICATED);
    v1::ClientMessage direct;
    direct.mutable_open_direct()->set_user("member");
    EXPECT_EQ(code(call(disabled_, direct)), v1::UNAUTHENTICATED);
}

TEST_F(authorization, members_are_served) {
    for (const auto& kind : channel_requests()) {
        for (const std::string channel : {"place", "secret"}) {
            SCOPED_TRACE(kind.label + " on " + channel);
            if (kind.label == "leave") {
                continue;  // last, below
            }
            auto answer = call(owner_, kind.make(channel, message_seq_.at(channel), "member"));
            EXPECT_FALSE(answer.has_error()) << answer.DebugString();
        }
    }
    for (const std::string channel : {"place", "secret"}) {
        v1::ClientMessage leave;
        *leave.mutable_leave_channel()->mutable_channel() = named(channel);
        auto left = call(member_, leave);
        EXPECT_TRUE(left.has_ok()) << left.DebugString();
    }
}

TEST_F(authorization, listings_show_private_channels_to_their_members_only) {
    v1::ClientMessage list;
    list.mutable_list_channels();
    auto names = [&](const conn_ptr& c) {
        std::set<std::string> out;
        const auto answer = call(c, list);
        for (const auto& ch : answer.channels().channels()) {
            out.insert(ch.name());
        }
        return out;
    };
    EXPECT_EQ(names(member_), (std::set<std::string>{"place", "secret"}));
    EXPECT_EQ(names(stranger_), (std::set<std::string>{"place"}));
    EXPECT_EQ(names(removed_), (std::set<std::string>{"place"}));
}

TEST_F(authorization, no_event_reaches_a_non_member_or_a_removed_member_after_removal) {
    for (const std::string channel : {"place", "secret"}) {
        ASSERT_TRUE(send(owner_, channel, "après", "b-" + channel).has_sent());
        v1::ClientMessage typing;
        *typing.mutable_typing()->mutable_channel() = ref(channel);
        ASSERT_TRUE(call(owner_, typing).has_ok());
    }
    // The member saw the last message of both: every delivery has happened.
    for (const std::string channel : {"place", "secret"}) {
        bool seen = false;
        for (int i = 0; i < 2000 && !seen; ++i) {
            for (const auto& e : member_->events()) {
                seen |= e.has_message() && e.message().text() == "après" &&
                        e.seq() == last_seq(channel);
            }
            if (!seen) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        }
        ASSERT_TRUE(seen) << channel;
    }
    std::map<std::uint64_t, std::string> channel_names;
    v1::ClientMessage list;
    list.mutable_list_channels();
    const auto listing = call(owner_, list);
    for (const auto& ch : listing.channels().channels()) {
        channel_names[ch.id()] = ch.name();
    }
    for (const auto& m : stranger_->all()) {
        EXPECT_FALSE(m.has_event()) << "a non-member received " << m.DebugString();
        EXPECT_FALSE(m.has_typing()) << "a non-member received " << m.DebugString();
    }
    for (const auto& e : removed_->events()) {
        const auto& name = channel_names.at(e.channel_id());
        EXPECT_LE(e.seq(), removal_seq_.at(name)) << "after removal: " << e.DebugString();
    }
    for (const auto& m : removed_->all()) {
        EXPECT_FALSE(m.has_typing()) << "a removed member received " << m.DebugString();
    }
    for (const auto& e : disabled_->events()) {
        EXPECT_LT(e.seq(), last_seq(channel_names.at(e.channel_id())))
            << "after being disabled: " << e.DebugString();
    }
}

}  // namespace
}  // namespace relais::testing
