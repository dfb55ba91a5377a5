// Threads: replies are sent with SendMessage (service_messages.cpp); here,
// reading a thread, following it, its read marker, and questions.
#include <algorithm>

#include "server/core/service.hpp"

namespace relais::core {
outcome<storage::event_record> service::find_root(storage::reader& r,
                                                  const storage::channel_record& channel,
                                                  storage::seq_t seq) {
    auto target = find_message(r, channel, seq);
    if (!target || target->thread_seq == 0) {
        return target;
    }
    return find_message(r, channel, target->thread_seq);
}

service::handled service::on_get_thread(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, get = msg.get_thread()](storage::reader& r) -> handled {
        const auto user = rq.who.user.id();
        auto v = resolve(r, get.channel(), user);
        if (!v) {
            return v.error();
        }
        auto root = find_root(r, v->channel, get.root_seq());
        if (!root) {
            return root.error();
        }
        const std::uint32_t max = config_.limits.max_page_size;
        const std::uint32_t limit = get.limit() == 0 ? max : std::min(get.limit(), max);
        std::vector<storage::event_record> rows;
        bool has_more = false;
        if (get.after_seq() != 0) {
            rows = r.replies_after(v->channel.id, root->seq, get.after_seq(), limit + 1);
            has_more = rows.size() > limit;
            if (has_more) {
                rows.pop_back();
            }
        } else {
            const auto before = get.before_seq() == 0 ? v->channel.last_seq + 1 : get.before_seq();
            rows = r.replies_before(v->channel.id, root->seq, before, limit + 1);
            has_more = rows.size() > limit;
            if (has_more) {
                rows.erase(rows.begin());
            }
        }
        v1::ServerMessage out;
        auto& thread = *out.mutable_thread();
        to_wire(r, *root, *thread.mutable_root());
        decorate_one(r, *thread.mutable_root());
        for (const auto& e : rows) {
            to_wire(r, e, *thread.add_replies());
        }
        decorate(r, v->channel.id, *thread.mutable_replies());
        thread.set_has_more(has_more);
        if (auto f = r.find_follow(user, v->channel.id, root->seq)) {
            thread.set_following(f->following);
            thread.set_last_read_seq(f->last_read_seq);
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_follow_thread(const request& rq, const v1::ClientMessage& msg) {
    write(rq, [this, rq, follow = msg.follow_thread()](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve_member(w, follow.channel(), user);
        if (!v) {
            return v.error();
        }
        auto root = find_root(w, v->channel, follow.root_seq());
        if (!root) {
            return root.error();
        }
        // Who starts following has seen the thread as it is.
        const auto summary = w.find_thread(v->channel.id, root->seq);
        w.set_following(user, v->channel.id, root->seq, follow.follow(),
                        summary ? summary->last_reply_seq : 0);
        return effects{};
    });
    return answered_later();
}

service::handled service::on_list_threads(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, list = msg.list_threads()](storage::reader& r) -> handled {
        const auto user = rq.who.user.id();
        const std::uint32_t max = config_.limits.max_page_size;
        const std::uint32_t limit = list.limit() == 0 ? 50 : std::min(list.limit(), max);
        const auto readable = readable_channels(r, user);
        struct entry {
            v1::ThreadInfo info;
            std::int64_t last_reply_at_ms = 0;
        };
        std::vector<entry> entries;
        for (const auto& f : r.follows_of(user)) {
            // A thread of a private channel the user has left is theirs no more.
            if (!std::binary_search(readable.begin(), readable.end(), f.channel)) {
                continue;
            }
            auto channel = r.find_channel(f.channel);
            auto root = r.find_event(f.channel, f.root_seq);
            if (!channel || !root) {
                continue;
            }
            entry e;
            e.info.set_channel_id(f.channel);
            e.info.set_channel_name(channel->name);
            to_wire(r, *root, *e.info.mutable_root());
            decorate_one(r, *e.info.mutable_root());
            e.info.set_unread_count(
                r.count_thread_unread(f.channel, f.root_seq, f.last_read_seq, user));
            e.info.set_last_read_seq(f.last_read_seq);
            e.info.set_following(true);
            e.last_reply_at_ms = e.info.root().message().thread().last_reply_at_ms();
            entries.push_back(std::move(e));
        }
        std::stable_sort(entries.begin(), entries.end(), [](const entry& a, const entry& b) {
            const bool a_unread = a.info.unread_count() > 0, b_unread = b.info.unread_count() > 0;
            if (a_unread != b_unread) {
                return a_unread;
            }
            return a.last_reply_at_ms > b.last_reply_at_ms;
        });
        v1::ServerMessage out;
        out.mutable_threads();  // an empty list is still the answer
        for (std::size_t i = 0; i < entries.size() && i < limit; ++i) {
            *out.mutable_threads()->add_threads() = std::move(entries[i].info);
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_mark_thread_read(const request& rq, const v1::ClientMessage& msg) {
    write(rq, [this, rq, mark = msg.mark_thread_read()](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve(w, mark.channel(), user);
        if (!v) {
            return v.error();
        }
        auto root = find_root(w, v->channel, mark.root_seq());
        if (!root) {
            return root.error();
        }
        w.set_thread_read_marker(user, v->channel.id, root->seq,
                                 std::min(mark.seq(), v->channel.last_seq));
        v1::ServerMessage marker;
        marker.mutable_read_marker()->set_channel_id(v->channel.id);
        marker.mutable_read_marker()->set_root_seq(root->seq);
        marker.mutable_read_marker()->set_seq(
            w.find_follow(user, v->channel.id, root->seq)->last_read_seq);
        return effects{.notices = {{v->channel.id, {user}, std::move(marker)}}};
    });
    return answered_later();
}

service::handled service::on_solve_question(const request& rq, const v1::ClientMessage& msg) {
    write(rq, [this, rq, solve = msg.solve_question()](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve_member(w, solve.channel(), user);
        if (!v) {
            return v.error();
        }
        auto root = find_message(w, v->channel, solve.root_seq());
        if (!root) {
            return root.error();
        }
        if (root->thread_seq != 0) {
            return fail(errc::bad_request, "message " + std::to_string(root->seq) +
                                               " is a reply; a question is a thread's root");
        }
        if (root->actor != user && !is_moderator(v->membership)) {
            return fail(errc::forbidden,
                        "only the one who asked or a moderator can mark a question solved");
        }
        if (solve.answer_seq() != 0) {
            auto answer = w.find_event(v->channel.id, solve.answer_seq());
            if (!answer || answer->kind != storage::event_kind::message || answer->deleted ||
                answer->thread_seq != root->seq) {
                return fail(errc::bad_request, "message " + std::to_string(solve.answer_seq()) +
                                                   " is not a reply in this thread");
            }
        }
        auto thread = w.find_thread(v->channel.id, root->seq);
        if (thread && thread->question && thread->solved_seq == solve.answer_seq()) {
            return effects{};
        }
        w.set_solved(v->channel.id, root->seq, solve.answer_seq());
        auto e = channel_event(v->channel.id, storage::event_kind::solved, user);
        e.thread_seq = root->seq;
        e.target_seq = solve.answer_seq();
        effects done{.events = {append(w, std::move(e))}};
        done.notices.push_back(
            {v->channel.id, {}, thread_update(w, w.refresh_thread(v->channel.id, root->seq))});
        return done;
    });
    return answered_later();
}

service::handled service::on_list_questions(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, list = msg.list_questions()](storage::reader& r) -> handled {
        const auto user = rq.who.user.id();
        auto v = resolve(r, list.channel(), user);
        if (!v) {
            return v.error();
        }
        const std::uint32_t max = config_.limits.max_page_size;
        const std::uint32_t limit = list.limit() == 0 ? 50 : std::min(list.limit(), max);
        v1::ServerMessage out;
        out.mutable_threads();  // an empty list is still the answer
        for (const auto& t : r.questions(v->channel.id, list.unsolved_only(), limit)) {
            auto root = r.find_event(v->channel.id, t.root_seq);
            if (!root) {
                continue;
            }
            auto& info = *out.mutable_threads()->add_threads();
            info.set_channel_id(v->channel.id);
            info.set_channel_name(v->channel.name);
            to_wire(r, *root, *info.mutable_root());
            decorate_one(r, *info.mutable_root());
            if (auto f = r.find_follow(user, v->channel.id, t.root_seq)) {
                info.set_following(f->following);
                info.set_last_read_seq(f->last_read_seq);
                info.set_unread_count(
                    r.count_thread_unread(v->channel.id, t.root_seq, f->last_read_seq, user));
            }
        }
        return out;
    });
    return answered_later();
}

}  // namespace relais::core
