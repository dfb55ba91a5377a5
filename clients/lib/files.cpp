#include "clients/lib/files.hpp"

#include <openssl/evp.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <array>
#include <fstream>
#include <memory>

namespace relais::client {

namespace asio = boost::asio;

std::string file_sha256(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return {};
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
    std::array<char, 64 * 1024> buffer{};
    while (in) {
        in.read(buffer.data(), buffer.size());
        EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad()) {
        return {};
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx.get(), digest.data(), &size);
    static const char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

namespace {

asio::awaitable<void> pause(std::uint32_t ms) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(std::max<std::uint32_t>(ms, 10)));
    co_await timer.async_wait(asio::use_awaitable);
}

}  // namespace

asio::awaitable<outcome<v1::Upload>> upload_file(client& c, const std::filesystem::path& path,
                                                 const file_progress& progress) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    const auto sha256 = ec ? std::string() : file_sha256(path);
    std::ifstream in(path, std::ios::binary);
    if (ec || sha256.empty() || !in) {
        co_return failure{errc::bad_request, path.string() + ": cannot be read"};
    }
    v1::StartUpload start;
    start.set_name(path.filename().string());
    start.set_size(size);
    start.set_sha256(sha256);
    auto upload = co_await c.ask(start);
    if (!upload) {
        co_return upload.error();
    }
    const std::size_t chunk_bytes = std::max<std::uint32_t>(1, c.limits().attachment_chunk_bytes());
    std::string chunk(chunk_bytes, '\0');
    // A few "out of order" answers are a reconnection's doing; more would
    // be a loop.
    for (int restarts = 0; !upload->has_file();) {
        if (progress) {
            progress(upload->offset(), size);
        }
        in.clear();
        in.seekg(static_cast<std::streamoff>(upload->offset()));
        in.read(chunk.data(), static_cast<std::streamsize>(
                                  std::min<std::uint64_t>(chunk_bytes, size - upload->offset())));
        if (in.gcount() <= 0) {
            co_return failure{errc::conflict, path.string() + " changed while it was sent"};
        }
        v1::UploadChunk part;
        part.set_upload_id(upload->upload_id());
        part.set_offset(upload->offset());
        part.set_data(chunk.data(), static_cast<std::size_t>(in.gcount()));
        auto next = co_await c.ask(part);
        while (!next && next.error().code == errc::rate_limited) {
            // Past the connection's burst: at the pace the server allows.
            co_await pause(next.error().retry_after_ms);
            next = co_await c.ask(part);
        }
        if (!next &&
            (next.error().code == errc::conflict || next.error().code == errc::not_found) &&
            ++restarts <= 5) {
            // Where is the server? StartUpload says, and remembers it again.
            next = co_await c.ask(start);
        }
        if (!next) {
            co_return next.error();
        }
        upload = std::move(next);
    }
    if (progress) {
        progress(size, size);
    }
    co_return upload;
}

asio::awaitable<outcome<v1::Attachment>> download_file(client& c, v1::ChannelRef channel,
                                                       std::uint64_t seq,
                                                       const std::filesystem::path& out,
                                                       const file_progress& progress) {
    auto part_path = out;
    part_path += ".part";
    std::ofstream file(part_path, std::ios::binary | std::ios::trunc);
    if (!file) {
        co_return failure{errc::bad_request, part_path.string() + ": cannot be written"};
    }
    v1::Attachment attachment;
    std::uint64_t offset = 0;
    for (;;) {
        v1::Download ask;
        *ask.mutable_channel() = channel;
        ask.set_seq(seq);
        ask.set_offset(offset);
        auto chunk = co_await c.ask(ask);
        while (!chunk && chunk.error().code == errc::rate_limited) {
            co_await pause(chunk.error().retry_after_ms);
            chunk = co_await c.ask(ask);
        }
        if (!chunk) {
            file.close();
            std::filesystem::remove(part_path);
            co_return chunk.error();
        }
        attachment = chunk->file();
        file.write(chunk->data().data(), static_cast<std::streamsize>(chunk->data().size()));
        offset += chunk->data().size();
        if (progress) {
            progress(offset, attachment.size());
        }
        if (offset >= attachment.size() || chunk->data().empty()) {
            break;
        }
    }
    file.close();
    if (!file || offset != attachment.size() || file_sha256(part_path) != attachment.sha256()) {
        std::filesystem::remove(part_path);
        co_return failure{errc::internal, "the file received is not the one stored; try again"};
    }
    std::filesystem::rename(part_path, out);
    co_return attachment;
}

}  // namespace relais::client
