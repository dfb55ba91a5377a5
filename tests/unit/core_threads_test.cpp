// Threads, unread counts, questions, reactions, pins and mentions, through
// the real service on the real store.
#include <set>

#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

class threads : public core_test {
  protected:
    v1::ServerMessage reply(const conn_ptr& c, const std::string& channel, std::uint64_t root,
                            const std::string& text) {
        clock_.advance(1000);  // past the send budget
        return send(c, channel, text, "r" + std::to_string(++ids_), root);
    }
    std::uint64_t say(const conn_ptr& c, const std::string& channel, const std::string& text,
                      bool question = false) {
        v1::ClientMessage msg;
        auto& s = *msg.mutable_send_message();
        *s.mutable_channel() = ref(channel);
        s.set_text(text);
        s.set_client_msg_id("m" + std::to_string(++ids_));
        s.set_question(question);
        clock_.advance(1000);
        auto answer = call(c, msg);
        EXPECT_TRUE(answer.has_sent()) << answer.DebugString();
        return answer.sent().event().seq();
    }
    v1::Channel channel(const conn_ptr& c, const std::string& name) {
        v1::ClientMessage msg;
        *msg.mutable_get_channel()->mutable_channel() = ref(name);
        return call(c, msg).channel();
    }
    v1::ServerMessage thread(const conn_ptr& c, const std::string& name, std::uint64_t root,
                             std::uint64_t before = 0, std::uint64_t after = 0,
                             std::uint32_t limit = 0) {
        v1::ClientMessage msg;
        auto& t = *msg.mutable_get_thread();
        *t.mutable_channel() = ref(name);
        t.set_root_seq(root);
        t.set_before_seq(before);
        t.set_after_seq(after);
        t.set_limit(limit);
        return call(c, msg);
    }
    v1::ThreadList followed(const conn_ptr& c) {
        v1::ClientMessage msg;
        msg.mutable_list_threads();
        return call(c, msg).threads();
    }
    v1::ServerMessage mark_thread_read(const conn_ptr& c, const std::string& name,
                                       std::uint64_t root, std::uint64_t seq) {
        v1::ClientMessage msg;
        *msg.mutable_mark_thread_read()->mutable_channel() = ref(name);
        msg.mutable_mark_thread_read()->set_root_seq(root);
        msg.mutable_mark_thread_read()->set_seq(seq);
        return call(c, msg);
    }
    v1::ServerMessage mark_read(const conn_ptr& c, const std::string& name, std::uint64_t seq) {
        v1::ClientMessage msg;
        *msg.mutable_mark_read()->mutable_channel() = ref(name);
        msg.mutable_mark_read()->set_seq(seq);
        return call(c, msg);
    }
    v1::ServerMessage react(const conn_ptr& c, const std::string& name, std::uint64_t seq,
                            const std::string& emoji, bool remove = false) {
        v1::ClientMessage msg;
        *msg.mutable_react()->mutable_channel() = ref(name);
        msg.mutable_react()->set_seq(seq);
        msg.mutable_react()->set_emoji(emoji);
        msg.mutable_react()->set_remove(remove);
        return call(c, msg);
    }
    v1::ServerMessage solve(const conn_ptr& c, const std::string& name, std::uint64_t root,
                            std::uint64_t answer) {
        v1::ClientMessage msg;
        *msg.mutable_solve_question()->mutable_channel() = ref(name);
        msg.mutable_solve_question()->set_root_seq(root);
        msg.mutable_solve_question()->set_answer_seq(answer);
        return call(c, msg);
    }
    v1::ServerMessage erase(const conn_ptr& c, const std::string& name, std::uint64_t seq) {
        v1::ClientMessage msg;
        *msg.mutable_delete_message()->mutable_channel() = ref(name);
        msg.mutable_delete_message()->set_seq(seq);
        return call(c, msg);
    }
    // The message at seq, as history shows it now.
    v1::Message message_at(const conn_ptr& c, const std::string& name, std::uint64_t seq) {
        const auto page = history(c, name);
        for (const auto& e : page.events().events()) {
            if (e.seq() == seq) {
                return e.message();
            }
        }
        ADD_FAILURE() << "no message " << seq;
        return {};
    }

    int ids_ = 0;
};

