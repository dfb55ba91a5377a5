// Data protection: what a person may take with them (the export).
#include "server/core/service.hpp"

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

}  // namespace relais::core
