#include "storage/sqlite/maintenance.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

#include "storage/sqlite/sqlite_store.hpp"

namespace relais::storage::sqlite {
namespace {

std::filesystem::path lock_path(const std::filesystem::path& data_dir) {
    return data_dir / "relais.lock";
}

struct db_closer {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using db_handle = std::unique_ptr<sqlite3, db_closer>;

db_handle open_db(const std::filesystem::path& path, int flags) {
    sqlite3* raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
    db_handle db(raw);
    if (rc != SQLITE_OK) {
        throw maintenance_error("cannot open " + path.string() + ": " +
                                (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    }
    sqlite3_busy_timeout(db.get(), 10'000);
    return db;
}

// Runs `sql` and calls `row` with each row's text columns.
template <class Row>
void each_row(sqlite3* db, const char* sql, Row row) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &raw, nullptr) != SQLITE_OK) {
        throw maintenance_error(std::string("not a Relais database: ") + sqlite3_errmsg(db));
    }
    std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st(raw, sqlite3_finalize);
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
        std::vector<std::string> columns;
        for (int i = 0; i < sqlite3_column_count(raw); ++i) {
            const auto* text = sqlite3_column_text(raw, i);
            columns.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
        }
        row(columns);
    }
    if (rc != SQLITE_DONE) {
        throw maintenance_error(std::string("reading the database failed: ") + sqlite3_errmsg(db));
    }
}

void sync_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0 || ::fsync(fd) != 0) {
        if (fd >= 0) {
            ::close(fd);
        }
        throw maintenance_error("cannot sync " + path.string());
    }
    ::close(fd);
}

void sync_dir(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

}  // namespace

data_lock::data_lock(const std::filesystem::path& data_dir) {
    std::filesystem::create_directories(data_dir);
    fd_ = ::open(lock_path(data_dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
        throw maintenance_error("cannot create " + lock_path(data_dir).string());
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd_);
        fd_ = -1;
        throw maintenance_error("another relais-server is serving " + data_dir.string());
    }
}

data_lock::~data_lock() {
    if (fd_ >= 0) {
        ::close(fd_);  // drops the lock
    }
}

bool data_lock::held(const std::filesystem::path& data_dir) {
    const int fd = ::open(lock_path(data_dir).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return false;  // never served
    }
    const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    ::close(fd);
    return !free;
}

