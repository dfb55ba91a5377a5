// People joining by themselves, through the real server and `relais`: an
// invitation for five redeemed by five and refused to the sixth, the codes
// an admin makes on the server's machine, revocation, and what registering
// gives (the channels, a session kept like a login's).
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/integration/harness.hpp"

namespace relais::testing {
namespace {

class people : public ::testing::Test {
  protected:
    void SetUp() override {
        auto r = run_program({server_binary(), "user", "add", "coco", "--role", "coordinator",
                              "--data", server_.data_dir().string()},
                             server_process::password_of("coco") + "\n");
        ASSERT_EQ(r.exit_code, 0) << r.err;
        server_.start();
    }

    // `relais` as `user`, with `password` in RELAIS_PASSWORD (none: empty),
    // and `more` in the environment.
    run_result relais(const std::string& user, std::vector<std::string> args,
                      const std::string& password, std::vector<std::string> more = {}) {
        std::vector<std::string> argv = {cli_binary(), "--server", server_.url(), "--user", user};
        argv.insert(argv.end(), args.begin(), args.end());
        std::vector<std::string> env = {"LC_ALL=fr_FR.UTF-8",
                                        "XDG_CONFIG_HOME=" + server_.config_home().string()};
        if (!password.empty()) {
            env.push_back("RELAIS_PASSWORD=" + password);
        }
        env.insert(env.end(), more.begin(), more.end());
        return run_program(argv, {}, env);
    }
    run_result coco(std::vector<std::string> args) {
        return relais("coco", std::move(args), server_process::password_of("coco"));
    }
    // An admin account, made on the machine, with password "pw-NAME".
    void add_admin(const std::string& name) {
        auto r = run_program({server_binary(), "user", "add", name, "--role", "admin", "--data",
                              server_.data_dir().string()},
                             server_process::password_of(name) + "\n");
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    run_result accounts() {
        return run_program(
            {server_binary(), "user", "list", "--data", server_.data_dir().string()});
    }

    server_process server_;
};

TEST_F(people, an_invitation_for_five_lets_five_in_with_their_channels_and_refuses_the_sixth) {
    ASSERT_EQ(coco({"create", "accueil"}).exit_code, 0);
    auto made =
        coco({"invitation", "create", "--uses", "5", "--expires", "3", "--channel", "accueil"});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const auto code = made.out.substr(0, made.out.find('\n'));
    ASSERT_EQ(code.size(), 26u) << made.out;
    EXPECT_NE(made.err.find("invitation pour 5 personne(s), rôle mediator"), std::string::npos)
        << made.err;
    for (int i = 1; i <= 5; ++i) {
        const auto name = "mediatrice" + std::to_string(i);
        // As people paste it: with spaces around, and capitals.
        std::string pasted = code;
        if (i == 3) {
            std::transform(pasted.begin(), pasted.end(), pasted.begin(),
                           [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
        }
        auto joined = relais(name,
                             {"register", "--invite", " " + pasted + " ", "--display-name",
                              "Médiatrice " + std::to_string(i)},
                             "un-mot-de-passe-" + std::to_string(i));
        ASSERT_EQ(joined.exit_code, 0) << joined.err;
        EXPECT_EQ(joined.out, "compte " + name + " créé ; vous êtes connecté·e\n");
        // The session is kept: no password needed for what follows.
        auto history = relais(name, {"history", "accueil"}, "");
        EXPECT_EQ(history.exit_code, 0) << history.err;
        EXPECT_NE(history.out.find(name + " a rejoint le canal"), std::string::npos) << history.out;
    }
    auto sixth = relais("mediatrice6", {"register", "--invite", code}, "un-mot-de-passe-6");
    EXPECT_EQ(sixth.exit_code, 1);
    EXPECT_NE(sixth.err.find("used by as many people as it was for"), std::string::npos)
        << sixth.err;
    EXPECT_EQ(accounts().out.find("mediatrice6"), std::string::npos);
    auto listed = coco({"invitation", "list"});
    EXPECT_EQ(listed.exit_code, 0) << listed.err;
    EXPECT_NE(listed.out.find(code.substr(0, 6) + "…  5/5  mediator"), std::string::npos)
        << listed.out;
    EXPECT_NE(listed.out.find("coco #accueil"), std::string::npos) << listed.out;
    EXPECT_EQ(listed.out.find(code), std::string::npos) << "the list shows the whole code";
}

TEST_F(people, weak_passwords_wrong_codes_and_mediators_inviting_are_refused_in_plain_words) {
    const auto code = coco({"invitation", "create"}).out.substr(0, 26);
    auto weak = relais("lea", {"register", "--invite", code}, "motdepasse");
    EXPECT_EQ(weak.exit_code, 1);
    EXPECT_NE(weak.err.find("most common"), std::string::npos) << weak.err;
    auto short_one = relais("lea", {"register", "--invite", code}, "court");
    EXPECT_NE(short_one.err.find("5 characters; it needs at least 10"), std::string::npos)
        << short_one.err;
    auto wrong = relais("lea", {"register", "--invite", "pas-un-code"}, "un-mot-de-passe-long");
    EXPECT_EQ(wrong.exit_code, 1);
    EXPECT_NE(wrong.err.find("unknown invitation code"), std::string::npos) << wrong.err;
    auto no_code = relais("lea", {"register"}, "un-mot-de-passe-long");
    EXPECT_EQ(no_code.exit_code, 2);
    EXPECT_EQ(accounts().out.find("lea"), std::string::npos);
    // Registered, lea is a mediator: she may not invite.
    ASSERT_EQ(relais("lea", {"register", "--invite", code}, "un-mot-de-passe-long").exit_code, 0);
    auto refused = relais("lea", {"invitation", "create"}, "");
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("only coordinators and admins"), std::string::npos) << refused.err;
}

TEST_F(people, the_server_admin_invites_from_the_machine_and_a_revoked_code_stops_working) {
    auto made = run_program({server_binary(), "invitation", "create", "--role", "admin", "--uses",
                             "2", "--data", server_.data_dir().string()});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const auto code = made.out.substr(0, made.out.find('\n'));
    ASSERT_EQ(code.size(), 26u) << made.out;
    ASSERT_EQ(relais("ada", {"register", "--invite", code}, "la-premiere-admin").exit_code, 0);
    EXPECT_NE(accounts().out.find("ada\tadmin\tactive"), std::string::npos) << accounts().out;
    auto listed =
        run_program({server_binary(), "invitation", "list", "--data", server_.data_dir().string()});
    EXPECT_NE(listed.out.find(code.substr(0, 6) + "\t1/2\tadmin\tuntil "), std::string::npos)
        << listed.out;
    EXPECT_NE(listed.out.find("(server)"), std::string::npos) << listed.out;
    // The admin revokes it over the protocol, by its label.
    auto revoked = relais("ada", {"invitation", "revoke", code.substr(0, 6)}, "");
    EXPECT_EQ(revoked.exit_code, 0) << revoked.err;
    auto late = relais("bea", {"register", "--invite", code}, "un-mot-de-passe-long");
    EXPECT_EQ(late.exit_code, 1);
    EXPECT_NE(late.err.find("revoked"), std::string::npos) << late.err;
}

TEST_F(people, a_forgotten_password_a_changed_one_and_the_list_of_devices) {
    const auto code = coco({"invitation", "create"}).out.substr(0, 26);
    ASSERT_EQ(relais("lea", {"register", "--invite", code}, "premier-mot-de-passe").exit_code, 0);
    // A second device: a login of its own.
    ASSERT_EQ(relais("lea", {"channels"}, "premier-mot-de-passe").exit_code, 0);
    auto devices = relais("lea", {"devices"}, "");
    ASSERT_EQ(devices.exit_code, 0) << devices.err;
    EXPECT_NE(devices.out.find("relais-cli/0.1 sur "), std::string::npos) << devices.out;
    EXPECT_NE(devices.out.find("(celle-ci)"), std::string::npos) << devices.out;
    auto lines = std::count(devices.out.begin(), devices.out.end(), '\n');
    ASSERT_EQ(lines, 2) << devices.out;
    // Ends the one that is not this one, by the id the list shows.
    std::string other;
    std::istringstream rows(devices.out);
    for (std::string row; std::getline(rows, row);) {
        if (row.find("(celle-ci)") == std::string::npos) {
            other = row.substr(0, row.find(' '));
        }
    }
    auto ended = relais("lea", {"devices", "end", other}, "");
    EXPECT_EQ(ended.exit_code, 0) << ended.err;
    auto after = relais("lea", {"devices"}, "");
    EXPECT_EQ(std::count(after.out.begin(), after.out.end(), '\n'), 1) << after.out;

    // Forgotten: the coordinator gives a code, lea chooses a new password.
    auto refused = relais("lea", {"password", "reset", "coco"}, "");
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("only coordinators and admins"), std::string::npos) << refused.err;
    auto reset = coco({"password", "reset", "lea"});
    ASSERT_EQ(reset.exit_code, 0) << reset.err;
    const auto reset_code = reset.out.substr(0, reset.out.find('\n'));
    ASSERT_EQ(reset_code.size(), 26u) << reset.out;
    EXPECT_NE(reset.err.find("relais password redeem --code CODE --user lea"), std::string::npos)
        << reset.err;
    auto weak = relais("lea", {"password", "redeem", "--code", reset_code}, "azertyuiop");
    EXPECT_EQ(weak.exit_code, 1);
    auto redeemed =
        relais("lea", {"password", "redeem", "--code", reset_code}, "deuxieme-mot-de-passe");
    ASSERT_EQ(redeemed.exit_code, 0) << redeemed.err;
    EXPECT_EQ(redeemed.out, "nouveau mot de passe enregistré ; vous êtes connecté·e\n");
    EXPECT_EQ(relais("lea", {"channels"}, "premier-mot-de-passe").exit_code, 1);
    auto again =
        relais("lea", {"password", "redeem", "--code", reset_code}, "troisieme-mot-de-passe");
    EXPECT_NE(again.err.find("unknown or already used reset code"), std::string::npos) << again.err;

    // Changed: the current one, then the new one from the environment.
    auto changed = relais("lea", {"password", "change"}, "deuxieme-mot-de-passe",
                          {"RELAIS_NEW_PASSWORD=troisieme-mot-de-passe"});
    ASSERT_EQ(changed.exit_code, 0) << changed.err;
    EXPECT_EQ(changed.out, "mot de passe changé ; vos autres connexions sont fermées\n");
    EXPECT_EQ(relais("lea", {"channels"}, "deuxieme-mot-de-passe").exit_code, 1);
    EXPECT_EQ(relais("lea", {"channels"}, "troisieme-mot-de-passe").exit_code, 0);
}

TEST_F(people, profiles_whois_and_the_directory_with_its_filters) {
    const auto code = coco({"invitation", "create", "--uses", "2"}).out.substr(0, 26);
    ASSERT_EQ(relais("lea", {"register", "--invite", code}, "mot-de-passe-de-lea").exit_code, 0);
    ASSERT_EQ(relais("marc", {"register", "--invite", code}, "mot-de-passe-de-marc").exit_code, 0);
    auto saved =
        relais("lea",
               {"profile", "--name", "Léa Martin", "--structure", "Centre social Les Tilleuls",
                "--commune", "35238", "--role", "digital-adviser", "--presentation",
                "Ateliers smartphone le mardi", "--skill", "smartphone", "--skill", "Démarches"},
               "");
    ASSERT_EQ(saved.exit_code, 0) << saved.err;
    EXPECT_NE(saved.out.find("rôle dans le réseau : conseiller·e numérique\n"), std::string::npos)
        << saved.out;
    EXPECT_NE(saved.out.find("compétences : smartphone, démarches\n"), std::string::npos)
        << saved.out;
    ASSERT_EQ(relais("marc",
                     {"profile", "--structure", "Mairie de Vitré", "--commune", "35360", "--skill",
                      "smartphone"},
                     "")
                  .exit_code,
              0);

    auto seen = relais("marc", {"whois", "lea"}, "");
    ASSERT_EQ(seen.exit_code, 0) << seen.err;
    EXPECT_NE(seen.out.find("nom affiché : Léa Martin\n"), std::string::npos) << seen.out;
    EXPECT_NE(seen.out.find("structure : Centre social Les Tilleuls\n"), std::string::npos)
        << seen.out;
    EXPECT_NE(seen.out.find("présentation : Ateliers smartphone le mardi\n"), std::string::npos)
        << seen.out;
    auto unknown = relais("marc", {"whois", "personne"}, "");
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.err.find("no user 'personne'"), std::string::npos) << unknown.err;

