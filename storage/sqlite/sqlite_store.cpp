#include "storage/sqlite/sqlite_store.hpp"

#include <algorithm>
#include <exception>

namespace relais::storage::sqlite {
namespace {

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
};

constexpr int migration_count = static_cast<int>(std::size(migrations));

account read_account(const statement& st) {
    account a;
    a.id = st.uint64(0);
    a.name = st.text(1);
    a.display_name = st.text(2);
    a.role = static_cast<v1::Role>(st.integer(3));
    a.disabled = st.integer(4) != 0;
    a.password_hash = st.text(5);
    a.created_at_ms = st.int64(6);
    return a;
}

#define RELAIS_ACCOUNT_COLUMNS \
    "id, name, display_name, role, disabled, password_hash, created_at_ms"
#define RELAIS_CHANNEL_COLUMNS                                                                    \
    "id, name, topic, kind, last_seq, created_at_ms, members_can_invite, members_can_set_topic, " \
    "display_name"
#define RELAIS_EVENT_COLUMNS                                                                \
    "channel_id, seq, kind, at_ms, actor_id, text, client_msg_id, target_seq, subject_id, " \
    "change, role, edited_at_ms, deleted"

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
    return e;
}

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
    std::optional<session_record> find_session(std::string_view token_hash) override {
        auto st = db_.prepare(
            "SELECT token_hash, user_id, created_at_ms FROM sessions WHERE token_hash = ?");
        st.bind(1, token_hash);
        return one_row<session_record>(st, [](const statement& s) {
            return session_record{s.text(0), s.uint64(1), s.int64(2)};
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
            "AND deleted = 0 AND actor_id != ?");
        st.bind(1, channel).bind(2, after).bind(3, reader_user);
        return st.step() ? st.uint64(0) : 0;
    }

    user_id insert_account(const account& a) override {
        auto st = db_.prepare(
            "INSERT INTO accounts(name, display_name, role, disabled, password_hash, "
            "created_at_ms) VALUES(?, ?, ?, ?, ?, ?)");
        st.bind(1, a.name)
            .bind(2, a.display_name)
            .bind(3, static_cast<int>(a.role))
            .bind(4, a.disabled)
            .bind(5, a.password_hash)
            .bind(6, a.created_at_ms);
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
        auto st =
            db_.prepare("INSERT INTO sessions(token_hash, user_id, created_at_ms) VALUES(?, ?, ?)");
        st.bind(1, s.token_hash).bind(2, s.user).bind(3, s.created_at_ms);
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
        auto st = db_.prepare("INSERT INTO events(" RELAIS_EVENT_COLUMNS
                              ") VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
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
            .bind(13, e.deleted);
        st.run();
        return e.seq;
    }
    void update_message(channel_id channel, seq_t seq, std::string_view text,
                        std::int64_t edited_at_ms, bool deleted) override {
        auto st = db_.prepare(
            "UPDATE events SET text = ?, edited_at_ms = ?, deleted = ? "
            "WHERE channel_id = ? AND seq = ? AND kind = 1");
        st.bind(1, text).bind(2, edited_at_ms).bind(3, deleted).bind(4, channel).bind(5, seq);
        st.run();
    }

  private:
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
                                                        std::to_string(migration_count) + ")");
            }
            if (current >= version || current >= migration_count) {
                db.exec("COMMIT");
                return;
            }
            db.exec(migrations[current]);
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
        const int rc = sqlite3_wal_checkpoint_v2(db, schema, mode, nullptr, &copied);
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
        const int rc =
            sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, &copied);
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
    for (;;) {
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
    }
}

void sqlite_store::commit_group(std::vector<write_job>& group) {
    connection& db = *writer_db_;
    sql_access access(db);
    std::vector<char> job_ok(group.size(), 1);
    bool committed = false;
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
