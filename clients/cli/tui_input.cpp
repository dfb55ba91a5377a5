// The interactive client's keyboard: line editing, history, completion, and
// the slash commands.
#include <boost/asio/co_spawn.hpp>

#include <algorithm>

#include <curses.h>

#include "clients/cli/command_registry.hpp"
#include "clients/cli/commands.hpp"
#include "clients/cli/terminal_ui.hpp"
#include "clients/cli/text_width.hpp"

namespace relais::cli {

// "#canal 12 anne: texte", for the lists.
std::string listed_message(const std::string& channel, const v1::Event& e) {
    std::string out =
        "#" + channel + " " + std::to_string(e.seq()) + " " + person(e.actor()) + ": ";
    if (e.message().has_resource()) {
        out += "▌ " + e.message().resource().title() + " ";
    }
    out += e.message().deleted() ? tr(text::deleted) : e.message().text();
    std::replace(out.begin(), out.end(), '\n', ' ');
    return out;
}

asio::awaitable<void> terminal_ui::follow_thread(channel_view& c, const std::string& line,
                                                 bool follow) {
    const auto typed_words = split_words(line);
    const auto typed = typed_words.size() > 1 ? parse_number(typed_words[1]) : std::nullopt;
    if (!typed && !thread_) {
        note(trf(text::tui_usage_of, {follow ? "/follow SEQ" : "/unfollow SEQ"}));
        co_return;
    }
    v1::FollowThread f;
    f.mutable_channel()->set_id(typed ? c.info.id() : thread_->channel_id);
    f.set_root_seq(typed ? *typed : thread_->root_seq);
    f.set_follow(follow);
    auto done = co_await client_.ask(std::move(f));
    if (!done) {
        co_await report(done.error());
        co_return;
    }
    if (thread_ && thread_->root_seq == f.root_seq() && thread_->channel_id == f.channel().id()) {
        thread_->following = follow;
    }
    note(tr(follow ? words{"fil suivi", "thread followed"}
                   : words{"fil plus suivi", "thread no longer followed"}));
    co_await refresh_counts(f.channel().id());
}

asio::awaitable<void> terminal_ui::solve_open_thread(channel_view&, std::uint64_t answer) {
    if (!thread_) {
        note(tr(words{"ouvrez d'abord le fil de la question : /thread SEQ",
                      "open the question's thread first: /thread SEQ"}));
        co_return;
    }
    v1::SolveQuestion s;
    s.mutable_channel()->set_id(thread_->channel_id);
    s.set_root_seq(thread_->root_seq);
    s.set_answer_seq(answer);
    auto done = co_await client_.ask(std::move(s));
    if (!done) {
        co_await report(done.error());
    }
}

asio::awaitable<outcome<void>> terminal_ui::pin_message(channel_view& c, const std::string& line,
                                                        bool unpin) {
    v1::Pin pin;
    pin.mutable_channel()->set_id(c.info.id());
    pin.set_seq(*parse_number(split_words(line)[1]));
    pin.set_unpin(unpin);
    auto done = co_await client_.ask(std::move(pin));
    co_return done ? outcome<void>{} : outcome<void>{done.error()};
}

asio::awaitable<void> terminal_ui::react_to(channel_view& c, const std::string& line, bool remove) {
    const auto typed_words = split_words(line);
    v1::React r;
    r.mutable_channel()->set_id(thread_ ? thread_->channel_id : c.info.id());
    r.set_seq(*parse_number(typed_words[1]));
    r.set_emoji(typed_words[2]);
    r.set_remove(remove);
    auto done = co_await client_.ask(std::move(r));
    if (!done) {
        co_await report(done.error());
    }
}

// What each command of the registry (command_registry.hpp) does here, by
// its name there. Its arguments have been checked against the registry.
std::map<std::string, terminal_ui::command_action> terminal_ui::actions() {
    auto with_channel = [this](auto body) {
        return [this, body](const std::string& line) -> asio::awaitable<void> {
            auto* c = current();
            if (!c) {
                note(tr(text::tui_no_channel));
                co_return;
            }
            co_await body(*c, line);
        };
    };
    auto check = [this](const outcome<void>& r) -> asio::awaitable<void> {
        if (!r) {
            co_await report(r.error());
        }
    };
    return {
        {"help",
         [this](const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             const std::string wanted =
                 words.size() > 1 ? (words[1][0] == '/' ? words[1].substr(1) : words[1]) : "";
             std::vector<std::string> lines;
             for (const auto& cmd : cli::commands()) {
                 if (static_cast<unsigned>(cmd.where) & static_cast<unsigned>(front::tui) &&
                     (wanted.empty() || wanted == cmd.name_in(front::tui))) {
                     lines.push_back("  " + synopsis(cmd, front::tui) + " — " +
                                     tr(cmd.help_in(front::tui)));
                 }
             }
             if (!wanted.empty()) {
                 for (const auto& l : lines) {
                     note(l);
                 }
                 co_return;
             }
             // The whole list, from its top (Page Down for more).
             lines.push_back(tr(text::tui_help_keys));
             show_list(tr(text::tui_help_intro), std::move(lines));
             co_return;
         }},
        {"channel",
         [this](const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             v1::GetChannel get;
             if (words.size() > 1) {
                 get.mutable_channel()->set_name(words[1][0] == '#' ? words[1].substr(1)
                                                                    : words[1]);
             } else if (auto* c = current()) {
                 get.mutable_channel()->set_id(c->info.id());
             } else {
                 note(tr(text::tui_no_channel));
                 co_return;
             }
             auto ch = co_await client_.ask(std::move(get));
             if (!ch) {
                 co_await report(ch.error());
                 co_return;
             }
             note(describe_channel(*ch));
         }},
        {"join",
         [this](const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             std::string name = words[1][0] == '#' ? words[1].substr(1) : words[1];
             auto joined = co_await client_.join(client::by_name(name));
             if (!joined) {
                 co_await report(joined.error());
                 co_return;
             }
             co_await open_channel(joined->id());
         }},
        {"leave",
         with_channel([this](channel_view& c, const std::string&) -> asio::awaitable<void> {
             auto id = c.info.id();
             auto left = co_await client_.leave(client::by_id(id));
             if (!left) {
                 co_await report(left.error());
                 co_return;
             }
             std::erase_if(channels_, [id](const channel_view& v) { return v.info.id() == id; });
             current_ = 0;
             switch_to(0);
         })},
        {"create",
         [this](const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             bool is_private = words.size() > 2 && words[2] == "--private";
             auto topic = after_words(line, is_private ? 3 : 2);
             auto created = co_await client_.create_channel(words[1], topic, is_private);
             if (!created) {
                 co_await report(created.error());
                 co_return;
             }
             co_await open_channel(created->id());
         }},
        {"invite", with_channel([this, check](channel_view& c,
                                              const std::string& line) -> asio::awaitable<void> {
             co_await check(
                 co_await client_.invite(client::by_id(c.info.id()), split_words(line)[1]));
         })},
        {"kick", with_channel([this, check](channel_view& c,
                                            const std::string& line) -> asio::awaitable<void> {
             co_await check(
                 co_await client_.kick(client::by_id(c.info.id()), split_words(line)[1]));
         })},
        {"role", with_channel([this, check](channel_view& c,
                                            const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             co_await check(co_await client_.set_member_role(
                 client::by_id(c.info.id()), words[1],
                 words[2] == "moderator" ? v1::MODERATOR : v1::MEMBER));
         })},
        {"dm",
         [this](const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             auto direct = co_await client_.open_direct(words[1]);
             if (!direct) {
                 co_await report(direct.error());
                 co_return;
             }
             co_await open_channel(direct->id());
             if (auto body = after_words(line, 2); !body.empty()) {
                 co_await send_text(direct->id(), body);
             }
         }},
        {"topic", with_channel([this, check](channel_view& c,
                                             const std::string& line) -> asio::awaitable<void> {
             co_await check(
                 co_await client_.set_topic(client::by_id(c.info.id()), after_words(line, 1)));
         })},
        {"options", with_channel([this, check](channel_view& c,
                                               const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             auto set = options_request(words[1], words[2]);
             set.mutable_channel()->set_id(c.info.id());
             auto done = co_await client_.ask(std::move(set));
             co_await check(done ? outcome<void>{} : outcome<void>{done.error()});
         })},
        {"rename", with_channel([this, check](channel_view& c,
                                              const std::string& line) -> asio::awaitable<void> {
             v1::SetDisplayName set;
             set.mutable_channel()->set_id(c.info.id());
             set.set_display_name(after_words(line, 1));
             auto done = co_await client_.ask(std::move(set));
             co_await check(done ? outcome<void>{} : outcome<void>{done.error()});
         })},
        {"members",
         with_channel([this](channel_view& c, const std::string&) -> asio::awaitable<void> {
             auto members = co_await client_.members(client::by_id(c.info.id()));
             if (!members) {
                 co_await report(members.error());
                 co_return;
             }
             std::string list;
             for (const auto& m : *members) {
                 list += (list.empty() ? "" : ", ") + m.user().name() +
                         (m.online() ? " (" + std::string(tr(text::online)) + ")" : "");
             }
             note(std::string(tr(text::members_header)) + " " + channel_label(c.info) + " : " +
                  list);
         })},
        {"edit", with_channel([this, check](channel_view& c,
                                            const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             std::optional<std::uint64_t> seq;
             std::string body;
             if (auto typed = words.size() > 2 ? parse_number(words[1]) : std::nullopt) {
                 seq = typed;
                 body = after_words(line, 2);
             } else {
                 seq = last_own_message();
                 body = after_words(line, 1);
             }
             if (!seq) {
                 note(tr(text::tui_nothing_to_edit));
                 co_return;
             }
             co_await check(co_await client_.edit(client::by_id(c.info.id()), *seq, body));
         })},
        {"delete", with_channel([this, check](channel_view& c,
                                              const std::string& line) -> asio::awaitable<void> {
             auto words = split_words(line);
             // The registry has checked that a number was typed, if any.
             std::optional<std::uint64_t> seq =
                 words.size() > 1 ? parse_number(words[1]) : last_own_message();
             if (!seq) {
                 note(tr(text::tui_nothing_to_edit));
                 co_return;
             }
             co_await check(co_await client_.erase(client::by_id(c.info.id()), *seq));
         })},
        {"thread",
         with_channel([this](channel_view& c, const std::string& line) -> asio::awaitable<void> {
             co_await open_thread(c.info.id(), *parse_number(split_words(line)[1]));
         })},
        {"close",
         [this](const std::string&) -> asio::awaitable<void> {
             close_pane();
             co_return;
         }},
        {"follow",
         with_channel([this](channel_view& c, const std::string& line) -> asio::awaitable<void> {
             co_await follow_thread(c, line, true);
         })},
        {"unfollow",
         with_channel([this](channel_view& c, const std::string& line) -> asio::awaitable<void> {
             co_await follow_thread(c, line, false);
         })},
        {"solve",
         with_channel([this](channel_view& c, const std::string& line) -> asio::awaitable<void> {
             co_await solve_open_thread(c, *parse_number(split_words(line)[1]));
         })},
        {"unsolve",
         with_channel([this](channel_view& c, const std::string&) -> asio::awaitable<void> {
             co_await solve_open_thread(c, 0);
         })},
        {"react",
         with_channel([this](channel_view& c, const std::string& line) -> asio::awaitable<void> {
             co_await react_to(c, line, false);
         })},
        {"unreact",
         with_channel([this](channel_view& c, const std::string& line) -> asio::awaitable<void> {
             co_await react_to(c, line, true);
         })},
        {"pin", with_channel([this, check](channel_view& c,
                                           const std::string& line) -> asio::awaitable<void> {
             co_await check(co_await pin_message(c, line, false));
         })},
        {"unpin", with_channel([this, check](channel_view& c,
                                             const std::string& line) -> asio::awaitable<void> {
             co_await check(co_await pin_message(c, line, true));
         })},
        {"pins", with_channel([this](channel_view& c, const std::string&) -> asio::awaitable<void> {
             v1::ListPins list;
             list.mutable_channel()->set_id(c.info.id());
             auto pins = co_await client_.ask(std::move(list));
             if (!pins) {
                 co_await report(pins.error());
                 co_return;
             }
             std::vector<std::string> lines;
             for (const auto& p : pins->pins()) {
                 lines.push_back(listed_message(c.info.name(), p.event()) + "  (" +
                                 tr(words{"épinglé par", "pinned by"}) + " " +
                                 p.pinned_by().name() + ")");
             }
             show_list(tr(words{"Messages épinglés de", "Pinned messages of"}) + std::string(" ") +
                           channel_label(c.info),
                       std::move(lines));
         })},
        {"search",
         [this](const std::string& line) -> asio::awaitable<void> {
             v1::Search q;
             q.set_query(after_words(line, 1));
             q.set_limit(50);
             auto found = co_await client_.ask(std::move(q));
             if (!found) {
                 co_await report(found.error());
                 co_return;
             }
             std::vector<std::string> lines;
             for (const auto& hit : found->hits()) {
                 std::string shown = hit.snippet();
                 std::replace(shown.begin(), shown.end(), '\n', ' ');
                 lines.push_back("#" + hit.channel_name() + " " + std::to_string(hit.seq()) +
                                 (hit.thread_seq() ? " (↳ " + std::to_string(hit.thread_seq()) + ")"
                                                   : std::string()) +
                                 " " + local_time(hit.at_ms(), "%d/%m %H:%M") + " " +
                                 hit.author().name() + ": " + shown);
             }
             if (lines.empty()) {
                 lines.push_back(tr(words{"aucun résultat", "nothing found"}));
             }
             show_list(
                 tr(words{"Recherche :", "Search:"}) + std::string(" ") + after_words(line, 1),
                 std::move(lines));
         }},
        {"resources",
         [this](const std::string&) -> asio::awaitable<void> {
             v1::ListResources q;
             q.set_limit(100);
             auto list = co_await client_.ask(std::move(q));
             if (!list) {
                 co_await report(list.error());
                 co_return;
             }
             std::vector<std::string> lines;
             for (const auto& e : list->resources()) {
                 const auto& r = e.message().resource();
                 auto name = list->channel_names().contains(e.channel_id())
                                 ? list->channel_names().at(e.channel_id())
                                 : std::string();
                 std::string card = "▌ " + r.title() + "  — #" + name + " " +
                                    std::to_string(e.seq()) + ", " + person(e.actor()) + ", " +
                                    std::to_string(e.message().thread().reply_count()) + " ↳";
                 lines.push_back(card);
                 std::string what = "  ";
                 for (const auto& t : r.tags()) {
                     what += t + " · ";
                 }
                 what += r.link();
                 lines.push_back(what);
             }
             if (lines.empty()) {
                 lines.push_back(tr(words{"aucune ressource", "no resource"}));
             }
             show_list(
                 tr(words{"Ressources (les plus récentes d'abord)", "Resources (newest first)"}),
                 std::move(lines));
         }},
        {"threads",
         [this](const std::string&) -> asio::awaitable<void> {
             auto list = co_await client_.ask(v1::ListThreads{});
             if (!list) {
                 co_await report(list.error());
                 co_return;
             }
             std::vector<std::string> lines;
             for (const auto& t : list->threads()) {
                 std::string l = listed_message(t.channel_name(), t.root()) + "  — " +
                                 std::to_string(t.root().message().thread().reply_count()) + " ↳";
                 if (t.unread_count() > 0) {
                     l += ", " + std::to_string(t.unread_count()) + " " + tr(text::unread_word);
                 }
                 lines.push_back(l);
             }
             if (lines.empty()) {
                 lines.push_back(tr(words{"aucun fil suivi", "no followed thread"}));
             }
             show_list(tr(words{"Fils suivis, non lus d'abord (/thread SEQ dans leur canal)",
                                "Followed threads, unread first (/thread SEQ in their channel)"}),
                       std::move(lines));
         }},
        {"mentions",
         [this](const std::string&) -> asio::awaitable<void> {
             auto list = co_await client_.ask(v1::ListMentions{});
             if (!list) {
                 co_await report(list.error());
                 co_return;
             }
             std::vector<std::string> lines;
             for (const auto& m : list->mentions()) {
                 lines.push_back(listed_message(m.channel_name(), m.event()) +
                                 (m.unread() ? std::string("  ●") : std::string()));
             }
             if (lines.empty()) {
                 lines.push_back(tr(words{"aucune mention", "no mention"}));
             }
             show_list(tr(words{"Vos mentions", "Your mentions"}), std::move(lines));
         }},
        {"questions",
         with_channel([this](channel_view& c, const std::string& line) -> asio::awaitable<void> {
             v1::ListQuestions q;
             q.mutable_channel()->set_id(c.info.id());
             q.set_unsolved_only(line.find("--unsolved") != std::string::npos);
             auto list = co_await client_.ask(std::move(q));
             if (!list) {
                 co_await report(list.error());
                 co_return;
             }
             std::vector<std::string> lines;
             for (const auto& t : list->threads()) {
                 const auto& summary = t.root().message().thread();
                 lines.push_back(listed_message(c.info.name(), t.root()) + "  — " +
                                 (summary.solved_seq() != 0 ? tr(words{"résolue", "solved"})
                                                            : tr(words{"en attente", "unsolved"})) +
                                 ", " + std::to_string(summary.reply_count()) + " ↳");
             }
             if (lines.empty()) {
                 lines.push_back(tr(words{"aucune question", "no question"}));
             }
             show_list(tr(words{"Questions de", "Questions of"}) + std::string(" ") +
                           channel_label(c.info),
                       std::move(lines));
         })},
        {"quit",
         [this](const std::string&) -> asio::awaitable<void> {
             // Leaving the screen is leaving the session.
             if (session_ && client_.connected()) {
                 v1::JoinMeeting leave;
                 leave.set_leave(true);
                 co_await session_request(std::move(leave));
             }
             quit_ = true;
             wake_.cancel();
             co_return;
         }},
    };
}

asio::awaitable<void> terminal_ui::run_command(std::string line) {
    auto words = split_words(line);
    const std::string name = words.empty() ? std::string() : words[0].substr(1);
    const auto* cmd = find_command(name, front::tui);
    if (!cmd) {
        note(trf(text::tui_unknown_command, {"/" + name}));
        draw();
        co_return;
    }
    // The command's options (--private) are not arguments by place; any
    // other word is, even one that starts with "--" (a topic, a message).
    std::vector<std::string> placed;
    for (const auto& w : words) {
        const bool is_option = std::any_of(cmd->options.begin(), cmd->options.end(),
                                           [&](const cli::option& o) { return w == o.name; });
        if (!is_option) {
            placed.push_back(w);
        }
    }
    if (auto problem = check_arguments(*cmd, front::tui, placed)) {
        note(*problem);
        draw();
        co_return;
    }
    auto all = actions();
    all.merge(session_actions());
    if (auto it = all.find(cmd->name); it != all.end()) {
        co_await it->second(line);
    }
    draw();
}

void terminal_ui::submit() {
    std::u32string line = input_;
    input_.clear();
    cursor_ = 0;
    if (line.empty()) {
        return;
    }
    recalled_.push_back(line);
    recall_at_ = recalled_.size();
    const std::string text_line = to_utf8(line);
    if (text_line[0] == '/' && text_line.rfind("//", 0) != 0) {
        spawn(run_command(text_line));
        return;
    }
    auto* c = current();
    if (!c) {
        note(tr(text::tui_no_channel));
        return;
    }
    // "//" at the start sends a message that begins with a slash.
    auto body = text_line.rfind("//", 0) == 0 ? text_line.substr(1) : text_line;
    if (thread_) {
        spawn(send_text(thread_->channel_id, std::move(body), thread_->root_seq));
    } else {
        list_.reset();
        spawn(send_text(c->info.id(), std::move(body)));
    }
    scroll_ = 0;
}

void terminal_ui::recall(int direction) {
    if (recalled_.empty()) {
        return;
    }
    if (direction < 0 && recall_at_ > 0) {
        --recall_at_;
    } else if (direction > 0 && recall_at_ < recalled_.size()) {
        ++recall_at_;
    }
    input_ = recall_at_ < recalled_.size() ? recalled_[recall_at_] : std::u32string();
    cursor_ = input_.size();
}

void terminal_ui::complete() {
    // The word before the cursor.
    std::size_t start = cursor_;
    while (start > 0 && input_[start - 1] != U' ' && input_[start - 1] != U'\n') {
        --start;
    }
    std::u32string word = input_.substr(start, cursor_ - start);
    const bool continuing = !completions_.empty() && completion_at_ < completions_.size() &&
                            word == to_u32(completions_[completion_at_]);
    if (continuing) {
        completion_at_ = (completion_at_ + 1) % completions_.size();
    } else {
        completion_prefix_ = word;
        completions_.clear();
        completion_at_ = 0;
        const std::string prefix = to_utf8(word);
        // The words before the one being completed, on its line.
        std::vector<std::string> before;
        if (input_.find(U'\n') == std::u32string::npos) {
            before = split_words(to_utf8(input_.substr(0, start)));
        }
        completion_source source;
        source.channels = [this] {
            std::vector<std::string> names;
            for (const auto& c : channels_) {
                if (c.info.kind() != v1::DIRECT) {
                    names.push_back(c.info.name());
                }
            }
            return names;
        };
        source.people = [this] {
            std::set<std::string> people(online_.begin(), online_.end());
            if (auto* c = current()) {
                for (const auto& [key, e] : c->entries) {
                    if (!e.system && !e.author.empty()) {
                        people.insert(e.author);
                    }
                }
            }
            return std::vector<std::string>(people.begin(), people.end());
        };
        completions_ = cli::complete(front::tui, before, prefix, source);
        if (completions_.empty()) {
            return;
        }
    }
    std::u32string replacement = to_u32(completions_[completion_at_]);
    input_.replace(start, cursor_ - start, replacement);
    cursor_ = start + replacement.size();
}

void terminal_ui::insert(char32_t c) {
    input_.insert(input_.begin() + static_cast<std::ptrdiff_t>(cursor_), c);
    ++cursor_;
    auto* ch = current();
    if (ch && input_[0] != U'/' && clock_type::now() - typing_sent_ > typing_sent_every) {
        typing_sent_ = clock_type::now();
        spawn([](client& cl, std::uint64_t id) -> asio::awaitable<void> {
            co_await cl.typing(client::by_id(id));
        }(client_, ch->info.id()));
    }
}

void terminal_ui::on_key(wint_t key, bool function_key) {
    const bool escaped = std::exchange(escape_pending_, false);
    if (!function_key && key != L'\t') {
        completions_.clear();
    }
    if (function_key) {
        switch (key) {
            case KEY_LEFT:
                cursor_ = cursor_ > 0 ? cursor_ - 1 : 0;
                break;
            case KEY_RIGHT:
                cursor_ = std::min(cursor_ + 1, input_.size());
                break;
            case KEY_HOME:
                cursor_ = 0;
                break;
            case KEY_END:
                cursor_ = input_.size();
                break;
            case KEY_UP:
                recall(-1);
                break;
            case KEY_DOWN:
                recall(+1);
                break;
            case KEY_BACKSPACE:
                if (cursor_ > 0) {
                    input_.erase(--cursor_, 1);
                }
                break;
            case KEY_DC:
                if (cursor_ < input_.size()) {
                    input_.erase(cursor_, 1);
                }
                break;
            case KEY_PPAGE: {
                if (list_) {
                    scroll_ = std::max(0, scroll_ - std::max(1, pane_rows_ - 1));
                    break;
                }
                scroll_ += std::max(1, pane_rows_ - 1);
                if (auto* c = current(); c && scroll_ + pane_rows_ >= content_rows_) {
                    scroll_ = std::max(0, std::min(scroll_, content_rows_ - pane_rows_));
                    // At the top of what is loaded: fetch the page before it.
                    spawn(load_older(c->info.id()));
                }
                break;
            }
            case KEY_NPAGE:
                if (list_) {
                    scroll_ += std::max(1, pane_rows_ - 1);
                    break;
                }
                scroll_ = std::max(0, scroll_ - std::max(1, pane_rows_ - 1));
                break;
            case KEY_ENTER:
                submit();
                break;
            case KEY_F(2):
                // Raises the hand in the open session, or lowers it.
                if (session_ && session_->loaded) {
                    bool up = false;
                    for (const auto& h : session_->view.floor().queue()) {
                        up = up || h.user().name() == user_;
                    }
                    spawn(run_command(up ? "/lower" : "/raise"));
                }
                break;
            default:
                break;
        }
        return;
    }
    switch (key) {
        case 27:
            escape_pending_ = true;
            return;  // Alt+key arrives as ESC, key
        case '\r':
            if (escaped) {
                insert(U'\n');  // Alt+Enter: a new line in the message
            } else {
                submit();
            }
            return;
        case '\n':
            insert(U'\n');
            return;  // Ctrl+J
        case '\t':
            complete();
            return;
        case 127:
        case 8:
            if (cursor_ > 0) {
                input_.erase(--cursor_, 1);
            }
            return;
        case 1:
            cursor_ = 0;
            return;  // Ctrl+A
        case 5:
            cursor_ = input_.size();
            return;  // Ctrl+E
        case 21:
            input_.erase(0, cursor_);
            cursor_ = 0;
            return;  // Ctrl+U
        case 3:      // Ctrl+C
        case 4:      // Ctrl+D
            quit_ = true;
            wake_.cancel();
            return;
        case 14:
            switch_to((current_ + 1) % std::max<std::size_t>(1, channels_.size()));
            return;
        case 16:
            switch_to((current_ + channels_.size() - 1) %
                      std::max<std::size_t>(1, channels_.size()));
            return;
        case 12:
            clearok(curscr, TRUE);
            return;  // Ctrl+L
        default:
            break;
    }
    if (escaped && key >= '1' && key <= '9') {
        switch_to(static_cast<std::size_t>(key - '1'));  // Alt+digit
        return;
    }
    if (key >= 32) {
        insert(static_cast<char32_t>(key));
    }
}

}  // namespace relais::cli
