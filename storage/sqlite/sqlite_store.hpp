#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/sqlite/connection.hpp"
#include "storage/store.hpp"

namespace relais::storage::sqlite {

struct options {
    std::filesystem::path data_dir;
    connection::durability durability = connection::durability::full;
    std::size_t reader_threads = 2;
    std::size_t max_group_jobs = 1024;  // jobs committed in one transaction at most
    std::string vfs;  // a registered SQLite VFS; empty = the default (tests simulate power loss)
    // The checkpointer thread copies the WAL into the database once this many
    // pages have piled up since its last pass (SQLite's default threshold).
    // At 16 times as many the writer waits for the copy (see sqlite_store).
    std::size_t checkpoint_pages = 1000;
    // Runs `callbacks` (every `done` of one committed group, on the writer
    // thread, or one read job, on a reader thread); empty = call them
    // directly. Lets the caller treat what they do as one unit.
    std::function<void(const std::function<void()>& callbacks)> callback_scope;
    // Told of failures that no caller hears of (a checkpoint, a job that
    // threw): `event` names what failed, `detail` says why. Storage does not
    // log by itself; the server routes this to its log. Empty: dropped.
    std::function<void(std::string_view event, std::string_view detail)> report_error;
    // Told after each group commit (how many jobs, how long from BEGIN to
    // COMMIT) on the writer thread, and after each checkpoint pass, for the
    // server's metrics. Empty: nobody counts.
    std::function<void(std::size_t jobs, double seconds)> on_commit;
    std::function<void(double seconds)> on_checkpoint;
};

// The schema versions this build knows; the database is migrated to the last.
int latest_schema_version();
// Applies migrations up to `version` (tests build every older schema with it).
void migrate(connection& db, int version);

// The embedded store: one SQLite file in WAL mode, one writer thread that
// commits jobs in groups, a pool of reader threads with their own
// connections, and a checkpointer thread.
// Checkpoints are not the writer's: a checkpoint syncs the WAL and the
// database file, and while the writer waits for a slow sync (0.2 to 0.9 s
// seen on this VM's disk) no message is acknowledged or delivered. The
// writer checkpoints only to let the WAL start over once the checkpointer
// has copied nearly all of it, which continuous writes never leave it time
// to do alone. When the disk is so slow that the WAL reaches 16 times the
// checkpoint threshold all the same, the writer waits for the checkpointer's
// pass to end and copies the rest itself: the WAL is bounded whatever the
// disk, and a disk that slow holds up acknowledgements instead of filling it.
// Thread-safe: the job queues are guarded by mu_; each connection is owned by
// the one thread that uses it.
class sqlite_store final : public store {
  public:
    // Opens (creating and migrating) <data_dir>/relais.db; throws sqlite_error
    // when the database cannot be opened, migrated, or made as durable as asked.
    explicit sqlite_store(options opts);
    ~sqlite_store() override;

    void read(std::function<void(reader&)> fn) override;
    void write(write_job job) override;
    void close() override;
    void scrub(std::function<void(bool ok)> done) override;

    static std::filesystem::path database_path(const std::filesystem::path& data_dir);

  private:
    void writer_loop();
    void reader_loop(std::size_t index);
    void commit_group(std::vector<write_job>& group);
    // Indexes documents written since the last flush, in batches of their
    // own transactions; when `idle`, until none is left or a job comes.
    // Returns whether some are left.
    bool flush_search(bool idle);
    static constexpr std::size_t search_flush_batch = 1000;
    // Text per batch at most: the batch's commit grows with it.
    static constexpr std::size_t search_flush_bytes = 128 * 1024;
    static constexpr auto search_flush_every = std::chrono::milliseconds(25);
    void in_callback_scope(const std::function<void()>& callbacks);
    void checkpoint_loop();
    // On the writer thread, between groups: copies the whole WAL into the
    // database and truncates it; false when SQLite could not.
    bool truncate_wal();
    void report_error(std::string_view event, std::string_view detail) const;
    // Reports the exception being handled (call inside a catch block).
    void report_current_exception(std::string_view event) const;
    // SQLite's WAL hook on the writer connection, after each commit.
    static int on_wal_commit(void* self, sqlite3* db, const char* schema, int wal_pages);

    options opts_;
    std::unique_ptr<connection> writer_db_;
    std::vector<std::unique_ptr<connection>> reader_dbs_;
    std::unique_ptr<connection> checkpoint_db_;

    std::mutex mu_;
    std::condition_variable write_cv_;
    std::condition_variable read_cv_;
    std::deque<write_job> write_queue_;
    std::deque<std::function<void(reader&)>> read_queue_;
    bool stopping_ = false;

    std::thread writer_thread_;
    std::vector<std::thread> reader_threads_;
    std::atomic<int> readers_busy_{0};  // reader threads running a job

    std::mutex checkpoint_mu_;
    std::condition_variable checkpoint_cv_;
    bool checkpoint_wanted_ = false;
    bool checkpoint_stopping_ = false;
    std::size_t checkpointed_pages_ = 0;  // of the WAL as it was at the last pass
    bool writer_finishing_ = false;       // the writer checkpoints, not the checkpointer
    bool checkpointer_in_pass_ = false;
    std::condition_variable checkpointer_done_cv_;
    std::size_t writer_checkpoint_at_ = 0;  // WAL size of the writer's next try
    std::thread checkpoint_thread_;
};

}  // namespace relais::storage::sqlite
