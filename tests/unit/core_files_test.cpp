// Attached files through the real service, the real store and the real
// file store: uploads in chunks and their resumption, the checks on size,
// quota, order and content, who may download, and the orphan collection.
#include <filesystem>
#include <future>

#include "storage/files/file_store.hpp"
#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

// One pixel's worth of PNG header: enough for the type to be sniffed.
const std::string png_head = "\x89PNG\r\n\x1a\n";

class files_test : public core_test {
  protected:
    void SetUp() override {
        storage::sqlite::options opts;
        opts.data_dir = dir_.path();
        sqlite_ = std::make_unique<storage::sqlite::sqlite_store>(opts);
        files_ = std::make_unique<storage::file_store>(dir_.path());
        start_service();
    }
    void TearDown() override {
        files_->close();
        core_test::TearDown();
    }
    // A new service, as after a restart: it has forgotten uploads in progress.
    void start_service() {
        config_.limits.attachment_chunk_bytes = 1000;
        config_.limits.max_attachment_bytes = 50'000;
        config_.limits.attachment_quota_bytes = 100'000;
        config_.files = files_.get();
        service_ = std::make_unique<core::service>(store(), clock_, config_);
        service_->start();
    }

    v1::ServerMessage start_upload(const conn_ptr& c, const std::string& name,
                                   const std::string& bytes) {
        v1::ClientMessage m;
        m.mutable_start_upload()->set_name(name);
        m.mutable_start_upload()->set_size(bytes.size());
        m.mutable_start_upload()->set_sha256(storage::sha256_hex(bytes));
        return call(c, m);
    }
    v1::ServerMessage chunk(const conn_ptr& c, const std::string& id, std::uint64_t offset,
                            const std::string& data) {
        v1::ClientMessage m;
        m.mutable_upload_chunk()->set_upload_id(id);
        m.mutable_upload_chunk()->set_offset(offset);
        m.mutable_upload_chunk()->set_data(data);
        return call(c, m);
    }
    // Sends bytes[from, to) in chunks; returns the last answer.
    v1::ServerMessage send_bytes(const conn_ptr& c, const std::string& id, const std::string& bytes,
                                 std::size_t from, std::size_t to) {
        v1::ServerMessage last;
        for (std::size_t at = from; at < to; at += 1000) {
            last = chunk(c, id, at, bytes.substr(at, std::min<std::size_t>(1000, to - at)));
            EXPECT_TRUE(last.has_upload()) << last.DebugString();
        }
        return last;
    }
    // A whole upload; returns its id.
    std::string upload(const conn_ptr& c, const std::string& name, const std::string& bytes) {
        auto started = start_upload(c, name, bytes);
        EXPECT_TRUE(started.has_upload()) << started.DebugString();
        auto done = send_bytes(c, started.upload().upload_id(), bytes, 0, bytes.size());
        EXPECT_TRUE(done.upload().has_file()) << done.DebugString();
        return started.upload().upload_id();
    }
    v1::ServerMessage send_file(const conn_ptr& c, const std::string& channel,
                                const std::string& upload_id, const std::string& text) {
        v1::ClientMessage m;
        *m.mutable_send_message()->mutable_channel() = ref(channel);
        m.mutable_send_message()->set_text(text);
        m.mutable_send_message()->set_client_msg_id("f" + std::to_string(++ids_));
        m.mutable_send_message()->set_attachment_upload_id(upload_id);
        return call(c, m);
    }
    v1::ServerMessage download(const conn_ptr& c, const std::string& channel, std::uint64_t seq,
                               std::uint64_t offset) {
        v1::ClientMessage m;
        *m.mutable_download()->mutable_channel() = ref(channel);
        m.mutable_download()->set_seq(seq);
        m.mutable_download()->set_offset(offset);
        return call(c, m);
    }
    std::string download_all(const conn_ptr& c, const std::string& channel, std::uint64_t seq) {
        std::string bytes;
        for (;;) {
            auto part = download(c, channel, seq, bytes.size());
            EXPECT_TRUE(part.has_file_chunk()) << part.DebugString();
            if (!part.has_file_chunk() || part.file_chunk().data().empty()) {
                return bytes;
            }
            bytes += part.file_chunk().data();
            if (bytes.size() >= part.file_chunk().file().size()) {
                return bytes;
            }
        }
    }
    std::size_t files_on_disk() {
        std::size_t n = 0;
        for (const auto& e : std::filesystem::recursive_directory_iterator(dir_.path() / "files")) {
            n += e.is_regular_file() ? 1 : 0;
        }
        return n;
    }

