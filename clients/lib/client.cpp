#include "clients/lib/client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <random>

#include "clients/lib/transport.hpp"
#include "protocol/codec.hpp"

namespace relais::client {
namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
// Pages of history can be large; the client trusts its server more than the
// server trusts its clients.
constexpr std::size_t max_incoming_frame = 64 * 1024 * 1024;

failure lost() {
    return fail(errc::unavailable, "the connection to the server was lost");
}

std::string random_id() {
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    char buf[33];
    std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                  static_cast<unsigned long long>(rng()));
    return buf;
}

// Reads one answer during the handshake, before the reader loop runs.
asio::awaitable<outcome<v1::ServerMessage>> read_answer(transport& t) {
    auto [ec, data] = co_await t.read();
    if (ec) {
        co_return fail(errc::unavailable, "the server closed the connection: " + ec.message());
    }
    auto msg = protocol::decode_server(data, max_incoming_frame);
    if (!msg) {
        co_return msg.error();
    }
    if (msg->has_error()) {
        co_return fail(static_cast<errc>(msg->error().code()), msg->error().message(),
                       msg->error().retry_after_ms());
    }
    co_return std::move(*msg);
}

template <class Body>
v1::ClientMessage make(Body&& set) {
    v1::ClientMessage msg;
    set(msg);
    return msg;
}

failure unexpected() {
    return fail(errc::internal, "unexpected answer from the server");
}

}  // namespace

client::client(asio::any_io_executor executor, options opts)
    : executor_(std::move(executor)),
      opts_(std::move(opts)),
      report_(std::make_shared<std::function<void(std::string_view)>>(opts_.report)),
      outbox_signal_(executor_),
      push_signal_(executor_) {}

void client::set_report(std::function<void(std::string_view what)> report) {
    *report_ = std::move(report);
}

void client::report_failure(const report_slot& slot, std::exception_ptr e) {
    if (!e || !*slot) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        (*slot)(ex.what());
    } catch (...) {
        (*slot)("unknown exception");
    }
}

client::~client() {
    *alive_ = false;
    if (transport_) {
        transport_->cut();
    }
}

v1::ChannelRef client::by_name(std::string name) {
    v1::ChannelRef ref;
    ref.set_name(std::move(name));
    return ref;
}

v1::ChannelRef client::by_id(std::uint64_t id) {
    v1::ChannelRef ref;
    ref.set_id(id);
    return ref;
}

asio::awaitable<outcome<std::shared_ptr<transport>>> client::open_and_greet() {
    auto url = protocol::parse_ws_url(opts_.url);
    if (!url) {
        co_return fail(errc::bad_request, "not a ws:// or wss:// address: " + opts_.url);
    }
    auto [ec, t] = co_await open_transport(executor_, *url, opts_.ca_file, max_incoming_frame);
    if (ec) {
        co_return fail(errc::unavailable, "cannot connect to " + opts_.url + ": " + ec.message());
    }
    auto hello = make([&](v1::ClientMessage& m) {
        m.mutable_hello()->set_protocol_version(1);
        m.mutable_hello()->set_client_name(opts_.client_name);
        m.mutable_hello()->set_device(opts_.device);
    });
    if (auto wec = co_await t->write(protocol::encode(hello))) {
        co_return lost();
    }
    auto welcome = co_await read_answer(*t);
    if (!welcome) {
        co_return welcome.error();
    }
    if (!welcome->has_welcome()) {
        co_return unexpected();
    }
    limits_ = welcome->welcome().limits();
    welcome_ = welcome->welcome();
    if (!token_.empty()) {
        auto resume = make([&](v1::ClientMessage& m) { m.mutable_resume()->set_token(token_); });
        if (auto wec = co_await t->write(protocol::encode(resume))) {
            co_return lost();
        }
        auto session = co_await read_answer(*t);
        if (!session) {
            co_return session.error();
        }
    }
    co_return t;
}

void client::start(std::shared_ptr<transport> t) {
    transport_ = t;
    asio::co_spawn(executor_, read_loop(t), failure_reporter());
    asio::co_spawn(executor_, write_loop(t), failure_reporter());
}

