// Attached files through the real server: an upload cut off half-way goes on
// from where the server stopped, the file comes down whole to a member and
// is refused to a non-member; and the same with `relais send --attach` and
// `relais download`.
#include <filesystem>
#include <fstream>
#include <random>

#include "clients/lib/files.hpp"
#include "tests/integration/harness.hpp"

namespace relais::testing {
namespace {

using client::client;

std::string random_bytes(std::size_t size, unsigned seed) {
    std::mt19937 gen(seed);
    std::string bytes(size, '\0');
    for (auto& b : bytes) {
        b = static_cast<char>(gen());
    }
    return bytes;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), {});
}

TEST(files, an_upload_cut_off_half_way_goes_on_and_only_members_get_the_file) {
    server_process server;
    server.add_user("lea");
    server.add_user("marc");
    server.add_user("nina");
    server.start();
    const auto dir = server.data_dir().parent_path();
    const auto path = dir / "guide-arnaques.pdf";
    const auto bytes = "%PDF-1.7\n" + random_bytes(3 * 1024 * 1024, 7);
    std::ofstream(path, std::ios::binary) << bytes;
    run_sync([&]() -> asio::awaitable<void> {
        auto lea = co_await logged_in(server, "lea");
        auto channel = co_await lea->create_channel("outils", "", false);
        require(channel, "channel");
        auto marc = co_await logged_in(server, "marc");
        require(co_await marc->join(client::by_id(channel->id())), "join");

        // Half of it, by hand, then the connection goes.
        v1::StartUpload start;
        start.set_name(path.filename().string());
        start.set_size(bytes.size());
        start.set_sha256(relais::client::file_sha256(path));
        auto started = co_await lea->ask(start);
        require(started, "start");
        const auto chunk = lea->limits().attachment_chunk_bytes();
        std::uint64_t offset = 0;
        while (offset < bytes.size() / 2) {
            v1::UploadChunk part;
            part.set_upload_id(started->upload_id());
            part.set_offset(offset);
            part.set_data(bytes.substr(offset, chunk));
            auto next = co_await lea->ask(part);
            require(next, "chunk");
            offset = next->offset();
        }
        // A chunk out of order is refused, and nothing is written.
        v1::UploadChunk ahead;
        ahead.set_upload_id(started->upload_id());
        ahead.set_offset(offset + chunk);
        ahead.set_data(bytes.substr(offset + chunk, chunk));
        auto refused = co_await lea->ask(ahead);
        require(!refused, "a chunk out of order is refused");
        EXPECT_EQ(refused.error().code, errc::conflict);
        co_await lea->close();

        // Back on a new connection: the upload goes on from where it was.
        auto again = co_await logged_in(server, "lea");
        std::uint64_t first_progress = UINT64_MAX;
        auto done = co_await relais::client::upload_file(
            *again, path, [&](std::uint64_t at, std::uint64_t) {
                first_progress = std::min(first_progress, at);
            });
        require(done, "upload");
        EXPECT_EQ(first_progress, offset) << "the upload started over";
        EXPECT_EQ(done->upload_id(), started->upload_id());
        EXPECT_EQ(done->file().content_type(), "application/pdf");

        v1::SendMessage m;
        m.mutable_channel()->set_id(channel->id());
        m.set_text("le guide");
        m.set_client_msg_id(client::new_message_id());
        m.set_attachment_upload_id(done->upload_id());
        auto sent = co_await again->ask(m);
        require(sent, "send");
        const auto seq = sent->event().seq();
        // The member gets it whole; someone outside the channel does not.
        const auto copy = dir / "copie.pdf";
        auto got =
            co_await relais::client::download_file(*marc, client::by_id(channel->id()), seq, copy);
        require(got, "download");
        EXPECT_EQ(read_file(copy), bytes);
        auto nina = co_await logged_in(server, "nina");
        auto outside = co_await relais::client::download_file(*nina, client::by_id(channel->id()),
                                                              seq, dir / "x");
        require(!outside, "a non-member is refused");
        EXPECT_EQ(outside.error().code, errc::forbidden);
        EXPECT_FALSE(std::filesystem::exists(dir / "x"));
        EXPECT_FALSE(std::filesystem::exists(dir / "x.part"));
    }());
}

TEST(files, relais_send_attach_and_relais_download_from_the_command_line) {
    server_process server;
    server.add_user("lea");
    server.start();
    const auto dir = server.data_dir().parent_path();
    auto relais = [&](std::vector<std::string> args) {
        std::vector<std::string> argv = {cli_binary(), "--server", server.url(), "--user", "lea"};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_program(
            argv, {},
            {"LC_ALL=fr_FR.UTF-8", "RELAIS_PASSWORD=" + server_process::password_of("lea"),
             "XDG_CONFIG_HOME=" + server.config_home().string()});
    };
    const auto photo = dir / "sms-arnaque.png";
    const auto bytes = "\x89PNG\r\n\x1a\n" + random_bytes(200 * 1024, 3);
    std::ofstream(photo, std::ios::binary) << bytes;
    ASSERT_EQ(relais({"create", "alertes"}).exit_code, 0);
    auto sent = relais({"send", "alertes", "--attach", photo.string(), "faux", "SMS", "Ameli"});
    ASSERT_EQ(sent.exit_code, 0) << sent.err;
    EXPECT_EQ(sent.out, "3\n");
    auto history = relais({"history", "alertes"});
    EXPECT_NE(history.out.find("faux SMS Ameli 📎 sms-arnaque.png (200 Ko)"), std::string::npos)
        << history.out;
    const auto out = dir / "recu.png";
    auto got = relais({"download", "alertes", "3", "--out", out.string()});
    ASSERT_EQ(got.exit_code, 0) << got.err;
    EXPECT_EQ(got.out, out.string() + " (200 Ko)\n");
    EXPECT_EQ(read_file(out), bytes);
    auto none = relais({"download", "alertes", "1", "--out", out.string()});
    EXPECT_EQ(none.exit_code, 1);
    EXPECT_NE(none.err.find("has no file"), std::string::npos) << none.err;
    // A resource carries a file the same way.
    auto posted = relais({"post-resource", "alertes", "--title", "Repérer un faux SMS", "--attach",
                          photo.string(), "la", "capture", "annotée"});
    ASSERT_EQ(posted.exit_code, 0) << posted.err;
    auto resource = relais({"download", "alertes", "4", "--out", (dir / "fiche.png").string()});
    ASSERT_EQ(resource.exit_code, 0) << resource.err;
    EXPECT_EQ(read_file(dir / "fiche.png"), bytes);
    auto missing = relais({"send", "alertes", "--attach", (dir / "absent.pdf").string()});
    EXPECT_NE(missing.exit_code, 0);
}

}  // namespace
}  // namespace relais::testing