    core::service_config config_;
    std::unique_ptr<storage::file_store> files_;
    int ids_ = 0;
};

std::string bytes_of(std::size_t size, const std::string& head = png_head) {
    std::string bytes = head;
    for (std::size_t i = 0; bytes.size() < size; ++i) {
        bytes += static_cast<char>('a' + i % 26);
    }
    return bytes;
}

TEST_F(files_test, a_file_goes_up_in_chunks_rides_a_message_and_comes_down_whole_to_members) {
    auto lea = user("lea");
    auto marc = user("marc");
    ASSERT_TRUE(create(lea, "outils").has_channel());
    ASSERT_TRUE(join(marc, "outils").has_channel());
    const auto bytes = bytes_of(4500);
    const auto id = upload(lea, "capture arnaque.png", bytes);
    auto sent = send_file(lea, "outils", id, "");  // a file needs no word
    ASSERT_TRUE(sent.has_sent()) << sent.DebugString();
    const auto& attached = sent.sent().event().message().attachment();
    EXPECT_EQ(attached.name(), "capture arnaque.png");
    EXPECT_EQ(attached.size(), 4500u);
    EXPECT_EQ(attached.content_type(), "image/png");
    EXPECT_TRUE(attached.inline_());
    const auto seq = sent.sent().event().seq();
    // History shows it; a member downloads it whole.
    auto h = history(marc, "outils");
    ASSERT_TRUE(h.has_events());
    EXPECT_EQ(h.events().events(h.events().events_size() - 1).message().attachment().sha256(),
              storage::sha256_hex(bytes));
    EXPECT_EQ(download_all(marc, "outils", seq), bytes);
    // Someone else's upload id cannot be attached.
    EXPECT_EQ(code(send_file(marc, "outils", id, "à moi")), v1::NOT_FOUND);
}

TEST_F(files_test, an_upload_cut_off_goes_on_from_what_the_server_kept) {
    auto lea = user("lea");
    ASSERT_TRUE(create(lea, "outils").has_channel());
    const auto bytes = bytes_of(9000);
    auto started = start_upload(lea, "guide.pdf", bytes);
    ASSERT_TRUE(started.has_upload());
    const auto id = started.upload().upload_id();
    EXPECT_EQ(started.upload().offset(), 0u);
    send_bytes(lea, id, bytes, 0, 4000);
    // Out of order: refused, nothing written.
    EXPECT_EQ(code(chunk(lea, id, 5000, bytes.substr(5000, 1000))), v1::CONFLICT);
    EXPECT_EQ(code(chunk(lea, id, 3000, bytes.substr(3000, 1000))), v1::CONFLICT);
    EXPECT_EQ(files_->received(id), 4000u);

    // The connection and the server go; the same file, asked again, is
    // the same upload, 4000 bytes in.
    start_service();
    auto again_conn = open();
    ASSERT_TRUE(login(again_conn, "lea", "secret-lea").has_session());
    EXPECT_EQ(code(chunk(again_conn, id, 4000, bytes.substr(4000, 1000))), v1::NOT_FOUND);
    auto again = start_upload(again_conn, "guide.pdf", bytes);
    ASSERT_TRUE(again.has_upload());
    EXPECT_EQ(again.upload().upload_id(), id);
    EXPECT_EQ(again.upload().offset(), 4000u);
    auto done = send_bytes(again_conn, id, bytes, 4000, bytes.size());
    ASSERT_TRUE(done.upload().has_file());
    EXPECT_EQ(done.upload().file().sha256(), storage::sha256_hex(bytes));
    auto sent = send_file(again_conn, "outils", id, "le guide");
    ASSERT_TRUE(sent.has_sent()) << sent.DebugString();
    EXPECT_EQ(download_all(again_conn, "outils", sent.sent().event().seq()), bytes);
}

