#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "protocol/errc.hpp"
#include "protocol/limits.hpp"
#include "protocol/relais.pb.h"
#include "server/core/clock.hpp"
#include "server/core/connection.hpp"
#include "server/core/credentials.hpp"
#include "server/core/hub.hpp"
#include "server/core/membership_cache.hpp"
#include "server/core/rate_limiter.hpp"
#include "storage/store.hpp"

namespace relais::storage {
class file_store;
}  // namespace relais::storage

namespace relais::core {

// A moderator or the owner of the channel (the caller's membership).
inline bool is_moderator(const std::optional<storage::membership>& m) {
    return m && (m->role == v1::MODERATOR || m->role == v1::OWNER);
}

// An event of `kind` by `actor` in `channel`, its other fields to fill.
inline storage::event_record channel_event(storage::channel_id channel, storage::event_kind kind,
                                           storage::user_id actor) {
    storage::event_record e;
    e.channel = channel;
    e.kind = kind;
    e.actor = actor;
    return e;
}

// A membership change of `subject` in `channel`, caused by `actor`.
inline storage::event_record member_event(storage::channel_id channel, storage::user_id actor,
                                          storage::user_id subject,
                                          v1::MemberChanged::Change change, v1::MemberRole role) {
    auto e = channel_event(channel, storage::event_kind::member, actor);
    e.subject = subject;
    e.change = change;
    e.role = role;
    return e;
}

// A user as the wire shows them, from their account.
v1::User user_of(const storage::account& account);
// An attached file as its readers see it.
void attachment_to_wire(const storage::attachment_record& a, v1::Attachment& out);

// A channel's options as stored in an options event (a bit each), and back.
int options_bits(bool members_can_invite, bool members_can_set_topic);
v1::ChannelOptions options_from_bits(int bits);

// A meeting template's JSON text (v1::MeetingTemplate), parsed and checked
// as CreateMeeting checks an agenda.
outcome<v1::MeetingTemplate> check_meeting_template(const std::string& json,
                                                    const protocol::limits& l);

struct service_config {
    protocol::limits limits;
    std::string server_version = "relais-server";
    // Requests of any kind per connection.
    rate_limiter::config connection_requests{100, 400};
    // Where answers are counted (for /metrics); the service keeps its own
    // when none is given.
    metrics::service_metrics* metrics = nullptr;
    // Where attached files' bytes go; none: the server takes no files
    // (StartUpload and Download answer UNAVAILABLE).
    storage::file_store* files = nullptr;
};

// The domain: turns each client frame into checks, storage work, one
// response and the events it causes. Knows nothing of sockets: the transport
// hands it frames and a connection to answer on.
// Thread-safe: on_frame/on_close may be called from any thread; shared state
// is in the hub, the membership cache, the throttles (each with its own lock)
// and the store.
class service {
  public:
    service(storage::store& store, const clock& clock, service_config config);

    // Loads what the service keeps in memory; call once before serving.
    void start();

    const service_config& config() const { return config_; }
    const protocol::limits& limits() const { return config_.limits; }
    hub& connections() { return hub_; }
    const metrics::service_metrics& counts() const { return metrics_; }

    // One binary frame from a client. Every request gets exactly one answer
    // through conn->deliver, possibly later and from another thread.
    void on_frame(const std::shared_ptr<connection>& conn, std::string_view bytes);
    // The connection is gone (presence, registry).
    void on_close(const std::shared_ptr<connection>& conn);

    // Shuts the door: further requests get UNAVAILABLE.
    void stop_accepting() { stopping_ = true; }
    // Closes the connections whose session ended outside this process (an
    // admin disabled the account or changed its password). Call it every
    // few seconds.
    void check_sessions();
    // Acts on the meetings whose time has come (a reminder before the start,
    // a phase past its planned end), even if nobody sends anything. Call it
    // every second; it costs nothing until a timer is due.
    void tick();
    // Per-channel retention: the messages of each channel with a retention
    // period that are older than it become tombstones, in batches that
    // leave room for other writes, then the store is scrubbed so that
    // their words are gone from the files. Call it daily; `done` gets how
    // many messages it tombstoned, on the writer thread.
    void apply_retention(std::function<void(std::uint64_t tombstoned)> done = {});
    // Removes orphaned files (storage::writer::collect_files) from the
    // database, then from disk; `done` gets how many whole files went.
    // Call it daily, after apply_retention.
    void collect_files(std::function<void(std::size_t files)> done = {});
    // Calls `then` on the writer thread once every write queued before it
    // has committed and been answered.
    void drain(std::function<void()> then);

