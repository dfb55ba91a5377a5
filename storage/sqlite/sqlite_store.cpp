#include "storage/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <chrono>
#include <exception>

#include "storage/shipped_templates.hpp"
#include "storage/text/search_text.hpp"

namespace relais::storage::sqlite {
namespace {

double seconds_since(std::chrono::steady_clock::time_point began) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
}

// Ordered migrations: entry i takes the schema from version i to i + 1.
// Append only; never edit a released entry.
constexpr const char* migrations[] = {
    // 1: accounts, sessions, channels, members, events.
    R"sql(
    CREATE TABLE accounts(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        role INTEGER NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0,
        password_hash TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL);
    CREATE TABLE sessions(
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES accounts(id),
        created_at_ms INTEGER NOT NULL) WITHOUT ROWID;
    CREATE INDEX sessions_by_user ON sessions(user_id);
    CREATE TABLE channels(
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        topic TEXT NOT NULL,
        kind INTEGER NOT NULL,
        last_seq INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL);
    CREATE TABLE members(
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        user_id INTEGER NOT NULL REFERENCES accounts(id),
        role INTEGER NOT NULL,
        PRIMARY KEY(channel_id, user_id)) WITHOUT ROWID;
    CREATE INDEX members_by_user ON members(user_id, channel_id);
    CREATE TABLE events(
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        seq INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        actor_id INTEGER NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        client_msg_id TEXT,
        target_seq INTEGER NOT NULL DEFAULT 0,
        subject_id INTEGER NOT NULL DEFAULT 0,
        change INTEGER NOT NULL DEFAULT 0,
        role INTEGER NOT NULL DEFAULT 0,
        edited_at_ms INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY(channel_id, seq));
    -- The idempotency key lives in the message's own row, so it is committed
    -- in the same transaction and kept as long as the message.
    CREATE UNIQUE INDEX events_by_client_msg_id ON events(actor_id, client_msg_id)
        WHERE client_msg_id IS NOT NULL;
    )sql",
    // 2: read markers.
    R"sql(
    ALTER TABLE members ADD COLUMN last_read_seq INTEGER NOT NULL DEFAULT 0;
    )sql",
    // 3: a count of what may end a live session (a session deleted, an
    // account disabled), kept by triggers whichever process writes: the
    // server compares it every few seconds instead of looking every live
    // session up.
    R"sql(
    CREATE TABLE auth_changes(id INTEGER PRIMARY KEY CHECK (id = 1), count INTEGER NOT NULL);
    INSERT INTO auth_changes VALUES(1, 0);
    CREATE TRIGGER auth_change_session_deleted AFTER DELETE ON sessions
    BEGIN
        UPDATE auth_changes SET count = count + 1;
    END;
    CREATE TRIGGER auth_change_account_disabled AFTER UPDATE OF disabled ON accounts
        WHEN NEW.disabled != OLD.disabled
    BEGIN
        UPDATE auth_changes SET count = count + 1;
    END;
    )sql",
    // 4: what plain members of a channel may do. Private channels, old and
    // new, leave invitations and the topic to their moderators.
    R"sql(
    ALTER TABLE channels ADD COLUMN members_can_invite INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE channels ADD COLUMN members_can_set_topic INTEGER NOT NULL DEFAULT 1;
    UPDATE channels SET members_can_invite = 0, members_can_set_topic = 0 WHERE kind = 2;
    )sql",
    // 5: a channel's display name, what people read ("Échanges de pratiques").
    R"sql(
    ALTER TABLE channels ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
    )sql",
    // 6: threads, resources, reactions, pins, mentions and full-text search.
    R"sql(
    ALTER TABLE events ADD COLUMN thread_seq INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX events_by_thread ON events(channel_id, thread_seq, seq) WHERE thread_seq != 0;
    -- A thread's summary, recomputed from its replies whenever one changes.
    CREATE TABLE threads(
        channel_id INTEGER NOT NULL,
        root_seq INTEGER NOT NULL,
        reply_count INTEGER NOT NULL DEFAULT 0,
        last_reply_seq INTEGER NOT NULL DEFAULT 0,
        last_reply_at_ms INTEGER NOT NULL DEFAULT 0,
        participants TEXT NOT NULL DEFAULT '',
        question INTEGER NOT NULL DEFAULT 0,
        solved_seq INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY(channel_id, root_seq)) WITHOUT ROWID;
    -- A user's read marker in a thread; kept when they stop following it.
    CREATE TABLE thread_reads(
        user_id INTEGER NOT NULL,
        channel_id INTEGER NOT NULL,
        root_seq INTEGER NOT NULL,
        last_read_seq INTEGER NOT NULL DEFAULT 0,
        following INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY(user_id, channel_id, root_seq)) WITHOUT ROWID;
    CREATE TABLE mentions(
        user_id INTEGER NOT NULL,
        channel_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        thread_seq INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY(user_id, channel_id, seq)) WITHOUT ROWID;
    CREATE INDEX mentions_by_message ON mentions(channel_id, seq);
    CREATE TABLE reactions(
        channel_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        emoji TEXT NOT NULL,
        user_id INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY(channel_id, seq, emoji, user_id)) WITHOUT ROWID;
    CREATE TABLE pins(
        channel_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        pinned_by INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY(channel_id, seq)) WITHOUT ROWID;
    -- A resource's current version; its description is its message's text.
    -- Lists ('tags', ...) are joined with a line feed, which no label holds.
    CREATE TABLE resources(
        channel_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        author_id INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        title TEXT NOT NULL,
        link TEXT NOT NULL,
        kind INTEGER NOT NULL,
        licence INTEGER NOT NULL,
        tags TEXT NOT NULL,
        themes TEXT NOT NULL,
        audiences TEXT NOT NULL,
        version INTEGER NOT NULL,
        version_at_ms INTEGER NOT NULL,
        editor_id INTEGER NOT NULL,
        event_seq INTEGER NOT NULL,
        reply_count INTEGER NOT NULL DEFAULT 0,
        last_activity_ms INTEGER NOT NULL,
        PRIMARY KEY(channel_id, seq)) WITHOUT ROWID;
    CREATE INDEX resources_newest ON resources(created_at_ms);
    CREATE INDEX resources_discussed ON resources(reply_count, created_at_ms);
    CREATE INDEX resources_active ON resources(last_activity_ms);
    CREATE INDEX resources_by_author ON resources(author_id, created_at_ms);
    -- One row per tag (1), theme (2) and audience (3) of a resource, with
    -- what the library filters and sorts on: a query with a label walks
    -- that label's rows in the order asked and stops at its page.
    CREATE TABLE resource_labels(
        list INTEGER NOT NULL,
        value TEXT NOT NULL,
        channel_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        kind INTEGER NOT NULL,
        author_id INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        reply_count INTEGER NOT NULL,
        last_activity_ms INTEGER NOT NULL,
        PRIMARY KEY(list, value, channel_id, seq)) WITHOUT ROWID;
    CREATE INDEX resource_labels_by_resource ON resource_labels(channel_id, seq);
    CREATE INDEX resource_labels_newest ON resource_labels(list, value, created_at_ms);
    CREATE INDEX resource_labels_discussed
        ON resource_labels(list, value, reply_count, created_at_ms);
    CREATE INDEX resource_labels_active ON resource_labels(list, value, last_activity_ms);
    -- Every version of every resource, the current one included.
    CREATE TABLE resource_versions(
        channel_id INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        version INTEGER NOT NULL,
        title TEXT NOT NULL,
        link TEXT NOT NULL,
        description TEXT NOT NULL,
        kind INTEGER NOT NULL,
        licence INTEGER NOT NULL,
        tags TEXT NOT NULL,
        themes TEXT NOT NULL,
        audiences TEXT NOT NULL,
        version_at_ms INTEGER NOT NULL,
        editor_id INTEGER NOT NULL,
        event_seq INTEGER NOT NULL,
        PRIMARY KEY(channel_id, seq, version)) WITHOUT ROWID;
    CREATE INDEX resource_versions_by_event ON resource_versions(channel_id, event_seq);
    -- The themes and audiences a resource may carry: data an admin extends
    -- (relais-server vocabulary add), seeded with the ones mediators use in
    -- their activity reports.
    CREATE TABLE vocabulary(
        list TEXT NOT NULL,
        slug TEXT NOT NULL,
        label_fr TEXT NOT NULL,
        label_en TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY(list, slug)) WITHOUT ROWID;
    INSERT INTO vocabulary VALUES
        ('theme', 'diagnostic', 'Diagnostic numérique', 'Digital skills assessment', 1),
        ('theme', 'materiel', 'Matériel', 'Devices', 2),
        ('theme', 'e-mail', 'E-mail', 'E-mail', 3),
        ('theme', 'sante', 'Santé', 'Health', 4),
        ('theme', 'banque-achats', 'Banque et achats', 'Banking and shopping', 5),
        ('theme', 'insertion-pro', 'Insertion professionnelle', 'Job search', 6),
        ('theme', 'securite', 'Sécurité numérique', 'Digital security', 7),
        ('theme', 'parentalite', 'Parentalité', 'Parenting', 8),
        ('theme', 'ia', 'IA', 'AI', 9),
        ('theme', 'culture-numerique', 'Culture numérique', 'Digital culture', 10),
        ('theme', 'demarches', 'Démarches administratives', 'Administrative procedures', 11),
        ('theme', 'demarches-identite', 'Papiers d''identité', 'Identity papers', 12),
        ('theme', 'demarches-famille', 'Famille', 'Family', 13),
        ('theme', 'demarches-social-sante', 'Social et santé', 'Welfare and health', 14),
        ('theme', 'demarches-logement', 'Logement', 'Housing', 15),
        ('theme', 'demarches-impots', 'Impôts', 'Taxes', 16),
        ('theme', 'demarches-justice', 'Justice', 'Justice', 17),
        ('theme', 'demarches-etrangers', 'Étrangers', 'Foreign nationals', 18),
        ('theme', 'demarches-travail', 'Travail', 'Work', 19),
        ('theme', 'demarches-transports', 'Transports', 'Transport', 20),
        ('audience', 'seniors', 'Seniors', 'Seniors', 1),
        ('audience', 'jeunes', 'Jeunes', 'Young people', 2),
        ('audience', 'allophones', 'Personnes allophones', 'Non-French speakers', 3),
        ('audience', 'demandeurs-emploi', 'Demandeurs d''emploi', 'Job seekers', 4),
        ('audience', 'handicap', 'Personnes en situation de handicap', 'People with disabilities', 5),
        ('audience', 'illettrisme', 'Personnes en situation d''illettrisme', 'People with low literacy', 6),
        ('audience', 'familles', 'Familles', 'Families', 7);
    -- Full-text search. Each message has a document number, given in the
    -- order messages are written (never reused, kept by VACUUM), so that
    -- the newest matches come first without sorting. Both indexes hold no
    -- text of their own (the events do), and removing a document gives
    -- back exactly what was indexed (search_pending.indexed). Words: case and
    -- accents folded by the tokenizer; trigrams: for words inside longer
    -- ones, over a folded copy (3.40's trigram tokenizer keeps accents).
    ALTER TABLE events ADD COLUMN doc INTEGER;
    UPDATE events SET doc = rowid WHERE kind = 1;
    CREATE UNIQUE INDEX events_by_doc ON events(doc) WHERE doc IS NOT NULL;
    CREATE VIRTUAL TABLE search_words USING fts5(
        body, content='', tokenize='unicode61 remove_diacritics 2');
    CREATE VIRTUAL TABLE search_trigram USING fts5(
        body, content='', columnsize=0, tokenize='trigram');
    -- Documents whose index entries are behind their message: written in
    -- the message's own transaction, indexed by the writer a moment later
    -- in batches (one FTS5 segment for many messages instead of one each).
    -- `indexed` is what the indexes hold for it meanwhile (NULL: nothing).
    CREATE TABLE search_pending(doc INTEGER PRIMARY KEY, indexed TEXT);
    INSERT INTO search_words(rowid, body)
        SELECT doc, text FROM events WHERE kind = 1 AND deleted = 0 AND text != '';
    INSERT INTO search_trigram(rowid, body)
        SELECT doc, relais_fold(text) FROM events WHERE kind = 1 AND deleted = 0 AND text != '';
    )sql",
    // 7: practice-exchange meetings, and where people work.
    R"sql(
    ALTER TABLE accounts ADD COLUMN structure TEXT NOT NULL DEFAULT '';
    ALTER TABLE accounts ADD COLUMN commune TEXT NOT NULL DEFAULT '';
    -- A meeting's events carry their change in `body`; a message posted
    -- while a meeting was live names it and its phase.
    ALTER TABLE events ADD COLUMN meeting_id INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE events ADD COLUMN meeting_phase INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE events ADD COLUMN body BLOB;
    CREATE INDEX events_by_meeting ON events(meeting_id) WHERE meeting_id != 0;
    -- The columns the server looks meetings up by; the rest of a meeting's
    -- state (agenda, participants, queue, polls, notes, tables, minutes) is
    -- one record, rewritten with each change in the change's transaction.
    CREATE TABLE meetings(
        id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        state INTEGER NOT NULL,
        start_ms INTEGER NOT NULL,
        created_by INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        started_at_ms INTEGER NOT NULL DEFAULT 0,
        ended_at_ms INTEGER NOT NULL DEFAULT 0,
        current_phase INTEGER NOT NULL DEFAULT 0,
        silenced TEXT NOT NULL DEFAULT '',
        next_timer_ms INTEGER NOT NULL DEFAULT 0,
        record BLOB NOT NULL);
    CREATE INDEX meetings_by_channel ON meetings(channel_id, state, start_ms);
    CREATE INDEX meetings_by_timer ON meetings(next_timer_ms) WHERE next_timer_ms != 0;
    CREATE INDEX meetings_by_start ON meetings(started_at_ms) WHERE started_at_ms != 0;
    -- The private channel of each world café table.
    CREATE TABLE meeting_tables(
        channel_id INTEGER PRIMARY KEY REFERENCES channels(id),
        meeting_id INTEGER NOT NULL REFERENCES meetings(id),
        number INTEGER NOT NULL);
    CREATE TABLE meeting_cases(
        id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        author_id INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        text TEXT NOT NULL,
        chosen_by INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX meeting_cases_by_channel ON meeting_cases(channel_id, id);
    -- Agendas ready to use: the shipped ones are stored with this
    -- migration (storage/templates); an admin adds more.
    CREATE TABLE meeting_templates(
        name TEXT PRIMARY KEY,
        json TEXT NOT NULL,
        position INTEGER NOT NULL) WITHOUT ROWID;
    )sql",
    // 8: invitations (the code's hash only) and who registered with each.
    R"sql(
    CREATE TABLE invitations(
        id INTEGER PRIMARY KEY,
        code_hash TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        created_by INTEGER NOT NULL DEFAULT 0,
        role INTEGER NOT NULL,
        uses INTEGER NOT NULL,
        used INTEGER NOT NULL DEFAULT 0,
        expires_at_ms INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL,
        channels TEXT NOT NULL DEFAULT '');
    CREATE TABLE invitation_uses(
        invitation_id INTEGER NOT NULL REFERENCES invitations(id),
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        at_ms INTEGER NOT NULL);
    CREATE INDEX invitation_uses_by_account ON invitation_uses(account_id);
    )sql",
    // 9: what a session's owner sees of it, and password reset codes (the
    // code's hash only, one per account).
    R"sql(
    ALTER TABLE sessions ADD COLUMN client_name TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';
    ALTER TABLE sessions ADD COLUMN last_seen_ms INTEGER NOT NULL DEFAULT 0;
    UPDATE sessions SET last_seen_ms = created_at_ms;
    CREATE TABLE password_resets(
        user_id INTEGER PRIMARY KEY REFERENCES accounts(id),
        code_hash TEXT NOT NULL UNIQUE,
        created_by INTEGER NOT NULL DEFAULT 0,
        created_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER NOT NULL);
    )sql",
    // 10: the directory's profile fields; skills one per line.
    R"sql(
    ALTER TABLE accounts ADD COLUMN network_role INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE accounts ADD COLUMN presentation TEXT NOT NULL DEFAULT '';
    ALTER TABLE accounts ADD COLUMN skills TEXT NOT NULL DEFAULT '';
    )sql",
    // 11: moderation (mutes, bans, reports) and the audit log, which
    // refuses every change but an insert, whoever opens the file.
    R"sql(
    CREATE TABLE mutes(
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        user_id INTEGER NOT NULL REFERENCES accounts(id),
        until_ms INTEGER NOT NULL,
        by_id INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        PRIMARY KEY(channel_id, user_id)) WITHOUT ROWID;
    CREATE TABLE bans(
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        user_id INTEGER NOT NULL REFERENCES accounts(id),
        by_id INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        PRIMARY KEY(channel_id, user_id)) WITHOUT ROWID;
    CREATE TABLE reports(
        id INTEGER PRIMARY KEY,
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        seq INTEGER NOT NULL,
        reporter_id INTEGER NOT NULL,
        reason TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        resolved_by INTEGER NOT NULL DEFAULT 0,
        resolved_at_ms INTEGER NOT NULL DEFAULT 0,
        resolution TEXT NOT NULL DEFAULT '');
    CREATE INDEX reports_by_channel ON reports(channel_id, id);
    CREATE TABLE audit_log(
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        actor_id INTEGER NOT NULL,
        action TEXT NOT NULL,
        subject_id INTEGER NOT NULL DEFAULT 0,
        channel_id INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '');
    CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
    BEGIN
        SELECT RAISE(ABORT, 'the audit log is append-only');
    END;
    CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
    BEGIN
        SELECT RAISE(ABORT, 'the audit log is append-only');
    END;
    )sql",
    // 12: erased accounts (the row stays, anonymous, for what others wrote
    // about and with it) and per-channel retention.
    R"sql(
    ALTER TABLE accounts ADD COLUMN erased_at_ms INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE channels ADD COLUMN retention_days INTEGER NOT NULL DEFAULT 0;
    )sql",
    // 13: attached files. The bytes are files on disk (storage/files),
    // named by their SHA-256; these rows say who uploaded what, and which
    // message carries which file.
    R"sql(
    CREATE TABLE uploads(
        id TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES accounts(id),
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        completed_at_ms INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
    CREATE INDEX uploads_by_user ON uploads(user_id, sha256);
    CREATE INDEX uploads_by_file ON uploads(sha256);
    CREATE TABLE files(
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        content_type TEXT NOT NULL,
        inline INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE attachments(
        channel_id INTEGER NOT NULL REFERENCES channels(id),
        seq INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        name TEXT NOT NULL,
        uploader_id INTEGER NOT NULL,
        PRIMARY KEY(channel_id, seq)) WITHOUT ROWID;
    CREATE INDEX attachments_by_file ON attachments(sha256, uploader_id);
    )sql",
};