asio::awaitable<outcome<v1::Welcome>> client::connect() {
    closed_ = false;
    auto t = co_await open_and_greet();
    if (!t) {
        co_return t.error();
    }
    start(*t);
    co_return welcome_;
}

asio::awaitable<void> client::read_loop(std::shared_ptr<transport> t) {
    auto alive = alive_;
    for (;;) {
        auto [ec, data] = co_await t->read();
        if (!*alive) {
            co_return;
        }
        if (ec) {
            on_lost(t);
            co_return;
        }
        auto msg = protocol::decode_server(data, max_incoming_frame);
        if (!msg) {
            continue;
        }
        if (msg->request_id() == 0) {
            on_push(std::move(*msg));
            continue;
        }
        auto it = pending_.find(msg->request_id());
        if (it == pending_.end()) {
            continue;
        }
        auto p = it->second;
        pending_.erase(it);
        if (msg->has_error()) {
            p->answer = fail(static_cast<errc>(msg->error().code()), msg->error().message(),
                             msg->error().retry_after_ms());
        } else {
            p->answer = std::move(*msg);
        }
        p->signal->cancel();
    }
}

asio::awaitable<void> client::write_loop(std::shared_ptr<transport> t) {
    auto alive = alive_;
    for (;;) {
        while (!outbox_.empty() && transport_ == t) {
            std::string frame = std::move(outbox_.front());
            outbox_.pop_front();
            auto ec = co_await t->write(frame);
            if (!*alive) {
                co_return;
            }
            if (ec) {
                on_lost(t);
                co_return;
            }
        }
        if (transport_ != t) {
            co_return;
        }
        outbox_signal_.expires_at(asio::steady_timer::time_point::max());
        co_await outbox_signal_.async_wait(nothrow);
        if (!*alive) {
            co_return;
        }
    }
}

void client::enqueue(const std::string& frame) {
    outbox_.push_back(frame);
    outbox_signal_.cancel();
}

void client::fail_pending(const failure& f, bool keep_resendable) {
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (keep_resendable && it->second->resend) {
            ++it;
            continue;
        }
        it->second->answer = f;
        it->second->signal->cancel();
        it = pending_.erase(it);
    }
}

void client::on_lost(const std::shared_ptr<transport>& t) {
    if (transport_ != t) {
        return;
    }
    transport_.reset();
    outbox_.clear();
    outbox_signal_.cancel();
    const bool come_back = !closed_ && opts_.reconnect && !token_.empty();
    fail_pending(lost(), come_back);
    if (!come_back) {
        push_signal_.cancel();
        return;
    }
    if (!reconnecting_) {
        reconnecting_ = true;
        asio::co_spawn(executor_, reconnect_loop(), failure_reporter());
    }
}

asio::awaitable<void> client::reconnect_loop() {
    auto alive = alive_;
    auto backoff = opts_.min_backoff;
    asio::steady_timer pause(executor_);
    for (;;) {
        pause.expires_after(backoff);
        co_await pause.async_wait(nothrow);
        if (!*alive) {
            co_return;
        }
        if (closed_) {
            reconnecting_ = false;
            co_return;
        }
        auto t = co_await open_and_greet();
        if (!*alive) {
            co_return;
        }
        if (t) {
            start(*t);
            break;
        }
        if (t.error().code == errc::unauthenticated) {
            // The session ended meanwhile (logout, password change): the
            // user has to log in again.
            token_.clear();
            signed_out_ = true;
            reconnecting_ = false;
            fail_pending(t.error(), false);
            push_signal_.cancel();
            co_return;
        }
        backoff = std::min(std::max(backoff * 2, std::chrono::milliseconds(1)), opts_.max_backoff);
    }
    reconnecting_ = false;
    ++reconnections_;
    // Unanswered requests go out again in their first order; sends carry
    // their client_msg_id, so the server stores each one once.
    for (const auto& [id, p] : pending_) {
        enqueue(p->frame);
    }
    for (auto& [channel, f] : channels_) {
        if (!f.syncing) {
            asio::co_spawn(executor_, resync(channel), failure_reporter());
        }
    }
}

void client::push(v1::ServerMessage msg) {
    pushes_.push_back(std::move(msg));
    push_signal_.cancel();
}

