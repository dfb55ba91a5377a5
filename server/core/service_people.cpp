// Profiles and the directory of the people on the server.
#include <algorithm>

#include "server/core/service.hpp"
#include "server/core/validation.hpp"
#include "storage/text/search_text.hpp"

namespace relais::core {
namespace {

constexpr std::size_t max_presentation_bytes = 500;
constexpr int max_skills = 20;

}  // namespace

void service::profile_to_wire(const storage::account& a, v1::Profile& out) {
    *out.mutable_user() = user_of(a);
    out.set_structure(a.structure);
    out.set_commune(a.commune);
    out.set_network_role(a.network_role);
    out.set_presentation(a.presentation);
    for (const auto& skill : a.skills) {
        out.add_skills(skill);
    }
    out.set_online(hub_.online(a.id));
}

service::handled service::on_set_profile(const request& rq, const v1::ClientMessage& msg) {
    const auto& in = msg.set_profile();
    const bool someone_else = !in.user().empty() && in.user() != rq.who.user.name();
    if (someone_else && rq.who.user.role() != v1::ADMIN) {
        return fail(errc::forbidden, "only admins edit someone else's profile");
    }
    // Everything checked here, before the write: a refusal stores nothing.
    std::optional<std::string> structure, display_name, presentation;
    if (in.has_structure()) {
        auto s = visible_name("structure", in.structure(), config_.limits.max_title_bytes);
        if (!s) {
            return s.error();
        }
        structure = std::move(*s);
    }
    if (in.has_display_name()) {
        auto d = check_display_name(in.display_name(), config_.limits);
        if (!d) {
            return d.error();
        }
        display_name = std::move(*d);
    }
    if (in.has_commune()) {
        if (auto ok = check_commune(in.commune()); !ok) {
            return ok.error();
        }
    }
    if (in.has_network_role() && !v1::NetworkRole_IsValid(in.network_role())) {
        return fail(errc::bad_request, "unknown role in the network");
    }
    if (in.has_presentation()) {
        if (auto ok =
                check_free_text("presentation", in.presentation(), max_presentation_bytes, true);
            !ok) {
            return ok.error();
        }
        presentation = in.presentation();
    }
    std::optional<std::vector<std::string>> skills;
    if (in.has_skills()) {
        if (in.skills().tags_size() > max_skills) {
            return fail(errc::too_large,
                        "at most " + std::to_string(max_skills) + " skills in a profile");
        }
        skills.emplace();
        for (const auto& tag : in.skills().tags()) {
            auto t = normalise_tag(tag, config_.limits);
            if (!t) {
                return t.error();
            }
            if (std::find(skills->begin(), skills->end(), *t) == skills->end()) {
                skills->push_back(std::move(*t));
            }
        }
    }
    const auto whose = someone_else ? in.user() : rq.who.user.name();
    write(rq,
          [this, rq, in, whose, structure, display_name, presentation,
           skills](storage::writer& w) -> outcome<effects> {
              auto account = w.find_account(whose);
              if (!account) {
                  return fail(errc::not_found, "no user '" + whose + "'");
              }
              const auto before = *account;
              if (structure) {
                  account->structure = *structure;
              }
              if (display_name) {
                  account->display_name = display_name->empty() ? account->name : *display_name;
              }
              if (in.has_commune()) {
                  account->commune = in.commune();
              }
              if (in.has_network_role()) {
                  account->network_role = in.network_role();
              }
              if (presentation) {
                  account->presentation = *presentation;
              }
              if (skills) {
                  account->skills = *skills;
              }
              effects done;
              profile_to_wire(*account, *done.reply.emplace().mutable_profile());
              if (account->display_name != before.display_name ||
                  account->structure != before.structure || account->commune != before.commune ||
                  account->network_role != before.network_role ||
                  account->presentation != before.presentation ||
                  account->skills != before.skills) {
                  w.set_profile(*account);
                  if (account->id != rq.who.user.id()) {
                      audit(w, rq.who.user.id(), "profile_edit", account->id, 0, "", "");
                  }
                  done.after = [this, id = account->id] { forget_user(id); };
              }
              return done;
          });
    return answered_later();
}

service::handled service::on_get_profile(const request& rq, const v1::ClientMessage& msg) {
    const auto name = msg.get_profile().user();
    read(rq, [this, name](storage::reader& r) -> handled {
        auto account = r.find_account(name);
        if (!account || account->disabled) {
            return fail(errc::not_found, "no user '" + name + "'");
        }
        v1::ServerMessage out;
        profile_to_wire(*account, *out.mutable_profile());
        return out;
    });
    return answered_later();
}

service::handled service::on_list_people(const request& rq, const v1::ClientMessage& msg) {
    const auto& ask = msg.list_people();
    if (!ask.commune().empty()) {
        if (auto ok = check_commune(ask.commune()); !ok) {
            return ok.error();
        }
    }
    if (ask.structure().size() > config_.limits.max_title_bytes) {
        return fail(errc::too_large, "structure too long");
    }
    std::string skill;
    if (!ask.skill().empty()) {
        auto t = normalise_tag(ask.skill(), config_.limits);
        if (!t) {
            return t.error();
        }
        skill = std::move(*t);
    }
    read(rq, [this, ask, skill](storage::reader& r) -> handled {
        // A network is hundreds of people, not millions: one pass over the
        // accounts, filtered here, keeps the filters' rules in one place.
        const auto structure = search_text::fold(ask.structure());
        v1::ServerMessage out;
        auto& people = *out.mutable_people();
        for (const auto& a : r.list_accounts()) {
            if (a.disabled || (!ask.commune().empty() && a.commune != ask.commune()) ||
                (!structure.empty() &&
                 search_text::fold(a.structure).find(structure) == std::string::npos) ||
                (!skill.empty() &&
                 std::find(a.skills.begin(), a.skills.end(), skill) == a.skills.end())) {
                continue;
            }
            profile_to_wire(a, *people.add_people());
        }
        return out;
    });
    return answered_later();
}

}  // namespace relais::core
