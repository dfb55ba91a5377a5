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
    // Profile: where they work, for attendance sheets and reports, and
    // what the directory shows.
    std::string structure;
    std::string commune;  // INSEE code
    v1::NetworkRole network_role = v1::NETWORK_ROLE_UNSPECIFIED;
    std::string presentation;
    std::vector<std::string> skills;  // tags, none with a line break
    // Set once the account is erased: its row stays, anonymous ("#<id>",
    // nothing else), so that what others did with it keeps its actor.
    std::int64_t erased_at_ms = 0;
};

struct session_record {
    std::string token_hash;
    user_id user = 0;
    std::int64_t created_at_ms = 0;
    // What its owner sees in their list of sessions (Hello's words).
    std::string client_name;
    std::string device;
    std::int64_t last_seen_ms = 0;  // the last login, resume or disconnection
};

// A one-time code that lets the user choose a new password; at most one
// per account. The code itself is never stored: its SHA-256.
struct password_reset_record {
    user_id user = 0;
    std::string code_hash;
    user_id created_by = 0;  // 0: made on the server's machine
    std::int64_t created_at_ms = 0;
    std::int64_t expires_at_ms = 0;
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
    // Messages older than this many days become tombstones; 0: kept.
    std::uint32_t retention_days = 0;
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
    reaction = 9,
    pin = 10,
    solved = 11,
    meeting = 12,
    // What is left of an erased account's message, edit, deletion or
    // reaction when the erasure removes them: the seq alone, so that seqs
    // stay gapless; no author, no text, no target.
    removed = 13,
};

// One row of a channel's history. Which fields mean something depends on kind:
//  message: text (current), client_msg_id, edited_at_ms, deleted
//  edited:  text (the new text), target_seq;  deleted: target_seq
//  member:  subject (the user), change, role;  created/topic: text (topic)
//  options: change, a bit per option (options_bits) as they now are
//  display_name: text (the new display name)
//  reaction: target_seq, text (the emoji), change 1 added, 0 removed
//  pin: target_seq, change 1 pinned, 0 unpinned
//  solved: thread_seq (the question), target_seq (its answer; 0 unsolved)
//  meeting: meeting, body (the change, a serialized v1::MeetingEvent)
// A message with a thread_seq is a reply in the thread of that root; one
// with a meeting was posted while that meeting was live, in meeting_phase.
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
    seq_t thread_seq = 0;
    std::uint64_t meeting = 0;
    std::uint32_t meeting_phase = 0;
    std::string body;
};

// A thread's summary, kept up to date by refresh_thread.
struct thread_record {
    channel_id channel = 0;
    seq_t root_seq = 0;
    std::uint32_t reply_count = 0;  // live replies
    seq_t last_reply_seq = 0;
    std::int64_t last_reply_at_ms = 0;
    std::vector<user_id> participants;  // the first few repliers, in order
    bool question = false;
    seq_t solved_seq = 0;
};

// A user's read marker in a thread, and whether they follow it.
struct thread_follow {
    user_id user = 0;
    channel_id channel = 0;
    seq_t root_seq = 0;
    seq_t last_read_seq = 0;
    bool following = true;
};

// One version of a resource post (the message at channel/seq). The
// description is the message's text.
struct resource_record {
    channel_id channel = 0;
    seq_t seq = 0;
    user_id author = 0;
    std::int64_t created_at_ms = 0;
    std::string title;
    std::string link;
    std::string description;
    int kind = 0;     // v1::ResourceKind
    int licence = 0;  // v1::Licence
    std::vector<std::string> tags, themes, audiences;
    std::uint32_t version = 1;
    std::int64_t version_at_ms = 0;
    user_id editor = 0;
    seq_t event_seq = 0;  // the event that made this version (the post, or an edit)
    // Library order (resources only, not versions).
    std::uint32_t reply_count = 0;
    std::int64_t last_activity_ms = 0;
};