constexpr int migration_count = static_cast<int>(std::size(migrations));
// The migration that made meeting_templates, and stores the shipped ones.
constexpr int templates_migration = 7;

void seed_meeting_templates(connection& db) {
    int position = 0;
    for (const auto& [name, json] : shipped_meeting_templates()) {
        auto st = db.prepare("INSERT INTO meeting_templates(name, json, position) VALUES(?, ?, ?)");
        st.bind(1, name).bind(2, json).bind(3, ++position);
        st.run();
    }
}

#define RELAIS_INVITATION_COLUMNS                                                                 \
    "id, code_hash, label, created_by, role, uses, used, expires_at_ms, revoked, created_at_ms, " \
    "channels"

invitation_record read_invitation(const statement& st) {
    invitation_record i;
    i.id = st.uint64(0);
    i.code_hash = st.text(1);
    i.label = st.text(2);
    i.created_by = st.uint64(3);
    i.role = static_cast<v1::Role>(st.integer(4));
    i.uses = static_cast<std::uint32_t>(st.integer(5));
    i.used = static_cast<std::uint32_t>(st.integer(6));
    i.expires_at_ms = st.int64(7);
    i.revoked = st.integer(8) != 0;
    i.created_at_ms = st.int64(9);
    const auto channels = st.text(10);
    for (std::size_t at = 0; at < channels.size();) {
        auto comma = channels.find(',', at);
        if (comma == std::string::npos) {
            comma = channels.size();
        }
        i.channels.push_back(std::stoull(channels.substr(at, comma - at)));
        at = comma + 1;
    }
    return i;
}

std::string join_lines(const std::vector<std::string>& items);
std::vector<std::string> split_lines(std::string_view joined);

account read_account(const statement& st) {
    account a;
    a.id = st.uint64(0);
    a.name = st.text(1);
    a.display_name = st.text(2);
    a.role = static_cast<v1::Role>(st.integer(3));
    a.disabled = st.integer(4) != 0;
    a.password_hash = st.text(5);
    a.created_at_ms = st.int64(6);
    a.structure = st.text(7);
    a.commune = st.text(8);
    a.network_role = static_cast<v1::NetworkRole>(st.integer(9));
    a.presentation = st.text(10);
    a.skills = split_lines(st.text(11));
    a.erased_at_ms = st.int64(12);
    return a;
}

session_record read_session(const statement& st) {
    session_record s;
    s.token_hash = st.text(0);
    s.user = st.uint64(1);
    s.created_at_ms = st.int64(2);
    s.client_name = st.text(3);
    s.device = st.text(4);
    s.last_seen_ms = st.int64(5);
    return s;
}

report_record read_report(const statement& st) {
    report_record r;
    r.id = st.uint64(0);
    r.channel = st.uint64(1);
    r.seq = st.uint64(2);
    r.reporter = st.uint64(3);
    r.reason = st.text(4);
    r.at_ms = st.int64(5);
    r.resolved_by = st.uint64(6);
    r.resolved_at_ms = st.int64(7);
    r.resolution = st.text(8);
    return r;
}

#define RELAIS_UPLOAD_COLUMNS "id, user_id, name, size, sha256, created_at_ms, completed_at_ms"
#define RELAIS_FILE_COLUMNS "f.sha256, f.size, f.content_type, f.inline, f.created_at_ms"
#define RELAIS_ATTACHMENT_COLUMNS "a.channel_id, a.seq, a.name, a.uploader_id, " RELAIS_FILE_COLUMNS

upload_record read_upload(const statement& st) {
    upload_record u;
    u.id = st.text(0);
    u.user = st.uint64(1);
    u.name = st.text(2);
    u.size = st.uint64(3);
    u.sha256 = st.text(4);
    u.created_at_ms = st.int64(5);
    u.completed_at_ms = st.int64(6);
    return u;
}

file_record read_file_row(const statement& st, int first) {
    file_record f;
    f.sha256 = st.text(first);
    f.size = st.uint64(first + 1);
    f.content_type = st.text(first + 2);
    f.is_inline = st.integer(first + 3) != 0;
    f.created_at_ms = st.int64(first + 4);
    return f;
}

attachment_record read_attachment(const statement& st) {
    attachment_record a;
    a.channel = st.uint64(0);
    a.seq = st.uint64(1);
    a.name = st.text(2);
    a.uploader = st.uint64(3);
    a.file = read_file_row(st, 4);
    return a;
}

#define RELAIS_REPORT_COLUMNS \
    "id, channel_id, seq, reporter_id, reason, at_ms, resolved_by, resolved_at_ms, resolution"
#define RELAIS_SESSION_COLUMNS \
    "token_hash, user_id, created_at_ms, client_name, device, last_seen_ms"
#define RELAIS_ACCOUNT_COLUMNS                                                                   \
    "id, name, display_name, role, disabled, password_hash, created_at_ms, structure, commune, " \
    "network_role, presentation, skills, erased_at_ms"
#define RELAIS_CHANNEL_COLUMNS                                                                    \
    "id, name, topic, kind, last_seq, created_at_ms, members_can_invite, members_can_set_topic, " \
    "display_name, retention_days"
#define RELAIS_EVENT_COLUMNS                                                                \
    "channel_id, seq, kind, at_ms, actor_id, text, client_msg_id, target_seq, subject_id, " \
    "change, role, edited_at_ms, deleted, thread_seq, meeting_id, meeting_phase, body"
#define RELAIS_THREAD_COLUMNS                                                             \
    "channel_id, root_seq, reply_count, last_reply_seq, last_reply_at_ms, participants, " \
    "question, solved_seq"
// The current version of a resource, from resources r joined to its event e.
#define RELAIS_RESOURCE_COLUMNS                                                            \
    "r.channel_id, r.seq, r.author_id, r.created_at_ms, r.title, r.link, e.text, r.kind, " \
    "r.licence, r.tags, r.themes, r.audiences, r.version, r.version_at_ms, r.editor_id, "  \
    "r.event_seq, r.reply_count, r.last_activity_ms"
// A version, from resource_versions v joined to its event e.
#define RELAIS_VERSION_COLUMNS                                                            \
    "v.channel_id, v.seq, e.actor_id, e.at_ms, v.title, v.link, v.description, v.kind, "  \
    "v.licence, v.tags, v.themes, v.audiences, v.version, v.version_at_ms, v.editor_id, " \
    "v.event_seq, 0, 0"

channel_record read_channel(const statement& st) {
    channel_record c;
    c.id = st.uint64(0);
    c.name = st.text(1);
    c.topic = st.text(2);
    c.kind = static_cast<v1::ChannelKind>(st.integer(3));
    c.last_seq = st.uint64(4);
    c.created_at_ms = st.int64(5);
    c.members_can_invite = st.integer(6) != 0;
    c.members_can_set_topic = st.integer(7) != 0;
    c.display_name = st.text(8);
    c.retention_days = static_cast<std::uint32_t>(st.integer(9));
    return c;
}

membership read_membership(const statement& st) {
    membership m;
    m.channel = st.uint64(0);
    m.user = st.uint64(1);
    m.role = static_cast<v1::MemberRole>(st.integer(2));
    m.last_read_seq = st.uint64(3);
    return m;
}

event_record read_event(const statement& st) {
    event_record e;
    e.channel = st.uint64(0);
    e.seq = st.uint64(1);
    e.kind = static_cast<event_kind>(st.integer(2));
    e.at_ms = st.int64(3);
    e.actor = st.uint64(4);
    e.text = st.text(5);
    e.client_msg_id = st.text(6);
    e.target_seq = st.uint64(7);
    e.subject = st.uint64(8);
    e.change = st.integer(9);
    e.role = st.integer(10);
    e.edited_at_ms = st.int64(11);
    e.deleted = st.integer(12) != 0;
    e.thread_seq = st.uint64(13);
    e.meeting = st.uint64(14);
    e.meeting_phase = static_cast<std::uint32_t>(st.int64(15));
    if (!st.is_null(16)) {
        e.body = st.blob(16);
    }
    return e;
}

// Lists of labels and of ids are stored joined by a line feed.
std::string join_lines(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) {
        if (!out.empty()) {
            out += '\n';
        }
        out += item;
    }
    return out;
}

std::vector<std::string> split_lines(std::string_view joined) {
    std::vector<std::string> out;
    while (!joined.empty()) {
        const auto end = std::min(joined.find('\n'), joined.size());
        out.emplace_back(joined.substr(0, end));
        joined.remove_prefix(std::min(end + 1, joined.size()));
    }
    return out;
}

#define RELAIS_MEETING_COLUMNS                                                    \
    "id, channel_id, state, start_ms, created_by, created_at_ms, started_at_ms, " \
    "ended_at_ms, current_phase, silenced, next_timer_ms, record"

meeting_record read_meeting(const statement& st) {
    meeting_record m;
    m.id = st.uint64(0);
    m.channel = st.uint64(1);
    m.state = st.integer(2);
    m.start_ms = st.int64(3);
    m.created_by = st.uint64(4);
    m.created_at_ms = st.int64(5);
    m.started_at_ms = st.int64(6);
    m.ended_at_ms = st.int64(7);
    m.current_phase = static_cast<std::uint32_t>(st.int64(8));
    for (const auto& id : split_lines(st.text(9))) {
        m.silenced.push_back(std::stoull(id));
    }
    m.next_timer_ms = st.int64(10);
    m.record = st.blob(11);
    return m;
}

std::string join_ids(const std::vector<user_id>& ids) {
    std::vector<std::string> lines;
    for (auto id : ids) {
        lines.push_back(std::to_string(id));
    }
    return join_lines(lines);
}

thread_record read_thread(const statement& st) {
    thread_record t;
    t.channel = st.uint64(0);
    t.root_seq = st.uint64(1);
    t.reply_count = static_cast<std::uint32_t>(st.int64(2));
    t.last_reply_seq = st.uint64(3);
    t.last_reply_at_ms = st.int64(4);
    for (const auto& id : split_lines(st.text(5))) {
        t.participants.push_back(std::stoull(id));
    }
    t.question = st.integer(6) != 0;
    t.solved_seq = st.uint64(7);
    return t;
}

thread_follow read_follow(const statement& st) {
    return thread_follow{st.uint64(0), st.uint64(1), st.uint64(2), st.uint64(3),
                         st.integer(4) != 0};
}

resource_record read_resource(const statement& st) {
    resource_record r;
    r.channel = st.uint64(0);
    r.seq = st.uint64(1);
    r.author = st.uint64(2);
    r.created_at_ms = st.int64(3);
    r.title = st.text(4);
    r.link = st.text(5);
    r.description = st.text(6);
    r.kind = st.integer(7);
    r.licence = st.integer(8);
    r.tags = split_lines(st.text(9));
    r.themes = split_lines(st.text(10));
    r.audiences = split_lines(st.text(11));
    r.version = static_cast<std::uint32_t>(st.int64(12));
    r.version_at_ms = st.int64(13);
    r.editor = st.uint64(14);
    r.event_seq = st.uint64(15);
    r.reply_count = static_cast<std::uint32_t>(st.int64(16));
    r.last_activity_ms = st.int64(17);
    return r;
}

// A word as an FTS5 string: whatever it holds is searched as itself.
std::string fts_string(std::string_view word) {
    std::string out = "\"";
    for (char c : word) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    out += '"';
    return out;
}

std::string channel_list_json(const std::vector<channel_id>& channels) {
    std::string out = "[";
    for (std::size_t i = 0; i < channels.size(); ++i) {
        if (i) {
            out += ',';
        }
        out += std::to_string(channels[i]);
    }
    return out + "]";
}

enum label_list : int { tag_label = 1, theme_label = 2, audience_label = 3 };

template <class T, class Read>
std::vector<T> all_rows(statement& st, Read read) {
    std::vector<T> rows;
    while (st.step()) {
        rows.push_back(read(st));
    }
    return rows;
}

template <class T, class Read>
std::optional<T> one_row(statement& st, Read read) {
    if (st.step()) {
        return read(st);
    }
    return std::nullopt;
}

// The SQL behind reader and writer, over one connection.
class sql_access final : public writer {
  public:
    explicit sql_access(connection& db) : db_(db) {}

