#pragma once

#include <initializer_list>
#include <string>

#include "protocol/errc.hpp"
#include "protocol/relais.pb.h"

namespace relais::cli {

// Every text the user reads, in one catalogue: French by default, English
// when LC_ALL, LC_MESSAGES or LANG starts with "en".
enum class text {
    password_prompt,
    no_user,
    no_password,
    no_text,
    bad_number,
    unknown_command,
    cannot_connect,
    members_header,
    online,
    offline,
    edited,
    deleted,
    joined,
    left,
    invited,
    kicked,
    now_moderator,
    now_member,
    created,
    topic_changed,
    channel_line,
    private_word,
    direct_word,
    unread_word,
    members_word,
    done,
    edited_event,
    deleted_event,
    // The interactive client.
    tui_connected,
    tui_disconnected,
    tui_signed_out,
    tui_online_count,
    tui_typing_one,
    tui_typing_many,
    tui_no_channel,
    tui_help_intro,
    tui_help_keys,
    tui_unknown_command,
    tui_usage_of,
    tui_not_sent,
    tui_sending,
    tui_loading,
    tui_beginning,
    tui_nothing_to_edit,
};

bool english();
const char* tr(text t);
// tr(t) with each "{}" replaced by the next argument.
std::string trf(text t, std::initializer_list<std::string> args);
// How a person is named in what people read: their name, or "compte
// supprimé" for an erased account (whose name is only "#<id>").
std::string person(const v1::User& u);
// "4,4 Mo" / "4.4 MB": a size as people read it.
std::string file_size_text(std::uint64_t bytes);
// "📎 guide.pdf (1,2 Mo)": an attached file as a message shows it.
std::string describe_attachment(const v1::Attachment& a);
// "bob joined the channel", "carol was added by alice", ...
std::string describe_member_change(const v1::MemberChanged& change, const std::string& actor);

// A practice-exchange session's change as a line of the channel's history
// ("Phase 3 : Questions d'information (15 min)"); empty for those only the
// session panel shows (hands, ballots, notes, arrivals).
std::string describe_meeting_event(const v1::MeetingEvent& e, const std::string& actor);

// "bob renamed the channel: Échanges de pratiques".
std::string describe_rename(const std::string& display_name, const std::string& actor);
// "bob changed the options: invite: moderators, topic: members".
std::string describe_options_change(const v1::ChannelOptions& o, const std::string& actor);

// One line about a channel, as `relais channels` lists it: its name, how
// many members, unread messages (for a member), private, its topic.
std::string describe_channel(const v1::Channel& c);

// A moment (ms since the epoch) in the user's time zone, strftime format.
std::string local_time(std::int64_t ms, const char* format);

// The failure for a person: the kind of problem in their language, and the
// server's detail.
std::string describe(const failure& f);

}  // namespace relais::cli
