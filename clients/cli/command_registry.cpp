#include "clients/cli/command_registry.hpp"

#include <algorithm>
#include <charconv>

#include "clients/cli/messages.hpp"

namespace relais::cli {

const char* tr(const words& w) {
    return english() ? w.en : w.fr;
}

namespace {

constexpr words channel_label{"NOM", "NAME"};
constexpr words user_label{"PERSONNE", "USER"};
constexpr words seq_label{"SEQ", "SEQ"};
constexpr words text_label{"TEXTE", "TEXT"};
constexpr words topic_label{"SUJET", "TOPIC"};
constexpr words display_label{"NOM-AFFICHÉ", "DISPLAY-NAME"};
constexpr words title_label{"TITRE", "TITLE"};
constexpr words description_label{"DESCRIPTION", "DESCRIPTION"};
constexpr words emoji_label{"EMOJI", "EMOJI"};
constexpr words answer_label{"SEQ-RÉPONSE", "ANSWER-SEQ"};
constexpr words session_label{"SÉANCE", "SESSION"};
constexpr words poll_label{"SONDAGE", "POLL"};

// A channel the terminal client takes from the screen.
argument channel_here() {
    return {arg_kind::channel, channel_label, given::required, given::current_channel};
}

}  // namespace

const std::vector<command>& commands() {
    using k = arg_kind;
    using g = given;
    static const std::vector<command> all = {
        {"channels", nullptr, front::cli, {}, {}, {"lister les canaux", "list the channels"}},
        {"channel",
         nullptr,
         front::both,
         {{k::channel, channel_label, g::required, g::optional}},
         {},
         {"décrire un canal", "describe a channel"}},
        {"create",
         nullptr,
         front::both,
         {{k::word, channel_label},
          {k::text, topic_label, g::optional, g::optional, "--topic"},
          {k::text, display_label, g::optional, g::absent, "--display-name"}},
         {{"--private"}},
         {"créer un canal", "create a channel"}},
        {"join",
         nullptr,
         front::both,
         {{k::channel, channel_label}},
         {},
         {"rejoindre un canal public", "join a public channel"}},
        {"leave",
         nullptr,
         front::both,
         {channel_here()},
         {},
         {"quitter le canal", "leave the channel"}},
        {"members",
         nullptr,
         front::both,
         {channel_here()},
         {},
         {"qui est dans le canal", "who is in the channel"}},
        {"invite",
         nullptr,
         front::both,
         {channel_here(), {k::user, user_label}},
         {},
         {"ajouter quelqu'un au canal", "add someone to the channel"}},
        {"kick",
         nullptr,
         front::both,
         {channel_here(), {k::user, user_label}},
         {},
         {"retirer quelqu'un (modération)", "remove someone (moderators)"}},
        {"role",
         nullptr,
         front::both,
         {channel_here(),
          {k::user, user_label},
          {k::choice, {"moderator|member", "moderator|member"}}},
         {},
         {"changer son rôle (propriétaire)", "set their role (owner)"}},
        {"topic",
         nullptr,
         front::both,
         {channel_here(), {k::text, topic_label}},
         {},
         {"changer le sujet", "change the topic"}},
        {"rename",
         nullptr,
         front::both,
         {channel_here(), {k::text, display_label, g::optional, g::optional}},
         {},
         {"changer le nom affiché (vide : aucun)", "change the display name (empty: none)"}},
        {"options",
         nullptr,
         front::both,
         {channel_here(),
          {k::choice, {"invite|topic", "invite|topic"}},
          {k::choice, {"members|moderators", "members|moderators"}}},
         {},
         {"qui peut inviter, ou changer le sujet (modération)",
          "who may invite, or change the topic (moderators)"}},
        {"send",
         nullptr,
         front::cli,
         {{k::channel, channel_label}, {k::text, text_label, g::optional, g::absent}},
         {{"--attach", "FICHIER"}},
         {"envoyer un message (lu sur l'entrée standard sans TEXTE ; --attach : avec un "
          "fichier, le texte est alors facultatif)",
          "send a message (read from standard input without TEXT; --attach: with a file, the "
          "text is then optional)"}},
        {"download",
         nullptr,
         front::cli,
         {{k::channel, channel_label}, {k::number, seq_label}},
         {{"--out", "CHEMIN"}},
         {"enregistrer le fichier joint à un message (sous son nom, ou --out)",
          "save the file attached to a message (under its name, or --out)"}},
        {"dm",
         "msg",
         front::both,
         {{k::user, user_label}, {k::text, text_label, g::optional, g::optional}},
         {},
         {"message direct", "direct message"}},
        {"edit",
         nullptr,
         front::both,
         {channel_here(), {k::number, seq_label, g::required, g::optional}, {k::text, text_label}},
         {},
         {"modifier le message n° SEQ", "edit message number SEQ"},
         {"modifier votre dernier message, ou SEQ", "edit your last message, or SEQ"}},
        {"delete",
         nullptr,
         front::both,
         {channel_here(), {k::number, seq_label, g::required, g::optional}},
         {},
         {"supprimer le message n° SEQ", "delete message number SEQ"},
         {"supprimer votre dernier message, ou SEQ", "delete your last message, or SEQ"}},
        {"history",
         nullptr,
         front::cli,
         {{k::channel, channel_label}},
         {{"--limit", "N"}, {"--before", "SEQ"}, {"--after", "SEQ"}},
         {"les derniers messages (--limit 50 par défaut)",
          "the last messages (--limit 50 by default)"}},
        {"tail",
         nullptr,
         front::cli,
         {{k::channel, channel_label}},
         {{"--count", "N"}},
         {"suivre les nouveaux messages", "follow new messages"}},
        {"post-resource",
         nullptr,
         front::cli,
         {{k::channel, channel_label},
          {k::text, title_label, g::required, g::absent, "--title"},
          {k::text, description_label, g::optional, g::absent}},
         {{"--link", "URL"},
          {"--attach", "FICHIER"},
          {"--kind", "tutorial|practical-sheet|tool|video|guide|other"},
          {"--tag", "TAG"},
          {"--theme", "THEME"},
          {"--audience", "PUBLIC"},
          {"--licence", "etalab-2.0|cc-by-sa-4.0|cc-by-nc-sa-4.0|all-rights-reserved"}},
         {"publier une ressource (tutoriel, fiche, outil…) ; --tag, --theme, --audience "
          "répétables",
          "post a resource (tutorial, sheet, tool...); --tag, --theme, --audience repeatable"}},
        {"resources",
         nullptr,
         front::both,
         {},
         {{"--tag", "TAG", front::cli},
          {"--theme", "THEME", front::cli},
          {"--kind", "tutorial|practical-sheet|tool|video|guide|other", front::cli},
          {"--channel", "NOM", front::cli},
          {"--sort", "newest|discussed|active", front::cli},
          {"--limit", "N", front::cli}},
         {"la bibliothèque de ressources de vos canaux", "the resource library of your channels"}},
        {"search",
         nullptr,
         front::both,
         {{k::text, text_label}},
         {{"--channel", "NOM", front::cli}, {"--limit", "N", front::cli}},
         {"chercher dans les messages, réponses et ressources",
          "search messages, replies and resources"}},
        {"thread",
         nullptr,
         front::both,
         {channel_here(), {k::number, seq_label}},
         {},
         {"lire le fil du message n° SEQ", "read the thread of message number SEQ"},
         {"ouvrir le fil du message n° SEQ", "open the thread of message number SEQ"}},
        {"reply",
         nullptr,
         front::cli,
         {{k::channel, channel_label},
          {k::number, seq_label},
          {k::text, text_label, g::optional, g::absent}},
         {},
         {"répondre dans le fil du message SEQ (lu sur l'entrée standard sans TEXTE)",
          "reply in the thread of message SEQ (read from standard input without TEXT)"}},
        {"follow",
         nullptr,
         front::both,
         {channel_here(), {k::number, seq_label, g::required, g::optional}},
         {},
         {"suivre un fil", "follow a thread"},
         {"suivre le fil ouvert, ou celui de SEQ", "follow the open thread, or that of SEQ"}},
        {"unfollow",
         nullptr,
         front::both,
         {channel_here(), {k::number, seq_label, g::required, g::optional}},
         {},
         {"ne plus suivre un fil", "stop following a thread"},
         {"ne plus suivre le fil ouvert, ou celui de SEQ",
          "stop following the open thread, or that of SEQ"}},
        {"threads",
         nullptr,
         front::both,
         {},
         {},
         {"les fils suivis, non lus d'abord", "followed threads, unread first"}},
        {"react",
         nullptr,
         front::both,
         {channel_here(), {k::number, seq_label}, {k::word, emoji_label}},
         {},
         {"réagir à un message (👍, :merci:…)", "react to a message (👍, :thanks:...)"}},
        {"unreact",
         nullptr,
         front::both,
         {channel_here(), {k::number, seq_label}, {k::word, emoji_label}},
         {},
         {"retirer sa réaction", "take one's reaction back"}},
        {"pin",
         nullptr,
         front::both,
         {channel_here(), {k::number, seq_label}},
         {},
         {"épingler un message (modération)", "pin a message (moderators)"}},
        {"unpin",
         nullptr,
         front::both,
         {channel_here(), {k::number, seq_label}},
         {},
         {"désépingler un message (modération)", "unpin a message (moderators)"}},
        {"pins",
         nullptr,
         front::both,
         {channel_here()},
         {},
         {"les messages épinglés", "the pinned messages"}},
        {"mentions",
         nullptr,
         front::both,
         {},
         {},
         {"les messages qui vous mentionnent", "the messages that mention you"}},
        {"solve",
         nullptr,
         front::cli,
         {channel_here(), {k::number, seq_label}, {k::number, answer_label}},
         {},
         {"marquer la question SEQ résolue par la réponse SEQ-RÉPONSE",
          "mark question SEQ solved by reply ANSWER-SEQ"}},
        {"unsolve",
         nullptr,
         front::cli,
         {channel_here(), {k::number, seq_label}},
         {},
         {"remettre la question SEQ en attente", "mark question SEQ unsolved"}},
        {"questions",
         nullptr,
         front::both,
         {channel_here()},
         {{"--unsolved"}},
         {"les questions du canal (--unsolved : sans réponse retenue)",
          "the channel's questions (--unsolved: not answered yet)"}},
        // Practice-exchange sessions: `relais session SUBCOMMAND ...`.
        {"session templates",
         nullptr,
         front::cli,
         {},
         {},
         {"les modèles de séance", "the session templates"}},
        {"session create",
         nullptr,
         front::cli,
         {{k::channel, channel_label},
          {k::text, title_label, g::required, g::absent, "--title"},
          {k::text, {"DÉBUT", "START"}, g::required, g::absent, "--start"}},
         {{"--template", "MODÈLE"},
          {"--phase", "NOM:MINUTES"},
          {"--link", "URL"},
          {"--charter", "TEXTE"},
          {"--confidential"},
          {"--no-timers"}},
         {"programmer une séance (--start 2026-12-15T14:00)",
          "schedule a session (--start 2026-12-15T14:00)"}},
        {"session list",
         nullptr,
         front::cli,
         {{k::channel, channel_label, g::optional, g::optional}},
         {},
         {"les séances en cours, à venir et passées", "live, upcoming and past sessions"}},
        {"session show",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"l'état d'une séance", "a session's state"}},
        {"session start",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"ouvrir la séance (animation)", "start the session (facilitators)"}},
        {"session cancel",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"annuler la séance (animation)", "cancel the session (facilitators)"}},
        {"session end",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"clore la séance et rédiger le compte rendu (animation)",
          "end the session and draft its minutes (facilitators)"}},
        {"session join",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {{"--accept-charter"}},
         {"rejoindre la séance (--accept-charter : accepter la charte)",
          "join the session (--accept-charter: accept its charter)"}},
        {"session leave",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"quitter la séance", "leave the session"}},
        {"session next",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"passer à la phase suivante", "start the next phase"}},
        {"session phase",
         nullptr,
         front::cli,
         {{k::number, session_label}, {k::number, {"N", "N"}}},
         {},
         {"aller à la phase N", "go to phase N"}},
        {"session role",
         nullptr,
         front::cli,
         {{k::number, session_label},
          {k::user, user_label},
          {k::choice,
           {"facilitator|narrator|timekeeper|scribe|host",
            "facilitator|narrator|timekeeper|scribe|host"}}},
         {{"--remove"}},
         {"donner un rôle (--remove : le retirer)", "give a role (--remove: take it back)"}},
        {"session raise",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {{"--tag", "information|hypothesis|advice"}},
         {"lever la main", "raise your hand"}},
        {"session lower",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"baisser la main", "lower your hand"}},
        {"session floor",
         nullptr,
         front::cli,
         {{k::number, session_label}, {k::user, user_label, g::optional, g::optional}},
         {},
         {"donner la parole (au suivant, ou à PERSONNE)",
          "give the floor (to the next in line, or to USER)"}},
        {"session poll",
         nullptr,
         front::cli,
         {{k::number, session_label},
          {k::word, {"QUESTION", "QUESTION"}},
          {k::text, {"OPTION...", "OPTION..."}, g::optional, g::optional}},
         {{"--multiple"}, {"--anonymous"}, {"--cases"}},
         {"ouvrir un sondage (--cases : sur les cas proposés)",
          "open a poll (--cases: on the proposed cases)"}},
        {"session vote",
         nullptr,
         front::cli,
         {{k::number, session_label},
          {k::number, poll_label},
          {k::text, {"OPTION...", "OPTION..."}}},
         {},
         {"voter (numéros des options, à partir de 1)", "vote (option numbers, from 1)"}},
        {"session close-poll",
         nullptr,
         front::cli,
         {{k::number, session_label}, {k::number, poll_label}},
         {},
         {"clore un sondage", "close a poll"}},
        {"session tables",
         nullptr,
         front::cli,
         {{k::number, session_label}, {k::number, {"N", "N"}, g::required, g::absent, "--size"}},
         {{"--random"}},
         {"répartir en tables de N (world café)", "split into tables of N (world café)"}},
        {"session rotate",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"changer de table (les hôtes restent)", "rotate tables (hosts stay)"}},
        {"session harvest",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"la récolte : fin des tours de tables", "the harvest: the rounds are over"}},
        {"session case",
         nullptr,
         front::cli,
         {{k::channel, channel_label}, {k::text, text_label}},
         {},
         {"proposer une situation (anonyme pour les pairs)",
          "propose a situation (peers do not see your name)"}},
        {"session cases",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"les situations proposées", "the proposed situations"}},
        {"session note",
         nullptr,
         front::cli,
         {{k::number, session_label}, {k::text, text_label}},
         {{"--action"}, {"--who", "PERSONNE"}, {"--due", "AAAA-MM-JJ"}},
         {"ajouter une note (--action : une action à mener)",
          "add a note (--action: an action item)"}},
        {"session minutes",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {{"--edit", "FICHIER"}, {"--publish"}},
         {"le compte rendu (--edit FICHIER : le remplacer, --publish : le publier)",
          "the minutes (--edit FILE: replace them, --publish: publish them)"}},
        {"session attendance",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"la feuille de présence (CSV)", "the attendance sheet (CSV)"}},
        {"session ics",
         nullptr,
         front::cli,
         {{k::number, session_label}},
         {},
         {"la séance pour un agenda (iCalendar)", "the session for a calendar (iCalendar)"}},
        {"session report",
         nullptr,
         front::cli,
         {{k::text, {"AAAA-MM-JJ", "YYYY-MM-DD"}, g::required, g::absent, "--from"},
          {k::text, {"AAAA-MM-JJ", "YYYY-MM-DD"}, g::required, g::absent, "--to"}},
         {},
         {"le bilan d'activité : une ligne par séance (CSV, ou --json)",
          "the activity report: one line per session (CSV, or --json)"}},
        {"register",
         nullptr,
         front::cli,
         {{k::word, {"CODE", "CODE"}, g::required, g::absent, "--invite"}},
         {{"--display-name", "NOM"}},
         {"créer son compte avec un code d'invitation (--user NOM ; mot de passe de 10 "
          "caractères ou plus)",
          "create your account with an invitation code (--user NAME; a password of 10 "
          "characters or more)"}},
        {"invitation create",
         nullptr,
         front::cli,
         {},
         {{"--uses", "N"},
          {"--expires", "JOURS"},
          {"--role", "mediator|coordinator|admin"},
          {"--channel", "CANAL"}},
         {"créer un code d'invitation (--channel répétable : canaux rejoints à l'inscription)",
          "create an invitation code (--channel repeatable: channels joined on registering)"}},
        {"invitation list",
         nullptr,
         front::cli,
         {},
         {},
         {"les invitations : utilisations, expiration, canaux",
          "invitations: uses, expiry, channels"}},
        {"invitation revoke",
         nullptr,
         front::cli,
         {{k::word, {"CODE", "CODE"}}},
         {},
         {"révoquer une invitation (son code, ou le début que montre la liste)",
          "revoke an invitation (its code, or the start the list shows)"}},
        {"password change",
         nullptr,
         front::cli,
         {},
         {},
         {"changer son mot de passe (RELAIS_NEW_PASSWORD, ou la 2e ligne avec "
          "--password-stdin) ; ferme vos autres connexions",
          "change your password (RELAIS_NEW_PASSWORD, or the 2nd line with --password-stdin); "
          "ends your other sessions"}},
        {"password reset",
         nullptr,
         front::cli,
         {{k::word, user_label}},
         {},
         {"donner un code pour choisir un nouveau mot de passe (coordination : les médiateurs)",
          "give a code to choose a new password (coordinators: for mediators)"}},
        {"password redeem",
         nullptr,
         front::cli,
         {{k::word, {"CODE", "CODE"}, g::required, g::absent, "--code"}},
         {},
         {"choisir un nouveau mot de passe avec un code (--user NOM) ; ferme toutes vos "
          "connexions",
          "choose a new password with a code (--user NAME); ends all your sessions"}},
        {"devices",
         nullptr,
         front::cli,
         {},
         {},
         {"vos connexions : appareil, logiciel, dernière activité",
          "your sessions: device, client, last seen"}},
        {"devices end",
         nullptr,
         front::cli,
         {{k::word, {"ID", "ID"}}},
         {},
         {"fermer une de vos connexions (l'identifiant que montre la liste)",
          "end one of your sessions (the id the list shows)"}},
        {"profile",
         nullptr,
         front::cli,
         {},
         {{"--structure", "STRUCTURE"},
          {"--commune", "CODE-INSEE"},
          {"--name", "NOM-AFFICHÉ"},
          {"--role", "mediator|digital-adviser|coordinator|social-worker|elected|other"},
          {"--presentation", "TEXTE"},
          {"--skill", "COMPÉTENCE"},
          {"--no-skills"},
          {"--of", "PERSONNE"}},
         {"votre profil : structure, commune (feuilles de présence), rôle, présentation, "
          "compétences (--skill répétable remplace la liste ; --of : celui d'une autre personne, "
          "pour les admins)",
          "your profile: structure, commune (attendance sheets), role, presentation, skills "
          "(--skill, repeatable, replaces the list; --of: someone else's, for admins)"}},
        {"mute",
         nullptr,
         front::cli,
         {{k::channel, channel_label},
          {k::user, user_label},
          {k::number, {"MINUTES", "MINUTES"}},
          {k::text, {"RAISON", "REASON"}, g::optional, g::optional}},
         {},
         {"rendre muet·te pour un temps (modération)", "mute someone for a while (moderators)"}},
        {"unmute",
         nullptr,
         front::cli,
         {{k::channel, channel_label}, {k::user, user_label}},
         {},
         {"lever un silence (modération)", "unmute someone (moderators)"}},
        {"ban",
         nullptr,
         front::cli,
         {{k::channel, channel_label},
          {k::user, user_label},
          {k::text, {"RAISON", "REASON"}, g::optional, g::optional}},
         {},
         {"bannir d'un canal : retiré·e, sans pouvoir revenir (modération)",
          "ban from a channel: removed, and kept out (moderators)"}},
        {"unban",
         nullptr,
         front::cli,
         {{k::channel, channel_label}, {k::user, user_label}},
         {},
         {"lever un bannissement (modération)", "lift a ban (moderators)"}},
        {"report",
         nullptr,
         front::cli,
         {{k::channel, channel_label}, {k::number, seq_label}, {k::text, {"RAISON", "REASON"}}},
         {},
         {"signaler un message aux modérateurs du canal",
          "report a message to the channel's moderators"}},
        {"reports",
         nullptr,
         front::cli,
         {{k::channel, channel_label, g::optional, g::optional}},
         {{"--all"}},
         {"les signalements ouverts des canaux que vous modérez (--all : aussi les traités)",
          "the open reports of the channels you moderate (--all: resolved ones too)"}},
        {"resolve",
         nullptr,
         front::cli,
         {{k::number, {"ID", "ID"}}, {k::text, {"NOTE", "NOTE"}, g::optional, g::optional}},
         {},
         {"marquer un signalement comme traité (modération)",
          "mark a report as resolved (moderators)"}},
        {"audit",
         nullptr,
         front::cli,
         {},
         {{"--limit", "N"}, {"--before", "ID"}},
         {"le journal d'audit : actions d'administration et de modération (admins)",
          "the audit log: admin and moderation actions (admins)"}},
        {"retention",
         nullptr,
         front::cli,
         {{k::channel, channel_label}, {k::number, {"JOURS", "DAYS"}}},
         {},
         {"durée de conservation des messages d'un canal, en jours (0 : toujours ; admins et "
          "propriétaire)",
          "how long a channel keeps its messages, in days (0: forever; admins and the owner)"}},
        {"export-my-data",
         nullptr,
         front::cli,
         {},
         {{"--out", "FICHIER"}},
         {"tout ce que le serveur garde sur vous, en JSON (RGPD)",
          "everything the server holds about you, as JSON (GDPR)"}},
        {"whois",
         nullptr,
         front::cli,
         {{k::word, user_label}},
         {},
         {"le profil d'une personne", "a person's profile"}},
        {"people",
         nullptr,
         front::cli,
         {},
         {{"--commune", "CODE-INSEE"}, {"--structure", "STRUCTURE"}, {"--skill", "COMPÉTENCE"}},
         {"l'annuaire : les personnes du serveur (filtres : commune, structure, compétence)",
          "the directory: the people on the server (filters: commune, structure, skill)"}},
        // The terminal client's session panel.
        {"session",
         nullptr,
         front::tui,
         {{k::number, session_label}},
         {},
         {"ouvrir le panneau d'une séance et y entrer", "open a session's panel and join it"}},
        {"accept",
         nullptr,
         front::tui,
         {},
         {},
         {"accepter la charte de la séance et entrer", "accept the session's charter and join"}},
        {"leavesession",
         nullptr,
         front::tui,
         {},
         {},
         {"quitter la séance et fermer son panneau", "leave the session and close its panel"}},
        {"raise",
         nullptr,
         front::tui,
         {{k::choice,
           {"information|hypothesis|advice", "information|hypothesis|advice"},
           g::optional,
           g::optional}},
         {},
         {"lever la main (F2 : lever ou baisser)", "raise your hand (F2: raise or lower)"}},
        {"lower", nullptr, front::tui, {}, {}, {"baisser la main", "lower your hand"}},
        {"next",
         nullptr,
         front::tui,
         {},
         {},
         {"phase suivante (animation, gardien·ne du temps)",
          "next phase (facilitators, timekeeper)"}},
        {"phase",
         nullptr,
         front::tui,
         {{k::number, {"N", "N"}}},
         {},
         {"aller à la phase N (animation)", "go to phase N (facilitators)"}},
        {"floor",
         nullptr,
         front::tui,
         {{k::user, user_label, g::optional, g::optional}},
         {},
         {"donner la parole au suivant, ou à PERSONNE (animation)",
          "give the floor to the next in line, or to USER (facilitators)"}},
        {"poll",
         nullptr,
         front::tui,
         {{k::text, {"QUESTION | OPTION | OPTION...", "QUESTION | OPTION | OPTION..."}}},
         {{"--anonymous"}, {"--multiple"}},
         {"ouvrir un sondage (animation)", "open a poll (facilitators)"}},
        {"vote",
         nullptr,
         front::tui,
         {{k::number, poll_label}, {k::text, {"N...", "N..."}}},
         {},
         {"voter : numéros des options", "vote: option numbers"}},
        {"closepoll",
         nullptr,
         front::tui,
         {{k::number, poll_label}},
         {},
         {"clore un sondage (animation)", "close a poll (facilitators)"}},
        {"note",
         nullptr,
         front::tui,
         {{k::text, text_label}},
         {{"--action"}},
         {"noter pour le compte rendu (--action : une action à mener)",
          "write a note for the minutes (--action: an action item)"}},
        {"tables",
         nullptr,
         front::tui,
         {{k::number, {"N", "N"}}},
         {{"--random"}},
         {"répartir en tables de N (world café)", "split into tables of N (world café)"}},
        {"rotate", nullptr, front::tui, {}, {}, {"changer de table", "rotate tables"}},
        {"harvest", nullptr, front::tui, {}, {}, {"la récolte", "the harvest"}},
        {"endsession",
         nullptr,
         front::tui,
         {},
         {},
         {"clore la séance (animation)", "end the session (facilitators)"}},
        {"help",
         nullptr,
         front::both,
         {{k::word, {"COMMANDE", "COMMAND"}, g::optional, g::optional}},
         {},
         {"cette aide", "this help"}},
        {"completion",
         nullptr,
         front::cli,
         {{k::choice, {"bash", "bash"}}},
         {},
         {"la complétion par Tab : source <(relais completion bash)",
          "Tab completion: source <(relais completion bash)"}},
        {"quit", nullptr, front::tui, {}, {}, {"quitter (ou Ctrl+C)", "quit (or Ctrl+C)"}},
    };
    return all;
}