    std::optional<account> find_account(std::string_view name) override {
        auto st = db_.prepare("SELECT " RELAIS_ACCOUNT_COLUMNS " FROM accounts WHERE name = ?");
        st.bind(1, name);
        return one_row<account>(st, read_account);
    }
    std::optional<account> find_account(user_id id) override {
        auto st = db_.prepare("SELECT " RELAIS_ACCOUNT_COLUMNS " FROM accounts WHERE id = ?");
        st.bind(1, id);
        return one_row<account>(st, read_account);
    }
    std::vector<account> list_accounts() override {
        auto st = db_.prepare("SELECT " RELAIS_ACCOUNT_COLUMNS " FROM accounts ORDER BY name");
        return all_rows<account>(st, read_account);
    }
    std::optional<upload_record> find_upload(std::string_view id) override {
        auto st = db_.prepare("SELECT " RELAIS_UPLOAD_COLUMNS " FROM uploads WHERE id = ?");
        st.bind(1, id);
        return one_row<upload_record>(st, read_upload);
    }
    std::optional<upload_record> find_upload_of(user_id user, std::string_view sha256,
                                                std::uint64_t size) override {
        auto st = db_.prepare("SELECT " RELAIS_UPLOAD_COLUMNS
                              " FROM uploads WHERE user_id = ? AND sha256 = ? AND size = ? "
                              "ORDER BY completed_at_ms DESC LIMIT 1");
        st.bind(1, user).bind(2, sha256).bind(3, size);
        return one_row<upload_record>(st, read_upload);
    }
    std::uint64_t upload_bytes_of(user_id user) override {
        auto st = db_.prepare("SELECT coalesce(sum(size), 0) FROM uploads WHERE user_id = ?");
        st.bind(1, user);
        return st.step() ? st.uint64(0) : 0;
    }
    std::optional<file_record> find_file(std::string_view sha256) override {
        auto st = db_.prepare("SELECT " RELAIS_FILE_COLUMNS " FROM files f WHERE sha256 = ?");
        st.bind(1, sha256);
        return one_row<file_record>(st, [](const statement& row) { return read_file_row(row, 0); });
    }
    std::optional<attachment_record> find_attachment(channel_id channel, seq_t seq) override {
        auto st = db_.prepare("SELECT " RELAIS_ATTACHMENT_COLUMNS
                              " FROM attachments a JOIN files f ON f.sha256 = a.sha256 "
                              "WHERE a.channel_id = ? AND a.seq = ?");
        st.bind(1, channel).bind(2, seq);
        return one_row<attachment_record>(st, read_attachment);
    }
    std::vector<attachment_record> attachments_in(channel_id channel, seq_t from,
                                                  seq_t to) override {
        auto st = db_.prepare("SELECT " RELAIS_ATTACHMENT_COLUMNS
                              " FROM attachments a JOIN files f ON f.sha256 = a.sha256 "
                              "WHERE a.channel_id = ? AND a.seq BETWEEN ? AND ?");
        st.bind(1, channel).bind(2, from).bind(3, to);
        std::vector<attachment_record> out;
        while (st.step()) {
            out.push_back(read_attachment(st));
        }
        return out;
    }
    std::optional<session_record> find_session(std::string_view token_hash) override {
        auto st =
            db_.prepare("SELECT " RELAIS_SESSION_COLUMNS " FROM sessions WHERE token_hash = ?");
        st.bind(1, token_hash);
        return one_row<session_record>(st, read_session);
    }
    std::vector<session_record> sessions_of(user_id user) override {
        auto st = db_.prepare("SELECT " RELAIS_SESSION_COLUMNS
                              " FROM sessions WHERE user_id = ? ORDER BY last_seen_ms DESC");
        st.bind(1, user);
        return all_rows<session_record>(st, read_session);
    }
    std::vector<mute_record> list_mutes() override {
        auto st =
            db_.prepare("SELECT channel_id, user_id, until_ms, by_id, at_ms, reason FROM mutes");
        return all_rows<mute_record>(st, [](const statement& r) {
            return mute_record{r.uint64(0), r.uint64(1), r.int64(2),
                               r.uint64(3), r.int64(4),  r.text(5)};
        });
    }
    std::optional<ban_record> find_ban(channel_id channel, user_id user) override {
        auto st = db_.prepare(
            "SELECT channel_id, user_id, by_id, at_ms, reason FROM bans "
            "WHERE channel_id = ? AND user_id = ?");
        st.bind(1, channel).bind(2, user);
        return one_row<ban_record>(st, [](const statement& r) {
            return ban_record{r.uint64(0), r.uint64(1), r.uint64(2), r.int64(3), r.text(4)};
        });
    }
    std::optional<report_record> find_report(std::uint64_t id) override {
        auto st = db_.prepare("SELECT " RELAIS_REPORT_COLUMNS " FROM reports WHERE id = ?");
        st.bind(1, id);
        return one_row<report_record>(st, read_report);
    }
    std::vector<report_record> list_reports(const std::vector<channel_id>& channels,
                                            bool include_resolved, std::uint32_t limit) override {
        std::vector<report_record> out;
        auto keep = [&](statement& st) {
            while (out.size() < limit && st.step()) {
                out.push_back(read_report(st));
            }
        };
        // Two texts each, not one built: prepare caches statements by text.
        const char* every = include_resolved
                                ? "SELECT " RELAIS_REPORT_COLUMNS
                                  " FROM reports ORDER BY id DESC LIMIT ?"
                                : "SELECT " RELAIS_REPORT_COLUMNS
                                  " FROM reports WHERE resolved_by = 0 ORDER BY id DESC LIMIT ?";
        const char* of_channel = include_resolved
                                     ? "SELECT " RELAIS_REPORT_COLUMNS
                                       " FROM reports WHERE channel_id = ? ORDER BY id DESC LIMIT ?"
                                     : "SELECT " RELAIS_REPORT_COLUMNS
                                       " FROM reports WHERE channel_id = ? AND resolved_by = 0 "
                                       "ORDER BY id DESC LIMIT ?";
        if (channels.empty()) {
            auto st = db_.prepare(every);
            st.bind(1, static_cast<std::int64_t>(limit));
            keep(st);
            return out;
        }
        for (auto channel : channels) {
            auto st = db_.prepare(of_channel);
            st.bind(1, channel).bind(2, static_cast<std::int64_t>(limit));
            while (st.step()) {
                out.push_back(read_report(st));
            }
        }
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.id > b.id; });
        if (out.size() > limit) {
            out.resize(limit);
        }
        return out;
    }
    std::vector<audit_record> audit_log(std::uint64_t before_id, std::uint32_t limit) override {
        auto st = db_.prepare(
            "SELECT id, at_ms, actor_id, action, subject_id, channel_id, reason, detail "
            "FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?");
        st.bind(1, before_id == 0 ? std::numeric_limits<std::int64_t>::max()
                                  : static_cast<std::int64_t>(before_id))
            .bind(2, static_cast<std::int64_t>(limit));
        return all_rows<audit_record>(st, [](const statement& r) {
            return audit_record{r.uint64(0), r.int64(1),  r.uint64(2), r.text(3),
                                r.uint64(4), r.uint64(5), r.text(6),   r.text(7)};
        });
    }
    std::optional<password_reset_record> find_password_reset(std::string_view code_hash) override {
        auto st = db_.prepare(
            "SELECT user_id, code_hash, created_by, created_at_ms, expires_at_ms "
            "FROM password_resets WHERE code_hash = ?");
        st.bind(1, code_hash);
        return one_row<password_reset_record>(st, [](const statement& s) {
            return password_reset_record{s.uint64(0), s.text(1), s.uint64(2), s.int64(3),
                                         s.int64(4)};
        });
    }
    std::int64_t auth_changes() override {
        auto st = db_.prepare("SELECT count FROM auth_changes");
        return st.step() ? st.int64(0) : 0;
    }
    std::optional<channel_record> find_channel(channel_id id) override {
        auto st = db_.prepare("SELECT " RELAIS_CHANNEL_COLUMNS " FROM channels WHERE id = ?");
        st.bind(1, id);
        return one_row<channel_record>(st, read_channel);
    }
    std::optional<channel_record> find_channel(std::string_view name) override {
        auto st = db_.prepare("SELECT " RELAIS_CHANNEL_COLUMNS " FROM channels WHERE name = ?");
        st.bind(1, name);
        return one_row<channel_record>(st, read_channel);
    }
    std::vector<channel_record> list_channels() override {
        auto st = db_.prepare("SELECT " RELAIS_CHANNEL_COLUMNS " FROM channels ORDER BY name");
        return all_rows<channel_record>(st, read_channel);
    }
    std::vector<membership> members_of(channel_id channel) override {
        auto st = db_.prepare(
            "SELECT channel_id, user_id, role, last_read_seq FROM members WHERE channel_id = ?");
        st.bind(1, channel);
        return all_rows<membership>(st, read_membership);
    }
    std::vector<membership> memberships_of(user_id user) override {
        auto st = db_.prepare(
            "SELECT channel_id, user_id, role, last_read_seq FROM members WHERE user_id = ?");
        st.bind(1, user);
        return all_rows<membership>(st, read_membership);
    }
    std::optional<membership> find_membership(channel_id channel, user_id user) override {
        auto st = db_.prepare(
            "SELECT channel_id, user_id, role, last_read_seq FROM members "
            "WHERE channel_id = ? AND user_id = ?");
        st.bind(1, channel).bind(2, user);
        return one_row<membership>(st, read_membership);
    }
    std::uint32_t count_members(channel_id channel) override {
        auto st = db_.prepare("SELECT count(*) FROM members WHERE channel_id = ?");
        st.bind(1, channel);
        return st.step() ? static_cast<std::uint32_t>(st.int64(0)) : 0;
    }
    std::vector<event_record> events_after(channel_id channel, seq_t after,
                                           std::uint32_t limit) override {
        auto st = db_.prepare("SELECT " RELAIS_EVENT_COLUMNS
                              " FROM events WHERE channel_id = ? AND seq > ? ORDER BY seq LIMIT ?");
        st.bind(1, channel).bind(2, after).bind(3, static_cast<std::int64_t>(limit));
        return all_rows<event_record>(st, read_event);
    }
    std::vector<std::pair<std::uint64_t, event_record>> events_by(user_id actor,
                                                                  std::uint64_t after,
                                                                  std::uint32_t limit) override {
        // In rowid order, from where the last page stopped: an export walks
        // the table once in all, and the send path pays for no index on the
        // author.
        auto st = db_.prepare("SELECT " RELAIS_EVENT_COLUMNS
                              ", rowid FROM events WHERE rowid > ? AND actor_id = ? "
                              "ORDER BY rowid LIMIT ?");
        st.bind(1, static_cast<std::int64_t>(after))
            .bind(2, actor)
            .bind(3, static_cast<std::int64_t>(limit));
        std::vector<std::pair<std::uint64_t, event_record>> out;
        while (st.step()) {
            out.emplace_back(static_cast<std::uint64_t>(st.int64(17)), read_event(st));
        }
        return out;
    }
    std::vector<event_record> events_before(channel_id channel, seq_t before,
                                            std::uint32_t limit) override {
        auto st = db_.prepare("SELECT " RELAIS_EVENT_COLUMNS
                              " FROM events WHERE channel_id = ? AND seq < ? "
                              "ORDER BY seq DESC LIMIT ?");
        st.bind(1, channel).bind(2, before).bind(3, static_cast<std::int64_t>(limit));
        auto rows = all_rows<event_record>(st, read_event);
        std::reverse(rows.begin(), rows.end());
        return rows;
    }
    std::optional<event_record> find_event(channel_id channel, seq_t seq) override {
        auto st = db_.prepare("SELECT " RELAIS_EVENT_COLUMNS
                              " FROM events WHERE channel_id = ? AND seq = ?");
        st.bind(1, channel).bind(2, seq);
        return one_row<event_record>(st, read_event);
    }
    std::optional<event_record> find_sent(user_id author, std::string_view client_msg_id) override {
        auto st = db_.prepare("SELECT " RELAIS_EVENT_COLUMNS
                              " FROM events WHERE actor_id = ? AND client_msg_id = ?");
        st.bind(1, author).bind(2, client_msg_id);
        return one_row<event_record>(st, read_event);
    }
    std::uint64_t count_unread(channel_id channel, seq_t after, user_id reader_user) override {
        auto st = db_.prepare(
            "SELECT count(*) FROM events WHERE channel_id = ? AND seq > ? AND kind = 1 "
            "AND deleted = 0 AND actor_id != ? AND thread_seq = 0");
        st.bind(1, channel).bind(2, after).bind(3, reader_user);
        return st.step() ? st.uint64(0) : 0;
    }

    std::optional<thread_record> find_thread(channel_id channel, seq_t root) override {
        auto st = db_.prepare("SELECT " RELAIS_THREAD_COLUMNS
                              " FROM threads WHERE channel_id = ? AND root_seq = ?");
        st.bind(1, channel).bind(2, root);
        return one_row<thread_record>(st, read_thread);
    }
    std::vector<thread_record> threads_in(channel_id channel, seq_t from, seq_t to) override {
        auto st = db_.prepare("SELECT " RELAIS_THREAD_COLUMNS
                              " FROM threads WHERE channel_id = ? AND root_seq BETWEEN ? AND ?");
        st.bind(1, channel).bind(2, from).bind(3, to);
        return all_rows<thread_record>(st, read_thread);
    }
    std::vector<event_record> replies_after(channel_id channel, seq_t root, seq_t after,
                                            std::uint32_t limit) override {
        auto st = db_.prepare("SELECT " RELAIS_EVENT_COLUMNS
                              " FROM events WHERE channel_id = ? AND thread_seq = ? AND kind = 1 "
                              "AND seq > ? ORDER BY seq LIMIT ?");
        st.bind(1, channel).bind(2, root).bind(3, after).bind(4, static_cast<std::int64_t>(limit));
        return all_rows<event_record>(st, read_event);
    }
    std::vector<event_record> replies_before(channel_id channel, seq_t root, seq_t before,
                                             std::uint32_t limit) override {
        auto st = db_.prepare("SELECT " RELAIS_EVENT_COLUMNS
                              " FROM events WHERE channel_id = ? AND thread_seq = ? AND kind = 1 "
                              "AND seq < ? ORDER BY seq DESC LIMIT ?");
        st.bind(1, channel).bind(2, root).bind(3, before).bind(4, static_cast<std::int64_t>(limit));
        auto rows = all_rows<event_record>(st, read_event);
        std::reverse(rows.begin(), rows.end());
        return rows;
    }
    std::vector<thread_record> questions(channel_id channel, bool unsolved_only,
                                         std::uint32_t limit) override {
        auto st = db_.prepare("SELECT " RELAIS_THREAD_COLUMNS
                              " FROM threads WHERE channel_id = ? AND question != 0 "
                              "AND (? = 0 OR solved_seq = 0) ORDER BY root_seq DESC LIMIT ?");
        st.bind(1, channel).bind(2, unsolved_only).bind(3, static_cast<std::int64_t>(limit));
        return all_rows<thread_record>(st, read_thread);
    }
    std::optional<thread_follow> find_follow(user_id user, channel_id channel,
                                             seq_t root) override {
        auto st = db_.prepare(
            "SELECT user_id, channel_id, root_seq, last_read_seq, following FROM thread_reads "
            "WHERE user_id = ? AND channel_id = ? AND root_seq = ?");
        st.bind(1, user).bind(2, channel).bind(3, root);
        return one_row<thread_follow>(st, read_follow);
    }
    std::vector<thread_follow> follows_of(user_id user) override {
        auto st = db_.prepare(
            "SELECT user_id, channel_id, root_seq, last_read_seq, following FROM thread_reads "
            "WHERE user_id = ? AND following != 0");
        st.bind(1, user);
        return all_rows<thread_follow>(st, read_follow);
    }
    std::uint64_t count_thread_unread(channel_id channel, seq_t root, seq_t after,
                                      user_id reader_user) override {
        auto st = db_.prepare(
            "SELECT count(*) FROM events WHERE channel_id = ? AND thread_seq = ? AND seq > ? "
            "AND kind = 1 AND deleted = 0 AND actor_id != ?");
        st.bind(1, channel).bind(2, root).bind(3, after).bind(4, reader_user);
        return st.step() ? st.uint64(0) : 0;
    }
    std::uint64_t count_followed_unread(channel_id channel, user_id reader_user) override {
        auto st = db_.prepare(
            "SELECT count(*) FROM thread_reads f JOIN events e ON e.channel_id = f.channel_id "
            "AND e.thread_seq = f.root_seq AND e.seq > f.last_read_seq "
            "WHERE f.user_id = ?1 AND f.channel_id = ?2 AND f.following != 0 AND e.kind = 1 "
            "AND e.deleted = 0 AND e.actor_id != ?1");
        st.bind(1, reader_user).bind(2, channel);
        return st.step() ? st.uint64(0) : 0;
    }
    std::uint64_t count_unread_mentions(channel_id channel, user_id user,
                                        seq_t channel_read_seq) override {
        auto st = db_.prepare(
            "SELECT count(*) FROM mentions m WHERE m.user_id = ?1 AND m.channel_id = ?2 AND "
            "((m.thread_seq = 0 AND m.seq > ?3) OR (m.thread_seq != 0 AND m.seq > "
            "coalesce((SELECT last_read_seq FROM thread_reads f WHERE f.user_id = ?1 "
            "AND f.channel_id = ?2 AND f.root_seq = m.thread_seq), 0)))");
        st.bind(1, user).bind(2, channel).bind(3, channel_read_seq);
        return st.step() ? st.uint64(0) : 0;
    }
    std::vector<mention_record> mentions_of(user_id user, std::uint32_t limit) override {
        auto st = db_.prepare(
            "SELECT m.user_id, m.channel_id, m.seq, m.thread_seq FROM mentions m "
            "JOIN events e ON e.channel_id = m.channel_id AND e.seq = m.seq "
            "WHERE m.user_id = ? ORDER BY e.at_ms DESC, m.seq DESC LIMIT ?");
        st.bind(1, user).bind(2, static_cast<std::int64_t>(limit));
        return all_rows<mention_record>(st, [](const statement& r) {
            return mention_record{r.uint64(0), r.uint64(1), r.uint64(2), r.uint64(3)};
        });
    }
    std::vector<user_id> mentioned_in(channel_id channel, seq_t seq) override {
        auto st = db_.prepare("SELECT user_id FROM mentions WHERE channel_id = ? AND seq = ?");
        st.bind(1, channel).bind(2, seq);
        return all_rows<user_id>(st, [](const statement& r) { return r.uint64(0); });
    }
    std::vector<reaction_record> reactions_in(channel_id channel, seq_t from, seq_t to) override {
        auto st = db_.prepare(
            "SELECT seq, emoji, user_id, at_ms FROM reactions WHERE channel_id = ? "
            "AND seq BETWEEN ? AND ? ORDER BY seq, at_ms, user_id");
        st.bind(1, channel).bind(2, from).bind(3, to);
        return all_rows<reaction_record>(st, [](const statement& r) {
            return reaction_record{r.uint64(0), r.text(1), r.uint64(2), r.int64(3)};
        });
    }
    std::vector<pin_record> pins_in(channel_id channel, seq_t from, seq_t to) override {
        auto st = db_.prepare(
            "SELECT seq, pinned_by, at_ms FROM pins WHERE channel_id = ? AND seq BETWEEN ? AND ?");
        st.bind(1, channel).bind(2, from).bind(3, to);
        return all_rows<pin_record>(st, [](const statement& r) {
            return pin_record{r.uint64(0), r.uint64(1), r.int64(2)};
        });
    }
    std::vector<pin_record> pins_of(channel_id channel) override {
        auto st = db_.prepare(
            "SELECT seq, pinned_by, at_ms FROM pins WHERE channel_id = ? ORDER BY at_ms DESC, "
            "seq DESC");
        st.bind(1, channel);
        return all_rows<pin_record>(st, [](const statement& r) {
            return pin_record{r.uint64(0), r.uint64(1), r.int64(2)};
        });
    }
    std::vector<resource_record> resources_in(channel_id channel, seq_t from, seq_t to) override {
        auto st = db_.prepare("SELECT " RELAIS_RESOURCE_COLUMNS
                              " FROM resources r CROSS JOIN events e ON e.channel_id = "
                              "r.channel_id AND e.seq = r.seq WHERE r.channel_id = ? "
                              "AND r.seq BETWEEN ? AND ?");
        st.bind(1, channel).bind(2, from).bind(3, to);
        return all_rows<resource_record>(st, read_resource);
    }
    std::optional<resource_record> find_resource(channel_id channel, seq_t seq) override {
        auto rows = resources_in(channel, seq, seq);
        if (rows.empty()) {
            return std::nullopt;
        }
        return std::move(rows.front());
    }
    std::vector<resource_record> resource_versions(channel_id channel, seq_t seq) override {
        auto st = db_.prepare("SELECT " RELAIS_VERSION_COLUMNS
                              " FROM resource_versions v JOIN events e ON e.channel_id = "
                              "v.channel_id AND e.seq = v.seq WHERE v.channel_id = ? AND v.seq = ? "
                              "ORDER BY v.version");
        st.bind(1, channel).bind(2, seq);
        return all_rows<resource_record>(st, read_resource);
    }
    std::optional<resource_record> resource_version_made_by(channel_id channel,
                                                            seq_t event_seq) override {
        auto st = db_.prepare("SELECT " RELAIS_VERSION_COLUMNS
                              " FROM resource_versions v JOIN events e ON e.channel_id = "
                              "v.channel_id AND e.seq = v.seq WHERE v.channel_id = ? "
                              "AND v.event_seq = ?");
        st.bind(1, channel).bind(2, event_seq);
        return one_row<resource_record>(st, read_resource);
    }
    std::vector<resource_record> list_resources(const resource_query& q) override {
        // Built from the filters given, and cached by shape (prepare_built).
        // With a label, the query walks the rarest label's rows in the
        // order asked (resource_labels carries the sort keys) and stops at
        // the page; without, the resources' own indexes do.
        struct label {
            label_list list;
            std::string value;
        };
        std::vector<label> labels;
        for (const auto& tag : q.tags) {
            labels.push_back({tag_label, tag});
        }
        if (!q.theme.empty()) {
            labels.push_back({theme_label, q.theme});
        }
        if (!q.audience.empty()) {
            labels.push_back({audience_label, q.audience});
        }
        std::size_t driver = 0;
        std::int64_t fewest = -1;
        for (std::size_t i = 0; i < labels.size(); ++i) {
            auto st =
                db_.prepare("SELECT count(*) FROM resource_labels WHERE list = ? AND value = ?");
            st.bind(1, static_cast<int>(labels[i].list)).bind(2, labels[i].value);
            const auto n = st.step() ? st.int64(0) : 0;
            if (fewest < 0 || n < fewest) {
                fewest = n;
                driver = i;
            }
        }
        const char* order = q.sort == resource_sort::discussed
                                ? " ORDER BY x.reply_count DESC, x.created_at_ms DESC, "
                                  "x.channel_id DESC, x.seq DESC"
                            : q.sort == resource_sort::active
                                ? " ORDER BY x.last_activity_ms DESC, x.channel_id DESC, x.seq DESC"
                                : " ORDER BY x.created_at_ms DESC, x.channel_id DESC, x.seq DESC";
        std::string keys;
        if (labels.empty()) {
            keys = "SELECT x.channel_id, x.seq FROM resources x WHERE ";
        } else {
            const char* index = q.sort == resource_sort::discussed ? "resource_labels_discussed"
                                : q.sort == resource_sort::active  ? "resource_labels_active"
                                                                   : "resource_labels_newest";
            keys = std::string("SELECT x.channel_id, x.seq FROM resource_labels x INDEXED BY ") +
                   index + " WHERE x.list = ? AND x.value = ? AND ";
        }
        keys += "x.channel_id IN (SELECT value FROM json_each(?))";
        if (q.kind != 0) {
            keys += " AND x.kind = ?";
        }
        if (q.author != 0) {
            keys += " AND x.author_id = ?";
        }
        if (q.since_ms != 0) {
            keys += " AND x.created_at_ms >= ?";
        }
        if (q.until_ms != 0) {
            keys += " AND x.created_at_ms < ?";
        }
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (i != driver) {
                keys +=
                    " AND EXISTS (SELECT 1 FROM resource_labels o WHERE o.list = ? AND o.value = ? "
                    "AND o.channel_id = x.channel_id AND o.seq = x.seq)";
            }
        }
        keys += order;
        keys += " LIMIT ? OFFSET ?";
        auto st = db_.prepare_built(keys);
        int at = 1;
        auto bind_label = [&](const label& l) {
            st.bind(at, static_cast<int>(l.list));
            st.bind(at + 1, l.value);
            at += 2;
        };
        if (!labels.empty()) {
            bind_label(labels[driver]);
        }
        st.bind(at++, channel_list_json(q.channels));
        if (q.kind != 0) {
            st.bind(at++, q.kind);
        }
        if (q.author != 0) {
            st.bind(at++, q.author);
        }
        if (q.since_ms != 0) {
            st.bind(at++, q.since_ms);
        }
        if (q.until_ms != 0) {
            st.bind(at++, q.until_ms);
        }
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (i != driver) {
                bind_label(labels[i]);
            }
        }
        st.bind(at++, static_cast<std::int64_t>(q.limit) + 1);
        st.bind(at++, static_cast<std::int64_t>(q.offset));
        std::vector<std::pair<channel_id, seq_t>> page;
        while (st.step()) {
            page.emplace_back(st.uint64(0), st.uint64(1));
        }
        // Then the page's rows, whole.
        std::vector<resource_record> rows;
        for (const auto& [channel, seq] : page) {
            if (auto r = find_resource(channel, seq)) {
                rows.push_back(std::move(*r));
            }
        }
        return rows;
    }
    std::vector<vocabulary_term> vocabulary() override {
        auto st = db_.prepare(
            "SELECT list, slug, label_fr, label_en FROM vocabulary ORDER BY list, position, slug");
        return all_rows<vocabulary_term>(st, [](const statement& r) {
            return vocabulary_term{r.text(0), r.text(1), r.text(2), r.text(3)};
        });
    }
    std::vector<search_row> search(const search_query& q) override {
        std::vector<search_row> rows;
        if (q.words.empty() || q.channels.empty() || q.limit == 0) {
            return rows;
        }
        const auto channels = channel_list_json(q.channels);
        // Whole words, or their start from three letters on; a word of one
        // letter ("l'" of "l'aide") only when nothing else was asked.
        std::string words_match;
        bool all_long = true;
        for (const auto& w : q.words) {
            const auto letters = search_text::length(w);
            all_long = all_long && letters >= 3;
            if (letters == 1 && q.words.size() > 1) {
                continue;
            }
            if (!words_match.empty()) {
                words_match += ' ';
            }
            words_match.append(fts_string(w)).append(letters >= 3 ? "*" : "");
        }
        auto seen = [&](const search_row& row) {
            return std::any_of(rows.begin(), rows.end(), [&](const search_row& r) {
                return r.channel == row.channel && r.seq == row.seq;
            });
        };
        // Messages written or changed a moment ago are not in the indexes
        // yet (search_pending): matched here on their text as it is now,
        // newest first, so that a search never misses nor shows a message
        // for that moment. Every join here is CROSS: the small side first
        // (the pending rows, the index's matches), never the events of the
        // readable channels, which SQLite would otherwise pick when it
        // cannot tell that the pending rows are few.
        {
            auto st = db_.prepare(
                "SELECT e.channel_id, e.seq FROM search_pending p CROSS JOIN events e "
                "ON e.doc = p.doc "
                "WHERE e.channel_id IN (SELECT value FROM json_each(?)) ORDER BY p.doc DESC "
                "LIMIT 10000");
            st.bind(1, channels);
            std::vector<search_row> pending;
            while (st.step()) {
                pending.push_back({st.uint64(0), st.uint64(1)});
            }
            for (const auto& row : pending) {
                if (rows.size() == q.limit) {
                    break;
                }
                auto body = indexed_body(row.channel, row.seq);
                if (body && search_text::matches(*body, q.words)) {
                    rows.push_back(row);
                }
            }
        }
        // Ranked among the newest matches: a common word matches much of
        // the history, and ranking all of it would take as long as the
        // history is. The newest `candidates` come in document order (no
        // sort), and bm25 orders them.
        const std::int64_t candidates = std::max<std::int64_t>(500, 10 * q.limit);
        struct candidate {
            search_row row;
            double rank = 0;
        };
        std::vector<candidate> ranked;
        {
            auto st = db_.prepare(
                "SELECT e.channel_id, e.seq, bm25(search_words) FROM search_words "
                "CROSS JOIN events e ON e.doc = search_words.rowid "
                "WHERE search_words MATCH ?1 "
                "AND e.channel_id IN (SELECT value FROM json_each(?2)) "
                "AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.doc = search_words.rowid) "
                "ORDER BY search_words.rowid DESC LIMIT ?3");
            st.bind(1, words_match).bind(2, channels).bind(3, candidates);
            while (st.step()) {
                ranked.push_back(
                    {{st.uint64(0), st.uint64(1)}, sqlite3_column_double(st.handle(), 2)});
            }
        }
        // bm25: lower is better; the newer first among equals.
        std::stable_sort(ranked.begin(), ranked.end(),
                         [](const candidate& a, const candidate& b) { return a.rank < b.rank; });
        for (const auto& c : ranked) {
            if (rows.size() == q.limit) {
                break;
            }
            if (!seen(c.row)) {
                rows.push_back(c.row);
            }
        }
        if (all_long && rows.size() < q.limit) {
            // Inside longer words, newest first.
            std::string trigram_match;
            for (const auto& w : q.words) {
                if (!trigram_match.empty()) {
                    trigram_match += " AND ";
                }
                trigram_match += fts_string(w);
            }
            auto st = db_.prepare(
                "SELECT e.channel_id, e.seq FROM search_trigram "
                "CROSS JOIN events e ON e.doc = search_trigram.rowid "
                "WHERE search_trigram MATCH ?1 "
                "AND e.channel_id IN (SELECT value FROM json_each(?2)) "
                "AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.doc = "
                "search_trigram.rowid) "
                "ORDER BY search_trigram.rowid DESC LIMIT ?3");
            st.bind(1, trigram_match)
                .bind(2, channels)
                .bind(3, static_cast<std::int64_t>(q.limit + rows.size()));
            while (st.step() && rows.size() < q.limit) {
                search_row row{st.uint64(0), st.uint64(1)};
                if (!seen(row)) {
                    rows.push_back(row);
                }
            }
        }
        return rows;
    }

    std::optional<meeting_record> find_meeting(std::uint64_t id) override {
        auto st = db_.prepare("SELECT " RELAIS_MEETING_COLUMNS " FROM meetings WHERE id = ?");
        st.bind(1, id);
        return one_row<meeting_record>(st, read_meeting);
    }
    std::vector<meeting_record> meetings_in(const std::vector<channel_id>& channels,
                                            const std::vector<int>& states,
                                            std::uint32_t limit) override {
        auto st = db_.prepare(
            "SELECT " RELAIS_MEETING_COLUMNS
            " FROM meetings WHERE channel_id IN (SELECT value FROM json_each(?1)) "
            "AND state IN (SELECT value FROM json_each(?2)) "
            "ORDER BY CASE state WHEN 2 THEN 0 WHEN 1 THEN 1 ELSE 2 END, "
            "CASE WHEN state = 1 THEN start_ms ELSE -max(start_ms, started_at_ms) END, id "
            "LIMIT ?3");
        std::vector<channel_id> state_list(states.begin(), states.end());
        st.bind(1, channel_list_json(channels))
            .bind(2, channel_list_json(state_list))
            .bind(3, static_cast<std::int64_t>(limit));
        return all_rows<meeting_record>(st, read_meeting);
    }
    std::vector<meeting_record> meetings_started(const std::vector<channel_id>& channels,
                                                 std::int64_t from_ms,
                                                 std::int64_t to_ms) override {
        auto st = db_.prepare("SELECT " RELAIS_MEETING_COLUMNS
                              " FROM meetings WHERE started_at_ms >= ?2 AND started_at_ms < ?3 "
                              "AND started_at_ms != 0 AND channel_id IN (SELECT value FROM "
                              "json_each(?1)) ORDER BY started_at_ms, id");
        st.bind(1, channel_list_json(channels)).bind(2, from_ms).bind(3, to_ms);
        return all_rows<meeting_record>(st, read_meeting);
    }
    std::optional<meeting_link> live_meeting_at(channel_id channel) override {
        auto st = db_.prepare(
            "SELECT id, current_phase, 0, silenced FROM meetings WHERE channel_id = ?1 AND "
            "state = 2 UNION ALL SELECT m.id, m.current_phase, t.number, '' FROM meeting_tables t "
            "CROSS JOIN meetings m ON m.id = t.meeting_id WHERE t.channel_id = ?1 AND m.state = 2 "
            "LIMIT 1");
        st.bind(1, channel);
        return one_row<meeting_link>(st, [](const statement& r) {
            meeting_link l;
            l.meeting = r.uint64(0);
            l.phase = static_cast<std::uint32_t>(r.int64(1));
            l.table = static_cast<std::uint32_t>(r.int64(2));
            for (const auto& id : split_lines(r.text(3))) {
                l.silenced.push_back(std::stoull(id));
            }
            return l;
        });
    }
    std::uint32_t count_live_meetings() override {
        auto st = db_.prepare("SELECT count(*) FROM meetings WHERE state = 2");
        st.step();
        return static_cast<std::uint32_t>(st.int64(0));
    }
    std::vector<std::uint64_t> due_meetings(std::int64_t now_ms) override {
        auto st = db_.prepare(
            "SELECT id FROM meetings WHERE next_timer_ms != 0 AND next_timer_ms <= ? ORDER BY "
            "next_timer_ms");
        st.bind(1, now_ms);
        return all_rows<std::uint64_t>(st, [](const statement& r) { return r.uint64(0); });
    }
    std::int64_t next_meeting_timer() override {
        auto st = db_.prepare("SELECT min(next_timer_ms) FROM meetings WHERE next_timer_ms != 0");
        st.step();
        return st.is_null(0) ? 0 : st.int64(0);
    }
    std::vector<meeting_template> meeting_templates() override {
        auto st = db_.prepare("SELECT name, json FROM meeting_templates ORDER BY position, name");
        return all_rows<meeting_template>(st, [](const statement& r) {
            return meeting_template{r.text(0), r.text(1)};
        });
    }
    std::vector<invitation_record> list_invitations() override {
        auto st =
            db_.prepare("SELECT " RELAIS_INVITATION_COLUMNS " FROM invitations ORDER BY id DESC");
        return all_rows<invitation_record>(st, read_invitation);
    }
    std::optional<invitation_record> find_invitation(std::string_view code_hash) override {
        auto st = db_.prepare("SELECT " RELAIS_INVITATION_COLUMNS
                              " FROM invitations WHERE code_hash = ?");
        st.bind(1, code_hash);
        return one_row<invitation_record>(st, read_invitation);
    }
    std::optional<meeting_template> find_meeting_template(std::string_view name) override {
        auto st = db_.prepare("SELECT name, json FROM meeting_templates WHERE name = ?");
        st.bind(1, name);
        return one_row<meeting_template>(st, [](const statement& r) {
            return meeting_template{r.text(0), r.text(1)};
        });
    }
    std::vector<resource_record> meeting_resources(std::uint64_t meeting) override {
        auto st = db_.prepare("SELECT " RELAIS_RESOURCE_COLUMNS
                              " FROM events e CROSS JOIN resources r ON r.channel_id = "
                              "e.channel_id AND r.seq = e.seq WHERE e.meeting_id = ? AND "
                              "e.kind = 1 AND e.deleted = 0 ORDER BY e.at_ms, e.seq");
        st.bind(1, meeting);
        return all_rows<resource_record>(st, read_resource);
    }
    std::vector<case_record> cases_of(channel_id channel) override {
        auto st = db_.prepare(
            "SELECT id, channel_id, author_id, at_ms, text, chosen_by FROM meeting_cases WHERE "
            "channel_id = ? ORDER BY id");
        st.bind(1, channel);
        return all_rows<case_record>(st, [](const statement& r) {
            return case_record{static_cast<std::uint32_t>(r.int64(0)),
                               r.uint64(1),
                               r.uint64(2),
                               r.int64(3),
                               r.text(4),
                               r.uint64(5)};
        });
    }

    user_id insert_account(const account& a) override {
        auto st = db_.prepare(
            "INSERT INTO accounts(name, display_name, role, disabled, password_hash, "
            "created_at_ms, structure, commune) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
        st.bind(1, a.name)
            .bind(2, a.display_name)
            .bind(3, static_cast<int>(a.role))
            .bind(4, a.disabled)
            .bind(5, a.password_hash)
            .bind(6, a.created_at_ms)
            .bind(7, a.structure)
            .bind(8, a.commune);
        st.run();
        return static_cast<user_id>(sqlite3_last_insert_rowid(db_.handle()));
    }
    void set_account_disabled(user_id id, bool disabled) override {
        auto st = db_.prepare("UPDATE accounts SET disabled = ? WHERE id = ?");
        st.bind(1, disabled).bind(2, id);
        st.run();
    }
    void set_password_hash(user_id id, std::string_view hash) override {
        auto st = db_.prepare("UPDATE accounts SET password_hash = ? WHERE id = ?");
        st.bind(1, hash).bind(2, id);
        st.run();
    }
    void insert_session(const session_record& s) override {
        auto st = db_.prepare(
            "INSERT INTO sessions(token_hash, user_id, created_at_ms, client_name, device, "
            "last_seen_ms) VALUES(?, ?, ?, ?, ?, ?)");
        st.bind(1, s.token_hash)
            .bind(2, s.user)
            .bind(3, s.created_at_ms)
            .bind(4, s.client_name)
            .bind(5, s.device)
            .bind(6, std::max(s.last_seen_ms, s.created_at_ms));
        st.run();
    }
    void put_mute(const mute_record& m) override {
        auto st = db_.prepare(
            "INSERT OR REPLACE INTO mutes(channel_id, user_id, until_ms, by_id, at_ms, reason) "
            "VALUES(?, ?, ?, ?, ?, ?)");
        st.bind(1, m.channel)
            .bind(2, m.user)
            .bind(3, m.until_ms)
            .bind(4, m.by)
            .bind(5, m.at_ms)
            .bind(6, m.reason);
        st.run();
    }
    void delete_mute(channel_id channel, user_id user) override {
        auto st = db_.prepare("DELETE FROM mutes WHERE channel_id = ? AND user_id = ?");
        st.bind(1, channel).bind(2, user);
        st.run();
    }
    void put_ban(const ban_record& b) override {
        auto st = db_.prepare(
            "INSERT OR REPLACE INTO bans(channel_id, user_id, by_id, at_ms, reason) "
            "VALUES(?, ?, ?, ?, ?)");
        st.bind(1, b.channel).bind(2, b.user).bind(3, b.by).bind(4, b.at_ms).bind(5, b.reason);
        st.run();
    }
    void delete_ban(channel_id channel, user_id user) override {
        auto st = db_.prepare("DELETE FROM bans WHERE channel_id = ? AND user_id = ?");
        st.bind(1, channel).bind(2, user);
        st.run();
    }
    std::uint64_t insert_report(const report_record& r) override {
        auto st = db_.prepare(
            "INSERT INTO reports(channel_id, seq, reporter_id, reason, at_ms) "
            "VALUES(?, ?, ?, ?, ?)");
        st.bind(1, r.channel).bind(2, r.seq).bind(3, r.reporter).bind(4, r.reason).bind(5, r.at_ms);
        st.run();
        return static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_.handle()));
    }
    void resolve_report(std::uint64_t id, user_id by, std::int64_t at_ms,
                        std::string_view resolution) override {
        auto st = db_.prepare(
            "UPDATE reports SET resolved_by = ?, resolved_at_ms = ?, resolution = ? WHERE id = ?");
        st.bind(1, by).bind(2, at_ms).bind(3, resolution).bind(4, id);
        st.run();
    }
    std::uint64_t append_audit(const audit_record& a) override {
        auto st = db_.prepare(
            "INSERT INTO audit_log(at_ms, actor_id, action, subject_id, channel_id, reason, "
            "detail) VALUES(?, ?, ?, ?, ?, ?, ?)");
        st.bind(1, a.at_ms)
            .bind(2, a.actor)
            .bind(3, a.action)
            .bind(4, a.subject)
            .bind(5, a.channel)
            .bind(6, a.reason)
            .bind(7, a.detail);
        st.run();
        return static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_.handle()));
    }
    void touch_session(std::string_view token_hash, std::int64_t at_ms) override {
        auto st = db_.prepare(
            "UPDATE sessions SET last_seen_ms = max(last_seen_ms, ?) WHERE token_hash = ?");
        st.bind(1, at_ms).bind(2, token_hash);
        st.run();
    }
    void put_password_reset(const password_reset_record& r) override {
        auto st = db_.prepare(
            "INSERT OR REPLACE INTO password_resets(user_id, code_hash, created_by, "
            "created_at_ms, expires_at_ms) VALUES(?, ?, ?, ?, ?)");
        st.bind(1, r.user)
            .bind(2, r.code_hash)
            .bind(3, r.created_by)
            .bind(4, r.created_at_ms)
            .bind(5, r.expires_at_ms);
        st.run();
    }
    void delete_password_reset(user_id user) override {
        auto st = db_.prepare("DELETE FROM password_resets WHERE user_id = ?");
        st.bind(1, user);
        st.run();
    }
    void delete_session(std::string_view token_hash) override {
        auto st = db_.prepare("DELETE FROM sessions WHERE token_hash = ?");
        st.bind(1, token_hash);
        st.run();
    }
    void delete_sessions_of(user_id user) override {
        auto st = db_.prepare("DELETE FROM sessions WHERE user_id = ?");
        st.bind(1, user);
        st.run();
    }
    channel_id insert_channel(const channel_record& c) override {
        auto st = db_.prepare(
            "INSERT INTO channels(name, topic, kind, last_seq, created_at_ms, "
            "members_can_invite, members_can_set_topic, display_name) "
            "VALUES(?, ?, ?, 0, ?, ?, ?, ?)");
        st.bind(1, c.name)
            .bind(2, c.topic)
            .bind(3, static_cast<int>(c.kind))
            .bind(4, c.created_at_ms)
            .bind(5, c.members_can_invite)
            .bind(6, c.members_can_set_topic)
            .bind(7, c.display_name);
        st.run();
        return static_cast<channel_id>(sqlite3_last_insert_rowid(db_.handle()));
    }
    void set_topic(channel_id channel, std::string_view topic) override {
        auto st = db_.prepare("UPDATE channels SET topic = ? WHERE id = ?");
        st.bind(1, topic).bind(2, channel);
        st.run();
    }
    void set_display_name(channel_id channel, std::string_view display_name) override {
        auto st = db_.prepare("UPDATE channels SET display_name = ? WHERE id = ?");
        st.bind(1, display_name).bind(2, channel);
        st.run();
    }
    void set_channel_options(channel_id channel, bool members_can_invite,
                             bool members_can_set_topic) override {
        auto st = db_.prepare(
            "UPDATE channels SET members_can_invite = ?, members_can_set_topic = ? WHERE id = ?");
        st.bind(1, members_can_invite).bind(2, members_can_set_topic).bind(3, channel);
        st.run();
    }
    void upsert_member(const membership& m) override {
        auto st = db_.prepare(
            "INSERT INTO members(channel_id, user_id, role, last_read_seq) VALUES(?, ?, ?, ?) "
            "ON CONFLICT(channel_id, user_id) DO UPDATE SET role = excluded.role");
        st.bind(1, m.channel)
            .bind(2, m.user)
            .bind(3, static_cast<int>(m.role))
            .bind(4, m.last_read_seq);
        st.run();
    }
    void remove_member(channel_id channel, user_id user) override {
        auto st = db_.prepare("DELETE FROM members WHERE channel_id = ? AND user_id = ?");
        st.bind(1, channel).bind(2, user);
        st.run();
    }
    void set_read_marker(channel_id channel, user_id user, seq_t seq) override {
        auto st = db_.prepare(
            "UPDATE members SET last_read_seq = max(last_read_seq, ?) "
            "WHERE channel_id = ? AND user_id = ?");
        st.bind(1, seq).bind(2, channel).bind(3, user);
        st.run();
    }
    seq_t append_event(event_record& e) override {
        {
            auto st = db_.prepare(
                "UPDATE channels SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq");
            st.bind(1, e.channel);
            if (!st.step()) {
                throw sqlite_error(SQLITE_NOTFOUND,
                                   "append_event: no channel " + std::to_string(e.channel));
            }
            e.seq = st.uint64(0);
        }
        // A message's document number follows the last one given.
        auto st = db_.prepare("INSERT INTO events(" RELAIS_EVENT_COLUMNS
                              ", doc) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                              "CASE WHEN ?3 = 1 THEN (SELECT coalesce(max(doc), 0) + 1 FROM "
                              "events WHERE doc IS NOT NULL) END)");
        st.bind(1, e.channel)
            .bind(2, e.seq)
            .bind(3, static_cast<int>(e.kind))
            .bind(4, e.at_ms)
            .bind(5, e.actor)
            .bind(6, e.text);
        if (e.client_msg_id.empty()) {
            st.bind_null(7);
        } else {
            st.bind(7, e.client_msg_id);
        }
        st.bind(8, e.target_seq)
            .bind(9, e.subject)
            .bind(10, e.change)
            .bind(11, e.role)
            .bind(12, e.edited_at_ms)
            .bind(13, e.deleted)
            .bind(14, e.thread_seq)
            .bind(15, e.meeting)
            .bind(16, static_cast<std::int64_t>(e.meeting_phase));
        if (e.body.empty()) {
            st.bind_null(17);
        } else {
            st.bind_blob(17, e.body);
        }
        st.run();
        if (e.kind == event_kind::message) {
            // New: nothing indexed yet; the next flush indexes it.
            auto pending = db_.prepare(
                "INSERT OR IGNORE INTO search_pending(doc, indexed) "
                "SELECT doc, NULL FROM events WHERE channel_id = ? AND seq = ?");
            pending.bind(1, e.channel).bind(2, e.seq);
            pending.run();
        }
        return e.seq;
    }
    void update_message(channel_id channel, seq_t seq, std::string_view text,
                        std::int64_t edited_at_ms, bool deleted) override {
        mark_stale(channel, seq);
        {
            auto st = db_.prepare(
                "UPDATE events SET text = ?, edited_at_ms = ?, deleted = ? "
                "WHERE channel_id = ? AND seq = ? AND kind = 1");
            st.bind(1, text).bind(2, edited_at_ms).bind(3, deleted).bind(4, channel).bind(5, seq);
            st.run();
        }
        if (deleted) {
            // What hangs on a message goes with it; its versions too, so
            // that a deleted resource's words are nowhere.
            for (const char* sql : {
                     "DELETE FROM resources WHERE channel_id = ? AND seq = ?",
                     "DELETE FROM resource_labels WHERE channel_id = ? AND seq = ?",
                     "DELETE FROM resource_versions WHERE channel_id = ? AND seq = ?",
                     "DELETE FROM reactions WHERE channel_id = ? AND seq = ?",
                     "DELETE FROM pins WHERE channel_id = ? AND seq = ?",
                     "DELETE FROM mentions WHERE channel_id = ? AND seq = ?",
                     "DELETE FROM attachments WHERE channel_id = ? AND seq = ?",
                 }) {
                auto st = db_.prepare(sql);
                st.bind(1, channel).bind(2, seq);
                st.run();
            }
        }
    }

    std::uint64_t erase_account(user_id user, std::int64_t at_ms, bool remove_messages) override {
        std::vector<std::pair<channel_id, seq_t>> messages;
        {
            // A scan of the whole history: erasure is rare, and an index on
            // the author would cost every message sent.
            auto st = db_.prepare(
                "SELECT channel_id, seq FROM events WHERE actor_id = ? AND kind = 1 AND "
                "(deleted = 0 OR text != '' OR body IS NOT NULL OR client_msg_id IS NOT NULL)");
            st.bind(1, user);
            while (st.step()) {
                messages.emplace_back(st.uint64(0), st.uint64(1));
            }
        }
        tombstone(messages);
        for (const char* sql : {
                 // Their edits, of their own messages or (as moderators) of
                 // others', and their meeting events' contents.
                 "UPDATE events SET text = '', body = NULL WHERE actor_id = ?1 AND kind IN (2, 12)",
                 "UPDATE meeting_cases SET text = '' WHERE author_id = ?1",
                 "UPDATE reports SET reason = '' WHERE reporter_id = ?1",
                 "DELETE FROM sessions WHERE user_id = ?1",
                 "DELETE FROM password_resets WHERE user_id = ?1",
                 "DELETE FROM members WHERE user_id = ?1",
                 "DELETE FROM thread_reads WHERE user_id = ?1",
                 "DELETE FROM mentions WHERE user_id = ?1",
                 "DELETE FROM reactions WHERE user_id = ?1",
                 "DELETE FROM mutes WHERE user_id = ?1",
                 "DELETE FROM bans WHERE user_id = ?1",
                 "DELETE FROM invitation_uses WHERE account_id = ?1",
                 // Their files go with the next collection, unless someone
                 // else's message carries the same bytes.
                 "DELETE FROM uploads WHERE user_id = ?1 AND completed_at_ms != 0",
                 // Unfinished ones are collected at once, partial bytes too.
                 "UPDATE uploads SET name = '', created_at_ms = 0 WHERE user_id = ?1",
                 "UPDATE accounts SET name = '#' || id, display_name = '', password_hash = '', "
                 "disabled = 1, structure = '', commune = '', network_role = 0, presentation = '', "
                 "skills = '', erased_at_ms = ?2 WHERE id = ?1",
             }) {
            auto st = db_.prepare(sql);
            st.bind(1, user);
            if (sqlite3_bind_parameter_count(st.handle()) >= 2) {
                st.bind(2, at_ms);
            }
            st.run();
        }
        if (remove_messages) {
            auto st = db_.prepare(
                "UPDATE events SET kind = 13, actor_id = 0, text = '', body = NULL, "
                "client_msg_id = NULL, target_seq = 0, subject_id = 0, change = 0, role = 0, "
                "edited_at_ms = 0, deleted = 1, thread_seq = 0, meeting_id = 0, "
                "meeting_phase = 0 WHERE actor_id = ?1 AND kind IN (1, 2, 3, 9) AND NOT "
                "(kind = 1 AND EXISTS (SELECT 1 FROM events r WHERE r.channel_id = "
                "events.channel_id AND r.thread_seq = events.seq AND r.kind = 1 AND "
                "r.actor_id NOT IN (0, ?1)))");
            st.bind(1, user);
            st.run();
            // A thread whose root went has nothing left to sum up or follow.
            for (const char* sql : {
                     "DELETE FROM threads WHERE EXISTS (SELECT 1 FROM events e WHERE "
                     "e.channel_id = threads.channel_id AND e.seq = threads.root_seq AND "
                     "e.kind = 13)",
                     "DELETE FROM thread_reads WHERE EXISTS (SELECT 1 FROM events e WHERE "
                     "e.channel_id = thread_reads.channel_id AND e.seq = thread_reads.root_seq "
                     "AND e.kind = 13)",
                 }) {
                db_.prepare(sql).run();
            }
        }
        return messages.size();
    }
    std::uint64_t expire_messages(channel_id channel, std::int64_t before_ms,
                                  std::uint64_t limit) override {
        std::vector<std::pair<channel_id, seq_t>> messages;
        {
            auto st = db_.prepare(
                "SELECT channel_id, seq FROM events WHERE channel_id = ? AND kind = 1 AND "
                "at_ms < ? AND (deleted = 0 OR text != '' OR body IS NOT NULL) "
                "ORDER BY seq LIMIT ?");
            st.bind(1, channel).bind(2, before_ms).bind(3, static_cast<std::int64_t>(limit));
            while (st.step()) {
                messages.emplace_back(st.uint64(0), st.uint64(1));
            }
        }
        tombstone(messages);
        return messages.size();
    }
    void insert_upload(const upload_record& u) override {
        auto st = db_.prepare(
            "INSERT INTO uploads(id, user_id, name, size, sha256, created_at_ms) "
            "VALUES(?, ?, ?, ?, ?, ?)");
        st.bind(1, u.id)
            .bind(2, u.user)
            .bind(3, u.name)
            .bind(4, u.size)
            .bind(5, u.sha256)
            .bind(6, u.created_at_ms);
        st.run();
    }
    void complete_upload(std::string_view id, std::int64_t at_ms) override {
        auto st = db_.prepare("UPDATE uploads SET completed_at_ms = ? WHERE id = ?");
        st.bind(1, at_ms).bind(2, id);
        st.run();
    }
    void delete_upload(std::string_view id) override {
        auto st = db_.prepare("DELETE FROM uploads WHERE id = ?");
        st.bind(1, id);
        st.run();
    }
    void put_file(const file_record& f) override {
        auto st = db_.prepare(
            "INSERT OR IGNORE INTO files(sha256, size, content_type, inline, created_at_ms) "
            "VALUES(?, ?, ?, ?, ?)");
        st.bind(1, f.sha256)
            .bind(2, f.size)
            .bind(3, f.content_type)
            .bind(4, f.is_inline)
            .bind(5, f.created_at_ms);
        st.run();
    }
    void attach(const attachment_record& a) override {
        auto st = db_.prepare(
            "INSERT INTO attachments(channel_id, seq, sha256, name, uploader_id) "
            "VALUES(?, ?, ?, ?, ?)");
        st.bind(1, a.channel)
            .bind(2, a.seq)
            .bind(3, a.file.sha256)
            .bind(4, a.name)
            .bind(5, a.uploader);
        st.run();
    }
    file_collection collect_files(std::int64_t now_ms) override {
        constexpr std::int64_t day_ms = 86'400'000;
        file_collection out;
        {
            auto st = db_.prepare(
                "DELETE FROM uploads WHERE completed_at_ms = 0 AND created_at_ms < ? RETURNING id");
            st.bind(1, now_ms - 7 * day_ms);
            while (st.step()) {
                out.partial_uploads.push_back(st.text(0));
            }
        }
        {
            auto st = db_.prepare(
                "DELETE FROM uploads WHERE completed_at_ms != 0 AND completed_at_ms < ? AND NOT "
                "EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = uploads.sha256 AND "
                "a.uploader_id = uploads.user_id)");
            st.bind(1, now_ms - day_ms);
            st.run();
        }
        auto st = db_.prepare(
            "DELETE FROM files WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.sha256 = "
            "files.sha256) AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.sha256 = "
            "files.sha256) RETURNING sha256");
        while (st.step()) {
            out.files.push_back(st.text(0));
        }
        return out;
    }
    void set_retention(channel_id channel, std::uint32_t days) override {
        auto st = db_.prepare("UPDATE channels SET retention_days = ? WHERE id = ?");
        st.bind(1, static_cast<std::int64_t>(days)).bind(2, channel);
        st.run();
    }
    // Turns messages into tombstones with nothing of what they said: no
    // text, body, idempotency key, resource or reaction, and no text in
    // the edits made to them; their threads' summaries are recounted.
    void tombstone(const std::vector<std::pair<channel_id, seq_t>>& messages) {
        std::vector<std::pair<channel_id, seq_t>> threads;
        for (const auto& [channel, seq] : messages) {
            const auto e = find_event(channel, seq);
            if (!e) {
                continue;
            }
            update_message(channel, seq, "", e->edited_at_ms, true);
            auto st = db_.prepare(
                "UPDATE events SET body = NULL, client_msg_id = NULL "
                "WHERE channel_id = ? AND seq = ?");
            st.bind(1, channel).bind(2, seq);
            st.run();
            auto edits = db_.prepare(
                "UPDATE events SET text = '' WHERE channel_id = ? AND target_seq = ? AND kind = 2");
            edits.bind(1, channel).bind(2, seq);
            edits.run();
            if (e->thread_seq != 0) {
                threads.emplace_back(channel, e->thread_seq);
            }
        }
        std::sort(threads.begin(), threads.end());
        threads.erase(std::unique(threads.begin(), threads.end()), threads.end());
        for (const auto& [channel, root] : threads) {
            refresh_thread(channel, root);
        }
    }

    thread_record refresh_thread(channel_id channel, seq_t root) override {
        thread_record t;
        t.channel = channel;
        t.root_seq = root;
        {
            auto st = db_.prepare(
                "SELECT count(*), coalesce(max(seq), 0) FROM events WHERE channel_id = ? "
                "AND thread_seq = ? AND kind = 1 AND deleted = 0");
            st.bind(1, channel).bind(2, root);
            if (st.step()) {
                t.reply_count = static_cast<std::uint32_t>(st.int64(0));
                t.last_reply_seq = st.uint64(1);
            }
        }
        if (t.last_reply_seq != 0) {
            if (auto last = find_event(channel, t.last_reply_seq)) {
                t.last_reply_at_ms = last->at_ms;
            }
        }
        std::vector<std::string> ids;
        {
            auto st = db_.prepare(
                "SELECT actor_id FROM events WHERE channel_id = ? AND thread_seq = ? AND kind = 1 "
                "AND deleted = 0 GROUP BY actor_id ORDER BY min(seq) LIMIT 5");
            st.bind(1, channel).bind(2, root);
            while (st.step()) {
                t.participants.push_back(st.uint64(0));
                ids.push_back(std::to_string(st.uint64(0)));
            }
        }
        auto st = db_.prepare(
            "INSERT INTO threads(channel_id, root_seq, reply_count, last_reply_seq, "
            "last_reply_at_ms, participants) VALUES(?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(channel_id, root_seq) DO UPDATE SET reply_count = excluded.reply_count, "
            "last_reply_seq = excluded.last_reply_seq, last_reply_at_ms = "
            "excluded.last_reply_at_ms, participants = excluded.participants "
            "RETURNING question, solved_seq");
        st.bind(1, channel)
            .bind(2, root)
            .bind(3, static_cast<std::int64_t>(t.reply_count))
            .bind(4, t.last_reply_seq)
            .bind(5, t.last_reply_at_ms)
            .bind(6, join_lines(ids));
        if (st.step()) {
            t.question = st.integer(0) != 0;
            t.solved_seq = st.uint64(1);
        }
        st.run();
        return t;
    }
    void set_question(channel_id channel, seq_t root, bool question) override {
        auto st = db_.prepare(
            "INSERT INTO threads(channel_id, root_seq, question) VALUES(?, ?, ?) "
            "ON CONFLICT(channel_id, root_seq) DO UPDATE SET question = excluded.question");
        st.bind(1, channel).bind(2, root).bind(3, question);
        st.run();
    }
    void set_solved(channel_id channel, seq_t root, seq_t answer) override {
        auto st = db_.prepare(
            "INSERT INTO threads(channel_id, root_seq, question, solved_seq) VALUES(?, ?, 1, ?) "
            "ON CONFLICT(channel_id, root_seq) DO UPDATE SET question = 1, "
            "solved_seq = excluded.solved_seq");
        st.bind(1, channel).bind(2, root).bind(3, answer);
        st.run();
    }
    void set_following(user_id user, channel_id channel, seq_t root, bool following,
                       seq_t read_seq) override {
        auto st = db_.prepare(
            "INSERT INTO thread_reads(user_id, channel_id, root_seq, following, last_read_seq) "
            "VALUES(?, ?, ?, ?, ?) ON CONFLICT(user_id, channel_id, root_seq) "
            "DO UPDATE SET following = excluded.following");
        st.bind(1, user).bind(2, channel).bind(3, root).bind(4, following).bind(5, read_seq);
        st.run();
    }
    void set_thread_read_marker(user_id user, channel_id channel, seq_t root, seq_t seq) override {
        // A marker without a follow (reading a thread one does not follow)
        // is kept, not followed.
        auto st = db_.prepare(
            "INSERT INTO thread_reads(user_id, channel_id, root_seq, last_read_seq, following) "
            "VALUES(?, ?, ?, ?, 0) ON CONFLICT(user_id, channel_id, root_seq) "
            "DO UPDATE SET last_read_seq = max(last_read_seq, excluded.last_read_seq)");
        st.bind(1, user).bind(2, channel).bind(3, root).bind(4, seq);
        st.run();
    }
    void set_mentions(channel_id channel, seq_t seq, seq_t thread_seq,
                      const std::vector<user_id>& users) override {
        {
            auto st = db_.prepare("DELETE FROM mentions WHERE channel_id = ? AND seq = ?");
            st.bind(1, channel).bind(2, seq);
            st.run();
        }
        for (auto user : users) {
            auto st = db_.prepare(
                "INSERT OR IGNORE INTO mentions(user_id, channel_id, seq, thread_seq) "
                "VALUES(?, ?, ?, ?)");
            st.bind(1, user).bind(2, channel).bind(3, seq).bind(4, thread_seq);
            st.run();
        }
    }
    bool add_reaction(channel_id channel, const reaction_record& r) override {
        auto st = db_.prepare(
            "INSERT OR IGNORE INTO reactions(channel_id, seq, emoji, user_id, at_ms) "
            "VALUES(?, ?, ?, ?, ?)");
        st.bind(1, channel).bind(2, r.seq).bind(3, r.emoji).bind(4, r.user).bind(5, r.at_ms);
        st.run();
        return sqlite3_changes(db_.handle()) > 0;
    }
    bool remove_reaction(channel_id channel, seq_t seq, std::string_view emoji,
                         user_id user) override {
        auto st = db_.prepare(
            "DELETE FROM reactions WHERE channel_id = ? AND seq = ? AND emoji = ? AND user_id = ?");
        st.bind(1, channel).bind(2, seq).bind(3, emoji).bind(4, user);
        st.run();
        return sqlite3_changes(db_.handle()) > 0;
    }
    bool add_pin(channel_id channel, const pin_record& p) override {
        auto st = db_.prepare(
            "INSERT OR IGNORE INTO pins(channel_id, seq, pinned_by, at_ms) VALUES(?, ?, ?, ?)");
        st.bind(1, channel).bind(2, p.seq).bind(3, p.pinned_by).bind(4, p.at_ms);
        st.run();
        return sqlite3_changes(db_.handle()) > 0;
    }
    bool remove_pin(channel_id channel, seq_t seq) override {
        auto st = db_.prepare("DELETE FROM pins WHERE channel_id = ? AND seq = ?");
        st.bind(1, channel).bind(2, seq);
        st.run();
        return sqlite3_changes(db_.handle()) > 0;
    }
    void insert_resource(const resource_record& r) override {
        auto st = db_.prepare(
            "INSERT INTO resources(channel_id, seq, author_id, created_at_ms, title, link, kind, "
            "licence, tags, themes, audiences, version, version_at_ms, editor_id, event_seq, "
            "reply_count, last_activity_ms) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "0, ?)");
        st.bind(1, r.channel)
            .bind(2, r.seq)
            .bind(3, r.author)
            .bind(4, r.created_at_ms)
            .bind(5, r.title)
            .bind(6, r.link)
            .bind(7, r.kind)
            .bind(8, r.licence)
            .bind(9, join_lines(r.tags))
            .bind(10, join_lines(r.themes))
            .bind(11, join_lines(r.audiences))
            .bind(12, static_cast<std::int64_t>(r.version))
            .bind(13, r.version_at_ms)
            .bind(14, r.editor)
            .bind(15, r.event_seq)
            .bind(16, r.created_at_ms);
        st.run();
        store_version(r);
        mark_stale(r.channel, r.seq);
    }
    void update_resource(const resource_record& r) override {
        mark_stale(r.channel, r.seq);
        {
            auto st = db_.prepare(
                "UPDATE resources SET title = ?, link = ?, kind = ?, licence = ?, tags = ?, "
                "themes = ?, audiences = ?, version = ?, version_at_ms = ?, editor_id = ?, "
                "event_seq = ? WHERE channel_id = ? AND seq = ?");
            st.bind(1, r.title)
                .bind(2, r.link)
                .bind(3, r.kind)
                .bind(4, r.licence)
                .bind(5, join_lines(r.tags))
                .bind(6, join_lines(r.themes))
                .bind(7, join_lines(r.audiences))
                .bind(8, static_cast<std::int64_t>(r.version))
                .bind(9, r.version_at_ms)
                .bind(10, r.editor)
                .bind(11, r.event_seq)
                .bind(12, r.channel)
                .bind(13, r.seq);
            st.run();
        }
        {
            auto st = db_.prepare(
                "UPDATE events SET text = ?, edited_at_ms = ? WHERE channel_id = ? AND seq = ?");
            st.bind(1, r.description).bind(2, r.version_at_ms).bind(3, r.channel).bind(4, r.seq);
            st.run();
        }
        {
            auto st = db_.prepare("DELETE FROM resource_labels WHERE channel_id = ? AND seq = ?");
            st.bind(1, r.channel).bind(2, r.seq);
            st.run();
        }
        store_version(r);
    }
    void set_resource_activity(channel_id channel, seq_t seq, std::uint32_t reply_count,
                               std::int64_t last_activity_ms) override {
        for (const char* sql :
             {"UPDATE resources SET reply_count = ?, last_activity_ms = max(created_at_ms, ?) "
              "WHERE channel_id = ? AND seq = ?",
              "UPDATE resource_labels SET reply_count = ?, last_activity_ms = "
              "max(created_at_ms, ?) WHERE channel_id = ? AND seq = ?"}) {
            auto st = db_.prepare(sql);
            st.bind(1, static_cast<std::int64_t>(reply_count))
                .bind(2, last_activity_ms)
                .bind(3, channel)
                .bind(4, seq);
            st.run();
        }
    }
    void add_vocabulary_term(const vocabulary_term& t) override {
        auto st = db_.prepare(
            "INSERT INTO vocabulary(list, slug, label_fr, label_en, position) VALUES(?1, ?2, ?3, "
            "?4, (SELECT coalesce(max(position), 0) + 1 FROM vocabulary WHERE list = ?1)) "
            "ON CONFLICT(list, slug) DO UPDATE SET label_fr = excluded.label_fr, "
            "label_en = excluded.label_en");
        st.bind(1, t.list).bind(2, t.slug).bind(3, t.label_fr).bind(4, t.label_en);
        st.run();
    }

    void set_profile(const account& a) override {
        auto st = db_.prepare(
            "UPDATE accounts SET display_name = ?, structure = ?, commune = ?, network_role = ?, "
            "presentation = ?, skills = ? WHERE id = ?");
        st.bind(1, a.display_name)
            .bind(2, a.structure)
            .bind(3, a.commune)
            .bind(4, static_cast<int>(a.network_role))
            .bind(5, a.presentation)
            .bind(6, join_lines(a.skills))
            .bind(7, a.id);
        st.run();
    }
    std::uint64_t insert_meeting(const meeting_record& m) override {
        auto st = db_.prepare(
            "INSERT INTO meetings(channel_id, state, start_ms, created_by, created_at_ms, "
            "started_at_ms, ended_at_ms, current_phase, silenced, next_timer_ms, record) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
        st.bind(1, m.channel)
            .bind(2, m.state)
            .bind(3, m.start_ms)
            .bind(4, m.created_by)
            .bind(5, m.created_at_ms)
            .bind(6, m.started_at_ms)
            .bind(7, m.ended_at_ms)
            .bind(8, static_cast<std::int64_t>(m.current_phase))
            .bind(9, join_ids(m.silenced))
            .bind(10, m.next_timer_ms)
            .bind_blob(11, m.record);
        st.run();
        return static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_.handle()));
    }
    void update_meeting(const meeting_record& m) override {
        auto st = db_.prepare(
            "UPDATE meetings SET state = ?, start_ms = ?, started_at_ms = ?, ended_at_ms = ?, "
            "current_phase = ?, silenced = ?, next_timer_ms = ?, record = ? WHERE id = ?");
        st.bind(1, m.state)
            .bind(2, m.start_ms)
            .bind(3, m.started_at_ms)
            .bind(4, m.ended_at_ms)
            .bind(5, static_cast<std::int64_t>(m.current_phase))
            .bind(6, join_ids(m.silenced))
            .bind(7, m.next_timer_ms)
            .bind_blob(8, m.record)
            .bind(9, m.id);
        st.run();
    }
    void add_meeting_table(channel_id channel, std::uint64_t meeting,
                           std::uint32_t number) override {
        auto st = db_.prepare(
            "INSERT INTO meeting_tables(channel_id, meeting_id, number) VALUES(?, ?, ?)");
        st.bind(1, channel).bind(2, meeting).bind(3, static_cast<std::int64_t>(number));
        st.run();
    }
    std::uint64_t insert_invitation(const invitation_record& i) override {
        std::string channels;
        for (auto c : i.channels) {
            if (!channels.empty()) {
                channels += ',';
            }
            channels += std::to_string(c);
        }
        auto st = db_.prepare(
            "INSERT INTO invitations(code_hash, label, created_by, role, uses, used, "
            "expires_at_ms, revoked, created_at_ms, channels) VALUES(?, ?, ?, ?, ?, 0, ?, 0, ?, "
            "?)");
        st.bind(1, i.code_hash)
            .bind(2, i.label)
            .bind(3, i.created_by)
            .bind(4, static_cast<int>(i.role))
            .bind(5, static_cast<std::int64_t>(i.uses))
            .bind(6, i.expires_at_ms)
            .bind(7, i.created_at_ms)
            .bind(8, channels);
        st.run();
        return static_cast<std::uint64_t>(sqlite3_last_insert_rowid(db_.handle()));
    }
    void use_invitation(std::uint64_t id, user_id account, std::int64_t at_ms) override {
        auto st = db_.prepare("UPDATE invitations SET used = used + 1 WHERE id = ?");
        st.bind(1, id);
        st.run();
        auto use = db_.prepare(
            "INSERT INTO invitation_uses(invitation_id, account_id, at_ms) VALUES(?, ?, ?)");
        use.bind(1, id).bind(2, account).bind(3, at_ms);
        use.run();
    }
    void revoke_invitation(std::uint64_t id) override {
        auto st = db_.prepare("UPDATE invitations SET revoked = 1 WHERE id = ?");
        st.bind(1, id);
        st.run();
    }
    void put_meeting_template(const meeting_template& t) override {
        auto st = db_.prepare(
            "INSERT INTO meeting_templates(name, json, position) VALUES(?1, ?2, (SELECT "
            "coalesce(max(position), 0) + 1 FROM meeting_templates)) ON CONFLICT(name) DO "
            "UPDATE SET json = excluded.json");
        st.bind(1, t.name).bind(2, t.json);
        st.run();
    }
    bool remove_meeting_template(std::string_view name) override {
        auto st = db_.prepare("DELETE FROM meeting_templates WHERE name = ?");
        st.bind(1, name);
        st.run();
        return sqlite3_changes(db_.handle()) > 0;
    }
    std::uint32_t insert_case(const case_record& c) override {
        auto st = db_.prepare(
            "INSERT INTO meeting_cases(channel_id, author_id, at_ms, text) VALUES(?, ?, ?, ?)");
        st.bind(1, c.channel).bind(2, c.author).bind(3, c.at_ms).bind(4, c.text);
        st.run();
        return static_cast<std::uint32_t>(sqlite3_last_insert_rowid(db_.handle()));
    }
    void set_case_chosen(std::uint32_t id, std::uint64_t meeting) override {
        auto st = db_.prepare("UPDATE meeting_cases SET chosen_by = ? WHERE id = ?");
        st.bind(1, meeting).bind(2, static_cast<std::int64_t>(id));
        st.run();
    }

  private:
    // The version row and the labels of r.
    void store_version(const resource_record& r) {
        {
            auto st = db_.prepare(
                "INSERT INTO resource_versions(channel_id, seq, version, title, link, "
                "description, kind, licence, tags, themes, audiences, version_at_ms, editor_id, "
                "event_seq) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
            st.bind(1, r.channel)
                .bind(2, r.seq)
                .bind(3, static_cast<std::int64_t>(r.version))
                .bind(4, r.title)
                .bind(5, r.link)
                .bind(6, r.description)
                .bind(7, r.kind)
                .bind(8, r.licence)
                .bind(9, join_lines(r.tags))
                .bind(10, join_lines(r.themes))
                .bind(11, join_lines(r.audiences))
                .bind(12, r.version_at_ms)
                .bind(13, r.editor)
                .bind(14, r.event_seq);
            st.run();
        }
        // With the resource's sort keys as its row holds them.
        auto label = [&](label_list list, const std::vector<std::string>& values) {
            for (const auto& value : values) {
                auto st = db_.prepare(
                    "INSERT OR IGNORE INTO resource_labels(list, value, channel_id, seq, kind, "
                    "author_id, created_at_ms, reply_count, last_activity_ms) SELECT ?, ?, "
                    "channel_id, seq, kind, author_id, created_at_ms, reply_count, "
                    "last_activity_ms FROM resources WHERE channel_id = ? AND seq = ?");
                st.bind(1, static_cast<int>(list)).bind(2, value).bind(3, r.channel).bind(4, r.seq);
                st.run();
            }
        };
        label(tag_label, r.tags);
        label(theme_label, r.themes);
        label(audience_label, r.audiences);
    }

    // Before a message, its resource or its deletion changes: records what
    // the indexes hold for it (its body as it is now, unless it is pending
    // already, and then they still hold what the pending row says).
    void mark_stale(channel_id channel, seq_t seq) {
        std::optional<std::int64_t> doc;
        {
            auto st = db_.prepare(
                "SELECT e.doc, p.doc IS NOT NULL FROM events e LEFT JOIN search_pending p "
                "ON p.doc = e.doc WHERE e.channel_id = ? AND e.seq = ? AND e.doc IS NOT NULL");
            st.bind(1, channel).bind(2, seq);
            if (!st.step() || st.integer(1) != 0) {
                return;  // not a message, or pending already
            }
            doc = st.int64(0);
        }
        auto body = indexed_body(channel, seq);
        auto st = db_.prepare("INSERT INTO search_pending(doc, indexed) VALUES(?, ?)");
        st.bind(1, *doc);
        if (body && !body->empty()) {
            st.bind(2, *body);
        } else {
            st.bind_null(2);
        }
        st.run();
    }

  public:
    bool search_behind() {
        auto st = db_.prepare("SELECT EXISTS (SELECT 1 FROM search_pending)");
        return st.step() && st.integer(0) != 0;
    }
    // Brings up to `limit` pending documents' index entries up to date,
    // stopping early once about `max_bytes` of text went in (a commit's
    // pages grow with it, and the WAL must stay bounded); returns how many
    // it did.
    std::size_t flush_search(std::size_t limit, std::size_t max_bytes) {
        struct stale {
            std::int64_t doc;
            std::optional<std::string> indexed;
            channel_id channel;
            seq_t seq;
        };
        std::vector<stale> batch;
        {
            auto st = db_.prepare(
                "SELECT p.doc, p.indexed, e.channel_id, e.seq FROM search_pending p "
                "JOIN events e ON e.doc = p.doc ORDER BY p.doc LIMIT ?");
            st.bind(1, static_cast<std::int64_t>(limit));
            while (st.step()) {
                batch.push_back({st.int64(0),
                                 st.is_null(1) ? std::nullopt : std::optional(st.text(1)),
                                 st.uint64(2), st.uint64(3)});
            }
        }
        std::size_t done = 0, bytes = 0;
        for (const auto& d : batch) {
            if (bytes >= max_bytes) {
                break;
            }
            ++done;
            if (d.indexed) {
                bytes += d.indexed->size();
                auto words = db_.prepare(
                    "INSERT INTO search_words(search_words, rowid, body) VALUES('delete', ?, ?)");
                words.bind(1, d.doc).bind(2, *d.indexed);
                words.run();
                auto trigrams = db_.prepare(
                    "INSERT INTO search_trigram(search_trigram, rowid, body) "
                    "VALUES('delete', ?, ?)");
                trigrams.bind(1, d.doc).bind(2, search_text::fold(*d.indexed));
                trigrams.run();
            }
            if (auto body = indexed_body(d.channel, d.seq); body && !body->empty()) {
                bytes += body->size();
                auto words = db_.prepare("INSERT INTO search_words(rowid, body) VALUES(?, ?)");
                words.bind(1, d.doc).bind(2, *body);
                words.run();
                auto trigrams = db_.prepare("INSERT INTO search_trigram(rowid, body) VALUES(?, ?)");
                trigrams.bind(1, d.doc).bind(2, search_text::fold(*body));
                trigrams.run();
            }
            auto flushed = db_.prepare("DELETE FROM search_pending WHERE doc = ?");
            flushed.bind(1, d.doc);
            flushed.run();
        }
        return done;
    }

    // Merges each index into one segment: a deleted document's words
    // leave the older segments, which only a full merge rewrites.
    void optimize_search() {
        db_.exec("INSERT INTO search_words(search_words) VALUES('optimize')");
        db_.exec("INSERT INTO search_trigram(search_trigram) VALUES('optimize')");
    }

  private:
    // What the search indexes are to hold for a message now: its text, or
    // a resource's title, description and tags; nothing for a deleted one.
    std::optional<std::string> indexed_body(channel_id channel, seq_t seq) {
        auto st = db_.prepare(
            "SELECT e.text, r.title, r.tags, r.seq IS NOT NULL FROM events e "
            "LEFT JOIN resources r ON r.channel_id = e.channel_id AND r.seq = e.seq "
            "WHERE e.channel_id = ? AND e.seq = ? AND e.kind = 1 AND e.deleted = 0");
        st.bind(1, channel).bind(2, seq);
        if (!st.step()) {
            return std::nullopt;
        }
        if (st.integer(3) != 0) {
            return search_text::resource_body(st.text(1), st.text(0), split_lines(st.text(2)));
        }
        return st.text(0);
    }

    connection& db_;
};

}  // namespace

