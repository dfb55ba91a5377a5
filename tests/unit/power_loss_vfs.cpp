#include "tests/unit/power_loss_vfs.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace relais::testing {
namespace {

// A write or a truncation the disk has not made durable yet.
struct pending_op {
    bool truncate = false;
    sqlite3_int64 offset = 0;  // the new size for a truncation
    std::string data;
};

// SQLite places this in memory it allocates (szOsFile) without constructing
// it: plain fields only, `base` first.
struct file {
    sqlite3_file base;
    sqlite3_file* real;
    std::string* path;  // null for SQLite's nameless temporary files: not cached
};

struct state {
    std::mutex mu;
    sqlite3_vfs* real = nullptr;
    sqlite3_vfs vfs{};
    // The volatile cache, per file path: every handle of a file sees it, as
    // every process sees the OS page cache.
    std::map<std::string, std::vector<pending_op>> cache;
    std::uint64_t mutations = 0;
    std::uint64_t cut_after = 0;
    std::mt19937_64 random;
    int exit_code = 0;
};

state& global() {
    static state s;
    return s;
}

sqlite3_file* real_of(sqlite3_file* f) {
    return reinterpret_cast<file*>(f)->real;
}

std::vector<pending_op>* cached(sqlite3_file* f) {
    auto* pf = reinterpret_cast<file*>(f);
    return pf->path ? &global().cache[*pf->path] : nullptr;
}

// Keeps a random part of every unsynced write, in order, then ends the
// process where it is. Called with mu held.
[[noreturn]] void cut_locked() {
    auto& g = global();
    std::bernoulli_distribution survives(0.5);
    for (const auto& [path, ops] : g.cache) {
        int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
            continue;  // deleted since
        }
        for (const auto& op : ops) {
            if (!survives(g.random)) {
                continue;
            }
            if (op.truncate) {
                (void)!::ftruncate(fd, op.offset);
            } else {
                (void)!::pwrite(fd, op.data.data(), op.data.size(), op.offset);
            }
        }
        ::close(fd);
    }
    ::_exit(g.exit_code);
}

void count_mutation_locked() {
    auto& g = global();
    if (++g.mutations == g.cut_after) {
        cut_locked();
    }
}

int file_close(sqlite3_file* f) {
    auto* pf = reinterpret_cast<file*>(f);
    int rc = pf->real->pMethods ? pf->real->pMethods->xClose(pf->real) : SQLITE_OK;
    sqlite3_free(pf->real);
    delete pf->path;  // the cache outlives the handle, as the OS's does
    return rc;
}

int file_read(sqlite3_file* f, void* out, int amount, sqlite3_int64 offset) {
    auto& g = global();
    std::lock_guard lock(g.mu);
    auto* real = real_of(f);
    int rc = real->pMethods->xRead(real, out, amount, offset);
    auto* ops = cached(f);
    if (!ops || (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ)) {
        return rc;
    }
    sqlite3_int64 size = 0;
    if (int src = real->pMethods->xFileSize(real, &size); src != SQLITE_OK) {
        return src;
    }
    auto* bytes = static_cast<char*>(out);
    const sqlite3_int64 end = offset + amount;
    for (const auto& op : *ops) {
        if (op.truncate) {
            size = op.offset;
            if (op.offset < end) {
                auto from = std::max(op.offset, offset);
                std::memset(bytes + (from - offset), 0, static_cast<std::size_t>(end - from));
            }
            continue;
        }
        const sqlite3_int64 op_end = op.offset + static_cast<sqlite3_int64>(op.data.size());
        size = std::max(size, op_end);
        const auto from = std::max(op.offset, offset);
        const auto to = std::min(op_end, end);
        if (from < to) {
            std::memcpy(bytes + (from - offset), op.data.data() + (from - op.offset),
                        static_cast<std::size_t>(to - from));
        }
    }
    if (size < end) {
        auto from = std::max(size, offset);
        std::memset(bytes + (from - offset), 0, static_cast<std::size_t>(end - from));
        return SQLITE_IOERR_SHORT_READ;
    }
    return SQLITE_OK;
}