namespace {

bool in(front where, front f) {
    return (static_cast<unsigned>(where) & static_cast<unsigned>(f)) != 0;
}

given how_given(const argument& a, front f) {
    return f == front::tui ? a.in_tui : a.in_cli;
}

// The arguments typed by place in `f`, in order.
std::vector<const argument*> placed(const command& c, front f) {
    std::vector<const argument*> out;
    for (const auto& a : c.arguments) {
        const auto how = how_given(a, f);
        if (how == given::required || how == given::optional) {
            if (!(f == front::cli && a.cli_flag)) {
                out.push_back(&a);
            }
        }
    }
    return out;
}

// A choice's words are its label's: "moderator|member".
std::vector<std::string> choices_of(const argument& a) {
    std::vector<std::string> out;
    std::string_view label = a.label.en;
    for (std::size_t at = 0; at <= label.size();) {
        const auto bar = std::min(label.find('|', at), label.size());
        out.emplace_back(label.substr(at, bar - at));
        at = bar + 1;
    }
    return out;
}

}  // namespace

std::optional<std::uint64_t> parse_number(std::string_view s) {
    std::uint64_t n = 0;
    // from_chars alone would take a '-' or stop early; digits only, all used.
    if (s.empty() ||
        !std::all_of(s.begin(), s.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
        return std::nullopt;
    }
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || end != s.data() + s.size()) {
        return std::nullopt;
    }
    return n;
}

