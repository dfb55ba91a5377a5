#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace relais::storage::sqlite {

// A database failure: broken infrastructure, never an expected outcome.
class sqlite_error : public std::runtime_error {
  public:
    sqlite_error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }

  private:
    int code_;
};

// A prepared statement borrowed from a connection's cache; reset on scope exit.
class statement {
  public:
    statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
    statement(const statement&) = delete;
    statement& operator=(const statement&) = delete;
    ~statement() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }

    statement& bind(int index, std::int64_t value);
    // Every id and seq stored is below 2^63 (SQLite's integers are signed).
    // A larger one, from a request, is taken as larger than any: bound as
    // 2^63-1, it names no row, and compares above every stored value
    // (`seq > ?` finds nothing, `seq < ?` everything). Cast to int64, it
    // would compare below them all.
    statement& bind(int index, std::uint64_t value) {
        constexpr auto largest = static_cast<std::uint64_t>(INT64_MAX);
        return bind(index, static_cast<std::int64_t>(value > largest ? largest : value));
    }
    statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    statement& bind(int index, bool value) { return bind(index, value ? 1 : 0); }
    statement& bind(int index, std::string_view text);
    statement& bind_blob(int index, std::string_view bytes);
    statement& bind_null(int index);

    // Steps once: true when a row is available, false when done.
    bool step();
    sqlite3_stmt* handle() const { return stmt_; }
    // Steps to completion, for statements that return no rows.
    void run();

    std::int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
    std::uint64_t uint64(int column) const { return static_cast<std::uint64_t>(int64(column)); }
    int integer(int column) const { return sqlite3_column_int(stmt_, column); }
    std::string text(int column) const;
    std::string blob(int column) const;
    bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_;
};

// One SQLite connection with its prepared-statement cache.
// Owned by one thread at a time (the writer, or one reader).
class connection {
  public:
    enum class durability { full, normal };

    // `vfs` names a registered SQLite VFS; empty means the default one.
    connection(const std::string& path, durability mode, const std::string& vfs = {});
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection();

    // The statement for this SQL text, prepared once per connection.
    statement prepare(const char* sql);
    // The same for SQL built at run time (a query with optional filters):
    // cached by its text, so each shape is prepared once.
    statement prepare_built(const std::string& sql);
    void exec(const char* sql);
    int user_version();
    sqlite3* handle() const { return db_; }

  private:
    void set_wal_mode();

    sqlite3* db_ = nullptr;
    std::unordered_map<const char*, sqlite3_stmt*> cache_;
    std::unordered_map<std::string, sqlite3_stmt*> built_cache_;
};

[[noreturn]] void throw_error(sqlite3* db, int code, std::string_view context);

}  // namespace relais::storage::sqlite
