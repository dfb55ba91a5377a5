// Attached files: uploads in chunks over the WebSocket (resumable), downloads
// by the members of the channel where a file was posted, and the
// collection of files nothing refers to any more.
#include <algorithm>
#include <cstdio>

#include "server/core/log.hpp"
#include "server/core/service.hpp"
#include "server/core/validation.hpp"
#include "storage/files/file_store.hpp"

namespace relais::core {

namespace {

// "20 MiB", "1.5 MiB": what people read of a size.
std::string mib(std::uint64_t bytes) {
    char text[32];
    const double value = static_cast<double>(bytes) / (1024.0 * 1024.0);
    std::snprintf(text, sizeof text, bytes % (1024 * 1024) == 0 ? "%.0f MiB" : "%.1f MiB", value);
    return text;
}

// What a downloader's computer will save it as: a name, not a path.
outcome<std::string> check_file_name(std::string_view name, const protocol::limits& l) {
    auto shown = visible_name("file name", name, l.max_title_bytes);
    if (!shown) {
        return shown.error();
    }
    if (shown->empty() || *shown == "." || *shown == ".." ||
        shown->find_first_of("/\\") != std::string::npos) {
        return fail(errc::bad_request, "a file name is not empty and holds no '/' nor '\\'");
    }
    return std::move(*shown);
}

const failure no_files{errc::unavailable, "this server takes no attached files", 0};

}  // namespace

void attachment_to_wire(const storage::attachment_record& a, v1::Attachment& out) {
    out.set_name(a.name);
    out.set_size(a.file.size);
    out.set_content_type(a.file.content_type);
    out.set_inline_(a.file.is_inline);
    out.set_sha256(a.file.sha256);
}

void service::remember_upload(const storage::upload_record& u) {
    std::lock_guard lock(uploads_mu_);
    uploads_[u.id] = u;
}

void service::forget_upload(const std::string& id) {
    std::lock_guard lock(uploads_mu_);
    uploads_.erase(id);
}

std::optional<storage::upload_record> service::upload_in_progress(const std::string& id) {
    std::lock_guard lock(uploads_mu_);
    if (auto it = uploads_.find(id); it != uploads_.end()) {
        return it->second;
    }
    return std::nullopt;
}

service::handled service::on_start_upload(const request& rq, const v1::ClientMessage& msg) {
    if (!config_.files) {
        return no_files;
    }
    const auto& ask = msg.start_upload();
    const auto& l = config_.limits;
    if (ask.size() == 0) {
        return fail(errc::bad_request, "the file is empty");
    }
    if (ask.size() > l.max_attachment_bytes) {
        return fail(errc::too_large, "the file takes " + mib(ask.size()) +
                                         "; an attached file takes at most " +
                                         mib(l.max_attachment_bytes));
    }
    if (!storage::is_sha256(ask.sha256())) {
        return fail(errc::bad_request, "sha256 is not 64 lowercase hexadecimal digits");
    }
    auto name = check_file_name(ask.name(), l);
    if (!name) {
        return name.error();
    }
    write(rq, [this, rq, ask, name = *name](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto upload = w.find_upload_of(user, ask.sha256(), ask.size());
        if (!upload) {
            const auto used = w.upload_bytes_of(user);
            const auto quota = config_.limits.attachment_quota_bytes;
            if (used + ask.size() > quota) {
                return fail(errc::too_large, "this file would take your files past your quota of " +
                                                 mib(quota) + " (they take " + mib(used) + ")");
            }
            storage::upload_record u;
            u.id = storage::new_upload_id();
            u.user = user;
            u.name = name;
            u.size = ask.size();
            u.sha256 = ask.sha256();
            u.created_at_ms = clock_.now_ms();
            w.insert_upload(u);
            upload = std::move(u);
        }
        effects done;
        auto& out = *done.reply.emplace().mutable_upload();
        out.set_upload_id(upload->id);
        out.set_size(upload->size);
        if (upload->completed_at_ms != 0) {
            // Uploaded already: nothing more to send.
            out.set_offset(upload->size);
            if (auto file = w.find_file(upload->sha256)) {
                attachment_to_wire({0, 0, upload->name, user, *file}, *out.mutable_file());
            }
        } else {
            // Cut off earlier: what the disk kept is where it goes on from.
            out.set_offset(config_.files->received(upload->id));
            done.after = [this, u = *upload] { remember_upload(u); };
        }
        return done;
    });
    return answered_later();
}

service::handled service::on_upload_chunk(const request& rq, const v1::ClientMessage& msg) {
    if (!config_.files) {
        return no_files;
    }
    const auto& chunk = msg.upload_chunk();
    if (chunk.data().size() > config_.limits.attachment_chunk_bytes) {
        return fail(errc::too_large, "a chunk holds at most " +
                                         std::to_string(config_.limits.attachment_chunk_bytes) +
                                         " bytes");
    }
    if (chunk.data().empty()) {
        return fail(errc::bad_request, "the chunk is empty");
    }
    auto upload = upload_in_progress(chunk.upload_id());
    if (!upload || upload->user != rq.who.user.id()) {
        return fail(errc::not_found, "no upload '" + chunk.upload_id() +
                                         "' in progress: StartUpload goes on where it stopped");
    }
    if (chunk.offset() + chunk.data().size() > upload->size) {
        return fail(errc::bad_request, "these bytes go past the end of the file (" +
                                           std::to_string(upload->size) + " bytes)");
    }
    // On the files' own thread, in the order chunks came.
    config_.files->post([this, rq, u = std::move(*upload), chunk] {
        auto& files = *config_.files;
        try {
            if (!files.append(u.id, chunk.offset(), chunk.data())) {
                reply_error(rq, fail(errc::conflict,
                                     "chunk out of order: the server has " +
                                         std::to_string(files.received(u.id)) +
                                         " bytes of this file and takes the next ones only"));
                return;
            }
            const auto offset = chunk.offset() + chunk.data().size();
            if (offset < u.size) {
                v1::ServerMessage out;
                auto& up = *out.mutable_upload();
                up.set_upload_id(u.id);
                up.set_offset(offset);
                up.set_size(u.size);
                reply(rq, out);
                return;
            }
            auto type = files.finish(u.id, u.sha256, u.name);
            forget_upload(u.id);
            write(rq, [this, u, type](storage::writer& w) -> outcome<effects> {
                effects done;
                if (!type) {
                    // Nothing of it is kept: the next try starts afresh.
                    w.delete_upload(u.id);
                    fill_error(*done.reply.emplace().mutable_error(),
                               fail(errc::bad_request,
                                    "the bytes received do not have the SHA-256 announced; "
                                    "upload the file again"));
                    return done;
                }
                storage::file_record file{u.sha256, u.size, type->content_type, type->is_inline,
                                          clock_.now_ms()};
                w.put_file(file);
                w.complete_upload(u.id, file.created_at_ms);
                auto& up = *done.reply.emplace().mutable_upload();
                up.set_upload_id(u.id);
                up.set_offset(u.size);
                up.set_size(u.size);
                attachment_to_wire({0, 0, u.name, u.user, w.find_file(u.sha256).value_or(file)},
                                   *up.mutable_file());
                return done;
            });
        } catch (...) {
            log_internal(rq, "upload");
            reply_error(rq,
                        fail(errc::internal, "the file could not be stored; it has been logged"));
        }
    });
    return answered_later();
}

service::handled service::on_download(const request& rq, const v1::ClientMessage& msg) {
    if (!config_.files) {
        return no_files;
    }
    read(rq, [this, rq, ask = msg.download()](storage::reader& r) -> handled {
        auto v = resolve(r, ask.channel(), rq.who.user.id());
        if (!v) {
            return v.error();
        }
        if (!v->membership) {
            return fail(errc::forbidden, "only members of #" + v->channel.name +
                                             " download its files; join it first");
        }
        auto attached = r.find_attachment(v->channel.id, ask.seq());
        if (!attached) {
            return fail(errc::not_found, "message " + std::to_string(ask.seq()) + " of #" +
                                             v->channel.name + " has no file");
        }
        if (ask.offset() > attached->file.size) {
            return fail(errc::bad_request,
                        "the file has only " + std::to_string(attached->file.size) + " bytes");
        }
        const auto chunk = config_.limits.attachment_chunk_bytes;
        const std::size_t length = ask.length() == 0 ? chunk : std::min(ask.length(), chunk);
        config_.files->post([this, rq, a = std::move(*attached), offset = ask.offset(), length] {
            try {
                v1::ServerMessage out;
                auto& part = *out.mutable_file_chunk();
                attachment_to_wire(a, *part.mutable_file());
                part.set_offset(offset);
                part.set_data(config_.files->read(a.file.sha256, offset, length));
                reply(rq, out);
            } catch (...) {
                log_internal(rq, "download");
                reply_error(rq,
                            fail(errc::internal, "the file could not be read; it has been logged"));
            }
        });
        return answered_later();
    });
    return answered_later();
}

void service::collect_files(std::function<void(std::size_t)> done) {
    if (!config_.files) {
        if (done) {
            done(0);
        }
        return;
    }
    auto gone = std::make_shared<storage::file_collection>();
    const auto now = clock_.now_ms();
    store_.write({[gone, now](storage::writer& w) {
                      *gone = w.collect_files(now);
                      return true;
                  },
                  [this, gone, done](bool committed) {
                      if (!committed) {
                          log::write(log::level::error, "files_collection_failed", {});
                          if (done) {
                              done(0);
                          }
                          return;
                      }
                      // Rows first, bytes after: a crash between leaves a file
                      // nothing names, never a name without its file.
                      config_.files->post([this, gone, done] {
                          for (const auto& id : gone->partial_uploads) {
                              forget_upload(id);
                              config_.files->drop_partial(id);
                          }
                          for (const auto& sha256 : gone->files) {
                              config_.files->drop_file(sha256);
                          }
                          log::write(
                              log::level::info, "files_collected",
                              {{"files", std::to_string(gone->files.size())},
                               {"partial_uploads", std::to_string(gone->partial_uploads.size())}});
                          if (done) {
                              done(gone->files.size());
                          }
                      });
                  }});
}

}  // namespace relais::core