enum class resource_sort { newest, discussed, active };

// What the library lists: resources in `channels` whose fields match every
// filter given (empty: any).
struct resource_query {
    std::vector<channel_id> channels;
    std::vector<std::string> tags;  // all of them
    std::string theme;
    std::string audience;
    int kind = 0;
    user_id author = 0;
    std::int64_t since_ms = 0;
    std::int64_t until_ms = 0;  // excluded; 0: no bound
    resource_sort sort = resource_sort::newest;
    std::uint32_t limit = 50;
    std::uint32_t offset = 0;
};

struct reaction_record {
    seq_t seq = 0;
    std::string emoji;
    user_id user = 0;
    std::int64_t at_ms = 0;
};

struct pin_record {
    seq_t seq = 0;
    user_id pinned_by = 0;
    std::int64_t at_ms = 0;
};

struct mention_record {
    user_id user = 0;
    channel_id channel = 0;
    seq_t seq = 0;
    seq_t thread_seq = 0;
};

// A word list of resources (themes, audiences); an admin adds terms.
struct vocabulary_term {
    std::string list;  // "theme" or "audience"
    std::string slug;
    std::string label_fr;
    std::string label_en;
};

// A practice-exchange meeting. The columns the server looks up by; the rest
// of its state is `record`, in the core's format (stored.MeetingRecord).
struct meeting_record {
    std::uint64_t id = 0;
    channel_id channel = 0;
    int state = 1;  // v1::MeetingState
    std::int64_t start_ms = 0;
    user_id created_by = 0;
    std::int64_t created_at_ms = 0;
    std::int64_t started_at_ms = 0;
    std::int64_t ended_at_ms = 0;
    std::uint32_t current_phase = 0;
    // Who may not talk in the channel now (the narrator in a silent phase).
    std::vector<user_id> silenced;
    // When the server must next act on it by itself (a reminder, an
    // overtime); 0: never.
    std::int64_t next_timer_ms = 0;
    std::string record;
};

// The live meeting a channel (or one of its tables' channels) belongs to.
struct meeting_link {
    std::uint64_t meeting = 0;
    std::uint32_t phase = 0;
    std::uint32_t table = 0;  // 0: the meeting's own channel
    std::vector<user_id> silenced;
};

// A situation proposed for analysis in a channel.
struct case_record {
    std::uint32_t id = 0;
    channel_id channel = 0;
    user_id author = 0;
    std::int64_t at_ms = 0;
    std::string text;
    std::uint64_t chosen_by = 0;  // the meeting that chose it
};

// An invitation to register. The code itself is never stored: its SHA-256.
struct invitation_record {
    std::uint64_t id = 0;
    std::string code_hash;   // 64 hex digits
    std::string label;       // the code's first characters, to name it in lists
    user_id created_by = 0;  // 0: made on the server's machine
    v1::Role role = v1::MEDIATOR;
    std::uint32_t uses = 1;
    std::uint32_t used = 0;
    std::int64_t expires_at_ms = 0;
    bool revoked = false;
    std::int64_t created_at_ms = 0;
    std::vector<channel_id> channels;  // joined on registering
};

// Moderation: a member muted in a channel until a time, or banned from it.
struct mute_record {
    channel_id channel = 0;
    user_id user = 0;
    std::int64_t until_ms = 0;
    user_id by = 0;
    std::int64_t at_ms = 0;
    std::string reason;
};

struct ban_record {
    channel_id channel = 0;
    user_id user = 0;
    user_id by = 0;
    std::int64_t at_ms = 0;
    std::string reason;
};

// A message reported to its channel's moderators; resolved_by 0 while open.
struct report_record {
    std::uint64_t id = 0;
    channel_id channel = 0;
    seq_t seq = 0;
    user_id reporter = 0;
    std::string reason;
    std::int64_t at_ms = 0;
    user_id resolved_by = 0;
    std::int64_t resolved_at_ms = 0;
    std::string resolution;
};

