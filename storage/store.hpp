#pragma once

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/relais.pb.h"

namespace relais::storage {

using user_id = std::uint64_t;
using channel_id = std::uint64_t;
using seq_t = std::uint64_t;

struct account {
    user_id id = 0;
    std::string name;
    std::string display_name;
    v1::Role role = v1::MEDIATOR;
    bool disabled = false;
    std::string password_hash;  // Argon2id string; never leaves storage and core
    std::int64_t created_at_ms = 0;
};

struct session_record {
    std::string token_hash;
    user_id user = 0;
    std::int64_t created_at_ms = 0;
};

struct channel_record {
    channel_id id = 0;
    std::string name;
    std::string topic;
    v1::ChannelKind kind = v1::PUBLIC;
    seq_t last_seq = 0;
    std::int64_t created_at_ms = 0;
    std::string display_name;
    // What plain members may do (v1::ChannelOptions).
    bool members_can_invite = true;
    bool members_can_set_topic = true;
};

struct membership {
    channel_id channel = 0;
    user_id user = 0;
    v1::MemberRole role = v1::MEMBER;
    seq_t last_read_seq = 0;
};

enum class event_kind : int {
    message = 1,
    edited = 2,
    deleted = 3,
    member = 4,
    created = 5,
    topic = 6,
    options = 7,
    display_name = 8,
};

// One row of a channel's history. Which fields mean something depends on kind:
//  message: text (current), client_msg_id, edited_at_ms, deleted
//  edited:  text (the new text), target_seq;  deleted: target_seq
//  member:  subject (the user), change, role;  created/topic: text (topic)
//  options: change, a bit per option (options_bits) as they now are
//  display_name: text (the new display name)
struct event_record {
    channel_id channel = 0;
    seq_t seq = 0;
    event_kind kind = event_kind::message;
    std::int64_t at_ms = 0;
    user_id actor = 0;
    std::string text;
    std::string client_msg_id;
    seq_t target_seq = 0;
    user_id subject = 0;
    int change = 0;
    int role = 0;
    std::int64_t edited_at_ms = 0;
    bool deleted = false;
};

// Reads. Each call sees committed data; inside a write job it also sees the
// job's own uncommitted changes. Failures of the database throw.
class reader {
  public:
    virtual ~reader() = default;

    virtual std::optional<account> find_account(std::string_view name) = 0;
    virtual std::optional<account> find_account(user_id id) = 0;
    virtual std::vector<account> list_accounts() = 0;
    virtual std::optional<session_record> find_session(std::string_view token_hash) = 0;
    // Grows whenever a session is deleted or an account disabled or enabled,
    // by this process or another.
    virtual std::int64_t auth_changes() = 0;

    virtual std::optional<channel_record> find_channel(channel_id id) = 0;
    virtual std::optional<channel_record> find_channel(std::string_view name) = 0;
    virtual std::vector<channel_record> list_channels() = 0;
    virtual std::vector<membership> members_of(channel_id channel) = 0;
    virtual std::vector<membership> memberships_of(user_id user) = 0;
    virtual std::optional<membership> find_membership(channel_id channel, user_id user) = 0;
    virtual std::uint32_t count_members(channel_id channel) = 0;

    // Oldest first, seq in (after, after + ...], at most limit rows.
    virtual std::vector<event_record> events_after(channel_id channel, seq_t after,
                                                   std::uint32_t limit) = 0;
    // Oldest first, the newest `limit` rows with seq < before.
    virtual std::vector<event_record> events_before(channel_id channel, seq_t before,
                                                    std::uint32_t limit) = 0;
    virtual std::optional<event_record> find_event(channel_id channel, seq_t seq) = 0;
    virtual std::optional<event_record> find_sent(user_id author,
                                                  std::string_view client_msg_id) = 0;
    // Live messages after `after` whose author is not `reader_user`.
    virtual std::uint64_t count_unread(channel_id channel, seq_t after, user_id reader_user) = 0;
};

// Writes, inside the writer's group transaction.
class writer : public reader {
  public:
    // Returns the new account's id; throws on a duplicate name (check first).
    virtual user_id insert_account(const account& a) = 0;
    virtual void set_account_disabled(user_id id, bool disabled) = 0;
    virtual void set_password_hash(user_id id, std::string_view hash) = 0;

    virtual void insert_session(const session_record& s) = 0;
    virtual void delete_session(std::string_view token_hash) = 0;
    virtual void delete_sessions_of(user_id user) = 0;

    virtual channel_id insert_channel(const channel_record& c) = 0;
    virtual void set_topic(channel_id channel, std::string_view topic) = 0;
    virtual void set_display_name(channel_id channel, std::string_view display_name) = 0;
    virtual void set_channel_options(channel_id channel, bool members_can_invite,
                                     bool members_can_set_topic) = 0;
    virtual void upsert_member(const membership& m) = 0;
    virtual void remove_member(channel_id channel, user_id user) = 0;
    virtual void set_read_marker(channel_id channel, user_id user, seq_t seq) = 0;

    // Assigns the channel's next seq to `e`, stores it and returns the seq.
    virtual seq_t append_event(event_record& e) = 0;
    virtual void update_message(channel_id channel, seq_t seq, std::string_view text,
                                std::int64_t edited_at_ms, bool deleted) = 0;
};

// One unit of work for the writer. `apply` runs on the writer thread inside
// the current group transaction, under its own savepoint: returning false or
// throwing rolls back this job alone. `done` runs on the writer thread after
// the group's commit, in queue order: committed is true when the group
// committed and apply did not throw, false otherwise; only then may anything
// be acknowledged. A job whose apply returned false gets done(true): nothing
// of it was stored, and nothing needed to be.
struct write_job {
    std::function<bool(writer&)> apply;
    std::function<void(bool committed)> done;
};

// The storage of one Relais server.
// Thread-safe: every member may be called from any thread.
class store {
  public:
    virtual ~store() = default;

    // Runs fn on a storage thread with a read connection of its own.
    virtual void read(std::function<void(reader&)> fn) = 0;
    // Queues a job for the single writer, which commits jobs in groups.
    virtual void write(write_job job) = 0;
    // Finishes queued jobs, then stops the storage threads.
    virtual void close() = 0;
};

// Blocking helpers for admin commands and tests; never call them from a
// storage thread.
template <class Fn>
auto read_now(store& s, Fn fn) -> decltype(fn(std::declval<reader&>())) {
    using result_t = decltype(fn(std::declval<reader&>()));
    std::promise<result_t> promise;
    auto future = promise.get_future();
    s.read([&](reader& r) {
        try {
            if constexpr (std::is_void_v<result_t>) {
                fn(r);
                promise.set_value();
            } else {
                promise.set_value(fn(r));
            }
        } catch (...) {
            promise.set_exception(std::current_exception());
        }
    });
    return future.get();
}

// Runs fn as a write job; returns whether the job's group committed.
inline bool write_now(store& s, std::function<bool(writer&)> fn) {
    std::promise<bool> promise;
    auto future = promise.get_future();
    s.write({std::move(fn), [&](bool committed) { promise.set_value(committed); }});
    return future.get();
}

}  // namespace relais::storage