    auto everyone = relais("marc", {"people"}, "");
    ASSERT_EQ(everyone.exit_code, 0) << everyone.err;
    EXPECT_EQ(std::count(everyone.out.begin(), everyone.out.end(), '\n'), 3) << everyone.out;
    EXPECT_NE(everyone.out.find("lea\tLéa Martin\tconseiller·e numérique\tCentre social Les "
                                "Tilleuls\t35238\tsmartphone, démarches\n"),
              std::string::npos)
        << everyone.out;
    auto by_skill = relais("marc", {"people", "--skill", "SMARTPHONE"}, "");
    EXPECT_EQ(std::count(by_skill.out.begin(), by_skill.out.end(), '\n'), 2) << by_skill.out;
    auto by_commune = relais("marc", {"people", "--commune", "35360"}, "");
    EXPECT_EQ(by_commune.out.substr(0, 5), "marc\t") << by_commune.out;
    auto by_structure = relais("marc", {"people", "--structure", "tilleuls"}, "");
    EXPECT_EQ(by_structure.out.substr(0, 4), "lea\t") << by_structure.out;
    auto bad = relais("marc", {"people", "--commune", "123"}, "");
    EXPECT_EQ(bad.exit_code, 1);
    EXPECT_NE(bad.err.find("INSEE"), std::string::npos) << bad.err;
    // Someone else's profile: admins only.
    auto refused = relais("marc", {"profile", "--of", "lea", "--structure", "x"}, "");
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("only admins"), std::string::npos) << refused.err;
}

TEST_F(people, moderators_mute_ban_and_resolve_reports_and_the_audit_log_keeps_it_all) {
    ASSERT_EQ(coco({"create", "accueil"}).exit_code, 0);
    const auto code =
        coco({"invitation", "create", "--uses", "2", "--channel", "accueil"}).out.substr(0, 26);
    ASSERT_EQ(relais("lea", {"register", "--invite", code}, "mot-de-passe-de-lea").exit_code, 0);
    ASSERT_EQ(relais("marc", {"register", "--invite", code}, "mot-de-passe-de-marc").exit_code, 0);

    // A plain member may not mute.
    auto refused = relais("marc", {"mute", "accueil", "lea", "10"}, "");
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("only moderators can mute"), std::string::npos) << refused.err;
    ASSERT_EQ(coco({"mute", "accueil", "lea", "15", "ton", "agressif"}).exit_code, 0);
    auto muted = relais("lea", {"send", "accueil", "je", "proteste"}, "");
    EXPECT_EQ(muted.exit_code, 1);
    EXPECT_NE(muted.err.find("you are muted in #accueil for 15 more minutes"), std::string::npos)
        << muted.err;
    ASSERT_EQ(coco({"unmute", "accueil", "lea"}).exit_code, 0);
    ASSERT_EQ(relais("lea", {"send", "accueil", "lien", "douteux"}, "").exit_code, 0);

