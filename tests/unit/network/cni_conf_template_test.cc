#include "network/cni_conf_template.h"

#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/support/temp_dir.h"

namespace cricket::network {
namespace {

using ::cricket::testing::TempDir;

PodCidrs Cidrs(const char* text) { return *ParsePodCidrs(text); }

// containerd's documented template shape (docs/cri/config.md), for a dual-stack node.
constexpr std::string_view kRangesTemplate =
    "{{- /* a comment */ -}}\n"
    "{\"ranges\": [{{range $i, $range := .PodCIDRRanges}}{{if $i}}, {{end}}"
    "[{\"subnet\": \"{{$range}}\"}]{{end}}],\n"
    " \"routes\": [{{range $i, $route := .Routes}}{{if $i}}, {{end}}"
    "{\"dst\": \"{{$route}}\"}{{end}}]}";

TEST(CniConfTemplateTest, PodCidrIsTheFirstRange) {
  auto out = RenderCniConfTemplate("{\"subnet\": \"{{.PodCIDR}}\"}",
                                   Cidrs("10.244.1.0/24,fd00::/64"), "t");
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(*out, "{\"subnet\": \"10.244.1.0/24\"}");
}

TEST(CniConfTemplateTest, RangeLoopsWithSeparators) {
  auto out = RenderCniConfTemplate(kRangesTemplate, Cidrs("10.244.1.0/24,fd00::/64"), "t");
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(*out,
            "{\"ranges\": [[{\"subnet\": \"10.244.1.0/24\"}], [{\"subnet\": \"fd00::/64\"}]],\n"
            " \"routes\": [{\"dst\": \"0.0.0.0/0\"}, {\"dst\": \"::/0\"}]}");
}

TEST(CniConfTemplateTest, SingleRangeHasNoSeparator) {
  auto out = RenderCniConfTemplate(kRangesTemplate, Cidrs("10.244.1.0/24"), "t");
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(*out,
            "{\"ranges\": [[{\"subnet\": \"10.244.1.0/24\"}]],\n"
            " \"routes\": [{\"dst\": \"0.0.0.0/0\"}]}");
}

TEST(CniConfTemplateTest, TrimMarksEatWhitespace) {
  auto out = RenderCniConfTemplate("a  \n {{- .PodCIDR -}} \n  b", Cidrs("10.1.0.0/16"), "t");
  ASSERT_TRUE(out.ok()) << out.error().ToString();
  EXPECT_EQ(*out, "a10.1.0.0/16b");
}

TEST(CniConfTemplateTest, UnsupportedActionsAreRefusedByName) {
  const std::pair<const char*, const char*> cases[] = {
      {"{{.NodeName}}", "t: unsupported template action {{.NodeName}}"},
      {"{{range $i, $r := .Pods}}x{{end}}",
       "t: unsupported template action {{range $i, $r := .Pods}}"},
      {"{{if $i}}x{{end}}", "t: unsupported template action {{if $i}}"},
      {"{{range $r := .Routes}}x", "t: {{range $r := .Routes}} has no {{end}}"},
      {"x {{end}}", "t: unsupported template action {{end}}"},
      {"x {{.PodCIDR", "t: unclosed {{"},
  };
  for (const auto& [tmpl, message] : cases) {
    auto out = RenderCniConfTemplate(tmpl, Cidrs("10.1.0.0/16"), "t");
    ASSERT_FALSE(out.ok()) << tmpl;
    EXPECT_EQ(out.error().code(), Code::kFailedPrecondition) << tmpl;
    EXPECT_EQ(out.error().message(), message);
  }
}

constexpr std::string_view kConflistTemplate =
    "{\"cniVersion\": \"1.0.0\", \"name\": \"tmpl-net\", \"plugins\": [{\"type\": \"bridge\", "
    "\"ipam\": {\"type\": \"host-local\", \"ranges\": [[{\"subnet\": \"{{.PodCIDR}}\"}]]}}]}";

TEST(CniConfTemplateTest, WritesTheConflistAtomically) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Join("cni.tmpl"), kConflistTemplate, 0600).ok());
  auto written =
      WriteCniConfFromTemplate(dir.Join("cni.tmpl"), dir.Join("net.d"), Cidrs("10.244.7.0/24"));
  ASSERT_TRUE(written.ok()) << written.error().ToString();
  EXPECT_EQ(*written, dir.Join("net.d/10-cricket-net.conflist"));
  EXPECT_NE(ReadFile(*written)->find("\"subnet\": \"10.244.7.0/24\""), std::string::npos);
  struct stat st {};
  ASSERT_EQ(::stat(written->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  // Only the conflist: no temp file left beside it.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir.Join("net.d")),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(CniConfTemplateTest, ResultThatIsNotACniConfigurationWritesNothing) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Join("cni.tmpl"), "{\"subnet\": \"{{.PodCIDR}}\"}", 0600).ok());
  auto written =
      WriteCniConfFromTemplate(dir.Join("cni.tmpl"), dir.Join("net.d"), Cidrs("10.244.7.0/24"));
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(written.error().message().find("network.cni_conf_template " + dir.Join("cni.tmpl")),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir.Join("net.d/10-cricket-net.conflist")));
}

TEST(CniConfTemplateTest, MissingTemplateNamesTheKey) {
  TempDir dir;
  auto written =
      WriteCniConfFromTemplate(dir.Join("absent.tmpl"), dir.Join("net.d"), Cidrs("10.1.0.0/16"));
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(
      written.error().message().rfind("network.cni_conf_template " + dir.Join("absent.tmpl"), 0),
      0u);
}

}  // namespace
}  // namespace cricket::network