TEST_F(files_test, too_big_past_the_quota_or_not_the_bytes_announced_is_refused_and_not_kept) {
    auto lea = user("lea");
    EXPECT_EQ(code(start_upload(lea, "gros.bin", bytes_of(50'001))), v1::TOO_LARGE);
    EXPECT_EQ(code(start_upload(lea, "../etc/passwd", bytes_of(10))), v1::BAD_REQUEST);
    v1::ClientMessage empty;
    empty.mutable_start_upload()->set_name("vide.txt");
    empty.mutable_start_upload()->set_sha256(storage::sha256_hex(""));
    EXPECT_EQ(code(call(lea, empty)), v1::BAD_REQUEST);
    // Two files of 40 KB fit the 100 KB quota, a third does not.
    upload(lea, "a.png", bytes_of(40'000));
    upload(lea, "b.png", bytes_of(40'000, png_head + "b"));
    auto refused = start_upload(lea, "c.png", bytes_of(40'000, png_head + "c"));
    EXPECT_EQ(code(refused), v1::TOO_LARGE);
    EXPECT_NE(refused.error().message().find("quota"), std::string::npos);
    // Bytes that are not the announced ones: dropped whole.
    auto marc = user("marc");
    const auto announced = bytes_of(1500);
    auto started = start_upload(marc, "x.png", announced);
    const auto id = started.upload().upload_id();
    ASSERT_TRUE(chunk(marc, id, 0, announced.substr(0, 1000)).has_upload());
    auto wrong = chunk(marc, id, 1000, std::string(500, 'z'));
    EXPECT_EQ(code(wrong), v1::BAD_REQUEST);
    EXPECT_EQ(files_->received(id), 0u);
    auto afresh = start_upload(marc, "x.png", announced);
    EXPECT_NE(afresh.upload().upload_id(), id);
    EXPECT_EQ(afresh.upload().offset(), 0u);
}

TEST_F(files_test, only_members_download_and_what_a_browser_runs_is_never_inline) {
    auto lea = user("lea");
    auto marc = user("marc");
    ASSERT_TRUE(create(lea, "outils").has_channel());
    ASSERT_TRUE(create(lea, "bureau", true).has_channel());
    const auto page = "<!DOCTYPE html><script>alert(1)</script>";
    auto sent = send_file(lea, "outils", upload(lea, "page.html", page), "");
    const auto seq = sent.sent().event().seq();
    EXPECT_EQ(sent.sent().event().message().attachment().content_type(), "text/html");
    EXPECT_FALSE(sent.sent().event().message().attachment().inline_());
    auto svg = send_file(lea, "outils", upload(lea, "logo.png", "<svg onload='x()'/>"), "");
    EXPECT_EQ(svg.sent().event().message().attachment().content_type(), "image/svg+xml");
    EXPECT_FALSE(svg.sent().event().message().attachment().inline_());
    auto hidden = send_file(lea, "bureau", upload(lea, "notes.txt", "compte rendu"), "");
    ASSERT_TRUE(hidden.has_sent());

    EXPECT_EQ(code(download(marc, "outils", seq, 0)), v1::FORBIDDEN);  // sees it, not in it
    EXPECT_EQ(code(download(marc, "bureau", hidden.sent().event().seq(), 0)), v1::NOT_FOUND);
    ASSERT_TRUE(join(marc, "outils").has_channel());
    EXPECT_EQ(download_all(marc, "outils", seq), page);
    EXPECT_EQ(code(download(marc, "outils", 1, 0)), v1::NOT_FOUND);  // no file there
}

TEST_F(files_test, files_nothing_carries_any_more_and_abandoned_uploads_are_collected) {
    auto lea = user("lea");
    ASSERT_TRUE(create(lea, "outils").has_channel());
    auto sent = send_file(lea, "outils", upload(lea, "a.png", bytes_of(3000)), "");
    auto kept = send_file(lea, "outils", upload(lea, "b.png", bytes_of(3000, png_head + "b")), "");
    auto abandoned = start_upload(lea, "c.png", bytes_of(3000, png_head + "c"));
    ASSERT_TRUE(chunk(lea, abandoned.upload().upload_id(), 0, bytes_of(1000)).has_upload());
    EXPECT_EQ(files_on_disk(), 3u);

    v1::ClientMessage del;
    *del.mutable_delete_message()->mutable_channel() = ref("outils");
    del.mutable_delete_message()->set_seq(sent.sent().event().seq());
    ASSERT_TRUE(call(lea, del).has_ok());
    auto collect = [&] {
        std::promise<std::size_t> done;
        service_->collect_files([&](std::size_t n) { done.set_value(n); });
        return done.get_future().get();
    };
    EXPECT_EQ(collect(), 0u) << "an uploader has a day to attach a file again";
    clock_.advance(2LL * 86'400'000);
    EXPECT_EQ(collect(), 1u);
    EXPECT_EQ(files_on_disk(), 2u) << "the abandoned upload waits a week";
    clock_.advance(7LL * 86'400'000);
    EXPECT_EQ(collect(), 0u);
    EXPECT_EQ(files_on_disk(), 1u);
    EXPECT_EQ(download_all(lea, "outils", kept.sent().event().seq()),
              bytes_of(3000, png_head + "b"));
}

}  // namespace
}  // namespace relais::testing