    struct request {
        std::shared_ptr<connection> conn;
        std::uint64_t id = 0;
        identity who;  // set when the request needs a login
        int kind = 0;  // ClientMessage's body field number; 0 when undecodable
    };
    // What a write did, for the one place that acts on it once it has
    // committed (service::write): the membership cache learns `joined`
    // before the events go out, so that a new member gets its own join;
    // `events` are published in order; `left` is forgotten after them, so
    // that whoever left sees it; `sessions` changes who is logged in where;
    // then `reply` answers (Ok when empty).
    struct effects {
        // Initialised, so that a handler names only what it has:
        // effects{.events = {...}}.
        std::vector<std::pair<storage::channel_id, storage::user_id>> joined = {};
        std::vector<v1::Event> events = {};
        std::vector<std::pair<storage::channel_id, storage::user_id>> left = {};
        std::function<void()> sessions = {};
        std::optional<v1::ServerMessage> reply = {};
        // Runs after the commit, before the answer (memory the service keeps).
        std::function<void()> after = {};
        // Pushes that are not channel events, sent after them: to `users`,
        // or to the members of `channel` when users is empty.
        struct notice {
            storage::channel_id channel = 0;
            std::vector<storage::user_id> users;
            v1::ServerMessage message;
        };
        std::vector<notice> notices = {};
    };

    // What a handler, or the read job it queued, comes to: a failure or
    // the answer, which the caller sends with the request's id; or nothing
    // yet (answered_later), when a storage job it queued will answer.
    using handled = outcome<std::optional<v1::ServerMessage>>;

    // A meeting loaded for a request: its row and record, its channel as
    // the caller sees it, and what a change did (service_meetings.cpp).
    struct meeting_ctx;

  private:
    using handler = handled (service::*)(const request&, const v1::ClientMessage&);
    // What a request kind needs before its handler runs; checked in one place.
    struct endpoint {
        handler handle = nullptr;
        bool needs_login = true;
        double cost = 1;  // charged to the connection's request budget
    };
    static const std::unordered_map<int, endpoint>& endpoints();

    void dispatch(const std::shared_ptr<connection>& conn, v1::ClientMessage& msg);