std::optional<bool> option_takes_value(std::string_view name) {
    for (const auto& c : commands()) {
        for (const auto& o : c.options) {
            if (name == o.name) {
                return o.value != nullptr;
            }
        }
        for (const auto& a : c.arguments) {
            if (a.cli_flag && name == a.cli_flag) {
                return true;
            }
        }
    }
    return std::nullopt;
}

std::vector<std::string> option_choices(std::string_view name) {
    for (const auto& c : commands()) {
        for (const auto& o : c.options) {
            if (name == o.name && o.value &&
                std::string_view(o.value).find('|') != std::string_view::npos) {
                return choices_of(argument{arg_kind::choice, {o.value, o.value}});
            }
        }
    }
    return {};
}

std::vector<std::string> grouped(std::vector<std::string> words, front f) {
    if (words.size() >= 2 && find_command(words[0] + " " + words[1], f)) {
        words[0] += " " + words[1];
        words.erase(words.begin() + 1);
    }
    return words;
}

const command* find_command(std::string_view name, front f) {
    for (const auto& c : commands()) {
        if (in(c.where, f) && c.name_in(f) == name) {
            return &c;
        }
    }
    return nullptr;
}

std::string synopsis(const command& c, front f) {
    std::string out = f == front::tui ? "/" : "";
    out += c.name_in(f);
    auto bracket = [&](std::string shown, bool optional) {
        out += " ";
        out += optional ? "[" + shown + "]" : shown;
    };
    // Options go before the text that ends the line, as they are typed.
    bool options_shown = false;
    auto show_options = [&] {
        if (options_shown) {
            return;
        }
        options_shown = true;
        for (const auto& a : c.arguments) {
            if (f == front::cli && a.cli_flag && how_given(a, f) != given::absent) {
                bracket(std::string(a.cli_flag) + " " + tr(a.label),
                        how_given(a, f) == given::optional);
            }
        }
        for (const auto& o : c.options) {
            if (in(o.where, f)) {
                bracket(o.value ? std::string(o.name) + " " + o.value : o.name, true);
            }
        }
    };
    for (const auto& a : c.arguments) {
        const auto how = how_given(a, f);
        if (how == given::absent || how == given::current_channel ||
            (f == front::cli && a.cli_flag)) {
            continue;
        }
        if (a.kind == arg_kind::text) {
            show_options();
        }
        bracket(tr(a.label), how == given::optional);
    }
    show_options();
    return out;
}

