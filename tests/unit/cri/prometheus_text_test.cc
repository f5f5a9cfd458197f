// The exposition writer, the histogram, the call and pull counters and the process collector,
// each checked line by line by our own format checker (tests/support/prometheus_format_check.h),
// which is tested here too: it must refuse what the format forbids.

#include "cri/prometheus_text.h"

#include <unistd.h>

#include <cmath>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "common/files.h"
#include "cri/prometheus_histogram.h"
#include "cri/prometheus_metrics.h"
#include "cri/prometheus_process.h"
#include "tests/support/prometheus_format_check.h"
#include "tests/support/temp_dir.h"

namespace cricket::cri::prometheus {
namespace {

using ::cricket::testing::CheckExposition;

TEST(PrometheusTextTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(EscapeHelp("a\\b\"c\nd"), "a\\\\b\"c\\nd");  // quotes stay in HELP
  TextWriter out;
  out.Family("x_total", "counter", "two\nlines \\ here");
  out.Sample("x_total", {{"path", "C:\\dir \"q\"\n"}}, 1);
  EXPECT_EQ(out.text(),
            "# HELP x_total two\\nlines \\\\ here\n"
            "# TYPE x_total counter\n"
            "x_total{path=\"C:\\\\dir \\\"q\\\"\\n\"} 1\n");
  EXPECT_EQ(CheckExposition(out.text()), "");
}

TEST(PrometheusTextTest, FormatsValues) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(12345678901234), "12345678901234");
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(-3), "-3");
  EXPECT_EQ(FormatValue(INFINITY), "+Inf");
  EXPECT_EQ(FormatValue(-INFINITY), "-Inf");
  EXPECT_EQ(FormatValue(NAN), "NaN");
}

TEST(PrometheusTextTest, HistogramBucketsAreCumulativeAndEndInInf) {
  static constexpr double kBounds[] = {0.1, 1, 10};
  AtomicHistogram h(kBounds);
  for (double v : {0.05, 0.1, 0.5, 5.0, 50.0, 500.0}) {
    h.Observe(v);
  }
  TextWriter out;
  out.Family("t_seconds", "histogram", "test");
  out.Histogram("t_seconds", {{"m", "a"}}, h.Read());
  EXPECT_EQ(out.text(),
            "# HELP t_seconds test\n# TYPE t_seconds histogram\n"
            "t_seconds_bucket{m=\"a\",le=\"0.1\"} 2\n"  // 0.1 is in its own bucket (le: <=)
            "t_seconds_bucket{m=\"a\",le=\"1\"} 3\n"
            "t_seconds_bucket{m=\"a\",le=\"10\"} 4\n"
            "t_seconds_bucket{m=\"a\",le=\"+Inf\"} 6\n"
            "t_seconds_sum{m=\"a\"} 555.65\n"
            "t_seconds_count{m=\"a\"} 6\n");
  EXPECT_EQ(CheckExposition(out.text()), "");
}

