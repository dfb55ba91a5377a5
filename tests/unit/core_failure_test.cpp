// Fails the Nth storage write of a request and checks that nothing was
// half-written and nothing was acknowledged (Beast's fail_count idea).
#include "tests/unit/core_fixture.hpp"

namespace relais::testing {
namespace {

struct injected_failure : std::runtime_error {
    injected_failure() : std::runtime_error("injected storage failure") {}
};

// Forwards to the real writer; the Nth mutating call throws.
class failing_writer final : public storage::writer {
  public:
    failing_writer(storage::writer& real, std::atomic<int>& countdown)
        : real_(real), countdown_(countdown) {}

#define RELAIS_FORWARD_READ(ret, name, params, args) \
    ret name params override {                       \
        return real_.name args;                      \
    }
    RELAIS_FORWARD_READ(std::optional<storage::account>, find_account, (std::string_view n), (n))
    RELAIS_FORWARD_READ(std::optional<storage::account>, find_account, (storage::user_id id), (id))
    RELAIS_FORWARD_READ(std::vector<storage::account>, list_accounts, (), ())
    RELAIS_FORWARD_READ(std::optional<storage::session_record>, find_session, (std::string_view h),
                        (h))
    RELAIS_FORWARD_READ(std::int64_t, auth_changes, (), ())
    RELAIS_FORWARD_READ(std::optional<storage::channel_record>, find_channel,
                        (storage::channel_id id), (id))
    RELAIS_FORWARD_READ(std::optional<storage::channel_record>, find_channel, (std::string_view n),
                        (n))
    RELAIS_FORWARD_READ(std::vector<storage::channel_record>, list_channels, (), ())
    RELAIS_FORWARD_READ(std::vector<storage::membership>, members_of, (storage::channel_id c), (c))
    RELAIS_FORWARD_READ(std::vector<storage::membership>, memberships_of, (storage::user_id u), (u))
    RELAIS_FORWARD_READ(std::optional<storage::membership>, find_membership,
                        (storage::channel_id c, storage::user_id u), (c, u))
    RELAIS_FORWARD_READ(std::uint32_t, count_members, (storage::channel_id c), (c))
    RELAIS_FORWARD_READ(std::vector<storage::event_record>, events_after,
                        (storage::channel_id c, storage::seq_t s, std::uint32_t l), (c, s, l))
    RELAIS_FORWARD_READ(std::vector<storage::event_record>, events_before,
                        (storage::channel_id c, storage::seq_t s, std::uint32_t l), (c, s, l))
    RELAIS_FORWARD_READ(std::optional<storage::event_record>, find_event,
                        (storage::channel_id c, storage::seq_t s), (c, s))
    RELAIS_FORWARD_READ(std::optional<storage::event_record>, find_sent,
                        (storage::user_id u, std::string_view id), (u, id))
    RELAIS_FORWARD_READ(std::uint64_t, count_unread,
                        (storage::channel_id c, storage::seq_t s, storage::user_id u), (c, s, u))
    RELAIS_FORWARD_READ(std::optional<storage::thread_record>, find_thread,
                        (storage::channel_id c, storage::seq_t s), (c, s))
    RELAIS_FORWARD_READ(std::vector<storage::thread_record>, threads_in,
                        (storage::channel_id c, storage::seq_t f, storage::seq_t t), (c, f, t))
    RELAIS_FORWARD_READ(std::vector<storage::event_record>, replies_after,
                        (storage::channel_id c, storage::seq_t r, storage::seq_t s,
                         std::uint32_t l),
                        (c, r, s, l))
    RELAIS_FORWARD_READ(std::vector<storage::event_record>, replies_before,
                        (storage::channel_id c, storage::seq_t r, storage::seq_t s,
                         std::uint32_t l),
                        (c, r, s, l))
    RELAIS_FORWARD_READ(std::vector<storage::thread_record>, questions,
                        (storage::channel_id c, bool u, std::uint32_t l), (c, u, l))
    RELAIS_FORWARD_READ(std::optional<storage::thread_follow>, find_follow,
                        (storage::user_id u, storage::channel_id c, storage::seq_t r), (u, c, r))
    RELAIS_FORWARD_READ(std::vector<storage::thread_follow>, follows_of, (storage::user_id u), (u))
    RELAIS_FORWARD_READ(std::uint64_t, count_thread_unread,
                        (storage::channel_id c, storage::seq_t r, storage::seq_t s,
                         storage::user_id u),
                        (c, r, s, u))
    RELAIS_FORWARD_READ(std::uint64_t, count_followed_unread,
                        (storage::channel_id c, storage::user_id u), (c, u))
    RELAIS_FORWARD_READ(std::uint64_t, count_unread_mentions,
                        (storage::channel_id c, storage::user_id u, storage::seq_t s), (c, u, s))
    RELAIS_FORWARD_READ(std::vector<storage::mention_record>, mentions_of,
                        (storage::user_id u, std::uint32_t l), (u, l))
    RELAIS_FORWARD_READ(std::vector<storage::user_id>, mentioned_in,
                        (storage::channel_id c, storage::seq_t s), (c, s))
    RELAIS_FORWARD_READ(std::vector<storage::reaction_record>, reactions_in,
                        (storage::channel_id c, storage::seq_t f, storage::seq_t t), (c, f, t))
    RELAIS_FORWARD_READ(std::vector<storage::pin_record>, pins_in,
                        (storage::channel_id c, storage::seq_t f, storage::seq_t t), (c, f, t))
    RELAIS_FORWARD_READ(std::vector<storage::pin_record>, pins_of, (storage::channel_id c), (c))
    RELAIS_FORWARD_READ(std::vector<storage::resource_record>, resources_in,
                        (storage::channel_id c, storage::seq_t f, storage::seq_t t), (c, f, t))
    RELAIS_FORWARD_READ(std::optional<storage::resource_record>, find_resource,
                        (storage::channel_id c, storage::seq_t s), (c, s))
    RELAIS_FORWARD_READ(std::vector<storage::resource_record>, resource_versions,
                        (storage::channel_id c, storage::seq_t s), (c, s))
    RELAIS_FORWARD_READ(std::optional<storage::resource_record>, resource_version_made_by,
                        (storage::channel_id c, storage::seq_t s), (c, s))
    RELAIS_FORWARD_READ(std::vector<storage::resource_record>, list_resources,
                        (const storage::resource_query& q), (q))
    RELAIS_FORWARD_READ(std::vector<storage::vocabulary_term>, vocabulary, (), ())
    RELAIS_FORWARD_READ(std::vector<storage::search_row>, search, (const storage::search_query& q),
                        (q))
    RELAIS_FORWARD_READ(std::optional<storage::meeting_record>, find_meeting, (std::uint64_t id),
                        (id))
    RELAIS_FORWARD_READ(std::vector<storage::meeting_record>, meetings_in,
                        (const std::vector<storage::channel_id>& c, const std::vector<int>& s,
                         std::uint32_t l),
                        (c, s, l))
    RELAIS_FORWARD_READ(std::vector<storage::meeting_record>, meetings_started,
                        (const std::vector<storage::channel_id>& c, std::int64_t f, std::int64_t t),
                        (c, f, t))
    RELAIS_FORWARD_READ(std::optional<storage::meeting_link>, live_meeting_at,
                        (storage::channel_id c), (c))
    RELAIS_FORWARD_READ(std::uint32_t, count_live_meetings, (), ())
    RELAIS_FORWARD_READ(std::vector<std::uint64_t>, due_meetings, (std::int64_t n), (n))
    RELAIS_FORWARD_READ(std::int64_t, next_meeting_timer, (), ())
    RELAIS_FORWARD_READ(std::vector<storage::meeting_template>, meeting_templates, (), ())
    RELAIS_FORWARD_READ(std::vector<storage::invitation_record>, list_invitations, (), ())
    RELAIS_FORWARD_READ(std::vector<storage::mute_record>, list_mutes, (), ())
    using positioned_events = std::vector<std::pair<std::uint64_t, storage::event_record>>;
    RELAIS_FORWARD_READ(positioned_events, events_by,
                        (storage::user_id u, std::uint64_t a, std::uint32_t l), (u, a, l))
    RELAIS_FORWARD_READ(std::optional<storage::ban_record>, find_ban,
                        (storage::channel_id c, storage::user_id u), (c, u))
    RELAIS_FORWARD_READ(std::optional<storage::report_record>, find_report, (std::uint64_t id),
                        (id))
    RELAIS_FORWARD_READ(std::vector<storage::report_record>, list_reports,
                        (const std::vector<storage::channel_id>& c, bool r, std::uint32_t l),
                        (c, r, l))
    RELAIS_FORWARD_READ(std::vector<storage::audit_record>, audit_log,
                        (std::uint64_t b, std::uint32_t l), (b, l))
    RELAIS_FORWARD_READ(std::optional<storage::upload_record>, find_upload, (std::string_view id),
                        (id))
    RELAIS_FORWARD_READ(std::optional<storage::upload_record>, find_upload_of,
                        (storage::user_id u, std::string_view h, std::uint64_t size), (u, h, size))
    RELAIS_FORWARD_READ(std::uint64_t, upload_bytes_of, (storage::user_id u), (u))
    RELAIS_FORWARD_READ(std::optional<storage::file_record>, find_file, (std::string_view h), (h))
    RELAIS_FORWARD_READ(std::optional<storage::attachment_record>, find_attachment,
                        (storage::channel_id c, storage::seq_t s), (c, s))
    RELAIS_FORWARD_READ(std::vector<storage::attachment_record>, attachments_in,
                        (storage::channel_id c, storage::seq_t from, storage::seq_t to),
                        (c, from, to))
    RELAIS_FORWARD_READ(std::vector<storage::session_record>, sessions_of, (storage::user_id u),
                        (u))
    RELAIS_FORWARD_READ(std::optional<storage::password_reset_record>, find_password_reset,
                        (std::string_view h), (h))
    RELAIS_FORWARD_READ(std::optional<storage::invitation_record>, find_invitation,
                        (std::string_view h), (h))
    RELAIS_FORWARD_READ(std::optional<storage::meeting_template>, find_meeting_template,
                        (std::string_view n), (n))
    RELAIS_FORWARD_READ(std::vector<storage::resource_record>, meeting_resources, (std::uint64_t m),
                        (m))
    RELAIS_FORWARD_READ(std::vector<storage::case_record>, cases_of, (storage::channel_id c), (c))
#undef RELAIS_FORWARD_READ

// A mutating call: counts down, then forwards.
#define RELAIS_FORWARD_WRITE(ret, name, params, args) \
    ret name params override {                        \
        tick();                                       \
        return real_.name args;                       \
    }
    RELAIS_FORWARD_WRITE(storage::thread_record, refresh_thread,
                         (storage::channel_id c, storage::seq_t r), (c, r))
    RELAIS_FORWARD_WRITE(void, set_question, (storage::channel_id c, storage::seq_t r, bool q),
                         (c, r, q))
    RELAIS_FORWARD_WRITE(void, set_solved,
                         (storage::channel_id c, storage::seq_t r, storage::seq_t a), (c, r, a))
    RELAIS_FORWARD_WRITE(void, set_following,
                         (storage::user_id u, storage::channel_id c, storage::seq_t r, bool f,
                          storage::seq_t s),
                         (u, c, r, f, s))
    RELAIS_FORWARD_WRITE(void, set_thread_read_marker,
                         (storage::user_id u, storage::channel_id c, storage::seq_t r,
                          storage::seq_t s),
                         (u, c, r, s))
    RELAIS_FORWARD_WRITE(void, set_mentions,
                         (storage::channel_id c, storage::seq_t s, storage::seq_t t,
                          const std::vector<storage::user_id>& u),
                         (c, s, t, u))
    RELAIS_FORWARD_WRITE(bool, add_reaction,
                         (storage::channel_id c, const storage::reaction_record& r), (c, r))
    RELAIS_FORWARD_WRITE(bool, remove_reaction,
                         (storage::channel_id c, storage::seq_t s, std::string_view e,
                          storage::user_id u),
                         (c, s, e, u))
    RELAIS_FORWARD_WRITE(bool, add_pin, (storage::channel_id c, const storage::pin_record& p),
                         (c, p))
    RELAIS_FORWARD_WRITE(bool, remove_pin, (storage::channel_id c, storage::seq_t s), (c, s))
    RELAIS_FORWARD_WRITE(void, insert_resource, (const storage::resource_record& r), (r))
    RELAIS_FORWARD_WRITE(void, update_resource, (const storage::resource_record& r), (r))
    RELAIS_FORWARD_WRITE(void, set_resource_activity,
                         (storage::channel_id c, storage::seq_t s, std::uint32_t n,
                          std::int64_t at),
                         (c, s, n, at))
    RELAIS_FORWARD_WRITE(void, add_vocabulary_term, (const storage::vocabulary_term& t), (t))
    RELAIS_FORWARD_WRITE(void, set_profile, (const storage::account& a), (a))
    RELAIS_FORWARD_WRITE(std::uint64_t, insert_meeting, (const storage::meeting_record& m), (m))
    RELAIS_FORWARD_WRITE(void, update_meeting, (const storage::meeting_record& m), (m))
    RELAIS_FORWARD_WRITE(void, add_meeting_table,
                         (storage::channel_id c, std::uint64_t m, std::uint32_t n), (c, m, n))
    RELAIS_FORWARD_WRITE(std::uint64_t, insert_invitation, (const storage::invitation_record& i),
                         (i))
    RELAIS_FORWARD_WRITE(void, use_invitation,
                         (std::uint64_t id, storage::user_id a, std::int64_t at), (id, a, at))
    RELAIS_FORWARD_WRITE(void, revoke_invitation, (std::uint64_t id), (id))
    RELAIS_FORWARD_WRITE(void, touch_session, (std::string_view h, std::int64_t at), (h, at))
    RELAIS_FORWARD_WRITE(void, put_password_reset, (const storage::password_reset_record& r), (r))
    RELAIS_FORWARD_WRITE(void, delete_password_reset, (storage::user_id u), (u))
    RELAIS_FORWARD_WRITE(void, put_mute, (const storage::mute_record& m), (m))
    RELAIS_FORWARD_WRITE(void, delete_mute, (storage::channel_id c, storage::user_id u), (c, u))
    RELAIS_FORWARD_WRITE(void, put_ban, (const storage::ban_record& b), (b))
    RELAIS_FORWARD_WRITE(void, delete_ban, (storage::channel_id c, storage::user_id u), (c, u))
    RELAIS_FORWARD_WRITE(std::uint64_t, insert_report, (const storage::report_record& r), (r))
    RELAIS_FORWARD_WRITE(void, resolve_report,
                         (std::uint64_t id, storage::user_id by, std::int64_t at,
                          std::string_view text),
                         (id, by, at, text))
    RELAIS_FORWARD_WRITE(std::uint64_t, append_audit, (const storage::audit_record& a), (a))
    RELAIS_FORWARD_WRITE(std::uint64_t, erase_account,
                         (storage::user_id u, std::int64_t at, bool remove), (u, at, remove))
    RELAIS_FORWARD_WRITE(std::uint64_t, expire_messages,
                         (storage::channel_id c, std::int64_t before, std::uint64_t limit),
                         (c, before, limit))
    RELAIS_FORWARD_WRITE(void, set_retention, (storage::channel_id c, std::uint32_t days),
                         (c, days))
    RELAIS_FORWARD_WRITE(void, insert_upload, (const storage::upload_record& u), (u))
    RELAIS_FORWARD_WRITE(void, complete_upload, (std::string_view id, std::int64_t at), (id, at))
    RELAIS_FORWARD_WRITE(void, delete_upload, (std::string_view id), (id))
    RELAIS_FORWARD_WRITE(void, put_file, (const storage::file_record& f), (f))
    RELAIS_FORWARD_WRITE(void, attach, (const storage::attachment_record& a), (a))
    RELAIS_FORWARD_WRITE(storage::file_collection, collect_files, (std::int64_t now), (now))
    RELAIS_FORWARD_WRITE(void, put_meeting_template, (const storage::meeting_template& t), (t))
    RELAIS_FORWARD_WRITE(bool, remove_meeting_template, (std::string_view n), (n))
    RELAIS_FORWARD_WRITE(std::uint32_t, insert_case, (const storage::case_record& c), (c))
    RELAIS_FORWARD_WRITE(void, set_case_chosen, (std::uint32_t id, std::uint64_t m), (id, m))
#undef RELAIS_FORWARD_WRITE