TEST_F(threads, a_reply_has_its_own_seq_and_its_roots_and_the_root_carries_the_summary) {
    auto ana = user("ana");
    auto bob = user("bob");
    create(ana, "atelier");
    join(bob, "atelier");
    const auto root = say(ana, "atelier", "Qui a un tuto sur le simulateur CAF ?");
    auto first = reply(bob, "atelier", root, "Oui, sur le site de la CAF");
    ASSERT_TRUE(first.has_sent()) << first.DebugString();
    EXPECT_EQ(first.sent().event().seq(), root + 1);
    EXPECT_EQ(first.sent().event().message().thread_seq(), root);
    // A reply to a reply lands in the root's thread.
    auto second = reply(ana, "atelier", first.sent().event().seq(), "Merci !");
    EXPECT_EQ(second.sent().event().message().thread_seq(), root);

    const auto summary = message_at(bob, "atelier", root).thread();
    EXPECT_EQ(summary.reply_count(), 2u);
    EXPECT_EQ(summary.last_reply_seq(), second.sent().event().seq());
    ASSERT_EQ(summary.participants_size(), 2);
    EXPECT_EQ(summary.participants(0).name(), "bob");
    EXPECT_EQ(summary.participants(1).name(), "ana");
    // Members heard of each change without reading the thread again.
    std::vector<std::uint32_t> counts;
    for (const auto& m : ana->all()) {
        if (m.has_thread_update()) {
            counts.push_back(m.thread_update().summary().reply_count());
        }
    }
    EXPECT_EQ(counts, (std::vector<std::uint32_t>{1, 2}));
    // The channel's seqs stay gapless.
    const auto events = history(bob, "atelier").events();
    for (int i = 1; i < events.events_size(); ++i) {
        EXPECT_EQ(events.events(i).seq(), events.events(i - 1).seq() + 1);
    }
}

TEST_F(threads, a_thread_reads_by_pages_both_ways_without_gap_or_duplicate) {
    auto ana = user("ana");
    create(ana, "atelier");
    const auto root = say(ana, "atelier", "Racine");
    std::vector<std::uint64_t> sent;
    for (int i = 0; i < 25; ++i) {
        sent.push_back(
            reply(ana, "atelier", root, "réponse " + std::to_string(i)).sent().event().seq());
        // Channel messages between replies do not belong to the thread.
        say(ana, "atelier", "à côté " + std::to_string(i));
    }
    std::vector<std::uint64_t> forward;
    for (std::uint64_t after = root;;) {
        auto page = thread(ana, "atelier", root, 0, after, 7).thread();
        EXPECT_EQ(page.root().seq(), root);
        for (const auto& e : page.replies()) {
            forward.push_back(e.seq());
        }
        if (!page.has_more()) {
            break;
        }
        after = page.replies(page.replies_size() - 1).seq();
    }
    EXPECT_EQ(forward, sent);
    std::vector<std::uint64_t> backward;
    for (std::uint64_t before = 0;;) {
        auto page = thread(ana, "atelier", root, before, 0, 7).thread();
        for (int i = page.replies_size() - 1; i >= 0; --i) {
            backward.insert(backward.begin(), page.replies(i).seq());
        }
        if (!page.has_more()) {
            break;
        }
        before = page.replies(0).seq();
    }
    EXPECT_EQ(backward, sent);
}