int latest_schema_version() {
    return migration_count;
}

void migrate(connection& db, int version) {
    for (;;) {
        // The version is read inside the write transaction: another process
        // (an admin command) may be migrating the same file at this moment.
        db.exec("BEGIN IMMEDIATE");
        try {
            int current = db.user_version();
            if (current > migration_count) {
                throw sqlite_error(SQLITE_MISMATCH, "database schema version " +
                                                        std::to_string(current) +
                                                        " is newer than this relais-server (" +
                                                        std::to_string(migration_count) +
                                                        "): a newer relais-server wrote it, and "
                                                        "this one cannot open it; to go back, "
                                                        "restore a backup taken before the "
                                                        "upgrade");
            }
            if (current >= version || current >= migration_count) {
                db.exec("COMMIT");
                return;
            }
            db.exec(migrations[current]);
            if (current + 1 == templates_migration) {
                seed_meeting_templates(db);
            }
            db.exec(("PRAGMA user_version = " + std::to_string(current + 1)).c_str());
            db.exec("COMMIT");
        } catch (...) {
            db.exec("ROLLBACK");
            throw;
        }
    }
}

std::filesystem::path sqlite_store::database_path(const std::filesystem::path& data_dir) {
    return data_dir / "relais.db";
}

sqlite_store::sqlite_store(options opts) : opts_(std::move(opts)) {
    std::filesystem::create_directories(opts_.data_dir);
    const auto path = database_path(opts_.data_dir).string();
    writer_db_ = std::make_unique<connection>(path, opts_.durability, opts_.vfs);
    // Whatever the writer deletes or overwrites is zeroed in the file, not
    // left in free space: an erased account or an expired message is gone
    // from the bytes, not only from the tables. Pages it frees are written
    // once more (zeros), which the write path pays only on deletes and
    // index merges.
    writer_db_->exec("PRAGMA secure_delete=ON");
    migrate(*writer_db_, migration_count);
    for (std::size_t i = 0; i < std::max<std::size_t>(1, opts_.reader_threads); ++i) {
        reader_dbs_.push_back(std::make_unique<connection>(path, opts_.durability, opts_.vfs));
    }
    checkpoint_db_ = std::make_unique<connection>(path, opts_.durability, opts_.vfs);
    opts_.checkpoint_pages = std::max<std::size_t>(1, opts_.checkpoint_pages);
    // Replaces SQLite's automatic checkpoint, which runs in the committing
    // thread.
    sqlite3_wal_hook(writer_db_->handle(), &sqlite_store::on_wal_commit, this);
    checkpoint_thread_ = std::thread([this] { checkpoint_loop(); });
    writer_thread_ = std::thread([this] { writer_loop(); });
    for (std::size_t i = 0; i < reader_dbs_.size(); ++i) {
        reader_threads_.emplace_back([this, i] { reader_loop(i); });
    }
}