    storage::user_id insert_account(const storage::account& a) override {
        tick();
        return real_.insert_account(a);
    }
    void set_account_disabled(storage::user_id id, bool d) override {
        tick();
        real_.set_account_disabled(id, d);
    }
    void set_password_hash(storage::user_id id, std::string_view h) override {
        tick();
        real_.set_password_hash(id, h);
    }
    void insert_session(const storage::session_record& s) override {
        tick();
        real_.insert_session(s);
    }
    void delete_session(std::string_view h) override {
        tick();
        real_.delete_session(h);
    }
    void delete_sessions_of(storage::user_id u) override {
        tick();
        real_.delete_sessions_of(u);
    }
    storage::channel_id insert_channel(const storage::channel_record& c) override {
        tick();
        return real_.insert_channel(c);
    }
    void set_topic(storage::channel_id c, std::string_view t) override {
        tick();
        real_.set_topic(c, t);
    }
    void set_display_name(storage::channel_id c, std::string_view d) override {
        tick();
        real_.set_display_name(c, d);
    }
    void set_channel_options(storage::channel_id c, bool invite, bool topic) override {
        tick();
        real_.set_channel_options(c, invite, topic);
    }
    void upsert_member(const storage::membership& m) override {
        tick();
        real_.upsert_member(m);
    }
    void remove_member(storage::channel_id c, storage::user_id u) override {
        tick();
        real_.remove_member(c, u);
    }
    void set_read_marker(storage::channel_id c, storage::user_id u, storage::seq_t s) override {
        tick();
        real_.set_read_marker(c, u, s);
    }
    storage::seq_t append_event(storage::event_record& e) override {
        tick();
        return real_.append_event(e);
    }
    void update_message(storage::channel_id c, storage::seq_t s, std::string_view t,
                        std::int64_t at, bool d) override {
        tick();
        real_.update_message(c, s, t, at, d);
    }

