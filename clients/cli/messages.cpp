#include "clients/cli/messages.hpp"

#include "clients/cli/command_registry.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iterator>

namespace relais::cli {
namespace {

struct entry {
    const char* fr;
    const char* en;
};

// Indexed by `text`.
constexpr entry catalogue[] = {
    {"Mot de passe : ", "Password: "},
    {"indiquez un utilisateur avec --user ou RELAIS_USER",
     "give a user with --user or RELAIS_USER"},
    {"aucun mot de passe fourni", "no password given"},
    {"aucun texte à envoyer", "no text to send"},
    {"nombre invalide", "not a valid number"},
    {"commande inconnue", "unknown command"},
    {"connexion impossible au serveur", "cannot connect to the server"},
    {"membres de", "members of"},
    {"en ligne", "online"},
    {"hors ligne", "offline"},
    {"(modifié)", "(edited)"},
    {"(message supprimé)", "(message deleted)"},
    {"a rejoint le canal", "joined the channel"},
    {"a quitté le canal", "left the channel"},
    {"a été ajouté·e par", "was added by"},
    {"a été retiré·e par", "was removed by"},
    {"est maintenant modérateur·rice, par", "is now a moderator, by"},
    {"est de nouveau simple membre, par", "is a member again, by"},
    {"a créé le canal", "created the channel"},
    {"a changé le sujet :", "changed the topic:"},
    {"canal", "channel"},
    {"privé", "private"},
    {"message direct", "direct message"},
    {"non lus", "unread"},
    {"membres", "members"},
    {"fait", "done"},
    {"a modifié le message", "edited message"},
    {"a supprimé le message", "deleted message"},
    {"connecté", "connected"},
    {"déconnecté — reconnexion…", "disconnected — reconnecting…"},
    {"session terminée — relancez relais pour vous reconnecter",
     "session ended — start relais again to log in"},
    {"en ligne : {}", "online: {}"},
    {"{} écrit…", "{} is typing…"},
    {"{} écrivent…", "{} are typing…"},
    {"aucun canal : /join NOM ou /create NOM", "no channel: /join NAME or /create NAME"},
    {"Commandes (Tab complète les commandes, canaux et personnes) :",
     "Commands (Tab completes commands, channels and people):"},
    {"Touches : Entrée envoie, Alt+Entrée ou Ctrl+J ajoute une ligne, Ctrl+N/Ctrl+P change de "
     "canal, Pg.Préc/Pg.Suiv fait défiler, ↑/↓ rappelle les saisies",
     "Keys: Enter sends, Alt+Enter or Ctrl+J adds a line, Ctrl+N/Ctrl+P switch channels, "
     "PgUp/PgDn scroll, Up/Down recall input"},
    {"commande inconnue : {} (voir /help)", "unknown command: {} (see /help)"},
    {"utilisation : {}", "usage: {}"},
    {"non envoyé : {}", "not sent: {}"},
    {"envoi…", "sending…"},
    {"chargement de l'historique…", "loading history…"},
    {"— début du canal —", "— beginning of the channel —"},
    {"aucun message à vous ici", "no message of yours here"},
};

const entry error_words[] = {
    {"erreur", "error"},
    {"requête invalide", "bad request"},
    {"non connecté·e ou identifiants incorrects", "not logged in or wrong credentials"},
    {"action non autorisée", "not allowed"},
    {"introuvable", "not found"},
    {"conflit", "conflict"},
    {"trop de requêtes, réessayez plus tard", "too many requests, try again later"},
    {"trop long", "too large"},
    {"serveur indisponible", "server unavailable"},
    {"erreur interne du serveur", "internal server error"},
};

static_assert(std::size(catalogue) == static_cast<std::size_t>(text::tui_nothing_to_edit) + 1,
              "one catalogue entry per text");

bool starts_with_en(const char* value) {
    return value && std::strncmp(value, "en", 2) == 0;
}

}  // namespace

bool english() {
    // The first of these that is set decides, as in gettext.
    for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
        const char* value = std::getenv(name);
        if (value && *value) {
            return starts_with_en(value);
        }
    }
    return false;
}

