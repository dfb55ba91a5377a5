// The text /metrics serves: Prometheus reads cumulative buckets, escaped
// label values and one HELP and TYPE per family; a scraper that misreads
// them draws wrong graphs without any error.
#include <gtest/gtest.h>

#include "protocol/relais.pb.h"
#include "server/core/metrics.hpp"

namespace relais::core::metrics {
namespace {

TEST(metrics, histogram_buckets_are_cumulative_with_an_inf_bucket_sum_and_count) {
    histogram h({0.01, 0.1, 0.5, 1});
    // Values exact in binary, so that the sum is too; 0.5 falls in le="0.5".
    for (double v : {0.0078125, 0.0078125, 0.0625, 0.5, 7.0}) {
        h.observe(v);
    }
    text out;
    out.histogram("relais_x_seconds", "A test.", h.read());
    EXPECT_EQ(out.str(),
              "# HELP relais_x_seconds A test.\n"
              "# TYPE relais_x_seconds histogram\n"
              "relais_x_seconds_bucket{le=\"0.01\"} 2\n"
              "relais_x_seconds_bucket{le=\"0.1\"} 3\n"
              "relais_x_seconds_bucket{le=\"0.5\"} 4\n"
              "relais_x_seconds_bucket{le=\"1\"} 4\n"
              "relais_x_seconds_bucket{le=\"+Inf\"} 5\n"
              "relais_x_seconds_sum 7.578125\n"
              "relais_x_seconds_count 5\n");
}

TEST(metrics, label_values_escape_backslash_quote_and_newline) {
    EXPECT_EQ(label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

TEST(metrics, answers_are_counted_by_kind_and_code_and_odd_numbers_stay_in_range) {
    using M = v1::ClientMessage;
    service_metrics m;
    m.answered(M::kSendMessage, 0);
    m.answered(M::kSendMessage, 0);
    m.answered(M::kLogin, v1::UNAUTHENTICATED);
    // A kind or a code out of the tables' range is counted, not written
    // out of bounds.
    m.answered(9999, v1::FORBIDDEN);
    m.answered(M::kSendMessage, 99);
    text out;
    m.render(out, 7);
    const auto& s = out.str();
    EXPECT_NE(s.find("relais_requests_total{kind=\"send_message\",code=\"ok\"} 2\n"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("relais_requests_total{kind=\"login\",code=\"unauthenticated\"} 1\n"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("relais_requests_total{kind=\"undecodable\",code=\"forbidden\"} 1\n"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("relais_requests_total{kind=\"send_message\",code=\"internal\"} 1\n"),
              std::string::npos)
        << s;
    EXPECT_NE(s.find("relais_login_failures_total 1\n"), std::string::npos) << s;
    EXPECT_NE(s.find("relais_messages_sent_total 2\n"), std::string::npos) << s;
    EXPECT_NE(s.find("relais_deliveries_total 7\n"), std::string::npos) << s;
}

}  // namespace
}  // namespace relais::core::metrics