  private:
    void tick() {
        if (--countdown_ == 0) {
            throw injected_failure();
        }
    }
    storage::writer& real_;
    std::atomic<int>& countdown_;
};

// The real store, whose writer fails on command.
class failing_store final : public storage::store {
  public:
    explicit failing_store(storage::store& real) : real_(real) {}
    void fail_at(int nth_write) { countdown_ = nth_write; }

    void read(std::function<void(storage::reader&)> fn) override { real_.read(std::move(fn)); }
    void write(storage::write_job job) override {
        real_.write({[this, apply = std::move(job.apply)](storage::writer& w) {
                         failing_writer proxy(w, countdown_);
                         return apply(proxy);
                     },
                     std::move(job.done)});
    }
    void close() override { real_.close(); }
    void scrub(std::function<void(bool ok)> done) override { real_.scrub(std::move(done)); }

  private:
    storage::store& real_;
    std::atomic<int> countdown_{0};
};

class core_storage_failure : public core_test {
  protected:
    void SetUp() override {
        storage::sqlite::options opts;
        opts.data_dir = dir_.path();
        sqlite_ = std::make_unique<storage::sqlite::sqlite_store>(opts);
        failing_ = std::make_unique<failing_store>(*sqlite_);
        core::service_config config;
        service_ = std::make_unique<core::service>(*failing_, clock_, config);
        service_->start();
    }
    storage::store& store() override { return *failing_; }

