// Messages: send, edit, delete, history, sync, read markers.
#include "server/core/service.hpp"
#include "server/core/validation.hpp"

namespace relais::core {

service::handled service::on_send(const request& rq, const v1::ClientMessage& msg) {
    const auto& send = msg.send_message();
    if (auto ok = check_text(send.text(), config_.limits); !ok) {
        return ok.error();
    }
    if (auto ok = check_client_msg_id(send.client_msg_id(), config_.limits); !ok) {
        return ok.error();
    }
    const auto user = rq.who.user.id();
    {
        std::lock_guard lock(send_mu_);
        auto it =
            send_budget_
                .try_emplace(user, rate_limiter::config{double(config_.limits.send_rate_per_second),
                                                        double(config_.limits.send_burst)})
                .first;
        if (auto wait = it->second.take(clock_.now_ms()); wait != 0) {
            return fail(errc::rate_limited, "sending too fast; slow down", wait);
        }
    }
    write(rq, [this, rq, send, user](storage::writer& w) -> outcome<effects> {
        if (auto original = w.find_sent(user, send.client_msg_id())) {
            // A retry: answer with what was stored the first time.
            auto v = resolve(w, send.channel(), user);
            if (!v || v->channel.id != original->channel) {
                return fail(errc::conflict,
                            "this client_msg_id was already used for another channel");
            }
            effects done;
            auto& sent = *done.reply.emplace().mutable_sent();
            to_wire(w, *original, *sent.mutable_event());
            sent.set_duplicate(true);
            return done;
        }
        auto v = resolve_member(w, send.channel(), user);
        if (!v) {
            return v.error();
        }
        storage::event_record e;
        e.channel = v->channel.id;
        e.kind = storage::event_kind::message;
        e.actor = user;
        e.text = send.text();
        e.client_msg_id = send.client_msg_id();
        auto event = append(w, std::move(e));
        // The sender has read what they wrote.
        w.set_read_marker(event.channel_id(), user, event.seq());
        effects done;
        *done.reply.emplace().mutable_sent()->mutable_event() = event;
        done.events.push_back(std::move(event));
        return done;
    });
    return answered_later();
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
        auto target = find_message(w, v->channel, edit.seq());
        if (!target || target->deleted) {
            return target ? fail(errc::not_found,
                                 "message " + std::to_string(edit.seq()) + " was deleted")
                          : target.error();
        }
        if (target->actor != user) {
            return fail(errc::forbidden, "only the author can edit a message");
        }
        const auto now = clock_.now_ms();
        w.update_message(v->channel.id, edit.seq(), edit.text(), now, false);
        storage::event_record e;
        e.channel = v->channel.id;
        e.kind = storage::event_kind::edited;
        e.actor = user;
        e.text = edit.text();
        e.target_seq = edit.seq();
        return effects{.events = {append(w, std::move(e))}};
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
        const bool moderator =
            v->membership->role == v1::MODERATOR || v->membership->role == v1::OWNER;
        if (target->actor != user && !moderator) {
            return fail(errc::forbidden, "only the author or a moderator can delete a message");
        }
        if (target->deleted) {
            return effects{};
        }
        // The row stays as a tombstone: history keeps every seq.
        w.update_message(v->channel.id, del.seq(), "", target->edited_at_ms, true);
        storage::event_record e;
        e.channel = v->channel.id;
        e.kind = storage::event_kind::deleted;
        e.actor = user;
        e.target_seq = del.seq();
        return effects{.events = {append(w, std::move(e))}};
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
        return effects{};
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