TEST(PrometheusTextTest, CheckerRefusesWhatTheFormatForbids) {
  const std::string head = "# TYPE a_total counter\n";
  EXPECT_NE(CheckExposition(head + "a_total 1"), "");                     // no final newline
  EXPECT_NE(CheckExposition("a_total 1\n"), "");                          // no TYPE first
  EXPECT_NE(CheckExposition(head + "a_total{x=\"1\"} 1\n\n"), "");        // blank line
  EXPECT_NE(CheckExposition(head + "a_total{x=\"a\\q\"} 1\n"), "");       // bad escape
  EXPECT_NE(CheckExposition(head + "a_total{x=\"a\"b\"} 1\n"), "");       // raw quote
  EXPECT_NE(CheckExposition(head + "a_total{x=\"1\",x=\"2\"} 1\n"), "");  // repeated label
  EXPECT_NE(CheckExposition(head + "a_total{1x=\"1\"} 1\n"), "");         // bad label name
  EXPECT_NE(CheckExposition(head + "a_total one\n"), "");                 // bad value
  EXPECT_NE(CheckExposition(head + "a_total inf\n"), "");                 // Go spells +Inf
  EXPECT_NE(CheckExposition(head + "a_total -1\n"), "");                  // negative counter
  EXPECT_NE(CheckExposition(head + "a_total 1\na_total 2\n"), "");        // repeated series
  EXPECT_NE(CheckExposition("# TYPE a counter\na 1\n"), "");              // counter sans _total
  EXPECT_NE(CheckExposition(head + "b_total 1\n"), "");                   // wrong family
  EXPECT_NE(CheckExposition(head + "a_total{x=\"1\"} 1\n# TYPE b gauge\nb 1\n"
                                   "a_total{x=\"2\"} 1\n"),
            "");  // not contiguous
  const std::string hist = "# TYPE h histogram\n";
  EXPECT_NE(CheckExposition(hist + "h_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"), "");  // no +Inf
  EXPECT_NE(CheckExposition(hist + "h_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\n"
                                   "h_count 1\n"),
            "");  // decreasing
  EXPECT_NE(CheckExposition(hist + "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n"), "");
  EXPECT_NE(CheckExposition(hist + "h_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\n"
                                   "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),
            "");  // le not ascending
  EXPECT_EQ(CheckExposition(hist + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 0.5\n"
                                   "h_count 1\n"),
            "");
}

TEST(CriMetricsTest, CountsCallsByMethodAndCode) {
  CriMetrics metrics;
  metrics.RecordRpc("/runtime.v1.RuntimeService/Version", 0, 0.002);
  metrics.RecordRpc("/runtime.v1.RuntimeService/Version", 0, 0.004);
  metrics.RecordRpc("/runtime.v1.RuntimeService/RunPodSandbox", 3, 0.5);
  metrics.RecordImagePull(true, 1000, 2);
  metrics.RecordImagePull(false, 0, 0.2);
  TextWriter out;
  metrics.Write(out);
  const std::string& text = out.text();
  EXPECT_EQ(CheckExposition(text), "") << text;
  EXPECT_NE(text.find("grpc_server_handled_total{grpc_service=\"runtime.v1.RuntimeService\","
                      "grpc_method=\"Version\",grpc_code=\"OK\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("grpc_server_handled_total{grpc_service=\"runtime.v1.RuntimeService\","
                      "grpc_method=\"RunPodSandbox\",grpc_code=\"InvalidArgument\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("grpc_server_handling_seconds_bucket{grpc_service=\"runtime.v1."
                "RuntimeService\",grpc_method=\"Version\",grpc_code=\"OK\",le=\"0.005\"} 2\n"),
      std::string::npos);
  EXPECT_NE(text.find("cricket_image_pulls_total{result=\"success\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("cricket_image_pulls_total{result=\"failure\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("cricket_image_pull_bytes_total 1000\n"), std::string::npos);
  EXPECT_NE(text.find("cricket_image_pull_duration_seconds_count 2\n"), std::string::npos);
}

TEST(CriMetricsTest, ConcurrentCallsAreAllCounted) {
  CriMetrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        metrics.RecordRpc(t % 2 == 0 ? "/s.S/A" : "/s.S/B", i % 3, 0.001 * i);
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  TextWriter out;
  metrics.Write(out);
  EXPECT_EQ(CheckExposition(out.text()), "");
  double total = 0;
  std::string line;
  std::istringstream in(out.text());
  while (std::getline(in, line)) {
    if (line.starts_with("grpc_server_handled_total{")) {
      total += std::stod(line.substr(line.rfind(' ') + 1));
    }
  }
  EXPECT_EQ(total, 4000);
}

TEST(ProcessMetricsTest, ReadsStatLimitsAndFds) {
  ::cricket::testing::TempDir proc;
  ASSERT_TRUE(MakeDirs(proc.Join("self/fd"), 0755).ok());
  for (const char* fd : {"0", "1", "2"}) {
    ASSERT_TRUE(WriteFileAtomic(proc.Join(std::string("self/fd/") + fd), "", 0644).ok());
  }
  // pid (comm with ") ( spaces") state ... : utime 100, stime 50 ticks, 7 threads,
  // starttime 1000 ticks, vsize 4096000, rss 10 pages.
  std::string stat = "42 (cricket) (d) S";
  for (int field = 4; field <= 52; ++field) {
    std::string v = "0";
    v = field == 14   ? "100"
        : field == 15 ? "50"
        : field == 20 ? "7"
        : field == 22 ? "1000"
        : field == 23 ? "4096000"
        : field == 24 ? "10"
                      : v;
    stat += " " + v;
  }
  ASSERT_TRUE(WriteFileAtomic(proc.Join("self/stat"), stat + "\n", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(proc.Join("self/limits"),
                              "Limit                     Soft Limit           Hard Limit   Units\n"
                              "Max open files            1024                 524288       files\n",
                              0644)
                  .ok());
  ASSERT_TRUE(WriteFileAtomic(proc.Join("stat"), "cpu  1 2 3\nbtime 1700000000\n", 0644).ok());
  TextWriter out;
  WriteProcessMetrics(out, proc.path());
  const std::string& text = out.text();
  EXPECT_EQ(CheckExposition(text), "") << text;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  EXPECT_NE(text.find("process_cpu_seconds_total " + FormatValue(150 / ticks) + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("process_resident_memory_bytes " + FormatValue(10 * page) + "\n"),
            std::string::npos);
  EXPECT_NE(text.find("process_virtual_memory_bytes 4096000\n"), std::string::npos);
  EXPECT_NE(text.find("process_open_fds 3\n"), std::string::npos);
  EXPECT_NE(text.find("process_max_fds 1024\n"), std::string::npos);
  EXPECT_NE(text.find("process_threads 7\n"), std::string::npos);
  EXPECT_NE(
      text.find("process_start_time_seconds " + FormatValue(1700000000 + 1000 / ticks) + "\n"),
      std::string::npos);
}

TEST(ProcessMetricsTest, OwnProcessAndMissingFiles) {
  TextWriter out;
  WriteProcessMetrics(out);
  EXPECT_EQ(CheckExposition(out.text()), "") << out.text();
  EXPECT_NE(out.text().find("process_resident_memory_bytes "), std::string::npos);
  ::cricket::testing::TempDir empty;
  TextWriter none;
  WriteProcessMetrics(none, empty.path());  // nothing readable: nothing written, no crash
  EXPECT_EQ(none.text(), "");
}

}  // namespace
}  // namespace cricket::cri::prometheus