    // marc reports lea's message; coco sees it and resolves it.
    const auto history = relais("marc", {"history", "accueil", "--json"}, "").out;
    const auto at = history.rfind("\"seq\":");
    ASSERT_NE(at, std::string::npos) << history;
    const auto seq = history.substr(at + 6, history.find(',', at + 6) - at - 6);
    auto reported = relais("marc", {"report", "accueil", seq, "arnaque", "probable"}, "");
    ASSERT_EQ(reported.exit_code, 0) << reported.err;
    EXPECT_EQ(reported.out, "signalement transmis aux modérateurs\n");
    auto open = coco({"reports"});
    ASSERT_EQ(open.exit_code, 0) << open.err;
    EXPECT_NE(open.out.find("#accueil " + seq), std::string::npos) << open.out;
    EXPECT_NE(open.out.find("marc : arnaque probable"), std::string::npos) << open.out;
    EXPECT_NE(open.out.find("lea : lien douteux"), std::string::npos) << open.out;
    const auto id = open.out.substr(0, open.out.find(' '));
    ASSERT_EQ(coco({"resolve", id, "message", "retiré"}).exit_code, 0);
    EXPECT_EQ(coco({"reports"}).out, "");

    // Banned: out, and cannot come back.
    ASSERT_EQ(coco({"ban", "accueil", "lea", "récidive"}).exit_code, 0);
    auto back = relais("lea", {"join", "accueil"}, "");
    EXPECT_EQ(back.exit_code, 1);
    EXPECT_NE(back.err.find("you are banned from #accueil"), std::string::npos) << back.err;