sqlite_store::~sqlite_store() {
    close();
}

void sqlite_store::close() {
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            return;
        }
        stopping_ = true;
    }
    write_cv_.notify_all();
    read_cv_.notify_all();
    if (writer_thread_.joinable()) {
        writer_thread_.join();
    }
    for (auto& t : reader_threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
    {
        std::lock_guard lock(checkpoint_mu_);
        checkpoint_stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    if (checkpoint_thread_.joinable()) {
        checkpoint_thread_.join();
    }
}

void sqlite_store::scrub(std::function<void(bool ok)> done) {
    write({[](writer& w) {
               // Only this store's jobs reach its writer.
               auto& access = static_cast<sql_access&>(w);
               while (access.flush_search(search_flush_batch, search_flush_bytes) > 0) {
               }
               access.optimize_search();
               return true;
           },
           [this, done = std::move(done)](bool committed) {
               const bool truncated = committed && truncate_wal();
               if (done) {
                   done(truncated);
               }
           }});
}

bool sqlite_store::truncate_wal() {
    {
        // A checkpointer pass makes SQLite answer busy at once: wait for it
        // to end, and keep it from starting another meanwhile.
        std::unique_lock lock(checkpoint_mu_);
        writer_finishing_ = true;
        checkpointer_done_cv_.wait(lock, [&] { return !checkpointer_in_pass_; });
    }
    // TRUNCATE waits (busy timeout) for readers on older snapshots, copies
    // every frame and empties the file: the WAL keeps no earlier page.
    const int rc = sqlite3_wal_checkpoint_v2(writer_db_->handle(), nullptr,
                                             SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
    {
        std::lock_guard lock(checkpoint_mu_);
        writer_finishing_ = false;
        if (rc == SQLITE_OK) {
            checkpointed_pages_ = 0;
        }
    }
    if (rc != SQLITE_OK) {
        report_error("storage_scrub_checkpoint_failed", sqlite3_errmsg(writer_db_->handle()));
        return false;
    }
    return true;
}

int sqlite_store::on_wal_commit(void* self, sqlite3* db, const char* schema, int wal_pages) {
    auto& s = *static_cast<sqlite_store*>(self);
    const auto pages = static_cast<std::size_t>(std::max(wal_pages, 0));
    const std::size_t threshold = s.opts_.checkpoint_pages;
    const std::size_t little = std::max<std::size_t>(1, threshold / 8);
    // Past this size the WAL must start over, which only a checkpoint that
    // ends with no commit after it allows: the writer's own.
    const std::size_t limit = 8 * threshold;
    const std::size_t cap = 2 * limit;
    bool finishing = false;
    {
        std::unique_lock lock(s.checkpoint_mu_);
        if (pages < s.checkpointed_pages_) {
            s.checkpointed_pages_ = 0;  // the WAL started over
        }
        const std::size_t behind = pages - s.checkpointed_pages_;
        if (pages < limit) {
            s.writer_finishing_ = false;
            s.writer_checkpoint_at_ = limit;
        } else if (behind <= little || pages >= cap) {
            // Little is left to copy, or the disk is too slow to keep up:
            // the checkpointer stops starting passes.
            s.writer_finishing_ = true;
        }
        if (!s.writer_finishing_ && behind >= (pages < limit ? threshold : little)) {
            s.checkpoint_wanted_ = true;
            s.checkpoint_cv_.notify_one();
        }
        finishing = s.writer_finishing_;
        if (pages >= cap) {
            // SQLite answers busy at once to a checkpoint while another runs,
            // whatever the busy timeout: the wait for the pass is ours.
            s.checkpointer_done_cv_.wait(lock, [&] { return !s.checkpointer_in_pass_; });
        }
    }
    if (finishing && (pages >= s.writer_checkpoint_at_ || pages >= cap)) {
        // Busy (a checkpointer pass still running) is fine below the cap:
        // the next try comes a few commits later. At the cap, RESTART waits
        // for readers (busy timeout) so that the next commit starts the WAL
        // over.
        s.writer_checkpoint_at_ = pages + little;
        const int mode = pages >= cap ? SQLITE_CHECKPOINT_RESTART : SQLITE_CHECKPOINT_PASSIVE;
        int copied = 0;
        const auto began = std::chrono::steady_clock::now();
        const int rc = sqlite3_wal_checkpoint_v2(db, schema, mode, nullptr, &copied);
        if (rc == SQLITE_OK && s.opts_.on_checkpoint) {
            s.opts_.on_checkpoint(seconds_since(began));
        }
        if (rc == SQLITE_OK) {
            std::lock_guard lock(s.checkpoint_mu_);
            s.checkpointed_pages_ = static_cast<std::size_t>(std::max(copied, 0));
        } else if (rc != SQLITE_BUSY) {
            s.report_error("storage_checkpoint_failed", sqlite3_errmsg(db));
        }
    }
    return SQLITE_OK;
}

void sqlite_store::report_error(std::string_view event, std::string_view detail) const {
    if (opts_.report_error) {
        opts_.report_error(event, detail);
    }
}

void sqlite_store::report_current_exception(std::string_view event) const {
    try {
        throw;
    } catch (const std::exception& e) {
        report_error(event, e.what());
    } catch (...) {
        report_error(event, "unknown exception");
    }
}

void sqlite_store::checkpoint_loop() {
    sqlite3* db = checkpoint_db_->handle();
    for (;;) {
        {
            std::unique_lock lock(checkpoint_mu_);
            checkpoint_cv_.wait(lock, [&] { return checkpoint_stopping_ || checkpoint_wanted_; });
            if (checkpoint_stopping_) {
                return;
            }
            checkpoint_wanted_ = false;
            if (writer_finishing_) {
                continue;
            }
            checkpointer_in_pass_ = true;
        }
        int copied = 0;
        const auto began = std::chrono::steady_clock::now();
        const int rc =
            sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, &copied);
        if (rc == SQLITE_OK && opts_.on_checkpoint) {
            opts_.on_checkpoint(seconds_since(began));
        }
        // Busy: the writer is finishing the WAL itself.
        if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
            report_error("storage_checkpoint_failed", sqlite3_errmsg(db));
        }
        {
            std::lock_guard lock(checkpoint_mu_);
            checkpointer_in_pass_ = false;
            if (rc == SQLITE_OK) {
                checkpointed_pages_ = static_cast<std::size_t>(std::max(copied, 0));
            }
        }
        checkpointer_done_cv_.notify_all();
    }
}

