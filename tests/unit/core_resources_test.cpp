// Resources, the library and search, through the real service on the real
// store.
#include <algorithm>
#include <map>
#include <set>

#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

class resources : public core_test {
  protected:
    v1::ServerMessage post(const conn_ptr& c, const std::string& channel, v1::Resource r) {
        v1::ClientMessage msg;
        *msg.mutable_post_resource()->mutable_channel() = ref(channel);
        msg.mutable_post_resource()->set_client_msg_id("p" + std::to_string(++ids_));
        *msg.mutable_post_resource()->mutable_resource() = std::move(r);
        clock_.advance(1000);  // past the send budget
        return call(c, msg);
    }
    static v1::Resource resource(const std::string& title) {
        v1::Resource r;
        r.set_title(title);
        return r;
    }
    v1::ServerMessage edit(const conn_ptr& c, const std::string& channel, std::uint64_t seq,
                           v1::Resource r) {
        v1::ClientMessage msg;
        *msg.mutable_edit_resource()->mutable_channel() = ref(channel);
        msg.mutable_edit_resource()->set_seq(seq);
        *msg.mutable_edit_resource()->mutable_resource() = std::move(r);
        clock_.advance(1000);
        return call(c, msg);
    }
    v1::ServerMessage search(const conn_ptr& c, const std::string& query) {
        v1::ClientMessage msg;
        msg.mutable_search()->set_query(query);
        msg.mutable_search()->set_limit(100);
        return call(c, msg);
    }
    std::vector<std::uint64_t> found(const conn_ptr& c, const std::string& query) {
        std::vector<std::uint64_t> seqs;
        auto answer = search(c, query);
        EXPECT_TRUE(answer.has_search_results()) << query << ": " << answer.DebugString();
        for (const auto& hit : answer.search_results().hits()) {
            seqs.push_back(hit.seq());
        }
        std::sort(seqs.begin(), seqs.end());
        return seqs;
    }
    std::uint64_t say(const conn_ptr& c, const std::string& channel, const std::string& text) {
        clock_.advance(1000);
        auto answer = send(c, channel, text, "m" + std::to_string(++ids_));
        EXPECT_TRUE(answer.has_sent()) << answer.DebugString();
        return answer.sent().event().seq();
    }
    v1::ResourceList library(const conn_ptr& c, v1::ListResources q) {
        v1::ClientMessage msg;
        *msg.mutable_list_resources() = std::move(q);
        auto answer = call(c, msg);
        EXPECT_TRUE(answer.has_resources()) << answer.DebugString();
        return answer.resources();
    }

    int ids_ = 0;
};

TEST_F(resources, a_resource_is_posted_with_its_fields_normalised) {
    auto ana = user("ana");
    create(ana, "outils");
    v1::Resource r = resource("  Guide FranceConnect  ");
    r.set_link("https://franceconnect.gouv.fr/aide");
    r.set_description("Pas à pas, avec captures d'écran.");
    r.set_kind(v1::GUIDE);
    r.add_tags(" Démarches ");
    r.add_tags("démarches");
    r.add_tags("IDENTITÉ");
    r.add_themes("demarches-identite");
    r.add_audiences("seniors");
    r.set_licence(v1::ETALAB_2_0);
    auto sent = post(ana, "outils", r);
    ASSERT_TRUE(sent.has_sent()) << sent.DebugString();
    const auto& got = sent.sent().event().message().resource();
    EXPECT_EQ(got.title(), "Guide FranceConnect");
    EXPECT_EQ(std::vector<std::string>(got.tags().begin(), got.tags().end()),
              (std::vector<std::string>{"démarches", "identité"}));
    EXPECT_EQ(got.version(), 1u);
    EXPECT_EQ(sent.sent().event().message().text(), "Pas à pas, avec captures d'écran.");
    // History shows it as a resource too.
    auto events = history(ana, "outils").events();
    EXPECT_EQ(events.events(events.events_size() - 1).message().resource().link(),
              "https://franceconnect.gouv.fr/aide");
}

