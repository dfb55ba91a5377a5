// Full-text search, and mentions.
#include <algorithm>

#include "server/core/service.hpp"
#include "server/core/validation.hpp"
#include "storage/text/search_text.hpp"

namespace relais::core {

outcome<std::vector<storage::user_id>> service::mentioned_users(storage::reader& r,
                                                                const visible_channel& v,
                                                                storage::user_id author,
                                                                std::string_view text) {
    const auto parsed = parse_mentions(text);
    std::vector<storage::user_id> users;
    if (parsed.channel) {
        if (!is_moderator(v.membership)) {
            return fail(errc::forbidden,
                        "only moderators may notify the whole channel with @channel");
        }
        for (const auto& m : r.members_of(v.channel.id)) {
            if (m.user != author) {
                users.push_back(m.user);
            }
        }
    }
    for (const auto& name : parsed.names) {
        auto account = r.find_account(name);
        if (!account || account->disabled || account->id == author) {
            continue;
        }
        // Only those who can read the channel hear of it.
        if (v.channel.kind != v1::PUBLIC && !r.find_membership(v.channel.id, account->id)) {
            continue;
        }
        if (std::find(users.begin(), users.end(), account->id) == users.end()) {
            users.push_back(account->id);
        }
    }
    return users;
}

void service::record_mentions(storage::writer& w, const storage::channel_record& channel,
                              const v1::Event& message, const std::vector<storage::user_id>& users,
                              effects& done) {
    const auto before = w.mentioned_in(channel.id, message.seq());
    if (before.empty() && users.empty()) {
        return;
    }
    const auto root = message.message().thread_seq();
    w.set_mentions(channel.id, message.seq(), root, users);
    std::vector<storage::user_id> newly;
    for (auto user : users) {
        if (std::find(before.begin(), before.end(), user) != before.end()) {
            continue;
        }
        newly.push_back(user);
        // Mentioned in a reply: the thread is theirs to follow, from here.
        if (root != 0 && !w.find_follow(user, channel.id, root)) {
            w.set_following(user, channel.id, root, true, message.seq() - 1);
        }
    }
    if (newly.empty()) {
        return;
    }
    v1::ServerMessage notice;
    notice.mutable_mention()->set_channel_name(channel.name);
    *notice.mutable_mention()->mutable_event() = message;
    done.notices.push_back({channel.id, std::move(newly), std::move(notice)});
}

service::handled service::on_search(const request& rq, const v1::ClientMessage& msg) {
    const auto& search = msg.search();
    if (search.query().size() > config_.limits.max_query_bytes) {
        return fail(errc::too_large, "the search is longer than " +
                                         std::to_string(config_.limits.max_query_bytes) + " bytes");
    }
    auto words = search_text::words(search.query());
    if (words.empty()) {
        return fail(errc::bad_request, "nothing to search: the query holds no letter or digit");
    }
    const std::uint32_t limit =
        search.limit() == 0 ? 20 : std::min<std::uint32_t>(search.limit(), 100);
    read(rq, [this, rq, search, words = std::move(words), limit](storage::reader& r) -> handled {
        const auto user = rq.who.user.id();
        storage::search_query q;
        q.words = words;
        q.limit = limit;
        if (search.has_channel()) {
            auto v = resolve(r, search.channel(), user);
            if (!v) {
                return v.error();
            }
            q.channels = {v->channel.id};
        } else {
            // Read now, in the same snapshot as the search: who has left a
            // private channel finds nothing of it any more.
            q.channels = readable_channels(r, user);
        }
        v1::ServerMessage out;
        auto& results = *out.mutable_search_results();
        std::unordered_map<storage::channel_id, std::string> names;
        for (const auto& row : r.search(q)) {
            auto e = r.find_event(row.channel, row.seq);
            if (!e || e->kind != storage::event_kind::message || e->deleted) {
                continue;
            }
            auto& hit = *results.add_hits();
            hit.set_channel_id(row.channel);
            auto name = names.find(row.channel);
            if (name == names.end()) {
                auto c = r.find_channel(row.channel);
                name = names.emplace(row.channel, c ? c->name : std::string()).first;
            }
            hit.set_channel_name(name->second);
            hit.set_seq(e->seq);
            hit.set_thread_seq(e->thread_seq);
            *hit.mutable_author() = user_view(r, e->actor);
            hit.set_at_ms(e->at_ms);
            std::string shown = e->text;
            if (auto res = r.find_resource(row.channel, row.seq)) {
                hit.set_title(res->title);
                shown = search_text::resource_body(res->title, e->text, res->tags);
            }
            auto cut = search_text::make_snippet(shown, words);
            hit.set_snippet(std::move(cut.text));
            for (const auto& [start, length] : cut.highlights) {
                auto& range = *hit.add_highlights();
                range.set_start(start);
                range.set_length(length);
            }
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_list_mentions(const request& rq, const v1::ClientMessage& msg) {
    read(rq, [this, rq, list = msg.list_mentions()](storage::reader& r) -> handled {
        const auto user = rq.who.user.id();
        const std::uint32_t max = config_.limits.max_page_size;
        const std::uint32_t limit = list.limit() == 0 ? 50 : std::min(list.limit(), max);
        const auto readable = readable_channels(r, user);
        v1::ServerMessage out;
        auto& mentions = *out.mutable_mentions();
        for (const auto& m : r.mentions_of(user, limit)) {
            if (!std::binary_search(readable.begin(), readable.end(), m.channel)) {
                continue;
            }
            auto channel = r.find_channel(m.channel);
            auto e = r.find_event(m.channel, m.seq);
            if (!channel || !e) {
                continue;
            }
            auto& mention = *mentions.add_mentions();
            mention.set_channel_id(m.channel);
            mention.set_channel_name(channel->name);
            to_wire(r, *e, *mention.mutable_event());
            decorate_one(r, *mention.mutable_event());
            if (auto member = r.find_membership(m.channel, user)) {
                storage::seq_t read_to = member->last_read_seq;
                if (m.thread_seq != 0) {
                    auto f = r.find_follow(user, m.channel, m.thread_seq);
                    read_to = f ? f->last_read_seq : 0;
                }
                mention.set_unread(m.seq > read_to);
            }
        }
        return out;
    });
    return answered_later();
}

}  // namespace relais::core