// One admin or moderation action; append-only (the table refuses updates
// and deletes). actor 0: done on the server's machine.
struct audit_record {
    std::uint64_t id = 0;
    std::int64_t at_ms = 0;
    user_id actor = 0;
    std::string action;
    user_id subject = 0;
    channel_id channel = 0;
    std::string reason;
    std::string detail;
};

// An upload of a file by an account: in progress until completed_at_ms;
// once whole it counts in the account's quota for as long as a message of
// theirs carries the file (and a day more, to be attached).
struct upload_record {
    std::string id;  // 32 hex digits, random: also the partial file's name
    user_id user = 0;
    std::string name;
    std::uint64_t size = 0;
    std::string sha256;  // hex, as announced; checked once whole
    std::int64_t created_at_ms = 0;
    std::int64_t completed_at_ms = 0;
};

// A whole file on disk, by content.
struct file_record {
    std::string sha256;
    std::uint64_t size = 0;
    std::string content_type;
    bool is_inline = false;  // safe to show in place (v1::Attachment.inline)
    std::int64_t created_at_ms = 0;
};

// A file attached to a message.
struct attachment_record {
    channel_id channel = 0;
    seq_t seq = 0;
    std::string name;
    user_id uploader = 0;
    file_record file;
};

// What the orphan collection took out of the database, for the disk.
struct file_collection {
    std::vector<std::string> partial_uploads;  // upload ids
    std::vector<std::string> files;            // sha256
};

// A meeting template: its name and its JSON text (v1::MeetingTemplate).
struct meeting_template {
    std::string name;
    std::string json;
};

// A full-text search: every word (folded: search_text.hpp) must match, in
// the messages of `channels`.
struct search_query {
    std::vector<std::string> words;
    std::vector<channel_id> channels;
    std::uint32_t limit = 20;
};

struct search_row {
    channel_id channel = 0;
    seq_t seq = 0;
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
    // The most recently seen first.
    virtual std::vector<session_record> sessions_of(user_id user) = 0;
    virtual std::optional<password_reset_record> find_password_reset(
        std::string_view code_hash) = 0;
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
    // The events `actor` made, in the order they were stored, at most limit,
    // each with its position; after position `after` (0: from the first).
    // Rare (a person's export): it reads the whole table in all.
    virtual std::vector<std::pair<std::uint64_t, event_record>> events_by(user_id actor,
                                                                          std::uint64_t after,
                                                                          std::uint32_t limit) = 0;
    virtual std::optional<event_record> find_sent(user_id author,
                                                  std::string_view client_msg_id) = 0;
    // Live messages of the channel itself (not replies) after `after`
    // whose author is not `reader_user`.
    virtual std::uint64_t count_unread(channel_id channel, seq_t after, user_id reader_user) = 0;

    // Threads.
    virtual std::optional<thread_record> find_thread(channel_id channel, seq_t root) = 0;
    // The threads whose root is in [from, to].
    virtual std::vector<thread_record> threads_in(channel_id channel, seq_t from, seq_t to) = 0;
    // A page of a thread's replies (every event with that thread_seq),
    // oldest first, as events_after / events_before.
    virtual std::vector<event_record> replies_after(channel_id channel, seq_t root, seq_t after,
                                                    std::uint32_t limit) = 0;
    virtual std::vector<event_record> replies_before(channel_id channel, seq_t root, seq_t before,
                                                     std::uint32_t limit) = 0;
    // Questions, newest first.
    virtual std::vector<thread_record> questions(channel_id channel, bool unsolved_only,
                                                 std::uint32_t limit) = 0;
    virtual std::optional<thread_follow> find_follow(user_id user, channel_id channel,
                                                     seq_t root) = 0;
    // The threads the user follows.
    virtual std::vector<thread_follow> follows_of(user_id user) = 0;
    // Live replies by others after `after` in one thread.
    virtual std::uint64_t count_thread_unread(channel_id channel, seq_t root, seq_t after,
                                              user_id reader_user) = 0;
    // The same, summed over the threads of a channel the user follows.
    virtual std::uint64_t count_followed_unread(channel_id channel, user_id reader_user) = 0;