    // Handlers, on the connection's strand. Each checks what it can there,
    // then returns its failure or answer, or queues one job (read or write)
    // whose result answers. Besides what dispatch checks for all of them
    // (UNAVAILABLE while stopping, BAD_REQUEST before Hello, RATE_LIMITED,
    // UNAUTHENTICATED without a login) and INTERNAL for a bug, each may
    // answer the failures listed with it. "Channel" stands for: BAD_REQUEST
    // without a channel, NOT_FOUND for one that does not exist or that the
    // caller may not see (the same answer), and, where it must be a member,
    // NOT_FOUND for a public channel it has not joined.
    // BAD_REQUEST: sent twice; an unsupported version (then closed).
    handled on_hello(const request& rq, const v1::ClientMessage& msg);
    // TOO_LARGE name or password; RATE_LIMITED after failures;
    // UNAUTHENTICATED: unknown name, wrong password, disabled account alike.
    handled on_login(const request& rq, const v1::ClientMessage& msg);
    // RATE_LIMITED after failures; UNAUTHENTICATED: the session has ended.
    handled on_resume(const request& rq, const v1::ClientMessage& msg);
    handled on_logout(const request& rq, const v1::ClientMessage& msg);
    // Without a login. RATE_LIMITED after guesses from the address;
    // FORBIDDEN: an unknown, expired, revoked or used-up code; BAD_REQUEST
    // or TOO_LARGE name, display name or password (too short, too common);
    // CONFLICT: the name is taken.
    handled on_register(const request& rq, const v1::ClientMessage& msg);
    // Profiles and the directory (service_people.cpp).
    // BAD_REQUEST or TOO_LARGE structure, display name, presentation or a
    // skill, more than 20 skills; BAD_REQUEST commune, network role;
    // FORBIDDEN: someone else's, unless an admin; NOT_FOUND: no such user.
    handled on_set_profile(const request& rq, const v1::ClientMessage& msg);
    // NOT_FOUND: no such user, or a disabled one.
    handled on_get_profile(const request& rq, const v1::ClientMessage& msg);
    // BAD_REQUEST commune or skill; TOO_LARGE structure or skill.
    handled on_list_people(const request& rq, const v1::ClientMessage& msg);
    // Moderation (service_moderation.cpp). Each: channel (member);
    // FORBIDDEN: not a moderator (nor an admin member), a direct channel, or
    // on the owner; BAD_REQUEST or TOO_LARGE reason.
    // BAD_REQUEST: minutes out of 1..43200; NOT_FOUND: not a member.
    handled on_mute(const request& rq, const v1::ClientMessage& msg);
    // NOT_FOUND: no such user; not banned (unban).
    handled on_ban(const request& rq, const v1::ClientMessage& msg);
    // Any member. NOT_FOUND: no such message, or a deleted one; BAD_REQUEST: no reason.
    handled on_report_message(const request& rq, const v1::ClientMessage& msg);
    // Channel when given (FORBIDDEN unless a moderator); otherwise the
    // channels the caller moderates (admins: all).
    handled on_list_reports(const request& rq, const v1::ClientMessage& msg);
    // NOT_FOUND: no such report, or not the caller's to see; CONFLICT: resolved.
    handled on_resolve_report(const request& rq, const v1::ClientMessage& msg);
    // FORBIDDEN: not an admin.
    handled on_get_audit_log(const request& rq, const v1::ClientMessage& msg);
    // Data protection (service_data.cpp): the caller's own data, in pages.
    handled on_export_my_data(const request& rq, const v1::ClientMessage& msg);
    handled on_set_retention(const request& rq, const v1::ClientMessage& msg);
    handled on_start_upload(const request& rq, const v1::ClientMessage& msg);
    handled on_upload_chunk(const request& rq, const v1::ClientMessage& msg);
    handled on_download(const request& rq, const v1::ClientMessage& msg);
    // Uploads in progress, for their chunks: learnt from StartUpload (a
    // restart forgets them; StartUpload again finds them in the store).
    void remember_upload(const storage::upload_record& u);
    void forget_upload(const std::string& id);
    std::optional<storage::upload_record> upload_in_progress(const std::string& id);
    // Passwords and sessions (service_passwords.cpp).
    // BAD_REQUEST: a weak new password; UNAUTHENTICATED: a wrong current
    // one; RATE_LIMITED after wrong ones.
    handled on_change_password(const request& rq, const v1::ClientMessage& msg);
    handled on_list_sessions(const request& rq, const v1::ClientMessage& msg);
    // BAD_REQUEST: not an id, the current session; NOT_FOUND: none of theirs.
    handled on_end_session(const request& rq, const v1::ClientMessage& msg);
    // FORBIDDEN: neither a coordinator (for a mediator) nor an admin;
    // NOT_FOUND: no such user.
    handled on_create_password_reset(const request& rq, const v1::ClientMessage& msg);
    // Without a login. RATE_LIMITED after guesses from the address;
    // FORBIDDEN: an unknown, used or expired code; BAD_REQUEST a weak password.
    handled on_reset_password(const request& rq, const v1::ClientMessage& msg);
    // Coordinators and admins (FORBIDDEN otherwise, or for a role above the
    // caller's, or a channel they may not invite to); BAD_REQUEST uses or
    // days out of range; NOT_FOUND channel.
    handled on_create_invitation(const request& rq, const v1::ClientMessage& msg);
    handled on_list_invitations(const request& rq, const v1::ClientMessage& msg);
    // NOT_FOUND: no such code or label (or several share the label);
    // FORBIDDEN: a coordinator revoking someone else's.
    handled on_revoke_invitation(const request& rq, const v1::ClientMessage& msg);
    // BAD_REQUEST name (empty, not a slug), topic (invalid UTF-8, NUL) or
    // display name (invisible characters); TOO_LARGE name, topic or display
    // name; CONFLICT: the name is taken.
    handled on_create_channel(const request& rq, const v1::ClientMessage& msg);
    handled on_list_channels(const request& rq, const v1::ClientMessage& msg);
    // Channel (any the caller may see).
    handled on_get_channel(const request& rq, const v1::ClientMessage& msg);
    // Channel (public, or one it belongs to).
    handled on_join(const request& rq, const v1::ClientMessage& msg);
    // Channel (member); FORBIDDEN: a direct channel.
    handled on_leave(const request& rq, const v1::ClientMessage& msg);
    // Channel (member); FORBIDDEN: a plain member where members may not
    // invite, a direct channel; NOT_FOUND: no such user, or a disabled one.
    handled on_invite(const request& rq, const v1::ClientMessage& msg);
    // Channel (member); FORBIDDEN: not a moderator, the owner, a direct
    // channel; NOT_FOUND: not a member.
    handled on_kick(const request& rq, const v1::ClientMessage& msg);
    // BAD_REQUEST: a role other than MEMBER or MODERATOR; channel (member);
    // FORBIDDEN: not the owner, the owner's role, a direct channel;
    // NOT_FOUND: not a member.
    handled on_set_member_role(const request& rq, const v1::ClientMessage& msg);
    // BAD_REQUEST or TOO_LARGE topic; channel (member); FORBIDDEN: a plain
    // member where members may not set the topic, a direct channel.
    handled on_set_topic(const request& rq, const v1::ClientMessage& msg);
    // BAD_REQUEST or TOO_LARGE display name; channel (member); FORBIDDEN as
    // for the topic.
    handled on_set_display_name(const request& rq, const v1::ClientMessage& msg);
    // Channel (member); FORBIDDEN: not a moderator, a direct channel.
    handled on_set_channel_options(const request& rq, const v1::ClientMessage& msg);
    // Channel (any the caller may see).
    handled on_list_members(const request& rq, const v1::ClientMessage& msg);
    // NOT_FOUND: no such user, or a disabled one.
    handled on_open_direct(const request& rq, const v1::ClientMessage& msg);
    // BAD_REQUEST text or client_msg_id; TOO_LARGE text; RATE_LIMITED
    // (per account); channel (member); CONFLICT: the client_msg_id was
    // used for another channel.
    handled on_send(const request& rq, const v1::ClientMessage& msg);
    // BAD_REQUEST or TOO_LARGE text; channel (member); NOT_FOUND: no such
    // message, or a deleted one; FORBIDDEN: not the author.
    handled on_edit(const request& rq, const v1::ClientMessage& msg);
    // Channel (member); NOT_FOUND: no such message; FORBIDDEN: neither the
    // author nor a moderator.
    handled on_delete(const request& rq, const v1::ClientMessage& msg);
    // Channel (any the caller may see: a public one without joining it).
    handled on_history(const request& rq, const v1::ClientMessage& msg);
    // Channel (any the caller may see).
    handled on_sync(const request& rq, const v1::ClientMessage& msg);
    // Channel (member).
    handled on_mark_read(const request& rq, const v1::ClientMessage& msg);
    // Channel (member).
    handled on_typing(const request& rq, const v1::ClientMessage& msg);

