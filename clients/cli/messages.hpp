#pragma once

#include <string>

#include "errc.hpp"

namespace relais::cli {

// Every text the user reads, in one catalogue: French by default, English
// when LC_ALL, LC_MESSAGES or LANG starts with "en".
enum class text {
    usage,
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
};

bool english();
const char* tr(text t);
// The failure for a person: the kind of problem in their language, and the
// server's detail.
std::string describe(const failure& f);

}  // namespace relais::cli
