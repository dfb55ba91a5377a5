// Profiles and the directory in the core: what a profile holds, who may
// edit it, the filters, and bad input refused with nothing stored.
#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

class people_test : public core_test {
  protected:
    v1::ServerMessage set(const conn_ptr& c, const std::function<void(v1::SetProfile&)>& fill) {
        v1::ClientMessage m;
        fill(*m.mutable_set_profile());
        return call(c, m);
    }
    v1::ServerMessage whois(const conn_ptr& c, const std::string& name) {
        v1::ClientMessage m;
        m.mutable_get_profile()->set_user(name);
        return call(c, m);
    }
    std::vector<std::string> people(const conn_ptr& c, const std::string& commune,
                                    const std::string& structure, const std::string& skill) {
        v1::ClientMessage m;
        auto& in = *m.mutable_list_people();
        in.set_commune(commune);
        in.set_structure(structure);
        in.set_skill(skill);
        auto answer = call(c, m);
        EXPECT_TRUE(answer.has_people()) << answer.DebugString();
        std::vector<std::string> names;
        for (const auto& p : answer.people().people()) {
            names.push_back(p.user().name());
        }
        return names;
    }
};

TEST_F(people_test, a_profile_holds_what_the_directory_shows_and_filters_find_people) {
    auto lea = user("lea");
    auto marc = user("marc");
    user("nour");
    auto saved = set(lea, [](v1::SetProfile& p) {
        p.set_display_name("Léa Martin");
        p.set_structure("Centre social Les Tilleuls");
        p.set_commune("35238");
        p.set_network_role(v1::NETWORK_ROLE_DIGITAL_ADVISER);
        p.set_presentation("J'accompagne les démarches en ligne, le mardi.");
        for (const char* s : {"Smartphone", "démarches", "smartphone"}) {
            p.mutable_skills()->add_tags(s);
        }
    });
    ASSERT_TRUE(saved.has_profile()) << saved.DebugString();
    EXPECT_EQ(saved.profile().user().display_name(), "Léa Martin");
    ASSERT_EQ(saved.profile().skills_size(), 2);  // lower case, once each
    EXPECT_EQ(saved.profile().skills(0), "smartphone");
    ASSERT_TRUE(set(marc, [](v1::SetProfile& p) {
                    p.set_structure("Mairie de Vitré");
                    p.set_commune("35360");
                    p.mutable_skills()->add_tags("smartphone");
                }).has_profile());

    auto seen = whois(marc, "lea");
    ASSERT_TRUE(seen.has_profile());
    EXPECT_EQ(seen.profile().network_role(), v1::NETWORK_ROLE_DIGITAL_ADVISER);
    EXPECT_EQ(seen.profile().presentation(), "J'accompagne les démarches en ligne, le mardi.");
    EXPECT_TRUE(seen.profile().online());
    EXPECT_EQ(code(whois(marc, "personne")), v1::NOT_FOUND);

    EXPECT_EQ(people(marc, "", "", ""), (std::vector<std::string>{"lea", "marc", "nour"}));
    EXPECT_EQ(people(marc, "35238", "", ""), std::vector<std::string>{"lea"});
    // A piece of the structure's name, accents and case aside.
    EXPECT_EQ(people(marc, "", "TILLEULS", ""), std::vector<std::string>{"lea"});
    EXPECT_EQ(people(marc, "", "vitre", ""), std::vector<std::string>{"marc"});
    EXPECT_EQ(people(marc, "", "", "Smartphone"), (std::vector<std::string>{"lea", "marc"}));
    EXPECT_EQ(people(marc, "35360", "", "démarches"), std::vector<std::string>{});

    // The new display name is what events show from now on.
    ASSERT_TRUE(create(lea, "accueil").has_channel());
    ASSERT_TRUE(send(lea, "accueil", "bonjour", "m1").has_sent());
    auto h = history(lea, "accueil");
    EXPECT_EQ(h.events().events(h.events().events_size() - 1).actor().display_name(), "Léa Martin");
}

TEST_F(people_test, only_admins_edit_someone_elses_profile_and_bad_fields_store_nothing) {
    auto lea = user("lea");
    auto marc = user("marc");
    core::accounts accounts(store(), clock_, protocol::limits{});
    ASSERT_TRUE(accounts.add("root", "secret-root", v1::ADMIN, ""));
    auto root = open();
    ASSERT_TRUE(login(root, "root", "secret-root").has_session());

    EXPECT_EQ(code(set(marc,
                       [](v1::SetProfile& p) {
                           p.set_user("lea");
                           p.set_structure("Piratage");
                       })),
              v1::FORBIDDEN);
    auto edited = set(root, [](v1::SetProfile& p) {
        p.set_user("lea");
        p.set_structure("France Services de Redon");
    });
    ASSERT_TRUE(edited.has_profile()) << edited.DebugString();
    EXPECT_EQ(edited.profile().user().name(), "lea");
    EXPECT_EQ(code(set(root,
                       [](v1::SetProfile& p) {
                           p.set_user("personne");
                           p.set_structure("x");
                       })),
              v1::NOT_FOUND);

    // Each bad field refuses the whole request: the good ones are not kept.
    auto bad = [&](const std::function<void(v1::SetProfile&)>& fill, v1::ErrorCode expected) {
        auto answer = set(lea, [&](v1::SetProfile& p) {
            p.set_structure("Ne doit pas rester");
            fill(p);
        });
        EXPECT_EQ(code(answer), expected) << answer.DebugString();
    };
    bad([](v1::SetProfile& p) { p.set_commune("3523"); }, v1::BAD_REQUEST);
    bad([](v1::SetProfile& p) { p.set_display_name("Léa\u200b"); }, v1::BAD_REQUEST);
    bad([](v1::SetProfile& p) { p.set_presentation(std::string(501, 'a')); }, v1::TOO_LARGE);
    bad([](v1::SetProfile& p) { p.set_network_role(static_cast<v1::NetworkRole>(42)); },
        v1::BAD_REQUEST);
    bad(
        [](v1::SetProfile& p) {
            for (int i = 0; i < 21; ++i) {
                p.mutable_skills()->add_tags("t" + std::to_string(i));
            }
        },
        v1::TOO_LARGE);
    bad([](v1::SetProfile& p) { p.mutable_skills()->add_tags(""); }, v1::BAD_REQUEST);
    auto now = whois(marc, "lea");
    EXPECT_EQ(now.profile().structure(), "France Services de Redon");
    // An empty skills list clears them; no field at all only reads.
    ASSERT_TRUE(
        set(lea, [](v1::SetProfile& p) { p.mutable_skills()->add_tags("wifi"); }).has_profile());
    EXPECT_EQ(set(lea, [](v1::SetProfile&) {}).profile().skills_size(), 1);
    EXPECT_EQ(set(lea, [](v1::SetProfile& p) { p.mutable_skills(); }).profile().skills_size(), 0);
}

}  // namespace
}  // namespace relais::testing