    // Threads (service_threads.cpp). "Root" stands for: NOT_FOUND when the
    // seq is not a message of the channel (a reply stands for its root).
    // Channel (any the caller may see); root.
    handled on_get_thread(const request& rq, const v1::ClientMessage& msg);
    // Channel (member); root.
    handled on_follow_thread(const request& rq, const v1::ClientMessage& msg);
    handled on_list_threads(const request& rq, const v1::ClientMessage& msg);
    // Channel (any the caller may see); root.
    handled on_mark_thread_read(const request& rq, const v1::ClientMessage& msg);
    // Channel (member); root; BAD_REQUEST: a reply's seq, an answer that is
    // not a live reply of the thread; FORBIDDEN: neither the root's author
    // nor a moderator.
    handled on_solve_question(const request& rq, const v1::ClientMessage& msg);
    // Channel (any the caller may see).
    handled on_list_questions(const request& rq, const v1::ClientMessage& msg);

    // Resources (service_resources.cpp).
    // BAD_REQUEST or TOO_LARGE resource (resource_problem), client_msg_id;
    // RATE_LIMITED and the rest as on_send.
    handled on_post_resource(const request& rq, const v1::ClientMessage& msg);
    // As on_post_resource; NOT_FOUND: not a resource, or a deleted one;
    // FORBIDDEN: neither its author nor a moderator.
    handled on_edit_resource(const request& rq, const v1::ClientMessage& msg);
    // Channel (any the caller may see); NOT_FOUND: not a resource.
    handled on_get_resource_versions(const request& rq, const v1::ClientMessage& msg);
    // BAD_REQUEST: an unknown theme or audience, a kind out of range, a bad
    // tag; channel (any the caller may see) when one is given; NOT_FOUND:
    // no such author.
    handled on_list_resources(const request& rq, const v1::ClientMessage& msg);
    handled on_list_vocabulary(const request& rq, const v1::ClientMessage& msg);