void client::deliver_in_order(std::uint64_t channel_id) {
    auto& f = channels_[channel_id];
    while (!f.early.empty()) {
        auto it = f.early.begin();
        if (it->first <= f.last) {
            f.early.erase(it);
        } else if (it->first == f.last + 1) {
            f.last = it->first;
            push(std::move(it->second));
            f.early.erase(it);
        } else {
            break;
        }
    }
}

void client::on_push(v1::ServerMessage msg) {
    if (!msg.has_event()) {
        push(std::move(msg));
        return;
    }
    const auto channel = msg.event().channel_id();
    const auto seq = msg.event().seq();
    auto [it, first_seen] = channels_.try_emplace(channel);
    auto& f = it->second;
    if (first_seen) {
        // A channel seen for the first time is followed from this event on.
        f.last = seq - 1;
    }
    if (seq <= f.last) {
        return;
    }
    f.early.emplace(seq, std::move(msg));
    deliver_in_order(channel);
    auto& g = channels_[channel];
    if (!g.early.empty() && !g.syncing) {
        asio::co_spawn(executor_, resync(channel), failure_reporter());
    }
}

void client::follow(std::uint64_t channel_id, std::uint64_t after_seq) {
    auto& f = channels_[channel_id];
    f.last = std::max(f.last, after_seq);
    if (!f.syncing && transport_) {
        asio::co_spawn(executor_, resync(channel_id), failure_reporter());
    }
}

std::uint64_t client::last_seq(std::uint64_t channel_id) const {
    auto it = channels_.find(channel_id);
    return it == channels_.end() ? 0 : it->second.last;
}

asio::awaitable<void> client::resync(std::uint64_t channel_id) {
    auto alive = alive_;
    channels_[channel_id].syncing = true;
    for (;;) {
        auto after = channels_[channel_id].last;
        auto answer = co_await call(make([&](v1::ClientMessage& m) {
                                        m.mutable_sync()->mutable_channel()->set_id(channel_id);
                                        m.mutable_sync()->set_after_seq(after);
                                    }),
                                    false);
        if (!*alive) {
            co_return;
        }
        auto& f = channels_[channel_id];
        if (!answer || !answer->has_events()) {
            // Lost again: the next reconnection starts a new resync.
            f.syncing = false;
            co_return;
        }
        if (answer->events().full_resync()) {
            // The server's history ends before what was seen here (restored
            // from a backup): follow it from where it is, or every new event
            // would look like one already delivered.
            f.last = answer->events().last_seq();
            f.early.clear();
            ++history_resets_;
        }
        for (auto& event : *answer->mutable_events()->mutable_events()) {
            const auto seq = event.seq();
            v1::ServerMessage msg;
            *msg.mutable_event() = std::move(event);
            f.early.emplace(seq, std::move(msg));
        }
        deliver_in_order(channel_id);
        const bool more = answer->events().has_more() || !f.early.empty();
        if (!more) {
            f.syncing = false;
            co_return;
        }
    }
}

asio::awaitable<outcome<v1::ServerMessage>> client::call(v1::ClientMessage msg, bool resend) {
    auto alive = alive_;
    if (closed_) {
        co_return fail(errc::unavailable, "the client is closed");
    }
    if (!transport_ && !reconnecting_) {
        co_return fail(errc::unavailable, "not connected");
    }
    const auto id = ++next_request_id_;
    msg.set_request_id(id);
    auto p = std::make_shared<pending>();
    p->frame = protocol::encode(msg);
    p->resend = resend;
    p->signal = std::make_shared<asio::steady_timer>(executor_);
    pending_[id] = p;
    if (transport_) {
        enqueue(p->frame);
    }
    p->signal->expires_after(opts_.request_timeout);
    co_await p->signal->async_wait(nothrow);
    if (!*alive) {
        co_return fail(errc::unavailable, "the client is gone");
    }
    if (p->answer) {
        co_return std::move(*p->answer);
    }
    pending_.erase(id);
    co_return fail(errc::unavailable, "no answer from the server in time");
}

asio::awaitable<outcome<v1::ServerMessage>> client::request(v1::ClientMessage msg) {
    co_return co_await call(std::move(msg), true);
}