    // The audit log: the admins', over the protocol and on the machine.
    EXPECT_EQ(coco({"audit"}).exit_code, 1);
    auto log = run_program({server_binary(), "audit", "--data", server_.data_dir().string()});
    ASSERT_EQ(log.exit_code, 0) << log.err;
    for (const char* line :
         {"\tcoco\tban\tlea\t#accueil\trécidive\t", "\tcoco\tresolve_report\tlea\t#accueil\t",
          "\tcoco\tunmute\tlea\t#accueil\t", "\tcoco\tmute\tlea\t#accueil\tton agressif\t15 min",
          "\tcoco\tinvitation_create\t", "\t(server)\tuser_add\tcoco\t"}) {
        EXPECT_NE(log.out.find(line), std::string::npos) << line << " not in:\n" << log.out;
    }
}

TEST_F(people, export_my_data_writes_everything_about_the_caller_as_json_for_them_only) {
    ASSERT_EQ(coco({"create", "accueil"}).exit_code, 0);
    ASSERT_EQ(coco({"profile", "--structure", "Médiathèque de Fougères"}).exit_code, 0);
    ASSERT_EQ(coco({"send", "accueil", "bienvenue", "à", "toutes"}).exit_code, 0);
    ASSERT_EQ(coco({"edit", "accueil", "3", "bienvenue", "à", "tous"}).exit_code, 0);
    ASSERT_EQ(coco({"invitation", "create"}).exit_code, 0);
    const auto file = server_.data_dir().parent_path() / "mes-donnees.json";
    auto exported = coco({"export-my-data", "--out", file.string()});
    ASSERT_EQ(exported.exit_code, 0) << exported.err;
    EXPECT_EQ(exported.err, "vos données sont dans " + file.string() + "\n");
    EXPECT_EQ(std::filesystem::status(file).permissions() & std::filesystem::perms::all,
              std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    const auto doc = boost::json::parse(text.str()).as_object();
    EXPECT_EQ(doc.at("profile").at("structure").as_string(), "Médiathèque de Fougères");
    EXPECT_EQ(doc.at("memberships").as_array().size(), 1u);
    EXPECT_EQ(doc.at("invitations_created").as_array().size(), 1u);
    EXPECT_GE(doc.at("sessions").as_array().size(), 1u);
    std::string events = boost::json::serialize(doc.at("events"));
    EXPECT_NE(events.find("bienvenue à tous"), std::string::npos) << events;
    EXPECT_NE(events.find("\"edited\""), std::string::npos) << events;
    // To standard output by default.
    auto shown = coco({"export-my-data"});
    EXPECT_EQ(shown.exit_code, 0);
    EXPECT_EQ(boost::json::parse(shown.out).as_object().at("profile").at("user").at("name"),
              "coco");
}

// How many times any of `needles` occurs in the files under `folder`, byte
// for byte: the database, its WAL and whatever else the server keeps there.
std::size_t occurrences(const std::filesystem::path& folder,
                        const std::vector<std::string>& needles) {
    std::size_t found = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
        if (!entry.is_regular_file()) {
            continue;
        }
        std::ifstream in(entry.path(), std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(in)), {});
        for (const auto& needle : needles) {
            for (auto at = bytes.find(needle); at != std::string::npos;
                 at = bytes.find(needle, at + 1)) {
                ++found;
            }
        }
    }
    return found;
}