void sqlite_store::read(std::function<void(reader&)> fn) {
    {
        std::lock_guard lock(mu_);
        read_queue_.push_back(std::move(fn));
    }
    read_cv_.notify_one();
}

void sqlite_store::write(write_job job) {
    {
        std::lock_guard lock(mu_);
        write_queue_.push_back(std::move(job));
    }
    write_cv_.notify_one();
}

void sqlite_store::reader_loop(std::size_t index) {
    connection& db = *reader_dbs_[index];
    sql_access access(db);
    for (;;) {
        std::function<void(reader&)> fn;
        {
            std::unique_lock lock(mu_);
            read_cv_.wait(lock, [&] { return stopping_ || !read_queue_.empty(); });
            if (read_queue_.empty()) {
                return;
            }
            fn = std::move(read_queue_.front());
            read_queue_.pop_front();
        }
        // One read transaction per job, so that all its queries see one snapshot.
        ++readers_busy_;
        try {
            db.exec("BEGIN");
            in_callback_scope([&] { fn(access); });
            db.exec("COMMIT");
        } catch (...) {
            report_current_exception("storage_read_failed");
            try {
                db.exec("ROLLBACK");
            } catch (...) {
            }
        }
        --readers_busy_;
    }
}

void sqlite_store::in_callback_scope(const std::function<void()>& callbacks) {
    if (opts_.callback_scope) {
        opts_.callback_scope(callbacks);
    } else {
        callbacks();
    }
}