    // Search and mentions (service_search.cpp).
    // BAD_REQUEST: no letter or digit in the query; TOO_LARGE query;
    // channel (any the caller may see) when one is given.
    handled on_search(const request& rq, const v1::ClientMessage& msg);
    handled on_list_mentions(const request& rq, const v1::ClientMessage& msg);

    // Reactions and pins (service_reactions.cpp).
    // BAD_REQUEST: not an emoji; TOO_LARGE emoji; channel (member);
    // NOT_FOUND: no such message, or a deleted one.
    handled on_react(const request& rq, const v1::ClientMessage& msg);
    // Channel (member); FORBIDDEN: not a moderator, a direct channel;
    // NOT_FOUND: no such message, or a deleted one.
    handled on_pin(const request& rq, const v1::ClientMessage& msg);
    // Channel (any the caller may see).
    handled on_list_pins(const request& rq, const v1::ClientMessage& msg);

    // Practice-exchange meetings (service_meetings.cpp).
    // "Meeting" stands for: NOT_FOUND when there is no such meeting or the
    // caller cannot see its channel, or is not a member of it; CONFLICT
    // for a change to an ended or cancelled one. "Facilitator": FORBIDDEN
    // unless the caller is one of its facilitators, a moderator of the
    // channel, or a coordinator or admin.
    handled on_list_meeting_templates(const request& rq, const v1::ClientMessage& msg);
    // BAD_REQUEST: no start, a title, link, charter or phase that is not
    // right (TOO_LARGE for a length), 0 or more than 30 phases;
    // NOT_FOUND: no such template; channel (member); FORBIDDEN: neither a
    // moderator, nor a coordinator or admin, or a direct channel.
    handled on_create_meeting(const request& rq, const v1::ClientMessage& msg);
    // Channel (any the caller may see) when one is given.
    handled on_list_meetings(const request& rq, const v1::ClientMessage& msg);
    // Meeting.
    handled on_get_meeting(const request& rq, const v1::ClientMessage& msg);
    // Meeting; facilitator; BAD_REQUEST: not LIVE, ENDED or CANCELLED;
    // CONFLICT: not from the state it is in.
    handled on_set_meeting_state(const request& rq, const v1::ClientMessage& msg);
    // Meeting; CONFLICT: not live; FORBIDDEN: a charter not accepted.
    handled on_join_meeting(const request& rq, const v1::ClientMessage& msg);
    // Meeting; CONFLICT: not live, past the last phase; FORBIDDEN: neither
    // a facilitator nor the timekeeper; BAD_REQUEST: no such phase.
    handled on_set_phase(const request& rq, const v1::ClientMessage& msg);
    // Meeting; facilitator; BAD_REQUEST: no role; NOT_FOUND: not a member
    // of the channel; CONFLICT: the last facilitator's role, over.
    handled on_set_meeting_role(const request& rq, const v1::ClientMessage& msg);
    // Meeting; CONFLICT: not live; FORBIDDEN: not present, the narrator
    // in a silent phase.
    handled on_raise_hand(const request& rq, const v1::ClientMessage& msg);
    // Meeting; CONFLICT: not live; facilitator; NOT_FOUND: not present;
    // FORBIDDEN: the narrator in a silent phase.
    handled on_give_floor(const request& rq, const v1::ClientMessage& msg);
    // Meeting; CONFLICT: not live; facilitator; BAD_REQUEST: an empty
    // question or option, fewer than 2 or more than 10 options (cases);
    // TOO_LARGE question or option.
    handled on_open_poll(const request& rq, const v1::ClientMessage& msg);
    // Meeting; CONFLICT: not live, the poll closed; FORBIDDEN: not present;
    // NOT_FOUND: no such poll; BAD_REQUEST: no option, no such option,
    // an option twice, several in a single-choice poll.
    handled on_vote(const request& rq, const v1::ClientMessage& msg);
    // Meeting; facilitator; NOT_FOUND: no such poll; CONFLICT: closed.
    handled on_close_poll(const request& rq, const v1::ClientMessage& msg);
    // Meeting; CONFLICT: not live, tables already there (split) or not
    // (rotate, harvest), harvested; facilitator; BAD_REQUEST: a size
    // below 2, fewer than 2 people, seats naming someone not present or twice.
    handled on_arrange_tables(const request& rq, const v1::ClientMessage& msg);
    // Channel (member); FORBIDDEN: a direct channel; BAD_REQUEST or TOO_LARGE text.
    handled on_submit_case(const request& rq, const v1::ClientMessage& msg);
    // Meeting.
    handled on_list_cases(const request& rq, const v1::ClientMessage& msg);
    // Meeting; CONFLICT: not live; FORBIDDEN: neither a facilitator nor
    // the scribe (a table's host, for their table); NOT_FOUND: no such note,
    // no such user (who); BAD_REQUEST: text, phase, table, due date.
    handled on_set_note(const request& rq, const v1::ClientMessage& msg);
    // Meeting; CONFLICT: not ended; FORBIDDEN: a draft, for a non-facilitator.
    handled on_get_minutes(const request& rq, const v1::ClientMessage& msg);
    // Meeting; facilitator; CONFLICT: not ended, published; TOO_LARGE.
    handled on_edit_minutes(const request& rq, const v1::ClientMessage& msg);
    // Meeting; FORBIDDEN: neither a facilitator nor a coordinator or admin.
    handled on_get_attendance(const request& rq, const v1::ClientMessage& msg);
    // FORBIDDEN: not a coordinator or admin; BAD_REQUEST: from after to.
    handled on_get_meeting_report(const request& rq, const v1::ClientMessage& msg);