TEST_F(resources, bad_resources_are_refused_with_their_error_and_store_nothing) {
    auto ana = user("ana");
    create(ana, "outils");
    auto with = [](auto change) {
        v1::Resource r = resource("Titre");
        change(r);
        return r;
    };
    const auto cases = std::vector<std::pair<v1::Resource, v1::ErrorCode>>{
        {resource(""), v1::BAD_REQUEST},
        {resource("   "), v1::BAD_REQUEST},
        {resource("Ti\u200btre"), v1::BAD_REQUEST},
        {resource(std::string(300, 'a')), v1::TOO_LARGE},
        {with([](auto& r) { r.set_link("ftp://exemple.fr/guide.pdf"); }), v1::BAD_REQUEST},
        {with([](auto& r) { r.set_link("javascript:alert(1)"); }), v1::BAD_REQUEST},
        {with([](auto& r) { r.set_link("https://"); }), v1::BAD_REQUEST},
        {with([](auto& r) { r.set_link("https://exemple.fr/a b"); }), v1::BAD_REQUEST},
        {with([](auto& r) { r.set_link("https://x.fr/" + std::string(2100, 'a')); }),
         v1::TOO_LARGE},
        {with([](auto& r) {
             for (int i = 0; i < 13; ++i) {
                 r.add_tags("t" + std::to_string(i));
             }
         }),
         v1::BAD_REQUEST},
        {with([](auto& r) { r.add_tags(std::string(41, 'a')); }), v1::TOO_LARGE},
        {with([](auto& r) { r.add_tags(" "); }), v1::BAD_REQUEST},
        {with([](auto& r) { r.set_kind(static_cast<v1::ResourceKind>(42)); }), v1::BAD_REQUEST},
        {with([](auto& r) { r.set_licence(static_cast<v1::Licence>(9)); }), v1::BAD_REQUEST},
        {with([](auto& r) { r.add_themes("astrologie"); }), v1::BAD_REQUEST},
        {with([](auto& r) { r.add_audiences("martiens"); }), v1::BAD_REQUEST},
    };
    for (const auto& [r, expected] : cases) {
        EXPECT_EQ(code(post(ana, "outils", r)), expected) << r.DebugString();
    }
    v1::ListResources all;
    EXPECT_EQ(library(ana, all).resources_size(), 0);
    EXPECT_EQ(history(ana, "outils").events().last_seq(), 2u);  // created, joined
}

TEST_F(resources, every_edit_keeps_the_previous_version) {
    auto ana = user("ana");
    auto bob = user("bob");
    auto mod = user("mod");
    create(ana, "outils");
    join(bob, "outils");
    join(mod, "outils");
    v1::ClientMessage promote;
    *promote.mutable_set_member_role()->mutable_channel() = ref("outils");
    promote.mutable_set_member_role()->set_user("mod");
    promote.mutable_set_member_role()->set_role(v1::MODERATOR);
    ASSERT_TRUE(call(ana, promote).has_ok());
    const auto seq = post(bob, "outils", resource("v1")).sent().event().seq();
    EXPECT_TRUE(edit(bob, "outils", seq, resource("v2")).has_ok());
    EXPECT_TRUE(edit(mod, "outils", seq, resource("v3")).has_ok());
    auto plain = user("plain");
    join(plain, "outils");
    EXPECT_EQ(code(edit(plain, "outils", seq, resource("vandal"))), v1::FORBIDDEN);
    EXPECT_TRUE(edit(bob, "outils", seq, resource("v4")).has_ok());
    v1::ClientMessage versions;
    *versions.mutable_get_resource_versions()->mutable_channel() = ref("outils");
    versions.mutable_get_resource_versions()->set_seq(seq);
    auto list = call(plain, versions).resource_versions();
    ASSERT_EQ(list.versions_size(), 4);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(list.versions(i).title(), "v" + std::to_string(i + 1));
        EXPECT_EQ(list.versions(i).version(), static_cast<std::uint32_t>(i + 1));
    }
    EXPECT_EQ(list.versions(2).editor().name(), "mod");
    // A plain edit cannot bypass the versions.
    v1::ClientMessage plain_edit;
    *plain_edit.mutable_edit_message()->mutable_channel() = ref("outils");
    plain_edit.mutable_edit_message()->set_seq(seq);
    plain_edit.mutable_edit_message()->set_text("x");
    EXPECT_EQ(code(call(bob, plain_edit)), v1::BAD_REQUEST);
    // The edit events carry the version they made.
    int edits = 0;
    const auto page = history(plain, "outils");
    for (const auto& e : page.events().events()) {
        if (e.has_edited() && e.edited().target_seq() == seq) {
            EXPECT_EQ(e.edited().resource().version(), static_cast<std::uint32_t>(++edits + 1));
        }
    }
    EXPECT_EQ(edits, 3);
}