void sqlite_store::writer_loop() {
    std::vector<write_job> group;
    auto last_flush = std::chrono::steady_clock::now();
    bool search_behind = true;  // what an earlier run left, too
    for (;;) {
        // The search indexes catch up while the writer has nothing else to
        // do, and every so often under a load that never pauses.
        bool idle = false;
        {
            std::lock_guard lock(mu_);
            idle = write_queue_.empty();
        }
        if (search_behind &&
            (idle || std::chrono::steady_clock::now() - last_flush > search_flush_every)) {
            search_behind = flush_search(idle);
            last_flush = std::chrono::steady_clock::now();
        }
        {
            std::unique_lock lock(mu_);
            write_cv_.wait(lock, [&] { return stopping_ || !write_queue_.empty(); });
            if (write_queue_.empty()) {
                return;
            }
            // Whatever queued up while the previous group was committing goes
            // into this one: the fsync is paid once for all of them.
            while (!write_queue_.empty() && group.size() < opts_.max_group_jobs) {
                group.push_back(std::move(write_queue_.front()));
                write_queue_.pop_front();
            }
        }
        commit_group(group);
        group.clear();
        search_behind = true;
    }
}

bool sqlite_store::flush_search(bool idle) {
    connection& db = *writer_db_;
    sql_access access(db);
    for (;;) {
        // When idle, readers first: a member catching up after many writes
        // should not share the core with the indexing of those writes. Not
        // for long, so that a load that always reads still lets the
        // indexes catch up, and never while a write waits.
        for (int wait = 0; idle && readers_busy_ > 0 && wait < 50; ++wait) {
            {
                std::lock_guard lock(mu_);
                if (!write_queue_.empty() || stopping_) {
                    break;
                }
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        std::size_t done = 0;
        try {
            // What is flushed can be flushed again: a crash that loses this
            // transaction leaves its documents pending, so it need not wait
            // for the disk (the next commit's sync takes it along).
            db.exec("PRAGMA synchronous=NORMAL");
            db.prepare("BEGIN IMMEDIATE").run();
            done = access.flush_search(search_flush_batch, search_flush_bytes);
            db.prepare("COMMIT").run();
        } catch (...) {
            report_current_exception("storage_search_flush_failed");
            try {
                db.exec("ROLLBACK");
            } catch (...) {
            }
        }
        try {
            db.exec(opts_.durability == connection::durability::full ? "PRAGMA synchronous=FULL"
                                                                     : "PRAGMA synchronous=NORMAL");
        } catch (...) {
            report_current_exception("storage_search_flush_failed");
        }
        if (done == 0 || !access.search_behind()) {
            return false;
        }
        // More to do: on while nobody waits, else after the next group.
        std::lock_guard lock(mu_);
        if (!idle || !write_queue_.empty() || stopping_) {
            return true;
        }
    }
}

void sqlite_store::commit_group(std::vector<write_job>& group) {
    connection& db = *writer_db_;
    sql_access access(db);
    std::vector<char> job_ok(group.size(), 1);
    bool committed = false;
    const auto began = std::chrono::steady_clock::now();
    try {
        // Prepared once and kept in the cache, not parsed again for every job.
        db.prepare("BEGIN IMMEDIATE").run();
        for (std::size_t i = 0; i < group.size(); ++i) {
            db.prepare("SAVEPOINT job").run();
            bool keep = false;
            try {
                keep = group[i].apply(access);
            } catch (...) {
                report_current_exception("storage_write_job_failed");
                job_ok[i] = 0;
            }
            if (!keep) {
                db.prepare("ROLLBACK TO job").run();
            }
            db.prepare("RELEASE job").run();
        }
        db.prepare("COMMIT").run();
        committed = true;
        if (opts_.on_commit) {
            opts_.on_commit(group.size(), seconds_since(began));
        }
    } catch (...) {
        report_current_exception("storage_group_commit_failed");
        try {
            db.exec("ROLLBACK");
        } catch (...) {
        }
    }
    auto complete = [&] {
        for (std::size_t i = 0; i < group.size(); ++i) {
            if (group[i].done) {
                try {
                    group[i].done(committed && job_ok[i]);
                } catch (...) {
                    report_current_exception("storage_write_completion_failed");
                }
            }
        }
    };
    in_callback_scope(complete);
}

}  // namespace relais::storage::sqlite