TEST_F(people, an_erased_account_leaves_no_byte_of_its_words_in_the_data_folder) {
    const auto data = server_.data_dir().string();
    ASSERT_NO_FATAL_FAILURE(add_admin("ada"));
    server_.add_user("bea");
    auto bea = [&](std::vector<std::string> args) {
        return relais("bea", std::move(args), server_process::password_of("bea"));
    };
    // The canary, as typed, as the word index folds it, and as trigrams
    // could keep it: none may stay anywhere.
    const std::vector<std::string> canary = {"Zorglubcanari", "zorglubcanari", "Quimpercanari",
                                             "quimpercanari", "Brestcanari",   "brestcanari"};
    ASSERT_EQ(coco({"create", "accueil"}).exit_code, 0);
    ASSERT_EQ(bea({"join", "accueil"}).exit_code, 0);
    ASSERT_EQ(bea({"profile", "--structure", "Zorglubcanari services", "--presentation",
                   "J'aime Zorglubcanari"})
                  .exit_code,
              0);
    ASSERT_EQ(bea({"send", "accueil", "mon", "secret", "Zorglubcanari"}).exit_code, 0);
    ASSERT_EQ(bea({"send", "accueil", "une", "autre", "phrase"}).exit_code, 0);
    ASSERT_EQ(bea({"edit", "accueil", "5", "corrigé", "Quimpercanari"}).exit_code, 0);
    ASSERT_EQ(coco({"send", "accueil", "réponse", "de", "coco"}).exit_code, 0);
    ASSERT_EQ(bea({"react", "accueil", "7", "👍"}).exit_code, 0);
    // Cyd's messages are removed rather than left as tombstones.
    server_.add_user("cyd");
    auto cyd = [&](std::vector<std::string> args) {
        return relais("cyd", std::move(args), server_process::password_of("cyd"));
    };
    ASSERT_EQ(cyd({"join", "accueil"}).exit_code, 0);
    auto cyd_sent = cyd({"send", "accueil", "Brestcanari", "à", "retirer"});
    ASSERT_EQ(cyd_sent.exit_code, 0) << cyd_sent.err;
    const std::string cyd_seq = cyd_sent.out.substr(0, cyd_sent.out.find('\n'));
    // Indexed for search: the words are in the full-text indexes too.
    auto found = coco({"search", "Zorglubcanari"});
    ASSERT_NE(found.out.find("secret"), std::string::npos) << found.out << found.err;
    // While the server runs, the erasure waits for it to stop.
    auto refused = run_program({server_binary(), "user", "erase", "bea", "--data", data});
    EXPECT_EQ(refused.exit_code, 1);
    EXPECT_NE(refused.err.find("stop it"), std::string::npos) << refused.err;
    ASSERT_EQ(server_.terminate(), 0);
    ASSERT_GT(occurrences(server_.data_dir(), canary), 0u) << "the scan cannot see the canary";

    auto erased = run_program({server_binary(), "user", "erase", "bea", "--data", data});
    ASSERT_EQ(erased.exit_code, 0) << erased.err;
    EXPECT_NE(erased.out.find("user bea erased: 2 message(s)"), std::string::npos) << erased.out;
    auto removed =
        run_program({server_binary(), "user", "erase", "cyd", "--remove-messages", "--data", data});
    ASSERT_EQ(removed.exit_code, 0) << removed.err;
    EXPECT_NE(removed.out.find("user cyd erased: 1 message(s) removed"), std::string::npos)
        << removed.out;
    EXPECT_EQ(occurrences(server_.data_dir(), canary), 0u);
    // The last admin stays; a mediator or coordinator may go.
    auto last = run_program({server_binary(), "user", "erase", "ada", "--data", data});
    EXPECT_EQ(last.exit_code, 1);
    EXPECT_NE(last.err.find("last admin"), std::string::npos) << last.err;
    auto list = accounts();
    EXPECT_EQ(list.out.find("bea"), std::string::npos) << list.out;
    EXPECT_NE(list.out.find("erased"), std::string::npos) << list.out;

    server_.start();
    // The history keeps its seqs: tombstones by a deleted account, and
    // what others said.
    auto history = coco({"history", "accueil"});
    ASSERT_EQ(history.exit_code, 0) << history.err;
    EXPECT_EQ(history.out.find("canari"), std::string::npos) << history.out;
    EXPECT_NE(history.out.find("compte supprimé"), std::string::npos) << history.out;
    EXPECT_NE(history.out.find("réponse de coco"), std::string::npos) << history.out;
    EXPECT_EQ(history.out.find("] #" + cyd_seq + " "), std::string::npos)
        << "a removed message still shows as #" << cyd_seq << ":\n"
        << history.out;
    EXPECT_EQ(coco({"search", "Zorglubcanari"}).out.find("secret"), std::string::npos);
    EXPECT_NE(coco({"whois", "bea"}).exit_code, 0);
    EXPECT_NE(bea({"channels"}).exit_code, 0);
    auto members = coco({"members", "accueil"});
    EXPECT_EQ(members.out.find("bea"), std::string::npos) << members.out;
}