namespace {

// The field of `envelope`'s oneof `body` that holds messages of type `type`.
const google::protobuf::FieldDescriptor* body_field(const google::protobuf::Descriptor& envelope,
                                                    const google::protobuf::Descriptor& type) {
    const auto* body = envelope.FindOneofByName("body");
    for (int i = 0; i < body->field_count(); ++i) {
        if (body->field(i)->message_type() == &type) {
            return body->field(i);
        }
    }
    return nullptr;
}

outcome<void> done(const outcome<v1::Ok>& r) {
    if (!r) {
        return r.error();
    }
    return {};
}

}  // namespace

asio::awaitable<outcome<void>> client::exchange(const google::protobuf::Message& body,
                                                google::protobuf::Message& answer, bool resend) {
    v1::ClientMessage msg;
    const auto* request_field = body_field(*msg.GetDescriptor(), *body.GetDescriptor());
    if (!request_field) {
        co_return fail(errc::internal, "not a request: " + body.GetDescriptor()->full_name());
    }
    msg.GetReflection()->MutableMessage(&msg, request_field)->CopyFrom(body);
    auto r = co_await call(std::move(msg), resend);
    if (!r) {
        co_return r.error();
    }
    const auto* answer_field = body_field(*r->GetDescriptor(), *answer.GetDescriptor());
    if (!answer_field || !r->GetReflection()->HasField(*r, answer_field)) {
        co_return unexpected();
    }
    answer.GetReflection()->Swap(&answer, r->GetReflection()->MutableMessage(&*r, answer_field));
    co_return outcome<void>{};
}

asio::awaitable<outcome<v1::Session>> client::login(std::string name, std::string password) {
    v1::Login body;
    body.set_name(std::move(name));
    body.set_password(std::move(password));
    auto session = co_await ask(std::move(body));
    if (session) {
        token_ = session->token();
        signed_out_ = false;
    }
    co_return session;
}

asio::awaitable<outcome<v1::Session>> client::resume(std::string token) {
    v1::Resume body;
    body.set_token(token);
    auto session = co_await ask(std::move(body));
    if (session) {
        token_ = std::move(token);
        signed_out_ = false;
    }
    co_return session;
}

asio::awaitable<outcome<void>> client::logout() {
    auto r = done(co_await ask(v1::Logout{}));
    if (r) {
        token_.clear();
    }
    co_return r;
}

asio::awaitable<outcome<v1::Channel>> client::create_channel(std::string name, std::string topic,
                                                             bool is_private) {
    v1::CreateChannel body;
    body.set_name(std::move(name));
    body.set_topic(std::move(topic));
    body.set_private_(is_private);
    co_return co_await ask(std::move(body));
}

asio::awaitable<outcome<std::vector<v1::Channel>>> client::list_channels() {
    auto list = co_await ask(v1::ListChannels{});
    if (!list) {
        co_return list.error();
    }
    co_return std::vector<v1::Channel>(list->channels().begin(), list->channels().end());
}

asio::awaitable<outcome<v1::Channel>> client::join(v1::ChannelRef channel) {
    v1::JoinChannel body;
    *body.mutable_channel() = std::move(channel);
    co_return co_await ask(std::move(body));
}

asio::awaitable<outcome<void>> client::leave(v1::ChannelRef channel) {
    v1::LeaveChannel body;
    *body.mutable_channel() = std::move(channel);
    co_return done(co_await ask(std::move(body)));
}

asio::awaitable<outcome<void>> client::invite(v1::ChannelRef channel, std::string user) {
    v1::Invite body;
    *body.mutable_channel() = std::move(channel);
    body.set_user(std::move(user));
    co_return done(co_await ask(std::move(body)));
}

asio::awaitable<outcome<void>> client::kick(v1::ChannelRef channel, std::string user) {
    v1::Kick body;
    *body.mutable_channel() = std::move(channel);
    body.set_user(std::move(user));
    co_return done(co_await ask(std::move(body)));
}

asio::awaitable<outcome<void>> client::set_member_role(v1::ChannelRef channel, std::string user,
                                                       v1::MemberRole role) {
    v1::SetMemberRole body;
    *body.mutable_channel() = std::move(channel);
    body.set_user(std::move(user));
    body.set_role(role);
    co_return done(co_await ask(std::move(body)));
}

