#pragma once

// Attached files on disk, under <data>/files: whole files named by their
// SHA-256 (files/ab/abcdef...), uploads in progress as files/partial/<id>.
// Which file is whose, and which message carries it, is in the database
// (uploads, files, attachments); this is only the bytes.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace relais::storage {

// What a file's first bytes (and, for scripts, its name) say it is, and
// whether a client may show it in place. Only images and PDF are; what a
// browser would run (HTML, SVG, JavaScript) never is.
struct sniffed_type {
    std::string content_type;
    bool is_inline = false;
};
sniffed_type sniff(std::string_view head, std::string_view name);

// Whether `id` has the shape of an upload id (32 lowercase hex digits) and
// `sha256` of a hash (64): checked before either becomes a path.
bool is_upload_id(std::string_view id);
bool is_sha256(std::string_view sha256);
// A new random upload id.
std::string new_upload_id();
// SHA-256 of `bytes`, in lowercase hex.
std::string sha256_hex(std::string_view bytes);

// One worker thread does every disk operation, in the order they were
// posted: network threads never wait on the disk (a sync can take most of
// a second), and the chunks of one upload land in the order they came.
// Thread-safe: post from any thread; the other members are for jobs (the
// worker) and tests.
class file_store {
  public:
    explicit file_store(std::filesystem::path data_dir);
    ~file_store();  // close()
    file_store(const file_store&) = delete;
    file_store& operator=(const file_store&) = delete;

    // Runs `job` on the worker thread; dropped once closed.
    void post(std::function<void()> job);
    // Runs what is queued, then stops the worker (idempotent).
    void close();

    // Bytes of the upload stored so far.
    std::uint64_t received(std::string_view upload_id) const;
    // Appends `data` at `offset`; false, with nothing written, unless
    // offset is what is stored (received).
    bool append(std::string_view upload_id, std::uint64_t offset, std::string_view data);
    // The whole upload: synced, hashed, and when its SHA-256 is `sha256`
    // moved into place under it (synced) and described; otherwise nullopt
    // and the partial file is gone. Throws std::system_error on a disk error.
    std::optional<sniffed_type> finish(std::string_view upload_id, std::string_view sha256,
                                       std::string_view name);
    // Up to `length` bytes from `offset` of a whole file (fewer at its end).
    std::string read(std::string_view sha256, std::uint64_t offset, std::size_t length) const;
    bool has(std::string_view sha256) const;
    void drop_partial(std::string_view upload_id);
    void drop_file(std::string_view sha256);

  private:
    std::filesystem::path partial_path(std::string_view upload_id) const;
    std::filesystem::path file_path(std::string_view sha256) const;
    void run();

    std::filesystem::path root_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace relais::storage
