#include "storage/sqlite/connection.hpp"

#include <chrono>
#include <thread>

#include "storage/text/search_text.hpp"

namespace relais::storage::sqlite {
namespace {

// relais_fold(text): search_text::fold in SQL, for the migration that
// indexes the messages stored before search existed.
void fold_function(sqlite3_context* context, int, sqlite3_value** argv) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
    const auto size = static_cast<std::size_t>(sqlite3_value_bytes(argv[0]));
    auto folded = search_text::fold(std::string_view(text ? text : "", text ? size : 0));
    sqlite3_result_text(context, folded.data(), static_cast<int>(folded.size()), SQLITE_TRANSIENT);
}

void finalize_all(auto& cache) {
    for (auto& [sql, stmt] : cache) {
        sqlite3_finalize(stmt);
    }
    cache.clear();
}

}  // namespace

void throw_error(sqlite3* db, int code, std::string_view context) {
    std::string message(context);
    message += ": ";
    message += db ? sqlite3_errmsg(db) : sqlite3_errstr(code);
    throw sqlite_error(code, message);
}

statement& statement::bind(int index, std::int64_t value) {
    if (int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) {
        throw_error(db_, rc, "bind");
    }
    return *this;
}

statement& statement::bind(int index, std::string_view text) {
    if (int rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                                   SQLITE_TRANSIENT);
        rc != SQLITE_OK) {
        throw_error(db_, rc, "bind");
    }
    return *this;
}

statement& statement::bind_blob(int index, std::string_view bytes) {
    if (int rc = sqlite3_bind_blob(stmt_, index, bytes.data(), static_cast<int>(bytes.size()),
                                   SQLITE_TRANSIENT);
        rc != SQLITE_OK) {
        throw_error(db_, rc, "bind");
    }
    return *this;
}

statement& statement::bind_null(int index) {
    if (int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) {
        throw_error(db_, rc, "bind");
    }
    return *this;
}

bool statement::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    throw_error(db_, rc, sqlite3_sql(stmt_));
}

void statement::run() {
    while (step()) {
    }
}

std::string statement::text(int column) const {
    const auto* data = sqlite3_column_text(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    return data ? std::string(reinterpret_cast<const char*>(data), static_cast<std::size_t>(size))
                : std::string();
}

std::string statement::blob(int column) const {
    const auto* data = sqlite3_column_blob(stmt_, column);
    int size = sqlite3_column_bytes(stmt_, column);
    return data ? std::string(static_cast<const char*>(data), static_cast<std::size_t>(size))
                : std::string();
}

connection::connection(const std::string& path, durability mode, const std::string& vfs) {
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    if (int rc = sqlite3_open_v2(path.c_str(), &db_, flags, vfs.empty() ? nullptr : vfs.c_str());
        rc != SQLITE_OK) {
        std::string message = "cannot open database " + path;
        sqlite3* db = db_;
        db_ = nullptr;
        try {
            throw_error(db, rc, message);
        } catch (...) {
            sqlite3_close(db);
            throw;
        }
    }
    try {
        sqlite3_busy_timeout(db_, 10000);
        if (int rc = sqlite3_create_function_v2(
                db_, "relais_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                nullptr, &fold_function, nullptr, nullptr, nullptr);
            rc != SQLITE_OK) {
            throw_error(db_, rc, "relais_fold");
        }
        exec("PRAGMA foreign_keys=ON");
        set_wal_mode();
        exec(mode == durability::full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        // What the durability setting promises must hold on every connection:
        // refuse to run rather than acknowledge writes that a crash could lose.
        std::string journal;
        {
            auto st = prepare("PRAGMA journal_mode");
            if (st.step()) {
                journal = st.text(0);
            }
        }
        int synchronous = -1;
        {
            auto st = prepare("PRAGMA synchronous");
            if (st.step()) {
                synchronous = st.integer(0);
            }
        }
        int wanted = mode == durability::full ? 2 : 1;
        if (journal != "wal" || synchronous != wanted) {
            throw sqlite_error(SQLITE_MISUSE, "database " + path +
                                                  " runs with journal_mode=" + journal +
                                                  " synchronous=" + std::to_string(synchronous) +
                                                  ", not what the durability setting requires");
        }
    } catch (...) {
        finalize_all(cache_);
        finalize_all(built_cache_);
        sqlite3_close(db_);
        db_ = nullptr;
        throw;
    }
}

void connection::set_wal_mode() {
    // Switching a new file to WAL needs a lock the busy handler does not wait
    // for: when two processes open a fresh database at once, retry.
    for (int attempt = 0;; ++attempt) {
        auto st = prepare("PRAGMA journal_mode=WAL");
        int rc = sqlite3_step(st.handle());
        if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
            return;
        }
        if (rc != SQLITE_BUSY || attempt == 200) {
            throw_error(db_, rc, "PRAGMA journal_mode=WAL");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

connection::~connection() {
    finalize_all(cache_);
    finalize_all(built_cache_);
    sqlite3_close(db_);
}

statement connection::prepare(const char* sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
        sqlite3_stmt* stmt = nullptr;
        if (int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
            rc != SQLITE_OK) {
            throw_error(db_, rc, sql);
        }
        it = cache_.emplace(sql, stmt).first;
    }
    return statement(db_, it->second);
}

statement connection::prepare_built(const std::string& sql) {
    auto it = built_cache_.find(sql);
    if (it == built_cache_.end()) {
        sqlite3_stmt* stmt = nullptr;
        if (int rc =
                sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
            rc != SQLITE_OK) {
            throw_error(db_, rc, sql);
        }
        it = built_cache_.emplace(sql, stmt).first;
    }
    return statement(db_, it->second);
}

void connection::exec(const char* sql) {
    char* error = nullptr;
    if (int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error); rc != SQLITE_OK) {
        std::string message = std::string(sql) + ": " + (error ? error : sqlite3_errstr(rc));
        sqlite3_free(error);
        throw sqlite_error(rc, message);
    }
}

int connection::user_version() {
    auto st = prepare("PRAGMA user_version");
    return st.step() ? st.integer(0) : 0;
}

}  // namespace relais::storage::sqlite
