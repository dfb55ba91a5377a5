#pragma once

// Keeping the data: an online backup, a restore, an integrity check, and the
// lock that tells a data folder a server is using it. For `relais-server
// backup|restore|integrity`; each runs in a process of its own, beside a
// server or without one.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace relais::storage::sqlite {

// Refused: a server holds the data folder, the file is not a Relais
// database, the copy failed. The message says which, in plain words.
class maintenance_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Held by a serving server for its whole life: a second server on the same
// folder, and a restore into it, are refused. The kernel drops it when the
// process ends, however it ends.
class data_lock {
  public:
    // Throws maintenance_error when another process holds it.
    explicit data_lock(const std::filesystem::path& data_dir);
    ~data_lock();
    data_lock(const data_lock&) = delete;
    data_lock& operator=(const data_lock&) = delete;
    // Whether a process holds the folder's lock now.
    static bool held(const std::filesystem::path& data_dir);

  private:
    int fd_ = -1;
};

// Copies the database of `data_dir` to `file` as it was at one moment, while
// a server may be writing to it: SQLite's online backup, in one read
// transaction (writers go on, in WAL mode). The copy is written beside
// `file`, synced, then renamed into place: `file` is whole or untouched.
// Returns the copy's size in bytes.
std::uintmax_t backup(const std::filesystem::path& data_dir, const std::filesystem::path& file);

// A backup into `folder` named relais-YYYYMMDDTHHMMSS.mmmZ.db (UTC), for a
// daily timer; then only the `keep` newest files of that shape stay in the
// folder (0: all of them). Nothing else in the folder is touched.
struct rotated_backup {
    std::filesystem::path file;
    std::uintmax_t bytes = 0;
    std::vector<std::filesystem::path> removed;
};
rotated_backup backup_into(const std::filesystem::path& data_dir,
                           const std::filesystem::path& folder, std::size_t keep);

// What is wrong with a database, in plain words: SQLite's integrity check,
// then Relais' own invariants (every channel's seqs are 1 to last_seq
// without a gap, every read marker is at most its channel's last seq, the
// schema is one this build knows). Empty: nothing.
std::vector<std::string> integrity_problems(const std::filesystem::path& database);

// Puts a backup in place as the data folder's database, after checking it
// (integrity_problems) and that no server holds the folder. A database
// already there is moved aside, with its WAL, into
// <data_dir>/replaced-<time>/, never deleted. Returns where it went (empty
// when there was none).
std::filesystem::path restore(const std::filesystem::path& file,
                              const std::filesystem::path& data_dir);

}  // namespace relais::storage::sqlite
