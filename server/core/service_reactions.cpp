// Reactions and pins.
#include "server/core/service.hpp"
#include "server/core/validation.hpp"

namespace relais::core {

service::handled service::on_react(const request& rq, const v1::ClientMessage& msg) {
    const auto& react = msg.react();
    if (auto ok = check_emoji(react.emoji(), config_.limits); !ok) {
        return ok.error();
    }
    write(rq, [this, rq, react](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve_member(w, react.channel(), user);
        if (!v) {
            return v.error();
        }
        auto target = find_live_message(w, v->channel, react.seq());
        if (!target) {
            return target.error();
        }
        const auto now = clock_.now_ms();
        const bool changed =
            react.remove() ? w.remove_reaction(v->channel.id, react.seq(), react.emoji(), user)
                           : w.add_reaction(v->channel.id, {react.seq(), react.emoji(), user, now});
        if (!changed) {
            return effects{};
        }
        auto e = channel_event(v->channel.id, storage::event_kind::reaction, user);
        e.target_seq = react.seq();
        e.text = react.emoji();
        e.change = react.remove() ? 0 : 1;
        return effects{.events = {append(w, std::move(e))}};
    });
    return answered_later();
}

service::handled service::on_pin(const request& rq, const v1::ClientMessage& msg) {
    write(rq, [this, rq, pin = msg.pin()](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve_group_member(w, pin.channel(), user,
                                      "a direct conversation has no pinned messages");
        if (!v) {
            return v.error();
        }
        if (!is_moderator(v->membership)) {
            return fail(errc::forbidden, "only moderators can pin or unpin messages");
        }
        auto target = find_live_message(w, v->channel, pin.seq());
        if (!target) {
            return target.error();
        }
        const bool changed = pin.unpin()
                                 ? w.remove_pin(v->channel.id, pin.seq())
                                 : w.add_pin(v->channel.id, {pin.seq(), user, clock_.now_ms()});
        if (!changed) {
            return effects{};
        }
        auto e = channel_event(v->channel.id, storage::event_kind::pin, user);
        e.target_seq = pin.seq();
        e.change = pin.unpin() ? 0 : 1;
        return effects{.events = {append(w, std::move(e))}};
    });
    return answered_later();
}

service::handled service::on_list_pins(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, ref = msg.list_pins().channel()](storage::reader& r) -> handled {
        auto v = resolve(r, ref, rq.who.user.id());
        if (!v) {
            return v.error();
        }
        v1::ServerMessage out;
        out.mutable_pins();  // an empty list is still the answer
        for (const auto& p : r.pins_of(v->channel.id)) {
            auto e = r.find_event(v->channel.id, p.seq);
            if (!e) {
                continue;
            }
            auto& pinned = *out.mutable_pins()->add_pins();
            to_wire(r, *e, *pinned.mutable_event());
            decorate_one(r, *pinned.mutable_event());
            *pinned.mutable_pinned_by() = user_view(r, p.pinned_by);
            pinned.set_pinned_at_ms(p.at_ms);
        }
        return out;
    });
    return answered_later();
}

}  // namespace relais::core