TEST_F(threads, replies_count_in_the_followed_thread_not_in_the_channel) {
    auto ana = user("ana");
    auto bob = user("bob");
    auto cat = user("cat");
    create(ana, "atelier");
    join(bob, "atelier");
    join(cat, "atelier");
    const auto root = say(ana, "atelier", "Question du jour");
    mark_read(bob, "atelier", root);
    mark_read(cat, "atelier", root);
    reply(bob, "atelier", root, "une");
    reply(bob, "atelier", root, "deux");
    // The root's author follows from the first reply on; cat does not follow.
    auto ana_view = channel(ana, "atelier");
    EXPECT_EQ(ana_view.unread_count(), 0u);
    EXPECT_EQ(ana_view.thread_unread_count(), 2u);
    EXPECT_EQ(channel(cat, "atelier").unread_count(), 0u);
    EXPECT_EQ(channel(cat, "atelier").thread_unread_count(), 0u);
    EXPECT_EQ(channel(bob, "atelier").thread_unread_count(), 0u);  // their own
    auto list = followed(ana);
    ASSERT_EQ(list.threads_size(), 1);
    EXPECT_EQ(list.threads(0).unread_count(), 2u);

    // A deleted reply no longer counts; an edit changes nothing.
    auto third = reply(bob, "atelier", root, "trois").sent().event().seq();
    EXPECT_EQ(channel(ana, "atelier").thread_unread_count(), 3u);
    v1::ClientMessage edit;
    *edit.mutable_edit_message()->mutable_channel() = ref("atelier");
    edit.mutable_edit_message()->set_seq(third);
    edit.mutable_edit_message()->set_text("trois, corrigé");
    EXPECT_TRUE(call(bob, edit).has_ok());
    EXPECT_EQ(channel(ana, "atelier").thread_unread_count(), 3u);
    EXPECT_TRUE(erase(bob, "atelier", third).has_ok());
    EXPECT_EQ(channel(ana, "atelier").thread_unread_count(), 2u);
    EXPECT_EQ(message_at(ana, "atelier", root).thread().reply_count(), 2u);

    // Read on one device: every device of hers sees it.
    auto ana_phone = open();
    login(ana_phone, "ana", "secret-ana");
    EXPECT_TRUE(mark_thread_read(ana, "atelier", root, third).has_ok());
    EXPECT_EQ(channel(ana_phone, "atelier").thread_unread_count(), 0u);
    bool pushed = false;
    for (const auto& m : ana_phone->all()) {
        pushed = pushed || (m.has_read_marker() && m.read_marker().root_seq() == root);
    }
    EXPECT_TRUE(pushed);
    // Never backward.
    EXPECT_TRUE(mark_thread_read(ana, "atelier", root, root).has_ok());
    EXPECT_EQ(followed(ana).threads(0).last_read_seq(), third);

    // Unfollowed: not listed, not counted; replying follows again.
    v1::ClientMessage unfollow;
    *unfollow.mutable_follow_thread()->mutable_channel() = ref("atelier");
    unfollow.mutable_follow_thread()->set_root_seq(root);
    EXPECT_TRUE(call(ana, unfollow).has_ok());
    reply(bob, "atelier", root, "quatre");
    EXPECT_EQ(followed(ana).threads_size(), 0);
    EXPECT_EQ(channel(ana, "atelier").thread_unread_count(), 0u);
    reply(ana, "atelier", root, "je reviens");
    EXPECT_EQ(followed(ana).threads_size(), 1);
}

TEST_F(threads, bad_replies_are_refused_and_store_nothing) {
    auto ana = user("ana");
    auto eve = user("eve");
    create(ana, "prive", true);
    create(eve, "public");
    const auto root = say(ana, "prive", "secret");
    const auto before = channel(ana, "prive").last_seq();
    EXPECT_EQ(code(reply(eve, "prive", root, "je lis ?")), v1::NOT_FOUND);
    EXPECT_EQ(code(reply(ana, "prive", 999, "dans le vide")), v1::NOT_FOUND);
    EXPECT_TRUE(erase(ana, "prive", root).has_ok());
    EXPECT_EQ(code(reply(ana, "prive", root, "sur un supprimé")), v1::NOT_FOUND);
    EXPECT_EQ(channel(ana, "prive").last_seq(), before + 1);  // the deletion only
    v1::ClientMessage ask;
    auto& s = *ask.mutable_send_message();
    *s.mutable_channel() = ref("public");
    s.set_text("?");
    s.set_client_msg_id("q1");
    s.set_thread_seq(1);
    s.set_question(true);
    EXPECT_EQ(code(call(eve, ask)), v1::BAD_REQUEST);
}

