// Messages: send, edit, delete, history, sync, read markers.
#include <algorithm>

#include "server/core/service.hpp"
#include "server/core/validation.hpp"

namespace relais::core {

outcome<void> service::take_send_budget(storage::user_id user) {
    std::lock_guard lock(send_mu_);
    auto it =
        send_budget_
            .try_emplace(user, rate_limiter::config{double(config_.limits.send_rate_per_second),
                                                    double(config_.limits.send_burst)})
            .first;
    if (auto wait = it->second.take(clock_.now_ms()); wait != 0) {
        return fail(errc::rate_limited, "sending too fast; slow down", wait);
    }
    return {};
}

service::handled service::on_send(const request& rq, const v1::ClientMessage& msg) {
    const auto& send = msg.send_message();
    // A file may go without a word.
    if (!send.text().empty() || send.attachment_upload_id().empty()) {
        if (auto ok = check_text(send.text(), config_.limits); !ok) {
            return ok.error();
        }
    }
    if (auto ok = check_client_msg_id(send.client_msg_id(), config_.limits); !ok) {
        return ok.error();
    }
    if (send.question() && send.thread_seq() != 0) {
        return fail(errc::bad_request, "a reply cannot be a question; ask in the channel");
    }
    if (auto ok = take_send_budget(rq.who.user.id()); !ok) {
        return ok.error();
    }
    write(rq, [this, rq, send](storage::writer& w) -> outcome<effects> {
        return store_message(
            w, rq,
            new_message{send.channel(), send.client_msg_id(), send.text(), send.thread_seq(),
                        send.question(), std::nullopt, send.attachment_upload_id()});
    });
    return answered_later();
}

outcome<service::effects> service::store_message(storage::writer& w, const request& rq,
                                                 new_message m) {
    const auto user = rq.who.user.id();
    if (auto original = w.find_sent(user, m.client_msg_id)) {
        // A retry: answer with what was stored the first time.
        auto v = resolve(w, m.channel, user);
        if (!v || v->channel.id != original->channel) {
            return fail(errc::conflict, "this client_msg_id was already used for another channel");
        }
        effects done;
        auto& sent = *done.reply.emplace().mutable_sent();
        to_wire(w, *original, *sent.mutable_event());
        decorate_one(w, *sent.mutable_event());
        sent.set_duplicate(true);
        return done;
    }
    auto v = resolve_member(w, m.channel, user);
    if (!v) {
        return v.error();
    }
    if (auto ok = refuse_if_muted(v->channel, user); !ok) {
        return ok.error();
    }
    storage::seq_t root = 0;
    std::optional<storage::event_record> root_event;
    if (m.thread_seq != 0) {
        auto target = find_live_message(w, v->channel, m.thread_seq);
        if (!target) {
            return target.error();
        }
        root = target->thread_seq != 0 ? target->thread_seq : target->seq;
        root_event =
            target->thread_seq != 0 ? w.find_event(v->channel.id, root) : std::optional(*target);
    }
    std::optional<storage::attachment_record> attached;
    if (!m.attachment_upload_id.empty()) {
        auto upload = w.find_upload(m.attachment_upload_id);
        auto file = upload && upload->user == user && upload->completed_at_ms != 0
                        ? w.find_file(upload->sha256)
                        : std::nullopt;
        if (!file) {
            return fail(errc::not_found,
                        "no finished upload '" + m.attachment_upload_id + "' of yours to attach");
        }
        attached = storage::attachment_record{0, 0, upload->name, user, std::move(*file)};
    }
    auto mentioned =
        mentioned_users(w, *v, user, m.resource ? m.resource->title + "\n" + m.text : m.text);
    if (!mentioned) {
        return mentioned.error();
    }
    auto e = channel_event(v->channel.id, storage::event_kind::message, user);
    e.text = m.text;
    e.client_msg_id = m.client_msg_id;
    e.thread_seq = root;
    // Looked up only while some meeting may be live: most messages pay nothing.
    if (live_meetings_.load(std::memory_order_relaxed) > 0) {
        if (auto link = w.live_meeting_at(v->channel.id)) {
            if (std::find(link->silenced.begin(), link->silenced.end(), user) !=
                link->silenced.end()) {
                return fail(errc::forbidden,
                            "the narrator listens in silence during this phase; you will speak "
                            "at the next one");
            }
            e.meeting = link->meeting;
            e.meeting_phase = link->phase;
        }
    }
    auto event = append(w, std::move(e));
    effects done;
    if (attached) {
        attached->channel = event.channel_id();
        attached->seq = event.seq();
        w.attach(*attached);
        attachment_to_wire(*attached, *event.mutable_message()->mutable_attachment());
    }
    if (m.resource) {
        auto& res = *m.resource;
        res.channel = event.channel_id();
        res.seq = event.seq();
        res.author = user;
        res.created_at_ms = event.at_ms();
        res.version = 1;
        res.version_at_ms = event.at_ms();
        res.editor = user;
        res.event_seq = event.seq();
        res.description = m.text;
        w.insert_resource(res);
        resource_to_wire(w, res, *event.mutable_message()->mutable_resource());
    }
    if (m.question) {
        w.set_question(event.channel_id(), event.seq(), true);
    }
    if (root != 0) {
        // The replier follows the thread and has read it up to here; the
        // root's author follows it from its first reply on, unless they
        // chose to stop.
        w.set_following(user, event.channel_id(), root, true, event.seq());
        w.set_thread_read_marker(user, event.channel_id(), root, event.seq());
        if (root_event && root_event->actor != user &&
            !w.find_follow(root_event->actor, event.channel_id(), root)) {
            w.set_following(root_event->actor, event.channel_id(), root, true, 0);
        }
        auto summary = w.refresh_thread(event.channel_id(), root);
        w.set_resource_activity(event.channel_id(), root, summary.reply_count,
                                summary.last_reply_at_ms);
        done.notices.push_back({event.channel_id(), {}, thread_update(w, summary)});
    } else {
        // The sender has read what they wrote.
        w.set_read_marker(event.channel_id(), user, event.seq());
    }
    if (!mentioned->empty()) {  // a new message has no earlier mentions to undo
        record_mentions(w, v->channel, event, *mentioned, done);
    }
    *done.reply.emplace().mutable_sent()->mutable_event() = event;
    done.events.push_back(std::move(event));
    return done;
}

outcome<storage::event_record> service::find_message(storage::reader& r,
                                                     const storage::channel_record& channel,
                                                     storage::seq_t seq) {
    auto target = r.find_event(channel.id, seq);
    if (!target || target->kind != storage::event_kind::message) {
        return fail(errc::not_found,
                    "no message " + std::to_string(seq) + " in '" + channel.name + "'");
    }
    return *target;
}

outcome<storage::event_record> service::find_live_message(storage::reader& r,
                                                          const storage::channel_record& channel,
                                                          storage::seq_t seq) {
    auto target = find_message(r, channel, seq);
    if (target && target->deleted) {
        return fail(errc::not_found, "message " + std::to_string(seq) + " was deleted");
    }
    return target;
}

service::handled service::on_edit(const request& rq, const v1::ClientMessage& msg) {
    const auto& edit = msg.edit_message();
    if (auto ok = check_text(edit.text(), config_.limits); !ok) {
        return ok.error();
    }
    write(rq, [this, rq, edit](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve_member(w, edit.channel(), user);
        if (!v) {
            return v.error();
        }
        auto target = find_live_message(w, v->channel, edit.seq());
        if (!target) {
            return target.error();
        }
        if (target->actor != user) {
            return fail(errc::forbidden, "only the author can edit a message");
        }
        if (w.find_resource(v->channel.id, edit.seq())) {
            return fail(errc::bad_request,
                        "message " + std::to_string(edit.seq()) +
                            " is a resource: edit it with EditResource, which keeps its versions");
        }
        auto mentioned = mentioned_users(w, *v, user, edit.text());
        if (!mentioned) {
            return mentioned.error();
        }
        const auto now = clock_.now_ms();
        w.update_message(v->channel.id, edit.seq(), edit.text(), now, false);
        auto e = channel_event(v->channel.id, storage::event_kind::edited, user);
        e.text = edit.text();
        e.target_seq = edit.seq();
        effects done{.events = {append(w, std::move(e))}};
        auto edited = *target;
        edited.text = edit.text();
        v1::Event message;
        to_wire(w, edited, message);
        record_mentions(w, v->channel, message, *mentioned, done);
        return done;
    });
    return answered_later();
}

service::handled service::on_delete(const request& rq, const v1::ClientMessage& msg) {
    write(rq, [this, rq, del = msg.delete_message()](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve_member(w, del.channel(), user);
        if (!v) {
            return v.error();
        }
        auto target = find_message(w, v->channel, del.seq());
        if (!target) {
            return target.error();
        }
        if (target->actor != user && !is_moderator(v->membership)) {
            return fail(errc::forbidden, "only the author or a moderator can delete a message");
        }
        if (target->deleted) {
            return effects{};
        }
        // The row stays as a tombstone: history keeps every seq.
        w.update_message(v->channel.id, del.seq(), "", target->edited_at_ms, true);
        if (target->actor != user) {
            audit(w, user, "delete_message", target->actor, v->channel.id, "",
                  "seq " + std::to_string(del.seq()));
        }
        auto e = channel_event(v->channel.id, storage::event_kind::deleted, user);
        e.target_seq = del.seq();
        effects done{.events = {append(w, std::move(e))}};
        if (const auto root = target->thread_seq; root != 0) {
            // One reply fewer; an answer deleted leaves its question unsolved.
            auto thread = w.find_thread(v->channel.id, root);
            if (thread && thread->solved_seq == del.seq()) {
                w.set_solved(v->channel.id, root, 0);
            }
            auto summary = w.refresh_thread(v->channel.id, root);
            w.set_resource_activity(v->channel.id, root, summary.reply_count,
                                    summary.last_reply_at_ms);
            done.notices.push_back({v->channel.id, {}, thread_update(w, summary)});
        }
        return done;
    });
    return answered_later();
}

service::handled service::on_history(const request& rq, const v1::ClientMessage& msg) {
    const auto& get = msg.get_history();
    if (get.after_seq() != 0) {
        return read_page(rq, get.channel(), page_direction::after, get.after_seq(), get.limit());
    }
    return read_page(rq, get.channel(), page_direction::before, get.before_seq(), get.limit());
}

service::handled service::on_sync(const request& rq, const v1::ClientMessage& msg) {
    const auto& sync = msg.sync();
    return read_page(rq, sync.channel(), page_direction::after, sync.after_seq(), sync.limit());
}

service::handled service::read_page(const request& rq, const v1::ChannelRef& ref,
                                    page_direction direction, storage::seq_t cursor,
                                    std::uint32_t asked) {
    read(rq, [this, rq, ref, direction, cursor, asked](storage::reader& r) -> handled {
        // A public channel may be read before joining it.
        auto v = resolve(r, ref, rq.who.user.id());
        if (!v) {
            return v.error();
        }
        const std::uint32_t max = config_.limits.max_page_size;
        const std::uint32_t limit = asked == 0 ? max : std::min(asked, max);
        // One row more than asked tells whether there is more.
        std::vector<storage::event_record> rows;
        bool has_more = false;
        if (direction == page_direction::after) {
            rows = r.events_after(v->channel.id, cursor, limit + 1);
            has_more = rows.size() > limit;
            if (has_more) {
                rows.pop_back();
            }
        } else {
            const auto before = cursor == 0 ? v->channel.last_seq + 1 : cursor;
            rows = r.events_before(v->channel.id, before, limit + 1);
            has_more = rows.size() > limit;
            if (has_more) {
                rows.erase(rows.begin());
            }
        }
        // Keep the events nearest the cursor within the page's byte budget.
        std::size_t bytes = 0, kept = 0;
        const bool forward = direction == page_direction::after;
        for (std::size_t i = 0; i < rows.size(); ++i) {
            const auto& e = rows[forward ? i : rows.size() - 1 - i];
            bytes += e.text.size() + 64;
            if (kept > 0 && bytes > config_.limits.max_page_bytes) {
                break;
            }
            ++kept;
        }
        if (kept < rows.size()) {
            has_more = true;
            if (forward) {
                rows.resize(kept);
            } else {
                rows.erase(rows.begin(), rows.end() - static_cast<std::ptrdiff_t>(kept));
            }
        }
        v1::ServerMessage out;
        auto& events = *out.mutable_events();
        events.set_full_resync(direction == page_direction::after && cursor > v->channel.last_seq);
        for (const auto& e : rows) {
            to_wire(r, e, *events.add_events());
        }
        decorate(r, v->channel.id, *events.mutable_events());
        events.set_has_more(has_more);
        events.set_last_seq(v->channel.last_seq);
        return out;
    });
    return answered_later();
}

service::handled service::on_mark_read(const request& rq, const v1::ClientMessage& msg) {
    write(rq, [this, rq, mark = msg.mark_read()](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve_member(w, mark.channel(), user);
        if (!v) {
            return v.error();
        }
        w.set_read_marker(v->channel.id, user, std::min(mark.seq(), v->channel.last_seq));
        // The user's other devices show the same unread counts.
        v1::ServerMessage marker;
        marker.mutable_read_marker()->set_channel_id(v->channel.id);
        marker.mutable_read_marker()->set_seq(
            w.find_membership(v->channel.id, user)->last_read_seq);
        return effects{.notices = {{v->channel.id, {user}, std::move(marker)}}};
    });
    return answered_later();
}

service::handled service::on_typing(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, ref = msg.typing().channel()](storage::reader& r) -> handled {
        auto v = resolve_member(r, ref, rq.who.user.id());
        if (!v) {
            return v.error();
        }
        v1::ServerMessage notice;
        notice.mutable_typing()->set_channel_id(v->channel.id);
        *notice.mutable_typing()->mutable_user() = rq.who.user;
        auto members = *members_.members(v->channel.id);
        std::erase(members, rq.who.user.id());
        hub_.send_to(members, protocol::encode(notice));
        return ok();
    });
    return answered_later();
}

}  // namespace relais::core