std::string help_lines(front f) {
    std::string out;
    for (const auto& c : commands()) {
        if (!in(c.where, f)) {
            continue;
        }
        out += "  " + synopsis(c, f) + " — " + tr(c.help_in(f)) + "\n";
    }
    return out;
}

std::string cli_usage() {
    std::string out = tr(words{
        "utilisation : relais [--server URL] [--user NOM] [--password-stdin] [--ca-file PEM] "
        "[--json] [COMMANDE]\n"
        "sans commande, sur un terminal : le client interactif\n"
        "commandes :\n",
        "usage: relais [--server URL] [--user NAME] [--password-stdin] [--ca-file PEM] [--json] "
        "[COMMAND]\n"
        "without a command, on a terminal: the interactive client\n"
        "commands:\n"});
    out += help_lines(front::cli);
    out +=
        tr(words{"environnement : RELAIS_SERVER, RELAIS_USER, RELAIS_PASSWORD ; réglages dans "
                 "~/.config/relais/config\n",
                 "environment: RELAIS_SERVER, RELAIS_USER, RELAIS_PASSWORD; settings in "
                 "~/.config/relais/config\n"});
    return out;
}

std::optional<std::string> check_arguments(const command& c, front f,
                                           const std::vector<std::string>& words_typed,
                                           const std::vector<std::string>& options_given) {
    const auto usage = trf(text::tui_usage_of, {synopsis(c, f)});
    const auto args = placed(c, f);
    std::size_t at = 1;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto& a = *args[i];
        const bool optional = how_given(a, f) == given::optional;
        if (a.kind == arg_kind::text) {
            if (at >= words_typed.size() && !optional) {
                return usage;
            }
            at = words_typed.size();
            break;
        }
        if (at >= words_typed.size()) {
            if (optional) {
                continue;
            }
            return usage;
        }
        const auto& w = words_typed[at];
        if (a.kind == arg_kind::number && !parse_number(w)) {
            // An optional number before a text may be left out: the word
            // is then the text's first.
            if (optional && i + 1 < args.size() && args[i + 1]->kind == arg_kind::text) {
                continue;
            }
            return std::string(tr(text::bad_number)) + ": " + w;
        }
        if (a.kind == arg_kind::choice) {
            const auto allowed = choices_of(a);
            if (std::find(allowed.begin(), allowed.end(), w) == allowed.end()) {
                return usage;
            }
        }
        ++at;
    }
    if (at < words_typed.size()) {
        return usage;
    }
    // An argument given as --flag VALUE that the command needs.
    for (const auto& a : c.arguments) {
        if (f == front::cli && a.cli_flag && how_given(a, f) == given::required &&
            std::find(options_given.begin(), options_given.end(), a.cli_flag) ==
                options_given.end()) {
            return usage;
        }
    }
    for (const auto& given_option : options_given) {
        const bool known =
            std::any_of(
                c.options.begin(), c.options.end(),
                [&](const option& o) { return given_option == o.name && in(o.where, f); }) ||
            std::any_of(c.arguments.begin(), c.arguments.end(), [&](const argument& a) {
                return a.cli_flag && given_option == a.cli_flag;
            });
        if (!known) {
            return usage;
        }
    }
    return std::nullopt;
}