std::string file_size_text(std::uint64_t bytes) {
    const bool en = english();
    if (bytes < 1024) {
        return std::to_string(bytes) + (en ? " B" : " o");
    }
    const char* units_fr[] = {"Ko", "Mo", "Go"};
    const char* units_en[] = {"KB", "MB", "GB"};
    double value = static_cast<double>(bytes) / 1024.0;
    int unit = 0;
    while (value >= 1024.0 && unit < 2) {
        value /= 1024.0;
        ++unit;
    }
    char text[32];
    std::snprintf(text, sizeof text, value < 10 ? "%.1f %s" : "%.0f %s", value,
                  en ? units_en[unit] : units_fr[unit]);
    std::string out = text;
    if (!en) {
        std::replace(out.begin(), out.end(), '.', ',');
    }
    return out;
}

std::string describe_attachment(const v1::Attachment& a) {
    return "📎 " + a.name() + " (" + file_size_text(a.size()) + ")";
}

std::string person(const v1::User& u) {
    return u.erased() ? tr(words{"compte supprimé", "deleted account"}) : u.name();
}

const char* tr(text t) {
    const auto& e = catalogue[static_cast<int>(t)];
    return english() ? e.en : e.fr;
}

std::string trf(text t, std::initializer_list<std::string> args) {
    std::string out = tr(t);
    for (const auto& arg : args) {
        auto at = out.find("{}");
        if (at == std::string::npos) {
            break;
        }
        out.replace(at, 2, arg);
    }
    return out;
}

std::string describe_member_change(const v1::MemberChanged& change, const std::string& actor) {
    const std::string who = change.user().name() + " ";
    switch (change.change()) {
        case v1::MemberChanged::JOINED:
            return who + tr(text::joined);
        case v1::MemberChanged::LEFT:
            return who + tr(text::left);
        case v1::MemberChanged::INVITED:
            return who + tr(text::invited) + " " + actor;
        case v1::MemberChanged::KICKED:
            return who + tr(text::kicked) + " " + actor;
        case v1::MemberChanged::ROLE_CHANGED:
            return who +
                   tr(change.role() == v1::MODERATOR ? text::now_moderator : text::now_member) +
                   " " + actor;
        default:
            return who;
    }
}

std::string describe_rename(const std::string& display_name, const std::string& actor) {
    if (display_name.empty()) {
        return actor + (english() ? " removed the channel's display name"
                                  : " a retiré le nom affiché du canal");
    }
    return actor + (english() ? " renamed the channel: " : " a renommé le canal : ") + display_name;
}

std::string describe_options_change(const v1::ChannelOptions& o, const std::string& actor) {
    const bool en = english();
    auto who = [en](bool members) {
        return members ? (en ? "members" : "membres") : (en ? "moderators" : "modération");
    };
    std::string out =
        actor + (en ? " changed the options: invite: " : " a changé les options : inviter : ");
    out += who(o.members_can_invite());
    out += en ? ", topic: " : ", sujet : ";
    out += who(o.members_can_set_topic());
    return out;
}

std::string describe_channel(const v1::Channel& c) {
    std::string out = c.kind() == v1::DIRECT ? "@" : "#";
    out += c.name();
    if (!c.display_name().empty()) {
        out += " « " + c.display_name() + " »";
    }
    out += "  (" + std::to_string(c.member_count()) + " " +
           (c.member_count() == 1 ? tr(words{"membre", "member"}) : tr(text::members_word));
    if (c.is_member()) {
        out += ", " + std::to_string(c.unread_count()) + " " + tr(text::unread_word);
        if (c.mention_count() != 0) {
            out += ", " + std::to_string(c.mention_count()) + " @";
        }
        if (c.thread_unread_count() != 0) {
            out += ", " + std::to_string(c.thread_unread_count()) + " " +
                   (english() ? "unread in threads" : "non lues dans les fils");
        }
    }
    if (c.kind() == v1::PRIVATE) {
        out += ", ";
        out += tr(text::private_word);
    }
    if (const auto days = c.options().retention_days(); days != 0) {
        out += ", ";
        out += tr(words{"messages conservés ", "messages kept "}) + std::to_string(days) +
               tr(words{" jours", " days"});
    }
    out += ")";
    if (!c.topic().empty()) {
        out += "  " + c.topic();
    }
    return out;
}

