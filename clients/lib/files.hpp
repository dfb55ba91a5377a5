#pragma once

// Attached files, for clients: an upload that goes on where an earlier one
// of the same file stopped, and a download in chunks.

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "clients/lib/client.hpp"

namespace relais::client {

// Told how many bytes of how many the server has.
using file_progress = std::function<void(std::uint64_t done, std::uint64_t size)>;

// SHA-256 of a file's bytes, lowercase hex; empty when it cannot be read.
std::string file_sha256(const std::filesystem::path& path);

// Uploads the file at `path` under its own name. The server recognises an
// unfinished upload of the same bytes by the same account and says how far
// it got: an upload cut off (network, Ctrl-C, a restart) goes on from
// there. Chunks out of order (a reconnection in between) start over from
// where the server is. Returns the finished upload (Upload.file set).
boost::asio::awaitable<outcome<v1::Upload>> upload_file(client& c,
                                                        const std::filesystem::path& path,
                                                        const file_progress& progress = {});

// Writes the file of message `seq` to `out` (created, or replaced once
// whole: a file left by a failed download is never half one).
boost::asio::awaitable<outcome<v1::Attachment>> download_file(client& c, v1::ChannelRef channel,
                                                              std::uint64_t seq,
                                                              const std::filesystem::path& out,
                                                              const file_progress& progress = {});

}  // namespace relais::client
