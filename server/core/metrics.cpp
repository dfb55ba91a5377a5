#include "server/core/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "protocol/relais.pb.h"

namespace relais::core::metrics {

histogram::histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1) {}

void histogram::observe(double value) noexcept {
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
}

histogram::reading histogram::read() const {
    reading r;
    r.upper_bounds = bounds_;
    std::uint64_t running = 0;
    for (const auto& c : counts_) {
        running += c.load(std::memory_order_relaxed);
        r.cumulative.push_back(running);
    }
    r.sum = sum_.load(std::memory_order_relaxed);
    return r;
}

namespace {

std::string number(double v) {
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    char buffer[32];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    return ec == std::errc{} ? std::string(buffer, end) : "NaN";
}

}  // namespace

std::string label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\' || c == '"') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

void text::family(std::string_view name, std::string_view type, std::string_view help) {
    out_.append("# HELP ").append(name).append(" ").append(help).append("\n");
    out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void text::sample(std::string_view name, std::string_view labels, double value) {
    out_.append(name);
    if (!labels.empty()) {
        out_.append("{").append(labels).append("}");
    }
    out_.append(" ").append(number(value)).append("\n");
}

void text::sample(std::string_view name, std::string_view labels, std::uint64_t value) {
    out_.append(name);
    if (!labels.empty()) {
        out_.append("{").append(labels).append("}");
    }
    out_.append(" ").append(std::to_string(value)).append("\n");
}

void text::histogram(std::string_view name, std::string_view help,
                     const metrics::histogram::reading& r) {
    family(name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    for (std::size_t i = 0; i < r.cumulative.size(); ++i) {
        const double bound = i < r.upper_bounds.size() ? r.upper_bounds[i] : INFINITY;
        sample(bucket, "le=\"" + number(bound) + "\"", r.cumulative[i]);
    }
    sample(std::string(name) + "_sum", "", r.sum);
    sample(std::string(name) + "_count", "", r.cumulative.back());
}

void service_metrics::render(text& out, std::uint64_t deliveries) const {
    const auto* body = v1::ClientMessage::descriptor();
    auto kind_name = [&](std::size_t k) -> std::string {
        const auto* field = k == 0 ? nullptr : body->FindFieldByNumber(static_cast<int>(k));
        return field ? field->name() : "undecodable";
    };
    auto outcome_name = [](std::size_t c) {
        if (c == 0) {
            return std::string("ok");
        }
        std::string name = v1::ErrorCode_Name(static_cast<v1::ErrorCode>(c));
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
        return name;
    };
    auto answered = [&](int kind, std::size_t code) {
        return answers[static_cast<std::size_t>(kind)][code].value();
    };
    std::uint64_t login_failures = 0, rate_limited = 0;
    out.family("relais_requests_total", "counter",
               "Requests answered, by kind and outcome (ok or the error code).");
    for (std::size_t k = 0; k < kinds; ++k) {
        for (std::size_t c = 0; c < outcomes; ++c) {
            const auto n = answers[k][c].value();
            if (n != 0) {
                std::string labels = "kind=\"";
                labels.append(label_value(kind_name(k)))
                    .append("\",code=\"")
                    .append(label_value(outcome_name(c)))
                    .append("\"");
                out.sample("relais_requests_total", labels, n);
            }
            if (c == static_cast<std::size_t>(v1::RATE_LIMITED)) {
                rate_limited += n;
            }
        }
    }
    for (std::size_t c = 1; c < outcomes; ++c) {
        login_failures += answered(v1::ClientMessage::kLogin, c);
        login_failures += answered(v1::ClientMessage::kResume, c);
    }
    out.family("relais_logins_total", "counter", "Logins and resumed sessions that succeeded.");
    out.sample("relais_logins_total", "",
               answered(v1::ClientMessage::kLogin, 0) + answered(v1::ClientMessage::kResume, 0));
    out.family("relais_login_failures_total", "counter",
               "Logins and resumptions refused (wrong password or token, disabled account, "
               "rate limit).");
    out.sample("relais_login_failures_total", "", login_failures);
    out.family("relais_messages_sent_total", "counter", "Messages accepted and stored.");
    out.sample("relais_messages_sent_total", "", answered(v1::ClientMessage::kSendMessage, 0));
    out.family("relais_rate_limited_requests_total", "counter",
               "Requests refused because a connection or an account went over its rate.");
    out.sample("relais_rate_limited_requests_total", "", rate_limited);
    out.family("relais_deliveries_total", "counter",
               "Frames fanned out to connections: events and notices (answers are counted "
               "in relais_requests_total).");
    out.sample("relais_deliveries_total", "", deliveries);
    out.histogram("relais_commit_group_jobs", "Write jobs committed in one storage transaction.",
                  commit_group_size.read());
    out.histogram("relais_commit_seconds", "Time to run and commit one group of write jobs.",
                  commit_seconds.read());
    out.histogram("relais_checkpoint_seconds",
                  "Time of one WAL checkpoint pass (copying the WAL into the database).",
                  checkpoint_seconds.read());
}

}  // namespace relais::core::metrics