    using meeting_change = std::function<outcome<void>(meeting_ctx&, storage::writer&, effects&)>;
    // Loads meeting `id` in a write job, lets `change` act on it, then
    // stores it and appends the meeting events it made; answers Ok unless
    // change gave an answer.
    handled change_meeting(const request& rq, std::uint64_t id, meeting_change change);
    outcome<std::unique_ptr<meeting_ctx>> load_meeting(storage::reader& r, const request& rq,
                                                       std::uint64_t id);
    void save_meeting(storage::writer& w, meeting_ctx& m, effects& done);
    v1::MeetingView meeting_view(storage::reader& r, const meeting_ctx& m);
    void meeting_to_wire(storage::reader& r, const meeting_ctx& m, v1::Meeting& out);
    std::string draft_minutes(storage::reader& r, const meeting_ctx& m);
    // A timer came: the reminder or the overtime of each meeting due.
    void fire_meeting_timers(storage::writer& w, std::int64_t now, effects& done);
    void lower_timer_hint(std::int64_t at);
    // The live and ended meetings the caller was present at, in their
    // channels, each with the caller's own attendance row.
    void meetings_attended(storage::reader& r, const request& rq,
                           google::protobuf::RepeatedPtrField<v1::Attendance>& out);

    enum class page_direction { before, after };
    // A page of events of a channel the caller belongs to, oldest first:
    // after `cursor`, or before it (0 = the newest).
    handled read_page(const request& rq, const v1::ChannelRef& ref, page_direction direction,
                      storage::seq_t cursor, std::uint32_t limit);

