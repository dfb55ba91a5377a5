#include "storage/files/file_store.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace relais::storage {

namespace {

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

// A file descriptor closed however the scope ends.
class fd_guard {
  public:
    explicit fd_guard(int fd) : fd_(fd) {}
    ~fd_guard() {
        if (fd_ >= 0) {
            ::close(fd_);
        }
    }
    fd_guard(const fd_guard&) = delete;
    fd_guard& operator=(const fd_guard&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

void sync_dir(const std::filesystem::path& dir) {
    fd_guard fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() >= 0) {
        ::fsync(fd.get());
    }
}

bool is_hex(std::string_view s, std::size_t size) {
    return s.size() == size && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

bool starts_with_nocase(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) {
            return false;
        }
    }
    return true;
}

bool contains_nocase(std::string_view text, std::string_view needle) {
    for (std::size_t i = 0; i + needle.size() <= text.size(); ++i) {
        if (starts_with_nocase(text.substr(i), needle)) {
            return true;
        }
    }
    return false;
}

std::string extension(std::string_view name) {
    const auto dot = name.rfind('.');
    std::string ext(dot == std::string_view::npos ? "" : name.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

}  // namespace

sniffed_type sniff(std::string_view head, std::string_view name) {
    using namespace std::string_view_literals;
    const auto ext = extension(name);
    if (head.starts_with("\x89PNG\r\n\x1a\n"sv)) {
        return {"image/png", true};
    }
    if (head.starts_with("\xff\xd8\xff"sv)) {
        return {"image/jpeg", true};
    }
    if (head.starts_with("GIF87a"sv) || head.starts_with("GIF89a"sv)) {
        return {"image/gif", true};
    }
    if (head.size() >= 12 && head.starts_with("RIFF"sv) && head.substr(8, 4) == "WEBP"sv) {
        return {"image/webp", true};
    }
    if (head.starts_with("%PDF-"sv)) {
        return {"application/pdf", true};
    }
    if (head.starts_with("PK\x03\x04"sv)) {
        // Office documents are zip archives: their names say which.
        static const std::pair<const char*, const char*> office[] = {
            {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
            {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
            {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
            {"odt", "application/vnd.oasis.opendocument.text"},
            {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
            {"odp", "application/vnd.oasis.opendocument.presentation"},
        };
        for (const auto& [e, type] : office) {
            if (ext == e) {
                return {type, false};
            }
        }
        return {"application/zip", false};
    }
    // Markup a browser would render and run: never in place.
    auto text = head;
    if (text.starts_with("\xef\xbb\xbf"sv)) {
        text.remove_prefix(3);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    if (contains_nocase(head.substr(0, 1024), "<svg")) {
        return {"image/svg+xml", false};
    }
    for (const auto tag : {"<!doctype html"sv, "<html"sv, "<head"sv, "<body"sv, "<script"sv,
                           "<iframe"sv, "<!--"sv}) {
        if (starts_with_nocase(text, tag)) {
            return {"text/html", false};
        }
    }
    if (starts_with_nocase(text, "<?xml")) {
        return {"application/xml", false};
    }
    if (ext == "js" || ext == "mjs") {
        return {"text/javascript", false};
    }
    const bool printable = std::none_of(head.begin(), head.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u < 0x20 && u != '\t' && u != '\n' && u != '\r' && u != '\f' && u != 0x1b;
    });
    if (printable && !head.empty()) {
        return {"text/plain; charset=utf-8", false};
    }
    return {"application/octet-stream", false};
}

bool is_upload_id(std::string_view id) {
    return is_hex(id, 32);
}

bool is_sha256(std::string_view sha256) {
    return is_hex(sha256, 64);
}

std::string new_upload_id() {
    if (sodium_init() < 0) {
        throw std::runtime_error("libsodium cannot be initialised");
    }
    std::array<unsigned char, 16> bytes{};
    randombytes_buf(bytes.data(), bytes.size());
    std::string hex(bytes.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
    hex.pop_back();
    return hex;
}

std::string sha256_hex(std::string_view bytes) {
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(bytes.data()),
                       bytes.size());
    std::string hex(digest.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
    hex.pop_back();
    return hex;
}

file_store::file_store(std::filesystem::path data_dir) : root_(std::move(data_dir) / "files") {
    std::filesystem::create_directories(root_ / "partial");
    worker_ = std::thread([this] { run(); });
}

file_store::~file_store() {
    close();
}

void file_store::close() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) {
        worker_.join();
    }
}

void file_store::post(std::function<void()> job) {
    {
        std::lock_guard lock(mu_);
        if (stopping_) {
            return;  // closing: what was queued runs, nothing more
        }
        jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
}

void file_store::run() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
            if (jobs_.empty()) {
                return;
            }
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job();  // jobs report their own failures
    }
}

std::filesystem::path file_store::partial_path(std::string_view upload_id) const {
    if (!is_upload_id(upload_id)) {
        throw std::invalid_argument("not an upload id");
    }
    return root_ / "partial" / std::string(upload_id);
}

std::filesystem::path file_store::file_path(std::string_view sha256) const {
    if (!is_sha256(sha256)) {
        throw std::invalid_argument("not a SHA-256");
    }
    return root_ / std::string(sha256.substr(0, 2)) / std::string(sha256);
}

std::uint64_t file_store::received(std::string_view upload_id) const {
    std::error_code ec;
    const auto size = std::filesystem::file_size(partial_path(upload_id), ec);
    return ec ? 0 : size;
}

bool file_store::append(std::string_view upload_id, std::uint64_t offset, std::string_view data) {
    const auto path = partial_path(upload_id);
    fd_guard fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
        throw_errno("open " + path.string());
    }
    const auto size = ::lseek(fd.get(), 0, SEEK_END);
    if (size < 0) {
        throw_errno("seek " + path.string());
    }
    if (static_cast<std::uint64_t>(size) != offset) {
        return false;
    }
    // Not synced: an upload goes on from what the disk kept (received),
    // which the client asks for after a crash; the whole file is synced
    // before it counts.
    for (std::size_t done = 0; done < data.size();) {
        const auto n = ::write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int saved = errno;
            // A failed write leaves the file as it was: no half chunk.
            if (::ftruncate(fd.get(), size) != 0) {
                errno = saved;
            }
            errno = saved;
            throw_errno("write " + path.string());
        }
        done += static_cast<std::size_t>(n);
    }
    return true;
}

std::optional<sniffed_type> file_store::finish(std::string_view upload_id, std::string_view sha256,
                                               std::string_view name) {
    const auto path = partial_path(upload_id);
    std::string head;
    std::array<unsigned char, crypto_hash_sha256_BYTES> digest{};
    {
        fd_guard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (fd.get() < 0) {
            throw_errno("open " + path.string());
        }
        if (::fsync(fd.get()) != 0) {
            throw_errno("sync " + path.string());
        }
        crypto_hash_sha256_state state;
        crypto_hash_sha256_init(&state);
        std::array<char, 64 * 1024> buffer{};
        for (;;) {
            const auto n = ::read(fd.get(), buffer.data(), buffer.size());
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                throw_errno("read " + path.string());
            }
            if (n == 0) {
                break;
            }
            if (head.size() < 4096) {
                head.append(buffer.data(),
                            std::min<std::size_t>(static_cast<std::size_t>(n), 4096 - head.size()));
            }
            crypto_hash_sha256_update(&state, reinterpret_cast<unsigned char*>(buffer.data()),
                                      static_cast<unsigned long long>(n));
        }
        crypto_hash_sha256_final(&state, digest.data());
    }
    std::string hex(digest.size() * 2 + 1, '\0');
    sodium_bin2hex(hex.data(), hex.size(), digest.data(), digest.size());
    hex.pop_back();
    if (hex != sha256) {
        drop_partial(upload_id);
        return std::nullopt;
    }
    const auto target = file_path(sha256);
    std::filesystem::create_directories(target.parent_path());
    // The same bytes may be there already (another upload of them): the
    // rename replaces them by themselves.
    std::filesystem::rename(path, target);
    sync_dir(target.parent_path());
    sync_dir(path.parent_path());
    return sniff(head, name);
}

std::string file_store::read(std::string_view sha256, std::uint64_t offset,
                             std::size_t length) const {
    const auto path = file_path(sha256);
    fd_guard fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        throw_errno("open " + path.string());
    }
    std::string out(length, '\0');
    std::size_t done = 0;
    while (done < length) {
        const auto n =
            ::pread(fd.get(), out.data() + done, length - done, static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw_errno("read " + path.string());
        }
        if (n == 0) {
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    out.resize(done);
    return out;
}

bool file_store::has(std::string_view sha256) const {
    return std::filesystem::exists(file_path(sha256));
}

void file_store::drop_partial(std::string_view upload_id) {
    std::error_code ec;
    std::filesystem::remove(partial_path(upload_id), ec);
}

void file_store::drop_file(std::string_view sha256) {
    std::error_code ec;
    std::filesystem::remove(file_path(sha256), ec);
}

}  // namespace relais::storage