std::uintmax_t backup(const std::filesystem::path& data_dir, const std::filesystem::path& file) {
    const auto source_path = sqlite_store::database_path(data_dir);
    if (!std::filesystem::exists(source_path)) {
        throw maintenance_error("no database in " + data_dir.string());
    }
    auto source = open_db(source_path, SQLITE_OPEN_READONLY);
    auto tmp = file;
    tmp += ".part";
    std::filesystem::remove(tmp);
    {
        auto target = open_db(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
        sqlite3_backup* b = sqlite3_backup_init(target.get(), "main", source.get(), "main");
        if (!b) {
            throw maintenance_error(std::string("backup: ") + sqlite3_errmsg(target.get()));
        }
        // Every page in one step: one read transaction, so one moment, and
        // writers in WAL mode are not held up by it.
        int rc;
        while ((rc = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED) {
            sqlite3_sleep(20);
        }
        sqlite3_backup_finish(b);
        if (rc != SQLITE_DONE) {
            std::filesystem::remove(tmp);
            throw maintenance_error(std::string("backup failed: ") + sqlite3_errstr(rc));
        }
        // A file that stands alone: no WAL beside it to carry along.
        char* error = nullptr;
        if (sqlite3_exec(target.get(), "PRAGMA journal_mode = DELETE", nullptr, nullptr, &error) !=
            SQLITE_OK) {
            std::string why = error ? error : "?";
            sqlite3_free(error);
            throw maintenance_error("backup: " + why);
        }
    }
    sync_file(tmp);
    std::filesystem::rename(tmp, file);
    sync_dir(std::filesystem::absolute(file).parent_path());
    return std::filesystem::file_size(file);
}

namespace {

// relais-YYYYMMDDTHHMMSS.mmmZ.db: UTC, so that names sort as times do.
bool is_rotated_backup_name(const std::string& name) {
    static const std::string shape = "relais-00000000T000000.000Z.db";
    if (name.size() != shape.size()) {
        return false;
    }
    for (std::size_t i = 0; i < shape.size(); ++i) {
        const bool digit = name[i] >= '0' && name[i] <= '9';
        if (shape[i] == '0' ? !digit : name[i] != shape[i]) {
            return false;
        }
    }
    return true;
}

}  // namespace

rotated_backup backup_into(const std::filesystem::path& data_dir,
                           const std::filesystem::path& folder, std::size_t keep) {
    if (!std::filesystem::is_directory(folder)) {
        throw maintenance_error(folder.string() + " is not a folder");
    }
    const auto now = std::chrono::system_clock::now();
    const auto seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char name[64];
    std::snprintf(name, sizeof name, "relais-%04d%02d%02dT%02d%02d%02d.%03dZ.db",
                  utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                  utc.tm_sec, static_cast<int>(millis));
    rotated_backup result;
    result.file = folder / name;
    result.bytes = backup(data_dir, result.file);
    if (keep == 0) {
        return result;
    }
    // Only files of this exact shape are ever removed: whatever else the
    // administrator keeps in the folder stays.
    std::vector<std::filesystem::path> rotated;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        if (entry.is_regular_file() && is_rotated_backup_name(entry.path().filename().string())) {
            rotated.push_back(entry.path());
        }
    }
    std::sort(rotated.begin(), rotated.end());
    while (rotated.size() > keep) {
        std::filesystem::remove(rotated.front());
        result.removed.push_back(rotated.front());
        rotated.erase(rotated.begin());
    }
    return result;
}

std::vector<std::string> integrity_problems(const std::filesystem::path& database) {
    if (!std::filesystem::exists(database)) {
        return {"no database at " + database.string()};
    }
    auto db = open_db(database, SQLITE_OPEN_READONLY);
    std::vector<std::string> problems;
    int version = 0;
    each_row(db.get(), "PRAGMA user_version",
             [&](const auto& row) { version = std::stoi(row.at(0)); });
    if (version > latest_schema_version()) {
        return {"the schema is version " + std::to_string(version) +
                ", newer than this relais-server knows (" +
                std::to_string(latest_schema_version()) + "): use a newer relais-server"};
    }
    if (version == 0) {
        return {"not a Relais database (no schema)"};
    }
    each_row(db.get(), "PRAGMA integrity_check", [&](const auto& row) {
        if (row.at(0) != "ok") {
            problems.push_back("SQLite: " + row.at(0));
        }
    });
    if (!problems.empty()) {
        return problems;
    }
    // Seqs 1..last_seq, without a gap, in every channel.
    each_row(db.get(),
             "SELECT c.name, c.last_seq, count(e.seq), coalesce(min(e.seq), 0), "
             "coalesce(max(e.seq), 0) FROM channels c LEFT JOIN events e ON e.channel_id = c.id "
             "GROUP BY c.id HAVING count(e.seq) != c.last_seq OR coalesce(max(e.seq), 0) != "
             "c.last_seq OR (c.last_seq > 0 AND min(e.seq) != 1)",
             [&](const auto& row) {
                 problems.push_back("channel '" + row.at(0) + "': last seq " + row.at(1) + ", " +
                                    row.at(2) + " events from " + row.at(3) + " to " + row.at(4) +
                                    " (seqs must be 1 to the last, without a gap)");
             });
    each_row(db.get(),
             "SELECT c.name, a.name, m.last_read_seq, c.last_seq FROM members m JOIN channels c "
             "ON c.id = m.channel_id JOIN accounts a ON a.id = m.user_id WHERE m.last_read_seq > "
             "c.last_seq",
             [&](const auto& row) {
                 problems.push_back("channel '" + row.at(0) + "': " + row.at(1) +
                                    "'s read marker " + row.at(2) + " is past the last seq " +
                                    row.at(3));
             });
    return problems;
}

std::filesystem::path restore(const std::filesystem::path& file,
                              const std::filesystem::path& data_dir) {
    if (data_lock::held(data_dir)) {
        throw maintenance_error("a relais-server is serving " + data_dir.string() +
                                "; stop it first (nothing was changed)");
    }
    if (auto problems = integrity_problems(file); !problems.empty()) {
        std::string all;
        for (const auto& p : problems) {
            all += "\n  " + p;
        }
        throw maintenance_error(file.string() + " cannot be restored:" + all);
    }
    // Held while restoring: a server started meanwhile waits its turn.
    data_lock lock(data_dir);
    const auto target = sqlite_store::database_path(data_dir);
    std::filesystem::path moved;
    if (std::filesystem::exists(target)) {
        char stamp[32];
        const auto now = std::time(nullptr);
        std::tm local{};
        localtime_r(&now, &local);
        std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &local);
        moved = data_dir / (std::string("replaced-") + stamp);
        std::filesystem::create_directories(moved);
        for (const char* suffix : {"", "-wal", "-shm"}) {
            auto from = target;
            from += suffix;
            if (std::filesystem::exists(from)) {
                auto to = moved / from.filename();
                std::filesystem::rename(from, to);
            }
        }
    }
    auto tmp = target;
    tmp += ".part";
    std::filesystem::copy_file(file, tmp, std::filesystem::copy_options::overwrite_existing);
    sync_file(tmp);
    std::filesystem::rename(tmp, target);
    sync_dir(data_dir);
    return moved;
}

}  // namespace relais::storage::sqlite