TEST_F(threads, a_question_is_solved_by_a_reply_of_its_thread_and_listed) {
    auto ana = user("ana");
    auto bob = user("bob");
    create(ana, "entraide");
    join(bob, "entraide");
    const auto question = say(bob, "entraide", "Comment créer un compte Ameli ?", true);
    const auto other = say(bob, "entraide", "Et pour la CAF ?", true);
    const auto answer = reply(ana, "entraide", question, "Avec FranceConnect").sent().event().seq();
    const auto elsewhere = reply(ana, "entraide", other, "Autre fil").sent().event().seq();

    EXPECT_EQ(code(solve(bob, "entraide", question, elsewhere)), v1::BAD_REQUEST);
    EXPECT_EQ(code(solve(bob, "entraide", question, question)), v1::BAD_REQUEST);
    auto cat = user("cat");
    join(cat, "entraide");
    EXPECT_EQ(code(solve(cat, "entraide", question, answer)), v1::FORBIDDEN);  // not hers
    EXPECT_TRUE(solve(bob, "entraide", question, answer).has_ok());
    EXPECT_EQ(message_at(ana, "entraide", question).thread().solved_seq(), answer);

    auto list = [&](bool unsolved) {
        v1::ClientMessage msg;
        *msg.mutable_list_questions()->mutable_channel() = ref("entraide");
        msg.mutable_list_questions()->set_unsolved_only(unsolved);
        std::vector<std::uint64_t> roots;
        const auto listed = call(ana, msg);
        for (const auto& t : listed.threads().threads()) {
            roots.push_back(t.root().seq());
        }
        return roots;
    };
    EXPECT_EQ(list(false), (std::vector<std::uint64_t>{other, question}));
    EXPECT_EQ(list(true), (std::vector<std::uint64_t>{other}));
    EXPECT_TRUE(solve(bob, "entraide", question, 0).has_ok());
    EXPECT_EQ(list(true), (std::vector<std::uint64_t>{other, question}));
    // Deleting the answer leaves the question unsolved.
    EXPECT_TRUE(solve(bob, "entraide", question, answer).has_ok());
    EXPECT_TRUE(erase(ana, "entraide", answer).has_ok());
    EXPECT_EQ(message_at(ana, "entraide", question).thread().solved_seq(), 0u);
}

TEST_F(threads, reactions_are_counted_once_per_person_and_not_on_deleted_messages) {
    auto ana = user("ana");
    auto bob = user("bob");
    create(ana, "atelier");
    join(bob, "atelier");
    const auto seq = say(ana, "atelier", "Nouvelle fiche en ligne");
    const auto last = channel(ana, "atelier").last_seq();
    EXPECT_TRUE(react(ana, "atelier", seq, "👍").has_ok());
    EXPECT_TRUE(react(ana, "atelier", seq, "👍").has_ok());  // again: nothing new
    EXPECT_TRUE(react(bob, "atelier", seq, "👍").has_ok());
    EXPECT_TRUE(react(bob, "atelier", seq, ":tada:").has_ok());
    EXPECT_EQ(channel(ana, "atelier").last_seq(), last + 3);
    auto m = message_at(ana, "atelier", seq);
    ASSERT_EQ(m.reactions_size(), 2);
    EXPECT_EQ(m.reactions(0).emoji(), "👍");
    EXPECT_EQ(m.reactions(0).count(), 2u);
    EXPECT_EQ(m.reactions(1).count(), 1u);
    EXPECT_TRUE(react(bob, "atelier", seq, "👍", true).has_ok());
    EXPECT_TRUE(react(bob, "atelier", seq, "👍", true).has_ok());
    EXPECT_EQ(message_at(ana, "atelier", seq).reactions(0).count(), 1u);
    // Reactions do not make anything unread.
    EXPECT_EQ(channel(ana, "atelier").unread_count(), 0u);

    EXPECT_EQ(code(react(ana, "atelier", seq, "pouce")), v1::BAD_REQUEST);
    EXPECT_EQ(code(react(ana, "atelier", seq, "")), v1::BAD_REQUEST);
    EXPECT_EQ(code(react(ana, "atelier", seq, std::string(40, 'x'))), v1::TOO_LARGE);
    EXPECT_TRUE(react(ana, "atelier", seq, "🇫🇷").has_ok());
    EXPECT_TRUE(react(ana, "atelier", seq, "👍🏽").has_ok());
    EXPECT_TRUE(erase(ana, "atelier", seq).has_ok());
    EXPECT_EQ(code(react(bob, "atelier", seq, "👍")), v1::NOT_FOUND);
    EXPECT_EQ(message_at(ana, "atelier", seq).reactions_size(), 0);
}