std::vector<std::string> complete(front f, const std::vector<std::string>& before,
                                  const std::string& prefix, const completion_source& source) {
    std::vector<std::string> out;
    auto offer = [&](const std::string& candidate) {
        if (candidate.rfind(prefix, 0) == 0 && candidate != prefix &&
            std::find(out.begin(), out.end(), candidate) == out.end()) {
            out.push_back(candidate);
        }
    };
    auto offer_channels = [&](bool hash) {
        if (source.channels) {
            for (const auto& name : source.channels()) {
                offer(hash ? "#" + name : name);
            }
        }
    };
    auto offer_people = [&](bool at) {
        if (source.people) {
            for (const auto& name : source.people()) {
                offer(at ? "@" + name : name);
            }
        }
    };
    // Free text (a message, a topic): channels after '#', people otherwise.
    auto offer_in_text = [&] {
        if (prefix.starts_with("#")) {
            offer_channels(true);
        } else {
            offer_people(prefix.starts_with("@"));
        }
    };
    const std::string lead = f == front::tui ? "/" : "";
    if (before.empty()) {
        if (f == front::cli || prefix.starts_with("/")) {
            for (const auto& c : commands()) {
                if (in(c.where, f)) {
                    // A command of two words offers its first one here.
                    const auto name = c.name_in(f);
                    offer(lead + name.substr(0, name.find(' ')));
                }
            }
        } else {
            offer_in_text();
        }
        return out;
    }
    std::string name = before[0];
    if (f == front::tui) {
        if (!name.starts_with("/")) {
            offer_in_text();
            return out;
        }
        name.erase(0, 1);
    }
    auto typed = before;
    typed[0] = name;
    typed = grouped(std::move(typed), f);
    const auto* c = find_command(typed[0], f);
    if (!c) {
        // The second word of a command of two words.
        for (const auto& other : commands()) {
            const auto full = other.name_in(f);
            if (typed.size() == 1 && in(other.where, f) && full.starts_with(name + " ")) {
                offer(full.substr(name.size() + 1));
            }
        }
        return out;
    }
    if (f == front::cli && prefix.starts_with("-")) {
        for (const auto& o : c->options) {
            if (in(o.where, f)) {
                offer(o.name);
            }
        }
        for (const auto& a : c->arguments) {
            if (a.cli_flag) {
                offer(a.cli_flag);
            }
        }
        return out;
    }
    if (f == front::tui && prefix.starts_with("-")) {
        for (const auto& o : c->options) {
            if (in(o.where, f)) {
                offer(o.name);
            }
        }
        return out;
    }
    const auto args = placed(*c, f);
    // Options and their values do not take an argument's place.
    std::size_t index = 0;
    for (std::size_t i = 1; i < typed.size(); ++i) {
        if (!typed[i].starts_with("-")) {
            ++index;
        }
    }
    if (index >= args.size()) {
        if (!args.empty() && args.back()->kind == arg_kind::text) {
            offer_in_text();
        }
        return out;
    }
    const auto& a = *args[index];
    switch (a.kind) {
        case arg_kind::channel:
            offer_channels(prefix.starts_with("#"));
            break;
        case arg_kind::user:
            offer_people(prefix.starts_with("@"));
            break;
        case arg_kind::choice:
            for (const auto& choice : choices_of(a)) {
                offer(choice);
            }
            break;
        case arg_kind::word:
            if (c->name == std::string_view("help")) {
                for (const auto& other : commands()) {
                    if (in(other.where, f)) {
                        offer(other.name_in(f));
                    }
                }
            }
            break;
        case arg_kind::text:
            offer_in_text();
            break;
        case arg_kind::number:
            break;
    }
    return out;
}

}  // namespace relais::cli