    // Plumbing.
    void reply(const request& rq, v1::ServerMessage& msg);
    void reply_error(const request& rq, const failure& f);
    // Sends what `result` holds, if anything yet.
    void respond(const request& rq, handled result);
    static handled answered_later() { return std::optional<v1::ServerMessage>(); }
    static handled ok();
    // Runs fn in a read transaction on a reader thread and answers what it
    // returns; an exception answers INTERNAL.
    void read(request rq, std::function<handled(storage::reader&)> fn);
    // Runs apply in the writer's group transaction. After the commit, acts on
    // the effects it returned (membership, events, sessions, answer), or
    // answers its failure; a failed commit answers UNAVAILABLE.
    void write(request rq, std::function<outcome<effects>(storage::writer&)> apply);
    void log_internal(const request& rq, const char* what);

    // Sending (messages and resources): the per-account budget, then the
    // common part of the write job. RATE_LIMITED when spent.
    outcome<void> take_send_budget(storage::user_id user);
    // The message of a SendMessage or PostResource stored, with its
    // mentions and thread; `resource` is filled with what was stored.
    struct new_message {
        v1::ChannelRef channel;
        std::string client_msg_id;
        std::string text;
        storage::seq_t thread_seq = 0;
        bool question = false;
        std::optional<storage::resource_record> resource;
        std::string attachment_upload_id = {};
    };
    outcome<effects> store_message(storage::writer& w, const request& rq, new_message m);

    // Domain helpers (called on storage threads).
    void describe_invitation(storage::reader& r, const storage::invitation_record& i,
                             v1::Invitation& out);
    struct visible_channel {
        storage::channel_record channel;
        std::optional<storage::membership> membership;
    };
    // The channel if the caller may see it: NOT_FOUND for a private or direct
    // channel the caller is not in, exactly as for one that does not exist.
    outcome<visible_channel> resolve(storage::reader& r, const v1::ChannelRef& ref,
                                     storage::user_id user);
    // As resolve, and NOT_FOUND unless the caller is a member.
    outcome<visible_channel> resolve_member(storage::reader& r, const v1::ChannelRef& ref,
                                            storage::user_id user);
    // As resolve_member, and FORBIDDEN with `refusal` for a direct
    // conversation: for what only group channels have.
    outcome<visible_channel> resolve_group_member(storage::reader& r, const v1::ChannelRef& ref,
                                                  storage::user_id user, const char* refusal);
    // NOT_FOUND unless `seq` is a message of the channel (a tombstone counts).
    outcome<storage::event_record> find_message(storage::reader& r,
                                                const storage::channel_record& channel,
                                                storage::seq_t seq);
    // As find_message, and NOT_FOUND ("was deleted") for a tombstone.
    outcome<storage::event_record> find_live_message(storage::reader& r,
                                                     const storage::channel_record& channel,
                                                     storage::seq_t seq);
    // What a message read from history carries besides itself: its thread
    // summary, reactions, pin and resource (and the resource version an
    // edit made). For the events of one channel, in few queries.
    void decorate(storage::reader& r, storage::channel_id channel,
                  google::protobuf::RepeatedPtrField<v1::Event>& events);
    void decorate_one(storage::reader& r, v1::Event& event);
    // The thread a seq belongs to: the root itself, or a reply's root.
    outcome<storage::event_record> find_root(storage::reader& r,
                                             const storage::channel_record& channel,
                                             storage::seq_t seq);
    void summary_to_wire(storage::reader& r, const storage::thread_record& t,
                         v1::ThreadSummary& out);
    void resource_to_wire(storage::reader& r, const storage::resource_record& res,
                          v1::Resource& out);
    v1::ServerMessage thread_update(storage::reader& r, const storage::thread_record& t);
    // The channels the user can read now: public ones and their own.
    std::vector<storage::channel_id> readable_channels(storage::reader& r, storage::user_id user);
    // Who `text` mentions among those who can read the channel (author
    // excluded); FORBIDDEN for @channel by a plain member.
    outcome<std::vector<storage::user_id>> mentioned_users(storage::reader& r,
                                                           const visible_channel& v,
                                                           storage::user_id author,
                                                           std::string_view text);
    // Stores who a message mentions and says what to push to those newly
    // mentioned; a mention in a reply follows its thread.
    void record_mentions(storage::writer& w, const storage::channel_record& channel,
                         const v1::Event& message, const std::vector<storage::user_id>& users,
                         effects& done);
    void describe(storage::reader& r, const storage::channel_record& c,
                  const std::optional<storage::membership>& m, storage::user_id user,
                  v1::Channel& out);
    v1::User user_view(storage::reader& r, storage::user_id id);
    // Moderation helpers. One audit row, in the write job of the action.
    void audit(storage::writer& w, storage::user_id actor, std::string action,
               storage::user_id subject, storage::channel_id channel, std::string reason,
               std::string detail);
    // The caller may moderate the channel: one of its moderators, or an
    // admin who is a member; never in a direct conversation.
    static bool may_moderate(const v1::User& caller, const visible_channel& v);
    void report_to_wire(storage::reader& r, const storage::report_record& rep, v1::Report& out);
    // Mutes, kept in memory for the send path (loaded at start, changed
    // after each commit). until_ms 0 removes one.
    void load_mutes(storage::reader& r);
    void set_mute(storage::channel_id channel, storage::user_id user, std::int64_t until_ms);
    std::int64_t mute_left_ms(storage::channel_id channel, storage::user_id user);
    // FORBIDDEN with the time left while the user is muted in the channel.
    outcome<void> refuse_if_muted(const storage::channel_record& channel, storage::user_id user);
    // After a change to how a user is shown: user_view reads them again.
    void forget_user(storage::user_id id);
    void profile_to_wire(const storage::account& a, v1::Profile& out);
    // A session as its owner sees it (the id and "connected" are the
    // list's to add).
    static void session_to_wire(const storage::session_record& s, const request& rq,
                                v1::SessionInfo& out);
    void to_wire(storage::reader& r, const storage::event_record& e, v1::Event& out);
    // Appends an event, and returns it as the wire will carry it.
    v1::Event append(storage::writer& w, storage::event_record e);
    void publish(const v1::Event& event);
    void publish_presence(const v1::User& user, bool online);
    // Logs the connection in as `account` (presence included).
    void attach_session(const request& rq, const storage::account& account,
                        const std::string& token_hash);
    static v1::ServerMessage session_message(const storage::account& account, std::string token);
    // Closes the user's connections (those of one session when token_hash is
    // set) and logs them out at once.
    void end_sessions(user_id user, const std::string& reason, const std::string& token_hash);
    // A session for the connection's client and device, seen now.
    storage::session_record new_session(const request& rq, storage::user_id user,
                                        std::string token_hash);
    // Records that the session was seen now, in its own small write.
    void touch_session(const std::string& token_hash);