asio::awaitable<outcome<void>> client::set_topic(v1::ChannelRef channel, std::string topic) {
    v1::SetTopic body;
    *body.mutable_channel() = std::move(channel);
    body.set_topic(std::move(topic));
    co_return done(co_await ask(std::move(body)));
}

asio::awaitable<outcome<std::vector<v1::Member>>> client::members(v1::ChannelRef channel) {
    v1::ListMembers body;
    *body.mutable_channel() = std::move(channel);
    auto list = co_await ask(std::move(body));
    if (!list) {
        co_return list.error();
    }
    co_return std::vector<v1::Member>(list->members().begin(), list->members().end());
}

asio::awaitable<outcome<v1::Channel>> client::open_direct(std::string user) {
    v1::OpenDirect body;
    body.set_user(std::move(user));
    co_return co_await ask(std::move(body));
}

std::string client::new_message_id() {
    return random_id();
}

asio::awaitable<outcome<v1::Sent>> client::send(v1::ChannelRef channel, std::string text,
                                                std::string client_msg_id) {
    v1::SendMessage body;
    *body.mutable_channel() = std::move(channel);
    body.set_text(std::move(text));
    body.set_client_msg_id(client_msg_id.empty() ? random_id() : std::move(client_msg_id));
    co_return co_await ask(std::move(body));
}

asio::awaitable<outcome<void>> client::edit(v1::ChannelRef channel, std::uint64_t seq,
                                            std::string text) {
    v1::EditMessage body;
    *body.mutable_channel() = std::move(channel);
    body.set_seq(seq);
    body.set_text(std::move(text));
    co_return done(co_await ask(std::move(body)));
}

asio::awaitable<outcome<void>> client::erase(v1::ChannelRef channel, std::uint64_t seq) {
    v1::DeleteMessage body;
    *body.mutable_channel() = std::move(channel);
    body.set_seq(seq);
    co_return done(co_await ask(std::move(body)));
}

asio::awaitable<outcome<v1::Events>> client::history(v1::ChannelRef channel,
                                                     std::uint64_t before_seq,
                                                     std::uint64_t after_seq, std::uint32_t limit) {
    v1::GetHistory body;
    *body.mutable_channel() = std::move(channel);
    body.set_before_seq(before_seq);
    body.set_after_seq(after_seq);
    body.set_limit(limit);
    co_return co_await ask(std::move(body));
}

asio::awaitable<outcome<v1::Events>> client::sync(v1::ChannelRef channel, std::uint64_t after_seq,
                                                  std::uint32_t limit) {
    v1::Sync body;
    *body.mutable_channel() = std::move(channel);
    body.set_after_seq(after_seq);
    body.set_limit(limit);
    co_return co_await ask(std::move(body));
}

asio::awaitable<outcome<void>> client::mark_read(v1::ChannelRef channel, std::uint64_t seq) {
    v1::MarkRead body;
    *body.mutable_channel() = std::move(channel);
    body.set_seq(seq);
    co_return done(co_await ask(std::move(body)));
}

asio::awaitable<outcome<void>> client::typing(v1::ChannelRef channel) {
    v1::Typing body;
    *body.mutable_channel() = std::move(channel);
    co_return done(co_await ask(std::move(body)));
}

asio::awaitable<std::optional<v1::ServerMessage>> client::next_push(
    std::chrono::milliseconds timeout) {
    auto alive = alive_;
    if (pushes_.empty() && !closed_) {
        push_signal_.expires_after(timeout);
        co_await push_signal_.async_wait(nothrow);
        if (!*alive) {
            co_return std::nullopt;
        }
    }
    if (pushes_.empty()) {
        co_return std::nullopt;
    }
    auto msg = std::move(pushes_.front());
    pushes_.pop_front();
    co_return msg;
}

void client::drop() {
    if (transport_) {
        transport_->cut();
    }
}

asio::awaitable<void> client::close() {
    closed_ = true;
    fail_pending(fail(errc::unavailable, "the client is closed"), false);
    push_signal_.cancel();
    if (auto t = std::exchange(transport_, nullptr)) {
        outbox_signal_.cancel();
        co_await t->close();
    }
}

}  // namespace relais::client
