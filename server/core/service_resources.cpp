// Resources: posting, editing with versions, the library, the vocabulary.
#include <algorithm>

#include "server/core/service.hpp"
#include "server/core/validation.hpp"

namespace relais::core {
namespace {

// BAD_REQUEST unless every theme and audience is on the server's lists.
outcome<void> check_vocabulary(storage::reader& r, const v1::Resource& res) {
    const auto terms = r.vocabulary();
    auto known = [&](const char* list, const std::string& slug) {
        return std::any_of(terms.begin(), terms.end(), [&](const storage::vocabulary_term& t) {
            return t.list == list && t.slug == slug;
        });
    };
    for (const auto& t : res.themes()) {
        if (!known("theme", t)) {
            return fail(errc::bad_request, "unknown theme '" + t + "' (see ListVocabulary)");
        }
    }
    for (const auto& a : res.audiences()) {
        if (!known("audience", a)) {
            return fail(errc::bad_request, "unknown audience '" + a + "' (see ListVocabulary)");
        }
    }
    return {};
}

storage::resource_record to_record(const v1::Resource& res) {
    storage::resource_record r;
    r.title = res.title();
    r.link = res.link();
    r.description = res.description();
    r.kind = res.kind();
    r.licence = res.licence();
    r.tags.assign(res.tags().begin(), res.tags().end());
    r.themes.assign(res.themes().begin(), res.themes().end());
    r.audiences.assign(res.audiences().begin(), res.audiences().end());
    return r;
}

}  // namespace

service::handled service::on_post_resource(const request& rq, const v1::ClientMessage& msg) {
    const auto& post = msg.post_resource();
    auto resource = check_resource(post.resource(), config_.limits);
    if (!resource) {
        return resource.error();
    }
    if (auto ok = check_client_msg_id(post.client_msg_id(), config_.limits); !ok) {
        return ok.error();
    }
    if (auto ok = take_send_budget(rq.who.user.id()); !ok) {
        return ok.error();
    }
    write(rq,
          [this, rq, ref = post.channel(), id = post.client_msg_id(),
           file = post.attachment_upload_id(),
           res = std::move(*resource)](storage::writer& w) -> outcome<effects> {
              if (!w.find_sent(rq.who.user.id(), id)) {
                  if (auto ok = check_vocabulary(w, res); !ok) {
                      return ok.error();
                  }
              }
              return store_message(
                  w, rq, new_message{ref, id, res.description(), 0, false, to_record(res), file});
          });
    return answered_later();
}

service::handled service::on_edit_resource(const request& rq, const v1::ClientMessage& msg) {
    const auto& edit = msg.edit_resource();
    auto resource = check_resource(edit.resource(), config_.limits);
    if (!resource) {
        return resource.error();
    }
    write(rq,
          [this, rq, ref = edit.channel(), seq = edit.seq(),
           res = std::move(*resource)](storage::writer& w) -> outcome<effects> {
              const auto user = rq.who.user.id();
              auto v = resolve_member(w, ref, user);
              if (!v) {
                  return v.error();
              }
              auto current = w.find_resource(v->channel.id, seq);
              if (!current) {
                  return fail(errc::not_found, "no resource " + std::to_string(seq) + " in '" +
                                                   v->channel.name + "'");
              }
              if (current->author != user && !is_moderator(v->membership)) {
                  return fail(errc::forbidden,
                              "only the resource's author or a moderator can edit it");
              }
              if (auto ok = check_vocabulary(w, res); !ok) {
                  return ok.error();
              }
              auto mentioned = mentioned_users(w, *v, user, res.title() + "\n" + res.description());
              if (!mentioned) {
                  return mentioned.error();
              }
              auto e = channel_event(v->channel.id, storage::event_kind::edited, user);
              e.text = res.description();
              e.target_seq = seq;
              auto event = append(w, std::move(e));
              auto next = to_record(res);
              next.channel = v->channel.id;
              next.seq = seq;
              next.author = current->author;
              next.created_at_ms = current->created_at_ms;
              next.version = current->version + 1;
              next.version_at_ms = event.at_ms();
              next.editor = user;
              next.event_seq = event.seq();
              w.update_resource(next);
              resource_to_wire(w, next, *event.mutable_edited()->mutable_resource());
              effects done{.events = {event}};
              auto message = w.find_event(v->channel.id, seq);
              v1::Event root;
              to_wire(w, *message, root);
              record_mentions(w, v->channel, root, *mentioned, done);
              return done;
          });
    return answered_later();
}

service::handled service::on_get_resource_versions(const request& rq,
                                                   const v1::ClientMessage& msg) {
    read(rq, [this, rq, get = msg.get_resource_versions()](storage::reader& r) -> handled {
        auto v = resolve(r, get.channel(), rq.who.user.id());
        if (!v) {
            return v.error();
        }
        auto versions = r.resource_versions(v->channel.id, get.seq());
        if (versions.empty()) {
            return fail(errc::not_found, "no resource " + std::to_string(get.seq()) + " in '" +
                                             v->channel.name + "'");
        }
        v1::ServerMessage out;
        for (const auto& version : versions) {
            resource_to_wire(r, version, *out.mutable_resource_versions()->add_versions());
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_list_resources(const request& rq, const v1::ClientMessage& msg) {
    const auto& list = msg.list_resources();
    storage::resource_query q;
    for (const auto& t : list.tags()) {
        auto tag = normalise_tag(t, config_.limits);
        if (!tag) {
            return tag.error();
        }
        q.tags.push_back(std::move(*tag));
    }
    if (list.kind() < 0 || list.kind() > v1::ResourceKind_MAX) {
        return fail(errc::bad_request, "unknown resource kind " + std::to_string(list.kind()));
    }
    q.kind = list.kind();
    q.theme = list.theme();
    q.audience = list.audience();
    q.since_ms = list.since_ms();
    q.until_ms = list.until_ms();
    q.sort = list.sort() == v1::ListResources::DISCUSSED ? storage::resource_sort::discussed
             : list.sort() == v1::ListResources::ACTIVE  ? storage::resource_sort::active
                                                         : storage::resource_sort::newest;
    const std::uint32_t max = config_.limits.max_page_size;
    q.limit = list.limit() == 0 ? 50 : std::min(list.limit(), max);
    q.offset = list.offset();
    read(rq, [this, rq, list, q = std::move(q)](storage::reader& r) mutable -> handled {
        const auto user = rq.who.user.id();
        if (list.has_channel()) {
            auto v = resolve(r, list.channel(), user);
            if (!v) {
                return v.error();
            }
            q.channels = {v->channel.id};
        } else {
            q.channels = readable_channels(r, user);
        }
        if (!list.author().empty()) {
            auto author = r.find_account(list.author());
            if (!author) {
                return fail(errc::not_found, "no user '" + list.author() + "'");
            }
            q.author = author->id;
        }
        v1::Resource terms;
        if (!q.theme.empty()) {
            terms.add_themes(q.theme);
        }
        if (!q.audience.empty()) {
            terms.add_audiences(q.audience);
        }
        if (auto ok = check_vocabulary(r, terms); !ok) {
            return ok.error();
        }
        auto rows = r.list_resources(q);
        v1::ServerMessage out;
        auto& page = *out.mutable_resources();
        page.set_has_more(rows.size() > q.limit);
        if (rows.size() > q.limit) {
            rows.pop_back();
        }
        for (const auto& res : rows) {
            auto event = r.find_event(res.channel, res.seq);
            if (!event) {
                continue;
            }
            auto& e = *page.add_resources();
            to_wire(r, *event, e);
            resource_to_wire(r, res, *e.mutable_message()->mutable_resource());
            if (auto t = r.find_thread(res.channel, res.seq)) {
                summary_to_wire(r, *t, *e.mutable_message()->mutable_thread());
            }
            auto& names = *page.mutable_channel_names();
            if (!names.contains(res.channel)) {
                if (auto c = r.find_channel(res.channel)) {
                    names[res.channel] = c->name;
                }
            }
        }
        return out;
    });
    return answered_later();
}

service::handled service::on_list_vocabulary(const request& rq, const v1::ClientMessage&) {
    read(rq, [](storage::reader& r) -> handled {
        v1::ServerMessage out;
        auto& vocabulary = *out.mutable_vocabulary();
        for (const auto& t : r.vocabulary()) {
            auto& term = t.list == "theme" ? *vocabulary.add_themes() : *vocabulary.add_audiences();
            term.set_slug(t.slug);
            term.set_label_fr(t.label_fr);
            term.set_label_en(t.label_en);
        }
        return out;
    });
    return answered_later();
}

}  // namespace relais::core