TEST_F(resources, search_folds_case_and_accents_and_finds_prefixes_and_inner_words) {
    auto ana = user("ana");
    create(ana, "general");
    const auto demarche = say(ana, "general", "La démarche pour la carte Vitale");
    const auto secu = say(ana, "general", "Un compte Sécu en ligne");
    const auto simulateur = say(ana, "general", "Le simulateur de la CAF est en panne");
    const auto fc = say(ana, "general", "Se connecter avec FranceConnect");
    EXPECT_EQ(found(ana, "demarche"), (std::vector<std::uint64_t>{demarche}));
    EXPECT_EQ(found(ana, "DÉMARCHE"), (std::vector<std::uint64_t>{demarche}));
    EXPECT_EQ(found(ana, "SECU"), (std::vector<std::uint64_t>{secu}));
    EXPECT_EQ(found(ana, "simul"), (std::vector<std::uint64_t>{simulateur}));
    EXPECT_EQ(found(ana, "connect"), (std::vector<std::uint64_t>{fc}));
    EXPECT_EQ(found(ana, "caf simulateur"), (std::vector<std::uint64_t>{simulateur}));
    EXPECT_EQ(found(ana, "caf vitale"), (std::vector<std::uint64_t>{}));
    // Highlights fall on what matched, in the snippet's bytes.
    auto hit = search(ana, "simul").search_results().hits(0);
    ASSERT_EQ(hit.highlights_size(), 1);
    EXPECT_EQ(hit.snippet().substr(hit.highlights(0).start(), hit.highlights(0).length()), "simul");
    EXPECT_EQ(hit.channel_name(), "general");
    // Folded, the matched word is still highlighted as written.
    hit = search(ana, "SECU").search_results().hits(0);
    ASSERT_EQ(hit.highlights_size(), 1);
    EXPECT_EQ(hit.snippet().substr(hit.highlights(0).start(), hit.highlights(0).length()), "Sécu");
}

TEST_F(resources, search_reflects_edits_and_deletes_and_reads_only_what_the_caller_can) {
    auto ana = user("ana");
    auto bob = user("bob");
    create(ana, "prive", true);
    v1::ClientMessage invite;
    *invite.mutable_invite()->mutable_channel() = ref("prive");
    invite.mutable_invite()->set_user("bob");
    ASSERT_TRUE(call(ana, invite).has_ok());
    const auto seq = say(ana, "prive", "Le mot de passe du wifi");
    EXPECT_EQ(found(bob, "wifi").size(), 1u);
    EXPECT_EQ(found(user("eve"), "wifi").size(), 0u);  // not a member
    v1::ClientMessage leave;
    *leave.mutable_leave_channel()->mutable_channel() = ref("prive");
    ASSERT_TRUE(call(bob, leave).has_ok());
    EXPECT_EQ(found(bob, "wifi").size(), 0u);

    v1::ClientMessage edit;
    *edit.mutable_edit_message()->mutable_channel() = ref("prive");
    edit.mutable_edit_message()->set_seq(seq);
    edit.mutable_edit_message()->set_text("Le code de la photocopieuse");
    ASSERT_TRUE(call(ana, edit).has_ok());
    EXPECT_EQ(found(ana, "wifi").size(), 0u);
    EXPECT_EQ(found(ana, "photocop").size(), 1u);
    v1::ClientMessage erase;
    *erase.mutable_delete_message()->mutable_channel() = ref("prive");
    erase.mutable_delete_message()->set_seq(seq);
    ASSERT_TRUE(call(ana, erase).has_ok());
    EXPECT_EQ(found(ana, "photocop").size(), 0u);
    // A resource is found by its title and tags, and leaves with its message.
    v1::Resource r = resource("Tutoriel Ameli");
    r.add_tags("assurance-maladie");
    const auto res = post(ana, "prive", r).sent().event().seq();
    EXPECT_EQ(found(ana, "ameli"), (std::vector<std::uint64_t>{res}));
    EXPECT_EQ(found(ana, "maladie"), (std::vector<std::uint64_t>{res}));
    EXPECT_EQ(search(ana, "ameli").search_results().hits(0).title(), "Tutoriel Ameli");
    EXPECT_TRUE(resources::edit(ana, "prive", res, resource("Tutoriel CPAM")).has_ok());
    EXPECT_EQ(found(ana, "ameli").size(), 0u);
    EXPECT_EQ(found(ana, "cpam").size(), 1u);
}

