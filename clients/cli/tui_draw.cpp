// The interactive client's screen: channel list, messages, status and input.
#include <algorithm>

#include <curses.h>

#include "clients/cli/command_registry.hpp"
#include "clients/cli/terminal_ui.hpp"
#include "clients/cli/text_width.hpp"

namespace relais::cli {

int terminal_ui::author_color(const std::string& name) const {
    if (!colors_) {
        return 0;
    }
    std::size_t h = std::hash<std::string>{}(name);
    return static_cast<int>(h % 5) + 2;
}

void terminal_ui::put(int row, int col, std::u32string_view text, int max_width) {
    int used = 0;
    move(row, col);
    for (char32_t c : text) {
        int w = column_width(c);
        if (used + w > max_width) {
            break;
        }
        wchar_t wc[2] = {static_cast<wchar_t>(c == U'\n' ? U'↵' : c), 0};
        addnwstr(wc, 1);
        used += w;
    }
}

void terminal_ui::draw_channels(int rows, int width) {
    for (int i = 0; i < static_cast<int>(channels_.size()) && i < rows; ++i) {
        const auto& c = channels_[static_cast<std::size_t>(i)];
        std::string label = channel_label(c.info);
        std::string badge;
        // Appended piece by piece, not `" " + std::to_string(...)`: GCC 12 at -O3
        // misreads that expression as an overlapping copy (GCC bug 105329).
        if (c.info.unread_count() > 0) {
            badge.append(" ").append(std::to_string(c.info.unread_count()));
        }
        if (c.mentions > 0) {
            badge.append(" @").append(std::to_string(c.mentions));
        }
        if (c.info.thread_unread_count() > 0) {
            badge.append(" ↳").append(std::to_string(c.info.thread_unread_count()));
        }
        auto text = to_u32(label);
        auto badge_text = to_u32(badge);
        int room = width - column_width(badge_text);
        if (static_cast<std::size_t>(i) == current_) {
            attron(A_REVERSE);
        } else if (c.info.unread_count() > 0) {
            attron(A_BOLD);
        }
        mvhline(i, 0, ' ', width);
        put(i, 0, text, room);
        put(i, std::max(0, width - column_width(badge_text)), badge_text, width);
        attroff(A_REVERSE | A_BOLD);
    }
}

namespace {

const char* kind_label(v1::ResourceKind k) {
    switch (k) {
        case v1::TUTORIAL:
            return tr(words{"tutoriel", "tutorial"});
        case v1::PRACTICAL_SHEET:
            return tr(words{"fiche pratique", "practical sheet"});
        case v1::TOOL:
            return tr(words{"outil", "tool"});
        case v1::VIDEO:
            return tr(words{"vidéo", "video"});
        case v1::GUIDE:
            return tr(words{"guide", "guide"});
        default:
            return tr(words{"ressource", "resource"});
    }
}

std::string count_of(std::uint32_t n, const words& one, const words& many) {
    return std::to_string(n) + " " + tr(n == 1 ? one : many);
}

}  // namespace

void terminal_ui::draw_list(int top, int left, int rows, int width) {
    std::vector<std::u32string> all;
    all.push_back(to_u32(list_->title + "  " + tr(words{"(Échap : fermer)", "(Esc: close)"})));
    for (const auto& line : list_->lines) {
        for (auto& wrapped : wrap(to_u32(line), std::max(1, width))) {
            all.push_back(std::move(wrapped));
        }
    }
    content_rows_ = static_cast<int>(all.size());
    // Read from the top: scroll_ counts the rows above, Page Down adds.
    scroll_ = std::max(0, std::min(scroll_, content_rows_ - rows));
    const int from = scroll_;
    for (int i = 0; i < rows && from + i < content_rows_; ++i) {
        if (from + i == 0) {
            attron(A_BOLD);
        }
        put(top + i, left, all[static_cast<std::size_t>(from + i)], width);
        attroff(A_BOLD);
    }
}

void terminal_ui::draw_messages(int top, int left, int rows, int width) {
    pane_rows_ = rows;
    if (list_) {
        draw_list(top, left, rows, width);
        return;
    }
    auto* c = current();
    if (!c) {
        put(top, left, to_u32(tr(text::tui_no_channel)), width);
        content_rows_ = 0;
        return;
    }
    struct row {
        std::u32string text;
        int color = 0;
        int author_cols = 0;
        bool dim = false;
    };
    std::vector<row> all;
    const std::map<entry_key, entry>* entries = &c->entries;
    if (thread_) {
        entries = &thread_->entries;
        std::string title = std::string(tr(words{"Fil du message", "Thread of message"})) + " " +
                            std::to_string(thread_->root_seq) + " — " +
                            tr(thread_->following ? words{"suivi", "followed"}
                                                  : words{"non suivi", "not followed"}) +
                            " · " +
                            tr(words{"ce que vous écrivez y répond ; Échap : fermer",
                                     "what you type replies; Esc: close"});
        all.push_back({to_u32(title), 0, 0, true});
    } else if (c->loading) {
        all.push_back({to_u32(tr(text::tui_loading)), 0, 0, true});
    } else if (c->complete) {
        all.push_back({to_u32(tr(text::tui_beginning)), 0, 0, true});
    }
    auto add = [&](const std::string& prefix, const std::string& author, const std::string& body,
                   bool dim) {
        auto head = to_u32(prefix + (author.empty() ? "" : author + ": "));
        const int indent = std::min(column_width(to_u32(prefix)), width / 2);
        auto lines = wrap(to_u32(body), std::max(1, width - column_width(head)));
        for (std::size_t k = 0; k < lines.size(); ++k) {
            row r;
            r.dim = dim;
            if (k == 0) {
                r.text = head + lines[k];
                r.color = author.empty() ? 0 : author_color(author);
                r.author_cols = column_width(head);
            } else {
                r.text = std::u32string(static_cast<std::size_t>(indent), U' ') + lines[k];
            }
            all.push_back(std::move(r));
        }
    };
    const std::string under = "      ";
    for (const auto& [key, e] : *entries) {
        const std::string time =
            e.at_ms ? local_time(e.at_ms, "%H:%M") + " " : std::string("      ");
        const std::string pin = e.pinned ? " 📌" : "";
        if (e.system) {
            add(time + "* ", "", e.text, true);
        } else if (e.deleted) {
            add(time, e.author, tr(text::deleted), true);
        } else if (e.resource) {
            // A card: title, what it is, then its description.
            const auto& r = *e.resource;
            add(time, e.author, "▌ " + r.title() + pin, false);
            std::string what =
                std::string("▌ ") + kind_label(r.kind()) + " · #" + std::to_string(key.first);
            for (const auto& t : r.tags()) {
                what += " · " + t;
            }
            if (!r.link().empty()) {
                what += " · " + r.link();
            }
            add(under, "", what, true);
            if (!e.text.empty()) {
                add(under, "",
                    "▌ " + e.text + (e.edited ? std::string(" ") + tr(text::edited) : ""), false);
            }
        } else {
            add(time, e.author,
                e.text + (e.edited ? std::string(" ") + tr(text::edited) : "") + pin, false);
        }
        if (!e.reactions.empty()) {
            std::string shown;
            for (const auto& [emoji, n] : e.reactions) {
                if (!shown.empty()) {
                    shown += "  ";
                }
                shown.append(emoji).append(" ").append(std::to_string(n));
            }
            add(under, "", shown, true);
        }
        // Under a root in the channel: its thread, and how to open it.
        if (!thread_ && !e.system && (e.replies > 0 || e.question)) {
            std::string thread =
                "↳ " + count_of(e.replies, {"réponse", "reply"}, {"réponses", "replies"}) +
                " · /thread " + std::to_string(key.first);
            if (e.question) {
                thread += " · ";
                thread += e.solved_seq != 0 ? tr(words{"question résolue", "question solved"})
                                            : tr(words{"question en attente", "question unsolved"});
            }
            add(under, "", thread, true);
        }
    }
    for (const auto& p : c->pending) {
        add(std::string(tr(text::tui_sending)) + " ", user_, p, true);
    }
    content_rows_ = static_cast<int>(all.size());
    scroll_ = std::max(0, std::min(scroll_, content_rows_ - rows));
    const int first = std::max(0, content_rows_ - rows - scroll_);
    for (int i = 0; i < rows && first + i < content_rows_; ++i) {
        const auto& r = all[static_cast<std::size_t>(first + i)];
        if (r.dim) {
            attron(A_DIM);
        }
        if (r.color != 0 && r.author_cols > 0) {
            // The author's name in their colour, the rest plain.
            put(top + i, left, r.text, width);
            attron(COLOR_PAIR(r.color) | A_BOLD);
            auto head = r.text.substr(0, r.text.find(U':') + 1);
            auto start = head.rfind(U' ', head.size() - 2);
            auto name = head.substr(start == std::u32string::npos ? 0 : start + 1);
            put(top + i, left + column_width(head) - column_width(name), name, width);
            attroff(COLOR_PAIR(r.color) | A_BOLD);
        } else {
            put(top + i, left, r.text, width);
        }
        attroff(A_DIM);
    }
}

void terminal_ui::draw_status(int row, int width) {
    const char* link = client_.connected()    ? tr(text::tui_connected)
                       : client_.signed_out() ? tr(text::tui_signed_out)
                                              : tr(text::tui_disconnected);
    // Not `"[" + std::string(link) + ...`: GCC bug 105329 (see draw_channels).
    std::string status = std::string("[").append(link).append("] ").append(user_);
    if (auto* c = current()) {
        status += " · " + channel_label(c->info);
        if (!c->info.display_name().empty()) {
            status.append(" « ").append(c->info.display_name()).append(" »");
        }
        if (!c->info.topic().empty()) {
            status += " · " + c->info.topic();
        }
        std::string online;
        for (const auto& who : online_) {
            online += (online.empty() ? "" : ", ") + who;
        }
        status += " · " + trf(text::tui_online_count, {online});
        std::vector<std::string> typing;
        auto now = clock_type::now();
        for (const auto& [who, at] : c->typing) {
            if (now - at < typing_shown_for) {
                typing.push_back(who);
            }
        }
        if (typing.size() == 1) {
            status += " · " + trf(text::tui_typing_one, {typing[0]});
        } else if (typing.size() > 1) {
            std::string names;
            for (const auto& t : typing) {
                names += (names.empty() ? "" : ", ") + t;
            }
            status += " · " + trf(text::tui_typing_many, {names});
        }
    }
    attron(A_REVERSE);
    if (colors_) {
        attron(COLOR_PAIR(1));
    }
    mvhline(row, 0, ' ', width);
    put(row, 0, to_u32(status), width);
    attroff(A_REVERSE | COLOR_PAIR(1));
}

void terminal_ui::draw_input(int row, int width) {
    const std::u32string prompt = U"> ";
    const int room = std::max(1, width - column_width(prompt) - 1);
    // Scroll the line so that the cursor stays visible.
    std::size_t start = 0;
    while (column_width(std::u32string_view(input_).substr(start, cursor_ - start)) > room) {
        ++start;
    }
    move(row, 0);
    clrtoeol();
    put(row, 0, prompt, width);
    put(row, column_width(prompt), std::u32string_view(input_).substr(start), room);
    move(row, column_width(prompt) +
                  column_width(std::u32string_view(input_).substr(start, cursor_ - start)));
}

void terminal_ui::draw() {
    if (quit_) {
        return;
    }
    int height = 0;
    int width = 0;
    getmaxyx(stdscr, height, width);
    erase();
    if (height < 3 || width < 10) {
        refresh();
        return;
    }
    const int list_width = std::clamp(width / 5, 8, 20);
    const int pane_rows = height - 2;
    draw_channels(pane_rows, list_width);
    for (int row = 0; row < pane_rows; ++row) {
        put(row, list_width, U"│", 1);
    }
    // The session panel, when one is open, above the conversation.
    const int panel_rows =
        list_ ? 0
              : std::min(draw_session(0, list_width + 1, width - list_width - 1), pane_rows / 2);
    draw_messages(panel_rows, list_width + 1, pane_rows - panel_rows, width - list_width - 1);
    draw_status(height - 2, width);
    draw_input(height - 1, width);
    refresh();
    mark_read_if_seen();
    connected_shown_ = client_.connected();
}

}  // namespace relais::cli