TEST_F(threads, moderators_pin_and_everyone_reads_the_pins) {
    auto ana = user("ana");
    auto bob = user("bob");
    create(ana, "atelier");
    join(bob, "atelier");
    const auto a = say(bob, "atelier", "Charte du canal");
    const auto b = say(bob, "atelier", "Agenda");
    v1::ClientMessage pin;
    *pin.mutable_pin()->mutable_channel() = ref("atelier");
    pin.mutable_pin()->set_seq(a);
    EXPECT_EQ(code(call(bob, pin)), v1::FORBIDDEN);
    EXPECT_TRUE(call(ana, pin).has_ok());
    clock_.advance(10);
    pin.mutable_pin()->set_seq(b);
    EXPECT_TRUE(call(ana, pin).has_ok());
    v1::ClientMessage list;
    *list.mutable_list_pins()->mutable_channel() = ref("atelier");
    auto pins = call(bob, list).pins();
    ASSERT_EQ(pins.pins_size(), 2);
    EXPECT_EQ(pins.pins(0).event().seq(), b);
    EXPECT_EQ(pins.pins(0).pinned_by().name(), "ana");
    EXPECT_TRUE(pins.pins(1).event().message().pinned());
    pin.mutable_pin()->set_unpin(true);
    EXPECT_TRUE(call(ana, pin).has_ok());
    EXPECT_EQ(call(bob, list).pins().pins_size(), 1);
}

TEST_F(threads, mentions_reach_only_those_who_can_read_and_count_until_read) {
    auto ana = user("ana");
    auto bob = user("bob");
    auto eve = user("eve");
    create(ana, "prive", true);
    v1::ClientMessage invite;
    *invite.mutable_invite()->mutable_channel() = ref("prive");
    invite.mutable_invite()->set_user("bob");
    ASSERT_TRUE(call(ana, invite).has_ok());
    const auto seq = say(ana, "prive", "@bob et @eve, vous avez vu ? (anne@mairie.fr)");
    auto heard = [](const conn_ptr& c) {
        int n = 0;
        for (const auto& m : c->all()) {
            n += m.has_mention();
        }
        return n;
    };
    EXPECT_EQ(heard(bob), 1);
    EXPECT_EQ(heard(eve), 0);  // not in the private channel
    EXPECT_EQ(channel(bob, "prive").mention_count(), 1u);
    v1::ClientMessage mentions;
    mentions.mutable_list_mentions();
    auto list = call(bob, mentions).mentions();
    ASSERT_EQ(list.mentions_size(), 1);
    EXPECT_EQ(list.mentions(0).event().seq(), seq);
    EXPECT_TRUE(list.mentions(0).unread());
    EXPECT_EQ(call(eve, mentions).mentions().mentions_size(), 0);
    mark_read(bob, "prive", seq);
    EXPECT_EQ(channel(bob, "prive").mention_count(), 0u);
    EXPECT_FALSE(call(bob, mentions).mentions().mentions(0).unread());

    // In a public channel, whoever can read it hears of it, member or not.
    create(ana, "public");
    say(ana, "public", "@EVE regarde ça.");
    EXPECT_EQ(heard(eve), 1);
    // @channel is for moderators.
    join(bob, "public");
    v1::ClientMessage all;
    auto& s = *all.mutable_send_message();
    *s.mutable_channel() = ref("public");
    s.set_text("@channel réunion demain");
    s.set_client_msg_id("everyone");
    EXPECT_EQ(code(call(bob, all)), v1::FORBIDDEN);
    EXPECT_TRUE(call(ana, all).has_sent());
    EXPECT_EQ(channel(bob, "public").mention_count(), 1u);
    // A deleted message mentions nobody any more.
    const auto gone = say(ana, "prive", "@bob à supprimer");
    EXPECT_EQ(channel(bob, "prive").mention_count(), 1u);
    erase(ana, "prive", gone);
    EXPECT_EQ(channel(bob, "prive").mention_count(), 0u);
}

TEST_F(threads, a_mention_in_a_reply_follows_the_thread_and_counts_until_the_thread_is_read) {
    auto ana = user("ana");
    auto bob = user("bob");
    create(ana, "atelier");
    join(bob, "atelier");
    const auto root = say(ana, "atelier", "Sujet");
    mark_read(bob, "atelier", root);
    const auto r = reply(ana, "atelier", root, "@bob ton avis ?").sent().event().seq();
    EXPECT_EQ(channel(bob, "atelier").mention_count(), 1u);
    EXPECT_EQ(channel(bob, "atelier").thread_unread_count(), 1u);
    ASSERT_EQ(followed(bob).threads_size(), 1);
    mark_thread_read(bob, "atelier", root, r);
    EXPECT_EQ(channel(bob, "atelier").mention_count(), 0u);
}

}  // namespace
}  // namespace relais::testing