int file_write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
    auto& g = global();
    std::lock_guard lock(g.mu);
    count_mutation_locked();
    auto* ops = cached(f);
    if (!ops) {
        auto* real = real_of(f);
        return real->pMethods->xWrite(real, data, amount, offset);
    }
    ops->push_back({false, offset,
                    std::string(static_cast<const char*>(data), static_cast<std::size_t>(amount))});
    return SQLITE_OK;
}

int file_truncate(sqlite3_file* f, sqlite3_int64 size) {
    auto& g = global();
    std::lock_guard lock(g.mu);
    count_mutation_locked();
    auto* ops = cached(f);
    if (!ops) {
        auto* real = real_of(f);
        return real->pMethods->xTruncate(real, size);
    }
    ops->push_back({true, size, {}});
    return SQLITE_OK;
}

// The disk makes the file's writes durable: they reach the real file, which
// the OS keeps whatever happens to this process. (No real fsync: a test
// machine's own power is not what is being tested.)
int file_sync(sqlite3_file* f, int) {
    auto& g = global();
    std::lock_guard lock(g.mu);
    count_mutation_locked();
    auto* ops = cached(f);
    if (!ops) {
        return SQLITE_OK;
    }
    auto* real = real_of(f);
    for (const auto& op : *ops) {
        int rc = op.truncate ? real->pMethods->xTruncate(real, op.offset)
                             : real->pMethods->xWrite(real, op.data.data(),
                                                      static_cast<int>(op.data.size()), op.offset);
        if (rc != SQLITE_OK) {
            return rc;
        }
    }
    ops->clear();
    return SQLITE_OK;
}

int file_size(sqlite3_file* f, sqlite3_int64* out) {
    auto& g = global();
    std::lock_guard lock(g.mu);
    auto* real = real_of(f);
    if (int rc = real->pMethods->xFileSize(real, out); rc != SQLITE_OK) {
        return rc;
    }
    if (auto* ops = cached(f)) {
        for (const auto& op : *ops) {
            *out = op.truncate
                       ? op.offset
                       : std::max(*out, op.offset + static_cast<sqlite3_int64>(op.data.size()));
        }
    }
    return SQLITE_OK;
}

// Locks, file controls and the WAL index (shared memory, which a power
// loss wipes anyway and SQLite rebuilds) go straight to the real file.
int file_lock(sqlite3_file* f, int level) {
    return real_of(f)->pMethods->xLock(real_of(f), level);
}
int file_unlock(sqlite3_file* f, int level) {
    return real_of(f)->pMethods->xUnlock(real_of(f), level);
}
int file_check_reserved(sqlite3_file* f, int* out) {
    return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int file_control(sqlite3_file* f, int op, void* arg) {
    if (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_MMAP_SIZE) {
        return SQLITE_NOTFOUND;  // would touch the real file behind the cache
    }
    return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int file_sector_size(sqlite3_file* f) {
    return real_of(f)->pMethods->xSectorSize(real_of(f));
}
int file_device_characteristics(sqlite3_file* f) {
    return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int file_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
    return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, out);
}
int file_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
    return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void file_shm_barrier(sqlite3_file* f) {
    real_of(f)->pMethods->xShmBarrier(real_of(f));
}
int file_shm_unmap(sqlite3_file* f, int delete_flag) {
    return real_of(f)->pMethods->xShmUnmap(real_of(f), delete_flag);
}
int file_fetch(sqlite3_file*, sqlite3_int64, int, void** out) {
    *out = nullptr;  // no memory-mapped reads: they would bypass the cache
    return SQLITE_OK;
}
int file_unfetch(sqlite3_file*, sqlite3_int64, void*) {
    return SQLITE_OK;
}

const sqlite3_io_methods methods = {
    3,
    file_close,
    file_read,
    file_write,
    file_truncate,
    file_sync,
    file_size,
    file_lock,
    file_unlock,
    file_check_reserved,
    file_control,
    file_sector_size,
    file_device_characteristics,
    file_shm_map,
    file_shm_lock,
    file_shm_barrier,
    file_shm_unmap,
    file_fetch,
    file_unfetch,
};

int vfs_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* f, int flags, int* out_flags) {
    auto& g = global();
    auto* pf = reinterpret_cast<file*>(f);
    pf->base.pMethods = nullptr;
    pf->path = nullptr;
    pf->real = static_cast<sqlite3_file*>(sqlite3_malloc(g.real->szOsFile));
    if (!pf->real) {
        return SQLITE_NOMEM;
    }
    std::memset(pf->real, 0, static_cast<std::size_t>(g.real->szOsFile));
    int rc = g.real->xOpen(g.real, name, pf->real, flags, out_flags);
    if (rc != SQLITE_OK) {
        if (pf->real->pMethods) {
            pf->real->pMethods->xClose(pf->real);
        }
        sqlite3_free(pf->real);
        return rc;
    }
    if (name) {
        pf->path = new std::string(name);
    }
    pf->base.pMethods = &methods;
    return SQLITE_OK;
}