TEST_F(resources, search_takes_what_is_typed_as_words_never_as_a_query_language) {
    auto ana = user("ana");
    create(ana, "general");
    const auto seq = say(ana, "general", "Voir AND NEAR la notice \"officielle\" -- ici*");
    for (const char* query : {"\"",
                              "\"officielle",
                              "NEAR(",
                              "NEAR(notice officielle, 2)",
                              "*",
                              "-",
                              "- notice",
                              "AND",
                              "OR",
                              "NOT",
                              "notice NOT",
                              "(",
                              ")",
                              "col:notice",
                              "^notice",
                              "{body}:x",
                              "notice\" OR \"x",
                              "'; DROP TABLE events; --",
                              "\\",
                              "%",
                              "_"}) {
        auto answer = search(ana, query);
        EXPECT_TRUE(answer.has_search_results() ||
                    (answer.has_error() && answer.error().code() == v1::BAD_REQUEST))
            << query << ": " << answer.DebugString();
    }
    EXPECT_EQ(found(ana, "NEAR(notice"), (std::vector<std::uint64_t>{seq}));
    EXPECT_EQ(found(ana, "\"officielle\""), (std::vector<std::uint64_t>{seq}));
    EXPECT_EQ(found(ana, "AND"), (std::vector<std::uint64_t>{seq}));
    EXPECT_EQ(code(search(ana, "*** --- \"\"")), v1::BAD_REQUEST);
    EXPECT_EQ(code(search(ana, std::string(300, 'a'))), v1::TOO_LARGE);
    EXPECT_EQ(history(ana, "general").events().last_seq(), seq);
}

