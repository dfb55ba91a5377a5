// Data protection: what a person may take with them (the export).
#include "server/core/service.hpp"

#include "server/core/log.hpp"

namespace relais::core {
namespace {

constexpr std::uint32_t export_page_events = 500;

}  // namespace

service::handled service::on_export_my_data(const request& rq, const v1::ClientMessage& msg) {
    const auto cursor = msg.export_my_data().cursor();
    read(rq, [this, rq, cursor](storage::reader& r) -> handled {
        const auto user = rq.who.user.id();
        auto account = r.find_account(user);
        if (!account) {
            return fail(errc::unauthenticated, "this account no longer exists");
        }
        v1::ServerMessage out;
        auto& data = *out.mutable_my_data();
        if (cursor == 0) {
            profile_to_wire(*account, *data.mutable_profile());
            data.set_account_created_at_ms(account->created_at_ms);
            for (const auto& m : r.memberships_of(user)) {
                if (auto c = r.find_channel(m.channel)) {
                    describe(r, *c, m, user, *data.add_memberships());
                }
            }
            for (const auto& s : r.sessions_of(user)) {
                session_to_wire(s, rq, *data.add_sessions());
            }
            meetings_attended(r, rq, *data.mutable_meetings());
            for (const auto& i : r.list_invitations()) {
                if (i.created_by == user) {
                    describe_invitation(r, i, *data.add_invitations_created());
                }
            }
        }
        // Pages bounded in bytes too: 500 long messages would make a frame
        // of megabytes.
        std::size_t bytes = 0;
        std::uint64_t last = cursor;
        const auto events = r.events_by(user, cursor, export_page_events);
        bool cut = false;
        for (const auto& [position, e] : events) {
            if (bytes > config_.limits.max_page_bytes) {
                cut = true;
                break;
            }
            to_wire(r, e, *data.add_events());
            bytes += e.text.size() + e.body.size() + 64;
            last = position;
        }
        const bool more = cut || events.size() == export_page_events;
        data.set_next_cursor(more ? last : 0);
        return out;
    });
    return answered_later();
}

namespace {

struct retention_pass {
    std::vector<std::pair<storage::channel_id, std::int64_t>> due;  // channel, cutoff
    std::size_t next = 0;
    std::uint64_t last_batch = 0;
    std::uint64_t tombstoned = 0;
    std::function<void(std::uint64_t)> done;
};

// A batch small enough that a write waiting behind it is not held up for
// long: each batch is one job among the others.
constexpr std::uint64_t retention_batch = 500;

// One batch, whose completion queues the next; the last one scrubs.
void retention_step(storage::store& store, const std::shared_ptr<retention_pass>& pass) {
    if (pass->next == pass->due.size()) {
        auto finish = [pass](bool scrubbed) {
            log::write(scrubbed ? log::level::info : log::level::error, "retention_done",
                       {{"channels", std::to_string(pass->due.size())},
                        {"tombstoned", std::to_string(pass->tombstoned)},
                        {"scrubbed", scrubbed ? "yes" : "no"}});
            if (pass->done) {
                pass->done(pass->tombstoned);
            }
        };
        if (pass->tombstoned == 0) {
            finish(true);
        } else {
            store.scrub(finish);
        }
        return;
    }
    store.write({[pass](storage::writer& w) {
                     const auto& [channel, cutoff] = pass->due[pass->next];
                     pass->last_batch = w.expire_messages(channel, cutoff, retention_batch);
                     return true;
                 },
                 [&store, pass](bool committed) {
                     // Failed: this channel waits for tomorrow's pass.
                     pass->tombstoned += committed ? pass->last_batch : 0;
                     if (!committed || pass->last_batch < retention_batch) {
                         ++pass->next;
                     }
                     retention_step(store, pass);
                 }});
}

}  // namespace

void service::apply_retention(std::function<void(std::uint64_t)> done) {
    const auto now = clock_.now_ms();
    auto pass = std::make_shared<retention_pass>();
    pass->done = std::move(done);
    store_.read([this, now, pass](storage::reader& r) {
        for (const auto& c : r.list_channels()) {
            if (c.retention_days > 0) {
                pass->due.emplace_back(
                    c.id, now - static_cast<std::int64_t>(c.retention_days) * 86'400'000);
            }
        }
        retention_step(store_, pass);
    });
}

namespace {
// A hundred years: beyond it, "forever" (0) is what is meant.
constexpr std::uint32_t max_retention_days = 36500;
}  // namespace

service::handled service::on_set_retention(const request& rq, const v1::ClientMessage& msg) {
    const auto& ask = msg.set_retention();
    if (ask.days() > max_retention_days) {
        return fail(errc::bad_request, "a retention period is at most " +
                                           std::to_string(max_retention_days) +
                                           " days; 0 keeps messages forever");
    }
    write(rq, [this, rq, ask](storage::writer& w) -> outcome<effects> {
        const auto user = rq.who.user.id();
        auto v = resolve(w, ask.channel(), user);
        if (!v) {
            return v.error();
        }
        const bool owner = v->membership && v->membership->role == v1::OWNER;
        if (rq.who.user.role() != v1::ADMIN && !owner) {
            return fail(errc::forbidden,
                        "only admins and the channel's owner set how long its messages are kept");
        }
        effects done;
        if (ask.days() != v->channel.retention_days) {
            w.set_retention(v->channel.id, ask.days());
            v->channel.retention_days = ask.days();
            audit(w, user, "set_retention", 0, v->channel.id, "",
                  std::to_string(ask.days()) + " day(s)");
            // Applied now, not at tomorrow's pass: what the owner sees is
            // what the channel keeps.
            done.after = [this] { apply_retention(); };
        }
        describe(w, v->channel, v->membership, user, *done.reply.emplace().mutable_channel());
        return done;
    });
    return answered_later();
}

}  // namespace relais::core