std::string local_time(std::int64_t ms, const char* format) {
    std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm local{};
    localtime_r(&seconds, &local);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &local);
    return buf;
}

std::string describe(const failure& f) {
    int index = static_cast<int>(f.code);
    if (index < 1 || index > 9) {
        index = 0;
    }
    const auto& e = error_words[index];
    std::string out = english() ? e.en : e.fr;
    if (!f.message.empty()) {
        out += " : ";
        if (english()) {
            out.erase(out.size() - 3, 1);  // English puts no space before ':'
        }
        out += f.message;
    }
    return out;
}

std::string describe_meeting_event(const v1::MeetingEvent& e, const std::string& actor) {
    const auto& m = e.meeting();
    const std::string title = "« " + m.title() + " »";
    switch (e.change()) {
        case v1::MeetingEvent::CREATED:
            return actor + " " + tr(words{"a programmé la séance", "scheduled the session"}) + " " +
                   title + " (" + std::to_string(m.id()) + ")";
        case v1::MeetingEvent::REMINDER:
            return tr(words{"Rappel : la séance", "Reminder: the session"}) + std::string(" ") +
                   title + " " + tr(words{"commence dans 15 minutes", "starts in 15 minutes"}) +
                   (m.link().empty() ? "" : " — " + m.link());
        case v1::MeetingEvent::STARTED:
            return tr(words{"La séance", "The session"}) + std::string(" ") + title + " " +
                   tr(words{"commence : /session", "is starting: /session"}) + " " +
                   std::to_string(m.id());
        case v1::MeetingEvent::ENDED:
            return tr(words{"La séance", "The session"}) + std::string(" ") + title + " " +
                   tr(words{"est terminée", "has ended"});
        case v1::MeetingEvent::CANCELLED:
            return tr(words{"La séance", "The session"}) + std::string(" ") + title + " " +
                   tr(words{"est annulée", "is cancelled"});
        case v1::MeetingEvent::PHASE: {
            if (m.current_phase() == 0 ||
                m.current_phase() > static_cast<std::uint32_t>(m.phases_size())) {
                return {};
            }
            const auto& plan = m.phases(static_cast<int>(m.current_phase()) - 1).plan();
            std::string line = "Phase " + std::to_string(m.current_phase()) + " : " + plan.name();
            const auto seconds =
                plan.planned_seconds() ? plan.planned_seconds() : plan.planned_minutes() * 60;
            if (seconds && !m.timers_off()) {
                line += " (" + std::to_string((seconds + 59) / 60) + " min)";
            }
            if (!plan.rules().empty()) {
                line += " — " + plan.rules();
            }
            return line;
        }
        case v1::MeetingEvent::OVERTIME:
            return tr(words{"Le temps prévu pour la phase est dépassé",
                            "The phase has run past its planned time"});
        case v1::MeetingEvent::MINUTES:
            return actor + " " +
                   tr(words{"a publié le compte rendu de", "published the minutes of"}) + " " +
                   title;
        case v1::MeetingEvent::CASE:
            return tr(words{"Une situation a été proposée pour analyse",
                            "A situation was proposed for analysis"});
        case v1::MeetingEvent::POLL:
            if (e.poll().voters() == 0 && e.poll().open()) {
                return actor + " " + tr(words{"ouvre un sondage :", "opens a poll:"}) + " " +
                       e.poll().question() + " (/vote " + std::to_string(e.poll().id()) + " N)";
            }
            return {};
        case v1::MeetingEvent::TABLES:
            return e.harvested() ? tr(words{"La récolte : tout le monde revient",
                                            "The harvest: everyone comes back"})
                                 : tr(words{"Tables, tour", "Tables, round"}) + std::string(" ") +
                                       std::to_string(e.round());
        default:
            return {};
    }
}

}  // namespace relais::cli