int vfs_delete(sqlite3_vfs*, const char* name, int sync_dir) {
    auto& g = global();
    std::lock_guard lock(g.mu);
    count_mutation_locked();
    g.cache.erase(name);
    return g.real->xDelete(g.real, name, sync_dir);
}
int vfs_access(sqlite3_vfs*, const char* name, int flags, int* out) {
    return global().real->xAccess(global().real, name, flags, out);
}
int vfs_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
    return global().real->xFullPathname(global().real, name, n, out);
}
void* vfs_dl_open(sqlite3_vfs*, const char* name) {
    return global().real->xDlOpen(global().real, name);
}
void vfs_dl_error(sqlite3_vfs*, int n, char* out) {
    global().real->xDlError(global().real, n, out);
}
void (*vfs_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))() {
    return global().real->xDlSym(global().real, handle, symbol);
}
void vfs_dl_close(sqlite3_vfs*, void* handle) {
    global().real->xDlClose(global().real, handle);
}
int vfs_randomness(sqlite3_vfs*, int n, char* out) {
    return global().real->xRandomness(global().real, n, out);
}
int vfs_sleep(sqlite3_vfs*, int micros) {
    return global().real->xSleep(global().real, micros);
}
int vfs_current_time(sqlite3_vfs*, double* out) {
    return global().real->xCurrentTime(global().real, out);
}
int vfs_last_error(sqlite3_vfs*, int n, char* out) {
    return global().real->xGetLastError(global().real, n, out);
}
int vfs_current_time_ms(sqlite3_vfs*, sqlite3_int64* out) {
    return global().real->xCurrentTimeInt64(global().real, out);
}

}  // namespace

void install_power_loss_vfs(std::uint64_t cut_after_writes, std::uint64_t seed, int exit_code) {
    auto& g = global();
    std::lock_guard lock(g.mu);
    g.cut_after = cut_after_writes;
    g.random.seed(seed);
    g.exit_code = exit_code;
    g.mutations = 0;
    if (g.real) {
        return;
    }
    g.real = sqlite3_vfs_find(nullptr);
    if (!g.real || g.real->iVersion < 2) {
        throw std::runtime_error("no default SQLite VFS to build on");
    }
    auto& v = g.vfs;
    v.iVersion = 2;
    v.szOsFile = static_cast<int>(sizeof(file));
    v.mxPathname = g.real->mxPathname;
    v.zName = power_loss_vfs_name;
    v.xOpen = vfs_open;
    v.xDelete = vfs_delete;
    v.xAccess = vfs_access;
    v.xFullPathname = vfs_full_pathname;
    v.xDlOpen = vfs_dl_open;
    v.xDlError = vfs_dl_error;
    v.xDlSym = vfs_dl_sym;
    v.xDlClose = vfs_dl_close;
    v.xRandomness = vfs_randomness;
    v.xSleep = vfs_sleep;
    v.xCurrentTime = vfs_current_time;
    v.xGetLastError = vfs_last_error;
    v.xCurrentTimeInt64 = vfs_current_time_ms;
    if (sqlite3_vfs_register(&v, 0) != SQLITE_OK) {
        throw std::runtime_error("cannot register the power-loss VFS");
    }
}

void cut_power() {
    auto& g = global();
    g.mu.lock();
    cut_locked();
}

}  // namespace relais::testing