TEST_F(people, retention_turns_old_messages_into_tombstones_and_scrubs_their_words) {
    const auto data = server_.data_dir().string();
    ASSERT_NO_FATAL_FAILURE(add_admin("ada"));
    auto ada = [&](std::vector<std::string> args) {
        return relais("ada", std::move(args), server_process::password_of("ada"));
    };
    ASSERT_EQ(coco({"create", "archives"}).exit_code, 0);
    ASSERT_EQ(coco({"send", "archives", "vieux", "Morlaixcanari", "un"}).exit_code, 0);
    ASSERT_EQ(coco({"send", "archives", "vieux", "Morlaixcanari", "deux"}).exit_code, 0);
    ASSERT_EQ(coco({"send", "archives", "message", "récent"}).exit_code, 0);
    // Only admins and the owner decide.
    server_.add_user("dan");
    auto refused =
        relais("dan", {"retention", "archives", "30"}, server_process::password_of("dan"));
    EXPECT_EQ(refused.exit_code, 1);
    auto set = ada({"retention", "archives", "30"});
    ASSERT_EQ(set.exit_code, 0) << set.err;
    EXPECT_EQ(set.out,
              "#archives garde ses messages 30 jour(s) ; les plus anciens sont effacés "
              "chaque jour\n");
    ASSERT_EQ(server_.terminate(), 0);
    // Forty days pass for the first two messages.
    auto aged = run_program({"/usr/bin/python3", "-c",
                             "import sqlite3, sys\n"
                             "db = sqlite3.connect(sys.argv[1])\n"
                             "db.execute(\"UPDATE events SET at_ms = at_ms - 40 * 86400000 "
                             "WHERE text LIKE '%Morlaixcanari%'\")\n"
                             "db.commit()\n"
                             "db.close()\n",
                             (server_.data_dir() / "relais.db").string()});
    ASSERT_EQ(aged.exit_code, 0) << aged.err;
    ASSERT_GT(occurrences(server_.data_dir(), {"Morlaixcanari"}), 0u);

    // The pass at start.
    server_.start();
    bool done = false;
    for (int i = 0; i < 500 && !done; ++i) {
        done = server_.log().find("event=retention_done channels=1 tombstoned=2 scrubbed=yes") !=
               std::string::npos;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_TRUE(done) << server_.log();
    EXPECT_EQ(occurrences(server_.data_dir(), {"Morlaixcanari", "morlaixcanari"}), 0u);
    auto history = coco({"history", "archives"});
    EXPECT_EQ(history.out.find("canari"), std::string::npos) << history.out;
    EXPECT_NE(history.out.find("message récent"), std::string::npos) << history.out;
    auto channel = coco({"channel", "archives"});
    EXPECT_NE(channel.out.find("messages conservés 30 jours"), std::string::npos) << channel.out;
}

}  // namespace
}  // namespace relais::testing