    // Mentions of the user in the channel not yet read: after the channel's
    // marker `channel_read_seq` for its own messages, after the thread's
    // marker for replies.
    virtual std::uint64_t count_unread_mentions(channel_id channel, user_id user,
                                                seq_t channel_read_seq) = 0;
    // The user's mentions, newest first.
    virtual std::vector<mention_record> mentions_of(user_id user, std::uint32_t limit) = 0;
    virtual std::vector<user_id> mentioned_in(channel_id channel, seq_t seq) = 0;

    // Reactions and pins of the messages in [from, to], by seq.
    virtual std::vector<reaction_record> reactions_in(channel_id channel, seq_t from, seq_t to) = 0;
    virtual std::vector<pin_record> pins_in(channel_id channel, seq_t from, seq_t to) = 0;
    // Most recently pinned first.
    virtual std::vector<pin_record> pins_of(channel_id channel) = 0;

    // Resources: the current version of those in [from, to]; every version
    // of one, oldest first; the version an event made.
    virtual std::vector<resource_record> resources_in(channel_id channel, seq_t from, seq_t to) = 0;
    virtual std::optional<resource_record> find_resource(channel_id channel, seq_t seq) = 0;
    virtual std::vector<resource_record> resource_versions(channel_id channel, seq_t seq) = 0;
    virtual std::optional<resource_record> resource_version_made_by(channel_id channel,
                                                                    seq_t event_seq) = 0;
    // The library: at most q.limit + 1 rows from q.offset on (the extra one
    // tells that there is more).
    virtual std::vector<resource_record> list_resources(const resource_query& q) = 0;
    virtual std::vector<vocabulary_term> vocabulary() = 0;

    // Full-text search, best first: matches of whole words or their start,
    // ranked; then, when every word has three letters or more, matches
    // inside longer words, newest first. At most q.limit rows.
    virtual std::vector<search_row> search(const search_query& q) = 0;

    // Meetings.
    virtual std::optional<meeting_record> find_meeting(std::uint64_t id) = 0;
    // Those of `channels` in the given states (v1::MeetingState), live
    // first, then scheduled ones soonest first, then the others newest
    // first; at most limit.
    virtual std::vector<meeting_record> meetings_in(const std::vector<channel_id>& channels,
                                                    const std::vector<int>& states,
                                                    std::uint32_t limit) = 0;
    // Those of `channels` started in [from_ms, to_ms), oldest first.
    virtual std::vector<meeting_record> meetings_started(const std::vector<channel_id>& channels,
                                                         std::int64_t from_ms,
                                                         std::int64_t to_ms) = 0;
    virtual std::optional<meeting_link> live_meeting_at(channel_id channel) = 0;
    virtual std::uint32_t count_live_meetings() = 0;
    // Those whose next_timer_ms is in (0, now_ms]; the earliest timer (0: none).
    virtual std::vector<std::uint64_t> due_meetings(std::int64_t now_ms) = 0;
    virtual std::int64_t next_meeting_timer() = 0;
    virtual std::vector<meeting_template> meeting_templates() = 0;
    // Newest first.
    virtual std::vector<invitation_record> list_invitations() = 0;
    virtual std::optional<invitation_record> find_invitation(std::string_view code_hash) = 0;
    virtual std::optional<meeting_template> find_meeting_template(std::string_view name) = 0;
    // The resources posted while the meeting was live, oldest first.
    virtual std::vector<resource_record> meeting_resources(std::uint64_t meeting) = 0;
    // A channel's cases, oldest first.
    virtual std::vector<case_record> cases_of(channel_id channel) = 0;

