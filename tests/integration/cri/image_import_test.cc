// `cricketctl images export|import` through a real cricketd (root): an image exported to an OCI
// archive, removed, imported again from stdin and run as a container; a truncated archive
// refused with nothing left; archives in <root>/images-import/ imported (and pinned) at start;
// `images pull` progress as plain lines when stdout is not a terminal.

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
namespace v1 = ::runtime::v1;

struct Ran {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

Ran Sh(const std::string& command) {
  Ran ran;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return ran;
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    ran.output.append(buffer, n);
  }
  int status = ::pclose(pipe);
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

class CricketctlImagesTest : public ::cricket::testing::PodFixture {
 protected:
  std::string Ctl(const std::string& args) const {
    return std::string(CRICKETCTL_PATH) + " --socket " + socket() + " images " + args;
  }

  v1::ImageStatusResponse ImageStatus(const std::string& ref) {
    grpc::ClientContext ctx;
    v1::ImageStatusRequest req;
    req.mutable_image()->set_image(ref);
    v1::ImageStatusResponse resp;
    EXPECT_TRUE(ImageStub()->ImageStatus(&ctx, req, &resp).ok());
    return resp;
  }

  void RemoveImage(const std::string& ref) {
    grpc::ClientContext ctx;
    v1::RemoveImageRequest req;
    req.mutable_image()->set_image(ref);
    v1::RemoveImageResponse resp;
    ASSERT_TRUE(ImageStub()->RemoveImage(&ctx, req, &resp).ok());
    ASSERT_FALSE(ImageStatus(ref).has_image());
  }

  // Exports image_ to `path` with cricketctl.
  void Export(const std::string& path) {
    Ran exported = Sh(Ctl("export " + image_ + " " + path));
    ASSERT_EQ(exported.exit_code, 0) << exported.output;
  }
};

TEST_F(CricketctlImagesTest, AnExportedImageImportedFromStdinRunsAContainer) {
  const std::string archive = dir_.Join("image.tar");
  Export(archive);
  const std::string id = ImageStatus(image_).image().id();
  // "-" writes the same archive to stdout.
  Ran to_stdout = Sh(Ctl("export " + image_ + " - > " + dir_.Join("stdout.tar")) + " && cmp " +
                     archive + " " + dir_.Join("stdout.tar"));
  EXPECT_EQ(to_stdout.exit_code, 0) << to_stdout.output;
  RemoveImage(image_);

  // A truncated archive: refused, naming the problem, and nothing of it stays.
  const auto size = std::filesystem::file_size(archive);
  Ran truncated =
      Sh("head -c " + std::to_string(size / 2) + " " + archive + " | " + Ctl("import -"));
  EXPECT_EQ(truncated.exit_code, 1) << truncated.output;
  EXPECT_NE(truncated.output.find("truncated"), std::string::npos) << truncated.output;
  EXPECT_FALSE(ImageStatus(image_).has_image());
  EXPECT_TRUE(std::filesystem::is_empty(root() + "/import-tmp"));

  // Valid per the image-spec layout for another tool too: skopeo (hack/packages.d/storage.list)
  // reads the export and writes it again as a `docker save` tarball, which import reads.
  const std::string docker_archive = dir_.Join("docker.tar");
  Ran copied = Sh("skopeo copy --quiet oci-archive:" + archive +
                  " docker-archive:" + docker_archive + ":" + image_);
  ASSERT_EQ(copied.exit_code, 0) << copied.output;
  Ran from_docker = Sh(Ctl("import " + docker_archive));
  ASSERT_EQ(from_docker.exit_code, 0) << from_docker.output;
  EXPECT_EQ(ImageStatus(image_).image().id(), id);
  RemoveImage(image_);

  Ran imported = Sh(Ctl("import - < " + archive));
  ASSERT_EQ(imported.exit_code, 0) << imported.output;
  EXPECT_NE(imported.output.find(id), std::string::npos) << imported.output;
  v1::ImageStatusResponse status = ImageStatus(image_);
  ASSERT_TRUE(status.has_image());
  EXPECT_EQ(status.image().id(), id);

  v1::PodSandboxConfig config = PodConfig("imported");
  std::string pod = RunPod(config);
  std::string ctr;
  ASSERT_TRUE(CreateContainer(pod, config, "app", "exec busybox sleep 100", &ctr).ok());
  ASSERT_TRUE(StartContainer(ctr).ok());
  v1::ExecSyncResponse out;
  ASSERT_TRUE(Exec(ctr, "busybox echo from-imported", &out).ok());
  EXPECT_EQ(out.stdout(), "from-imported\n");
}

TEST_F(CricketctlImagesTest, ArchivesInImagesImportAreImportedAtStartAndPinned) {
  ASSERT_TRUE(MakeDirs(root() + "/images-import", 0700).ok());
  Export(root() + "/images-import/busybox.tar");
  ASSERT_TRUE(WriteFileAtomic(root() + "/images-import/broken.tar", "not a tar", 0644).ok());
  RemoveImage(image_);

  daemon_.reset();
  WriteConfig("[images]\npin_imported = true\n");
  Start();
  v1::ImageStatusResponse status = ImageStatus(image_);
  ASSERT_TRUE(status.has_image());
  EXPECT_TRUE(status.image().pinned());
  const std::string log = ReadFile(dir_.Join("cricketd-2.log")).value_or("");
  EXPECT_NE(log.find("images-import: imported " + root() + "/images-import/busybox.tar"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("images-import: skipped " + root() + "/images-import/broken.tar"),
            std::string::npos)
      << log;
}

// Not a terminal (a pipe): one plain line per finished layer, then the image.
TEST_F(CricketctlImagesTest, PullPrintsPlainProgressLinesWithoutATerminal) {
  RemoveImage(image_);
  Ran pulled = Sh(Ctl("pull " + image_));
  ASSERT_EQ(pulled.exit_code, 0) << pulled.output;
  size_t done_lines = 0;
  for (size_t at = pulled.output.find(" done\n"); at != std::string::npos;
       at = pulled.output.find(" done\n", at + 1)) {
    ++done_lines;
  }
  EXPECT_EQ(done_lines, 2U) << pulled.output;  // the test busybox image has two layers
  EXPECT_NE(pulled.output.find("pulled " + image_ + " as sha256:"), std::string::npos)
      << pulled.output;
  EXPECT_EQ(pulled.output.find("\033["), std::string::npos) << "no terminal escapes in a pipe";
  EXPECT_TRUE(ImageStatus(image_).has_image());
}

// On a terminal (script(1) gives cricketctl a pty): layer lines redrawn in place.
TEST_F(CricketctlImagesTest, PullRedrawsLayerLinesOnATerminal) {
  RemoveImage(image_);
  Ran pulled = Sh("script -qec '" + Ctl("pull " + image_) + "' /dev/null");
  ASSERT_EQ(pulled.exit_code, 0) << pulled.output;
  EXPECT_NE(pulled.output.find("\033[2K"), std::string::npos) << pulled.output;
  EXPECT_NE(pulled.output.find(" done"), std::string::npos) << pulled.output;
  EXPECT_NE(pulled.output.find("pulled " + image_), std::string::npos) << pulled.output;
}

}  // namespace
}  // namespace cricket
