// Channels: create, list, join, leave, invite, kick, topic, members, direct.
#include <algorithm>

#include "server/core/service.hpp"
#include "server/core/validation.hpp"

namespace relais::core {
namespace {

// The membership of the user named `name`, or NOT_FOUND.
outcome<storage::membership> find_member(storage::reader& r, storage::channel_id channel,
                                         const std::string& name) {
    auto account = r.find_account(name);
    auto membership = account ? r.find_membership(channel, account->id) : std::nullopt;
    if (!membership) {
        return fail(errc::not_found, "'" + name + "' is not a member");
    }
    return *membership;
}

std::string direct_name(storage::user_id a, storage::user_id b) {
    return "dm:" + std::to_string(std::min(a, b)) + ":" + std::to_string(std::max(a, b));
}

}  // namespace

service::handled service::on_create_channel(const request& rq, const v1::ClientMessage& msg) {
    const auto& create = msg.create_channel();
    if (auto ok = check_channel_name(create.name(), config_.limits); !ok) {
        return ok.error();
    }
    if (auto ok = check_topic(create.topic(), config_.limits); !ok) {
        return ok.error();
    }
    auto display_name = check_display_name(create.display_name(), config_.limits);
    if (!display_name) {
        return display_name.error();
    }
    write(rq,
          [this, rq, create,
           display_name = std::move(*display_name)](storage::writer& w) -> outcome<effects> {
              if (w.find_channel(create.name())) {
                  // The same words whatever the channel's kind: a non-member learns
                  // that the name is taken, nothing else (docs/security.md).
                  return fail(errc::conflict, "the name '" + create.name() + "' is taken");
              }
              storage::channel_record c;
              c.name = create.name();
              c.topic = create.topic();
              c.display_name = display_name;
              c.kind = create.private_() ? v1::PRIVATE : v1::PUBLIC;
              // Open by default where anybody may join anyway.
              const bool open = c.kind == v1::PUBLIC;
              c.members_can_invite =
                  create.has_members_can_invite() ? create.members_can_invite() : open;
              c.members_can_set_topic =
                  create.has_members_can_set_topic() ? create.members_can_set_topic() : open;
              c.created_at_ms = clock_.now_ms();
              c.id = w.insert_channel(c);
              const auto user = rq.who.user.id();
              storage::membership m{c.id, user, v1::OWNER, 0};
              w.upsert_member(m);
              storage::event_record created;
              created.channel = c.id;
              created.kind = storage::event_kind::created;
              created.actor = user;
              created.text = c.topic;
              effects done;
              done.joined.emplace_back(c.id, user);
              done.events.push_back(append(w, created));
              done.events.push_back(
                  append(w, member_event(c.id, user, user, v1::MemberChanged::JOINED, v1::OWNER)));
              c = *w.find_channel(c.id);
              describe(w, c, m, user, *done.reply.emplace().mutable_channel());
              return done;
          });
    return answered_later();
}

service::handled service::on_list_channels(const request& rq, const v1::ClientMessage&) {
    read(rq, [this, rq](storage::reader& r) -> handled {
        const auto user = rq.who.user.id();
        std::unordered_map<storage::channel_id, storage::membership> mine;
        for (auto& m : r.memberships_of(user)) {
            mine.emplace(m.channel, m);
        }
        v1::ServerMessage out;
        auto& list = *out.mutable_channels();
        for (const auto& c : r.list_channels()) {
            auto it = mine.find(c.id);
            std::optional<storage::membership> m;
            if (it != mine.end()) {
                m = it->second;
            }
            if (c.kind != v1::PUBLIC && !m) {
                continue;
            }
            describe(r, c, m, user, *list.add_channels());
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_get_channel(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, ref = msg.get_channel().channel()](storage::reader& r) -> handled {
        const auto user = rq.who.user.id();
        auto v = resolve(r, ref, user);
        if (!v) {
            return v.error();
        }
        v1::ServerMessage out;
        describe(r, v->channel, v->membership, user, *out.mutable_channel());
        return out;
    });
    return answered_later();
}

service::handled service::on_join(const request& rq, const v1::ClientMessage& msg) {
    write(
        rq, [this, rq, ref = msg.join_channel().channel()](storage::writer& w) -> outcome<effects> {
            const auto user = rq.who.user.id();
            auto v = resolve(w, ref, user);
            if (!v) {
                return v.error();
            }
            effects done;
            auto& out = *done.reply.emplace().mutable_channel();
            if (v->membership) {
                // Joining twice is harmless: answer with the channel as it is.
                describe(w, v->channel, v->membership, user, out);
                return done;
            }
            if (w.find_ban(v->channel.id, user)) {
                return fail(errc::forbidden, "you are banned from #" + v->channel.name);
            }
            storage::membership m{v->channel.id, user, v1::MEMBER, 0};
            w.upsert_member(m);
            auto event = append(
                w, member_event(v->channel.id, user, user, v1::MemberChanged::JOINED, v1::MEMBER));
            v->channel.last_seq = event.seq();
            describe(w, v->channel, m, user, out);
            done.joined.emplace_back(v->channel.id, user);
            done.events.push_back(std::move(event));
            return done;
        });
    return answered_later();
}

service::handled service::on_leave(const request& rq, const v1::ClientMessage& msg) {
    write(rq,
          [this, rq, ref = msg.leave_channel().channel()](storage::writer& w) -> outcome<effects> {
              const auto user = rq.who.user.id();
              auto v = resolve_group_member(w, ref, user, "a direct conversation cannot be left");
              if (!v) {
                  return v.error();
              }
              auto event = append(w, member_event(v->channel.id, user, user,
                                                  v1::MemberChanged::LEFT, v->membership->role));
              w.remove_member(v->channel.id, user);
              // The leaver sees their own departure, then nothing more.
              return effects{.events = {std::move(event)}, .left = {{v->channel.id, user}}};
          });
    return answered_later();
}

service::handled service::on_invite(const request& rq, const v1::ClientMessage& msg) {
    write(rq, [this, rq, invite = msg.invite()](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve_group_member(w, invite.channel(), user,
                                      "nobody can be added to a direct conversation");
        if (!v) {
            return v.error();
        }
        if (!v->channel.members_can_invite && !is_moderator(v->membership)) {
            return fail(errc::forbidden, "only moderators can invite to this channel");
        }
        auto guest = w.find_account(invite.user());
        if (!guest || guest->disabled) {
            return fail(errc::not_found, "no user '" + invite.user() + "'");
        }
        if (w.find_membership(v->channel.id, guest->id)) {
            return effects{};
        }
        if (w.find_ban(v->channel.id, guest->id)) {
            return fail(errc::forbidden, "'" + invite.user() + "' is banned from #" +
                                             v->channel.name +
                                             "; a moderator must unban them first");
        }
        w.upsert_member({v->channel.id, guest->id, v1::MEMBER, 0});
        return effects{.joined = {{v->channel.id, guest->id}},
                       .events = {append(w, member_event(v->channel.id, user, guest->id,
                                                         v1::MemberChanged::INVITED, v1::MEMBER))}};
    });
    return answered_later();
}

service::handled service::on_kick(const request& rq, const v1::ClientMessage& msg) {
    if (auto ok = check_free_text("reason", msg.kick().reason(), 500, true); !ok) {
        return ok.error();
    }
    write(rq, [this, rq, kick = msg.kick()](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve_member(w, kick.channel(), user);
        if (!v) {
            return v.error();
        }
        if (!is_moderator(v->membership) || v->channel.kind == v1::DIRECT) {
            return fail(errc::forbidden, "only moderators can remove members");
        }
        auto target = find_member(w, v->channel.id, kick.user());
        if (!target) {
            return target.error();
        }
        if (target->role == v1::OWNER) {
            return fail(errc::forbidden, "the owner of a channel cannot be removed");
        }
        auto event = append(w, member_event(v->channel.id, user, target->user,
                                            v1::MemberChanged::KICKED, target->role));
        w.remove_member(v->channel.id, target->user);
        audit(w, user, "kick", target->user, v->channel.id, kick.reason(), "");
        return effects{.events = {std::move(event)}, .left = {{v->channel.id, target->user}}};
    });
    return answered_later();
}

service::handled service::on_set_member_role(const request& rq, const v1::ClientMessage& msg) {
    write(rq, [this, rq, set = msg.set_member_role()](storage::writer& w) -> outcome<effects> {
        if (set.role() != v1::MEMBER && set.role() != v1::MODERATOR) {
            return fail(errc::bad_request, "a member can be made MEMBER or MODERATOR");
        }
        const auto user = rq.who.user.id();
        auto v = resolve_member(w, set.channel(), user);
        if (!v) {
            return v.error();
        }
        if (v->membership->role != v1::OWNER || v->channel.kind == v1::DIRECT) {
            return fail(errc::forbidden, "only the owner of a channel can change roles");
        }
        auto target = find_member(w, v->channel.id, set.user());
        if (!target) {
            return target.error();
        }
        if (target->role == v1::OWNER) {
            return fail(errc::forbidden, "the owner's role cannot change");
        }
        if (target->role == set.role()) {
            return effects{};
        }
        target->role = set.role();
        w.upsert_member(*target);
        audit(w, user, "set_member_role", target->user, v->channel.id, "",
              set.role() == v1::MODERATOR ? "moderator" : "member");
        return effects{
            .events = {append(w, member_event(v->channel.id, user, target->user,
                                              v1::MemberChanged::ROLE_CHANGED, set.role()))}};
    });
    return answered_later();
}

service::handled service::on_set_topic(const request& rq, const v1::ClientMessage& msg) {
    const auto& set = msg.set_topic();
    if (auto ok = check_topic(set.topic(), config_.limits); !ok) {
        return ok.error();
    }
    write(rq, [this, rq, set](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve_group_member(w, set.channel(), user, "a direct conversation has no topic");
        if (!v) {
            return v.error();
        }
        if (!v->channel.members_can_set_topic && !is_moderator(v->membership)) {
            return fail(errc::forbidden, "only moderators can change this channel's topic");
        }
        w.set_topic(v->channel.id, set.topic());
        auto e = channel_event(v->channel.id, storage::event_kind::topic, user);
        e.text = set.topic();
        return effects{.events = {append(w, e)}};
    });
    return answered_later();
}

service::handled service::on_set_display_name(const request& rq, const v1::ClientMessage& msg) {
    auto display_name = check_display_name(msg.set_display_name().display_name(), config_.limits);
    if (!display_name) {
        return display_name.error();
    }
    write(rq,
          [this, rq, ref = msg.set_display_name().channel(),
           display_name = std::move(*display_name)](storage::writer& w) -> outcome<effects> {
              const auto user = rq.who.user.id();
              auto v =
                  resolve_group_member(w, ref, user, "a direct conversation has no display name");
              if (!v) {
                  return v.error();
              }
              if (!v->channel.members_can_set_topic && !is_moderator(v->membership)) {
                  return fail(errc::forbidden, "only moderators can rename this channel");
              }
              if (display_name == v->channel.display_name) {
                  return effects{};
              }
              w.set_display_name(v->channel.id, display_name);
              auto e = channel_event(v->channel.id, storage::event_kind::display_name, user);
              e.text = display_name;
              return effects{.events = {append(w, e)}};
          });
    return answered_later();
}

service::handled service::on_set_channel_options(const request& rq, const v1::ClientMessage& msg) {
    write(rq, [this, rq, set = msg.set_channel_options()](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v =
            resolve_group_member(w, set.channel(), user, "a direct conversation has no options");
        if (!v) {
            return v.error();
        }
        if (!is_moderator(v->membership)) {
            return fail(errc::forbidden, "only moderators can change a channel's options");
        }
        const bool invite =
            set.has_members_can_invite() ? set.members_can_invite() : v->channel.members_can_invite;
        const bool topic = set.has_members_can_set_topic() ? set.members_can_set_topic()
                                                           : v->channel.members_can_set_topic;
        if (invite == v->channel.members_can_invite && topic == v->channel.members_can_set_topic) {
            return effects{};
        }
        w.set_channel_options(v->channel.id, invite, topic);
        auto e = channel_event(v->channel.id, storage::event_kind::options, user);
        e.change = options_bits(invite, topic);
        return effects{.events = {append(w, e)}};
    });
    return answered_later();
}

service::handled service::on_list_members(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, ref = msg.list_members().channel()](storage::reader& r) -> handled {
        auto v = resolve(r, ref, rq.who.user.id());
        if (!v) {
            return v.error();
        }
        v1::ServerMessage out;
        auto& list = *out.mutable_members();
        for (const auto& m : r.members_of(v->channel.id)) {
            auto& member = *list.add_members();
            *member.mutable_user() = user_view(r, m.user);
            member.set_role(m.role);
            member.set_online(hub_.online(m.user));
        }
        std::sort(list.mutable_members()->begin(), list.mutable_members()->end(),
                  [](const v1::Member& a, const v1::Member& b) {
                      return a.user().name() < b.user().name();
                  });
        return out;
    });
    return answered_later();
}

service::handled service::on_open_direct(const request& rq, const v1::ClientMessage& msg) {
    write(rq, [this, rq, name = msg.open_direct().user()](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto other = w.find_account(name);
        if (!other || other->disabled) {
            return fail(errc::not_found, "no user '" + name + "'");
        }
        const auto channel_name = direct_name(user, other->id);
        effects done;
        auto& out = *done.reply.emplace().mutable_channel();
        if (auto existing = w.find_channel(channel_name)) {
            describe(w, *existing, w.find_membership(existing->id, user), user, out);
            return done;
        }
        storage::channel_record c;
        c.name = channel_name;
        c.kind = v1::DIRECT;
        // Nobody invites into, or sets the topic of, a direct conversation.
        c.members_can_invite = false;
        c.members_can_set_topic = false;
        c.created_at_ms = clock_.now_ms();
        c.id = w.insert_channel(c);
        std::vector<storage::user_id> pair{user};
        if (other->id != user) {
            pair.push_back(other->id);
        }
        for (auto member : pair) {
            w.upsert_member({c.id, member, v1::MEMBER, 0});
            done.joined.emplace_back(c.id, member);
        }
        storage::event_record created;
        created.channel = c.id;
        created.kind = storage::event_kind::created;
        created.actor = user;
        done.events.push_back(append(w, created));
        c = *w.find_channel(c.id);
        describe(w, c, w.find_membership(c.id, user), user, out);
        return done;
    });
    return answered_later();
}

}  // namespace relais::core