    storage::store& store_;
    const clock& clock_;
    service_config config_;
    metrics::service_metrics own_metrics_;
    metrics::service_metrics& metrics_;
    hub hub_;
    membership_cache members_;
    login_throttle throttle_;
    std::atomic<bool> stopping_{false};
    // What auth_changes() was at start or at the last session check (-1:
    // neither yet).
    std::atomic<std::int64_t> auth_changes_seen_{-1};

    // Per-account send budget. Guarded by send_mu_.
    std::mutex send_mu_;
    std::unordered_map<storage::user_id, rate_limiter> send_budget_;

    // Meetings: how many may be live (more, never fewer, than there are),
    // so that a message looks up a live meeting only when there may be
    // one; the earliest meeting timer (INT64_MAX: none), and whether a
    // timer job is queued.
    std::atomic<std::int64_t> live_meetings_{0};
    std::atomic<std::int64_t> next_timer_{INT64_MAX};
    std::atomic<bool> timers_queued_{false};

    // Who is muted where, until when. Guarded by mutes_mu_ (a leaf);
    // any_mutes_ lets the send path skip the lock while nobody is muted.
    std::mutex mutes_mu_;
    std::map<std::pair<storage::channel_id, storage::user_id>, std::int64_t> mutes_;
    std::atomic<bool> any_mutes_{false};
    // Users as events show them. Guarded by users_mu_.
    std::mutex users_mu_;
    std::unordered_map<storage::user_id, v1::User> users_;
    // Uploads in progress, by id. Guarded by uploads_mu_ (a leaf).
    std::mutex uploads_mu_;
    std::unordered_map<std::string, storage::upload_record> uploads_;
};

}  // namespace relais::core