    // Moderation.
    virtual std::vector<mute_record> list_mutes() = 0;
    virtual std::optional<ban_record> find_ban(channel_id channel, user_id user) = 0;
    virtual std::optional<report_record> find_report(std::uint64_t id) = 0;
    // Newest first; those of `channels` (empty: every channel).
    virtual std::vector<report_record> list_reports(const std::vector<channel_id>& channels,
                                                    bool include_resolved, std::uint32_t limit) = 0;
    // Newest first, ids below before_id (0: from the newest).
    virtual std::vector<audit_record> audit_log(std::uint64_t before_id, std::uint32_t limit) = 0;

    virtual std::optional<upload_record> find_upload(std::string_view id) = 0;
    // The account's upload of this file (same size and hash), whole or not.
    virtual std::optional<upload_record> find_upload_of(user_id user, std::string_view sha256,
                                                        std::uint64_t size) = 0;
    // What the account's uploads take, whole or not (its quota's use).
    virtual std::uint64_t upload_bytes_of(user_id user) = 0;
    virtual std::optional<file_record> find_file(std::string_view sha256) = 0;
    virtual std::optional<attachment_record> find_attachment(channel_id channel, seq_t seq) = 0;
    // Of the messages from..to (inclusive), by seq.
    virtual std::vector<attachment_record> attachments_in(channel_id channel, seq_t from,
                                                          seq_t to) = 0;
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
    // Moves last_seen_ms forward (never back).
    virtual void touch_session(std::string_view token_hash, std::int64_t at_ms) = 0;
    // Replaces the account's reset code, if any.
    virtual void put_password_reset(const password_reset_record& r) = 0;
    virtual void delete_password_reset(user_id user) = 0;

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
    // Changes a message's text; a deleted one leaves the library and loses
    // its reactions, pin and mentions. Search sees every change at once:
    // the indexes catch up a moment later, in batches (flush_search), and a
    // search matches what they have not caught up with by itself.
    virtual void update_message(channel_id channel, seq_t seq, std::string_view text,
                                std::int64_t edited_at_ms, bool deleted) = 0;

    // Recomputes a thread's summary from its replies and stores it.
    virtual thread_record refresh_thread(channel_id channel, seq_t root) = 0;
    virtual void set_question(channel_id channel, seq_t root, bool question) = 0;
    virtual void set_solved(channel_id channel, seq_t root, seq_t answer) = 0;
    // Follows (or stops following) a thread, keeping the read marker; a
    // user new to the thread starts with the marker at `read_seq`.
    virtual void set_following(user_id user, channel_id channel, seq_t root, bool following,
                               seq_t read_seq) = 0;
    virtual void set_thread_read_marker(user_id user, channel_id channel, seq_t root,
                                        seq_t seq) = 0;

    // Replaces who a message mentions.
    virtual void set_mentions(channel_id channel, seq_t seq, seq_t thread_seq,
                              const std::vector<user_id>& users) = 0;
    // Each returns whether it changed anything.
    virtual bool add_reaction(channel_id channel, const reaction_record& r) = 0;
    virtual bool remove_reaction(channel_id channel, seq_t seq, std::string_view emoji,
                                 user_id user) = 0;
    virtual bool add_pin(channel_id channel, const pin_record& p) = 0;
    virtual bool remove_pin(channel_id channel, seq_t seq) = 0;

    // Makes the message at r.channel/r.seq a resource (version 1), or
    // stores r as its next version, its text becoming r.description.
    virtual void insert_resource(const resource_record& r) = 0;
    virtual void update_resource(const resource_record& r) = 0;
    // After a reply: the library's "discussed" and "active" orders.
    virtual void set_resource_activity(channel_id channel, seq_t seq, std::uint32_t reply_count,
                                       std::int64_t last_activity_ms) = 0;
    virtual void add_vocabulary_term(const vocabulary_term& t) = 0;