TEST_F(resources, the_library_filters_and_sorts_over_five_hundred_resources) {
    auto ana = user("ana");
    auto bob = user("bob");
    create(ana, "outils");
    create(ana, "secret", true);
    join(bob, "outils");
    const char* themes[] = {"sante", "e-mail", "securite", "ia"};
    const char* audiences[] = {"seniors", "jeunes", "allophones"};
    struct expected {
        std::uint64_t seq;
        std::string channel;
        int theme, audience, kind;
        bool tagged_both, by_bob;
        std::int64_t at;
    };
    std::vector<expected> all;
    for (int i = 0; i < 500; ++i) {
        v1::Resource r = resource("Ressource " + std::to_string(i));
        r.add_themes(themes[i % 4]);
        r.add_audiences(audiences[i % 3]);
        r.set_kind(static_cast<v1::ResourceKind>(1 + i % 6));
        r.add_tags(i % 5 == 0 ? "atelier" : "fiche");
        if (i % 10 == 0) {
            r.add_tags("débutant");
        }
        const bool by_bob = i % 7 == 0;
        const std::string channel = i % 50 == 49 ? "secret" : "outils";
        auto sent = post(by_bob && channel == "outils" ? bob : ana, channel, r);
        ASSERT_TRUE(sent.has_sent()) << sent.DebugString();
        all.push_back({sent.sent().event().seq(), channel, i % 4, i % 3, 1 + i % 6, i % 10 == 0,
                       by_bob && channel == "outils", sent.sent().event().at_ms()});
    }
    // Replies make some of them discussed, and active later.
    for (int k = 0; k < 5; ++k) {
        for (int n = 0; n <= k; ++n) {
            v1::ClientMessage msg;
            auto& s = *msg.mutable_send_message();
            *s.mutable_channel() = ref("outils");
            s.set_text("merci");
            s.set_client_msg_id("reply" + std::to_string(k) + "-" + std::to_string(n));
            s.set_thread_seq(all[k * 10].seq);
            clock_.advance(1000);
            ASSERT_TRUE(call(ana, msg).has_sent());
        }
    }
    auto seqs = [](const v1::ResourceList& l) {
        std::vector<std::uint64_t> out;
        for (const auto& e : l.resources()) {
            out.push_back(e.seq());
        }
        return out;
    };
    // Bob does not see the private channel's; the newest come first.
    v1::ListResources q;
    q.set_theme("sante");
    q.set_audience("seniors");
    q.set_limit(500);
    std::vector<std::uint64_t> want;
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
        if (it->channel == "outils" && it->theme == 0 && it->audience == 0) {
            want.push_back(it->seq);
        }
    }
    EXPECT_EQ(seqs(library(bob, q)), want);
    // Tags: all of them.
    v1::ListResources tags;
    tags.add_tags("Atelier");
    tags.add_tags("débutant");
    tags.set_kind(v1::TUTORIAL);
    tags.set_limit(500);
    want.clear();
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
        if (it->tagged_both && it->kind == 1) {
            want.push_back(it->seq);
        }
    }
    EXPECT_EQ(seqs(library(ana, tags)), want);
    // The author, and a date range.
    v1::ListResources by;
    by.set_author("bob");
    by.set_since_ms(all[100].at);
    by.set_until_ms(all[300].at);
    by.set_limit(500);
    want.clear();
    for (auto it = all.rbegin(); it != all.rend(); ++it) {
        if (it->by_bob && it->at >= all[100].at && it->at < all[300].at) {
            want.push_back(it->seq);
        }
    }
    EXPECT_EQ(seqs(library(ana, by)), want);
    // Most discussed first; most recently active first.
    v1::ListResources discussed;
    discussed.set_sort(v1::ListResources::DISCUSSED);
    discussed.set_limit(5);
    EXPECT_EQ(seqs(library(ana, discussed)),
              (std::vector<std::uint64_t>{all[40].seq, all[30].seq, all[20].seq, all[10].seq,
                                          all[0].seq}));
    v1::ListResources active;
    active.set_sort(v1::ListResources::ACTIVE);
    active.set_limit(2);
    EXPECT_EQ(seqs(library(ana, active)), (std::vector<std::uint64_t>{all[40].seq, all[30].seq}));
    // Pages: no gap, no duplicate.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> paged;
    v1::ListResources page;
    page.set_limit(64);
    for (;;) {
        auto l = library(ana, page);
        for (const auto& e : l.resources()) {
            paged.emplace_back(e.channel_id(), e.seq());
        }
        if (!l.has_more()) {
            break;
        }
        page.set_offset(page.offset() + 64);
    }
    EXPECT_EQ(paged.size(), 500u);
    EXPECT_EQ(std::set(paged.begin(), paged.end()).size(), 500u);
    // Unknown words are errors, not empty pages.
    v1::ListResources unknown;
    unknown.set_theme("astrologie");
    v1::ClientMessage msg;
    *msg.mutable_list_resources() = unknown;
    EXPECT_EQ(code(call(ana, msg)), v1::BAD_REQUEST);
}

TEST_F(resources, the_vocabulary_lists_the_themes_and_audiences_of_the_activity_reports) {
    auto ana = user("ana");
    v1::ClientMessage msg;
    msg.mutable_list_vocabulary();
    auto v = call(ana, msg).vocabulary();
    ASSERT_GE(v.themes_size(), 10);
    EXPECT_EQ(v.themes(0).slug(), "diagnostic");
    EXPECT_EQ(v.themes(0).label_fr(), "Diagnostic numérique");
    ASSERT_GE(v.audiences_size(), 5);
    EXPECT_EQ(v.audiences(0).slug(), "seniors");
}

}  // namespace
}  // namespace relais::testing