    // Every channel is whole: its creation event, an owner, and a seq
    // counter equal to its last stored event, with no gap.
    void expect_consistent() {
        storage::read_now(*sqlite_, [](storage::reader& r) {
            for (const auto& c : r.list_channels()) {
                auto events = r.events_after(c.id, 0, 100000);
                ASSERT_FALSE(events.empty()) << c.name << " has no creation event";
                EXPECT_EQ(events.front().kind, storage::event_kind::created);
                EXPECT_EQ(events.back().seq, c.last_seq) << c.name;
                for (std::size_t i = 0; i < events.size(); ++i) {
                    EXPECT_EQ(events[i].seq, i + 1) << c.name << " has a gap";
                }
                EXPECT_FALSE(r.members_of(c.id).empty()) << c.name << " has no member";
            }
        });
    }

    std::unique_ptr<failing_store> failing_;
};

TEST_F(core_storage_failure, a_failed_write_at_any_step_leaves_no_half_written_record) {
    auto alice = user("alice");
    int acknowledged_channels = 0;
    int acknowledged_messages = 0;
    for (int nth = 1; nth <= 6; ++nth) {
        failing_->fail_at(nth);
        auto created = create(alice, "canal-" + std::to_string(nth));
        if (created.has_channel()) {
            ++acknowledged_channels;
        } else {
            EXPECT_EQ(code(created), v1::INTERNAL);
        }
        failing_->fail_at(nth);
        auto sent = send(alice, "canal-" + std::to_string(nth), "texte", "m" + std::to_string(nth));
        if (sent.has_sent()) {
            ++acknowledged_messages;
        } else {
            EXPECT_TRUE(code(sent) == v1::INTERNAL || code(sent) == v1::NOT_FOUND);
        }
        expect_consistent();
    }
    failing_->fail_at(0);
    // Every acknowledged change is there, and only those.
    storage::read_now(*sqlite_, [&](storage::reader& r) {
        EXPECT_EQ(static_cast<int>(r.list_channels().size()), acknowledged_channels);
        int messages = 0;
        for (const auto& c : r.list_channels()) {
            for (const auto& e : r.events_after(c.id, 0, 1000)) {
                messages += e.kind == storage::event_kind::message;
            }
        }
        EXPECT_EQ(messages, acknowledged_messages);
    });
    EXPECT_GT(acknowledged_channels, 0);
    EXPECT_LT(acknowledged_channels, 6);
}

}  // namespace
}  // namespace relais::testing