    // Stores a's display name and profile fields (not its name, role or
    // password).
    virtual void set_profile(const account& a) = 0;
    // Returns the new meeting's id.
    virtual std::uint64_t insert_meeting(const meeting_record& m) = 0;
    virtual void update_meeting(const meeting_record& m) = 0;
    // A world café table's channel.
    virtual void add_meeting_table(channel_id channel, std::uint64_t meeting,
                                   std::uint32_t number) = 0;
    // Returns the new invitation's id.
    virtual std::uint64_t insert_invitation(const invitation_record& i) = 0;
    // One more person registered with it.
    virtual void use_invitation(std::uint64_t id, user_id account, std::int64_t at_ms) = 0;
    virtual void revoke_invitation(std::uint64_t id) = 0;
    // Adds or replaces a template; removing returns whether there was one.
    virtual void put_meeting_template(const meeting_template& t) = 0;
    virtual bool remove_meeting_template(std::string_view name) = 0;
    // Returns the new case's id.
    virtual std::uint32_t insert_case(const case_record& c) = 0;
    virtual void set_case_chosen(std::uint32_t id, std::uint64_t meeting) = 0;

    // Adds or replaces the mute of m.user in m.channel.
    virtual void put_mute(const mute_record& m) = 0;
    virtual void delete_mute(channel_id channel, user_id user) = 0;
    virtual void put_ban(const ban_record& b) = 0;
    virtual void delete_ban(channel_id channel, user_id user) = 0;
    // Return the new row's id.
    virtual std::uint64_t insert_report(const report_record& r) = 0;
    virtual void resolve_report(std::uint64_t id, user_id by, std::int64_t at_ms,
                                std::string_view resolution) = 0;
    virtual std::uint64_t append_audit(const audit_record& a) = 0;

    // Erasure and retention. Both leave tombstones, so that seqs stay
    // gapless; the words they held leave the search indexes at the next
    // store::scrub, which is what makes them unrecoverable from the files.

    // Everything the account was: its name becomes "#<id>", its profile,
    // password, sessions, reset code, memberships, mutes, bans, read markers,
    // mentions and reactions are gone; its messages become tombstones and
    // every edit of them loses its text; its meeting events lose their
    // body; reports it filed lose their reason. Returns how many messages
    // became tombstones. With `remove_messages`, its messages, edits,
    // deletions and reactions then become `removed` events, except a
    // thread's root that others replied to, which stays a tombstone so that
    // their replies keep their place.
    virtual std::uint64_t erase_account(user_id user, std::int64_t at_ms, bool remove_messages) = 0;
    // Tombstones up to `limit` of the channel's messages posted before
    // `before_ms` (and the text of their edits); returns how many.
    virtual std::uint64_t expire_messages(channel_id channel, std::int64_t before_ms,
                                          std::uint64_t limit) = 0;
    virtual void set_retention(channel_id channel, std::uint32_t days) = 0;

    virtual void insert_upload(const upload_record& u) = 0;
    virtual void complete_upload(std::string_view id, std::int64_t at_ms) = 0;
    virtual void delete_upload(std::string_view id) = 0;
    // Keeps the row there is for this content, if any.
    virtual void put_file(const file_record& f) = 0;
    virtual void attach(const attachment_record& a) = 0;
    // Orphans, as of now_ms: uploads left unfinished for 7 days, whole ones
    // attached to nothing of their uploader's for a day, and files nothing
    // refers to any more. Their rows go; what is returned goes from disk.
    virtual file_collection collect_files(std::int64_t now_ms) = 0;
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
    // Makes what was deleted or tombstoned before it unrecoverable from the
    // files: every pending search document indexed, the full-text indexes
    // merged into one segment (so no older segment keeps a deleted word),
    // the WAL copied into the database and truncated. Deleted content is
    // zeroed as it goes (secure_delete). Runs after every write queued
    // before it; `done(false)` when a step failed (the reason goes to
    // report_error). Slow on a large index: for erasure and retention only.
    virtual void scrub(std::function<void(bool ok)> done) = 0;
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
