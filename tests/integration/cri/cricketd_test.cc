// cricketd as a process: a real daemon on a fresh temp root/state, a real gRPC client on its
// unix socket.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "common/files.h"
#include "runtime/v1/api.grpc.pb.h"
#include "tests/integration/cri/cricketd_fixture.h"
#include "tests/support/cricketd_process.h"
#include "tests/support/temp_dir.h"

namespace cricket {
namespace {

using namespace std::chrono_literals;
using ::cricket::testing::CricketdProcess;
using ::cricket::testing::TempDir;
using ::cricket::testing::UnixChannel;
namespace v1 = ::runtime::v1;

class CricketdTest : public ::cricket::testing::CricketdFixture {};

TEST_F(CricketdTest, ServesVersionStatusAndRuntimeConfig) {
  auto daemon = LaunchReady();
  auto stub = v1::RuntimeService::NewStub(UnixChannel(socket()));

  grpc::ClientContext version_ctx;
  v1::VersionResponse version;
  ASSERT_TRUE(stub->Version(&version_ctx, {}, &version).ok());
  EXPECT_EQ(version.runtime_name(), "cricket");
  EXPECT_EQ(version.runtime_api_version(), "v1");
  EXPECT_FALSE(version.runtime_version().empty());

  grpc::ClientContext status_ctx;
  v1::StatusRequest status_req;
  status_req.set_verbose(true);
  v1::StatusResponse status;
  ASSERT_TRUE(stub->Status(&status_ctx, status_req, &status).ok());
  std::set<std::string> types;
  for (const auto& c : status.status().conditions()) {
    types.insert(c.type());
  }
  EXPECT_EQ(types, (std::set<std::string>{"RuntimeReady", "NetworkReady"}));
  EXPECT_TRUE(status.info().contains("cgroup"));
  // Advertised exactly where they work (critest skips what is not advertised).
  ASSERT_EQ(status.runtime_handlers_size(), 1);
  EXPECT_TRUE(status.runtime_handlers(0).features().recursive_read_only_mounts());
  EXPECT_TRUE(status.runtime_handlers(0).features().user_namespaces());
  EXPECT_TRUE(status.features().supplemental_groups_policy());

  grpc::ClientContext config_ctx;
  v1::RuntimeConfigResponse config;
  ASSERT_TRUE(stub->RuntimeConfig(&config_ctx, {}, &config).ok());
  EXPECT_EQ(config.linux().cgroup_driver(), v1::CgroupDriver::CGROUPFS);
}

// No rpc answers UNIMPLEMENTED any more (issue #16): on an empty node the streaming lists end
// OK without a message, and a checkpoint of no container names what is wrong with the request.
TEST_F(CricketdTest, EveryRpcHasAHandler) {
  auto daemon = LaunchReady();
  auto runtime = v1::RuntimeService::NewStub(UnixChannel(socket()));
  grpc::ClientContext ctx;
  v1::CheckpointContainerResponse resp;
  grpc::Status status = runtime->CheckpointContainer(&ctx, {}, &resp);
  EXPECT_NE(status.error_code(), grpc::StatusCode::UNIMPLEMENTED) << status.error_message();
  EXPECT_FALSE(status.ok());

  auto images = v1::ImageService::NewStub(UnixChannel(socket()));
  grpc::ClientContext image_ctx;
  auto image_reader = images->StreamImages(&image_ctx, {});
  v1::StreamImagesResponse batch;
  EXPECT_FALSE(image_reader->Read(&batch));
  status = image_reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();

  grpc::ClientContext stats_ctx;
  auto reader = runtime->StreamContainerStats(&stats_ctx, {});
  v1::StreamContainerStatsResponse stats;
  EXPECT_FALSE(reader->Read(&stats));
  status = reader->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// kubelet keeps a GetContainerEvents stream open for good: it must not hold up a shutdown.
TEST_F(CricketdTest, AnOpenEventStreamEndsWithTheDaemon) {
  auto daemon = LaunchReady();
  auto runtime = v1::RuntimeService::NewStub(UnixChannel(socket()));
  grpc::ClientContext ctx;
  auto reader = runtime->GetContainerEvents(&ctx, {});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // subscribed
  auto start = std::chrono::steady_clock::now();
  daemon->Signal(SIGTERM);
  v1::ContainerEventResponse event;
  EXPECT_FALSE(reader->Read(&event));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  auto exited = daemon->WaitExit(std::chrono::seconds(30));
  ASSERT_TRUE(exited.has_value());
  EXPECT_EQ(*exited, 0);
  // Below cricketd's 5 s shutdown grace, which a stream holding it up would use up.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4500ms);
}

TEST_F(CricketdTest, SocketIs0660AndItsNewDirectory0711) {
  auto daemon = LaunchReady();
  struct stat st {};
  ASSERT_EQ(::stat(socket().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0660u);
  ASSERT_EQ(::stat(state().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0711u);
}

TEST_F(CricketdTest, SigtermExitsZeroWithinTwoSecondsAndRemovesSocket) {
  auto daemon = LaunchReady();
  auto start = std::chrono::steady_clock::now();
  daemon->Signal(SIGTERM);
  auto status = daemon->WaitExit(30s);
  ASSERT_TRUE(status.has_value()) << "cricketd did not exit within 30 s of SIGTERM";
  // Quick = below the 5 s shutdown grace (2 s was missed on loaded machines).
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4500ms);
  ASSERT_TRUE(WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 0) << daemon->Stderr();
  EXPECT_NE(::access(socket().c_str(), F_OK), 0);
}

TEST_F(CricketdTest, SigtermWithIdleClientConnectedIsStillQuick) {
  auto daemon = LaunchReady();
  auto stub = RuntimeStub();
  grpc::ClientContext ctx;
  v1::VersionResponse version;
  ASSERT_TRUE(stub->Version(&ctx, {}, &version).ok());
  auto start = std::chrono::steady_clock::now();
  daemon->Signal(SIGTERM);
  auto status = daemon->WaitExit(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4500ms);  // below the 5 s shutdown grace
}

TEST_F(CricketdTest, SigintAlsoStopsCleanly) {
  auto daemon = LaunchReady();
  daemon->Signal(SIGINT);
  auto status = daemon->WaitExit(30s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
}

TEST_F(CricketdTest, SecondInstanceOnSameRootIsRefused) {
  auto first = LaunchReady();
  // Same root, another socket: must refuse, naming the root.
  auto second = Launch({"--listen", dir_.Join("other.sock")}, "second.log");
  auto status = second->WaitExit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status));
  EXPECT_NE(WEXITSTATUS(*status), 0);
  EXPECT_NE(second->Stderr().find("another cricketd uses root"), std::string::npos)
      << second->Stderr();
  // The first one still serves.
  auto stub = v1::RuntimeService::NewStub(UnixChannel(socket()));
  grpc::ClientContext ctx;
  v1::VersionResponse version;
  EXPECT_TRUE(stub->Version(&ctx, {}, &version).ok());
}

TEST_F(CricketdTest, SecondInstanceOnSameSocketIsRefused) {
  auto first = LaunchReady();
  auto second = std::make_unique<CricketdProcess>(
      CRICKETD_PATH,
      std::vector<std::string>{"--root", dir_.Join("root2"), "--state", dir_.Join("state2"),
                               "--listen", socket(), "--config", config_path_},
      dir_.Join("second.log"));
  auto status = second->WaitExit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(WEXITSTATUS(*status), 0);
  EXPECT_NE(second->Stderr().find("another cricketd serves"), std::string::npos)
      << second->Stderr();
}

TEST_F(CricketdTest, StaleSocketFromCrashIsReplaced) {
  // A crashed daemon leaves its socket file behind: bind one and close it without unlinking.
  ASSERT_TRUE(MakeDirs(state(), 0711).ok());
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket().c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  ASSERT_EQ(::access(socket().c_str(), F_OK), 0);

  auto daemon = LaunchReady();
  auto stub = v1::RuntimeService::NewStub(UnixChannel(socket()));
  grpc::ClientContext ctx;
  v1::VersionResponse version;
  EXPECT_TRUE(stub->Version(&ctx, {}, &version).ok());
}

TEST_F(CricketdTest, KillNineThenRestartServesAgain) {
  auto first = LaunchReady();
  first->Signal(SIGKILL);
  ASSERT_TRUE(first->WaitExit(5s).has_value());
  auto second = LaunchReady();
  auto stub = v1::RuntimeService::NewStub(UnixChannel(socket()));
  grpc::ClientContext ctx;
  v1::VersionResponse version;
  EXPECT_TRUE(stub->Version(&ctx, {}, &version).ok());
}

TEST_F(CricketdTest, UnknownConfigKeyIsFatalAndNamed) {
  WriteConfig("socket = \"/tmp/y\"");
  auto daemon = Launch();
  auto status = daemon->WaitExit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(WEXITSTATUS(*status), 0);
  EXPECT_NE(daemon->Stderr().find("socket: unknown key"), std::string::npos) << daemon->Stderr();
}

TEST_F(CricketdTest, BadSubnetIsFatalAndNamed) {
  ASSERT_TRUE(WriteFileAtomic(config_path_, NetworkSection() + "subnet = \"10.88.0.0/33\"\n", 0644)
                  .ok());  // appended to [network]
  auto daemon = Launch();
  auto status = daemon->WaitExit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(WEXITSTATUS(*status), 0);
  EXPECT_NE(daemon->Stderr().find("network.subnet: invalid CIDR"), std::string::npos)
      << daemon->Stderr();
}

TEST_F(CricketdTest, BadFlagValueIsFatalAndNamed) {
  auto daemon = Launch({"--log-format", "xml"});
  auto status = daemon->WaitExit(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(WEXITSTATUS(*status), 0);
  EXPECT_NE(daemon->Stderr().find("--log-format"), std::string::npos) << daemon->Stderr();
}

TEST_F(CricketdTest, JsonLogFormat) {
  auto daemon = Launch({"--log-format", "json"});
  ASSERT_TRUE(daemon->WaitReady(socket(), 60s));
  daemon->Signal(SIGTERM);
  ASSERT_TRUE(daemon->WaitExit(5s).has_value());
  std::string log = daemon->Stderr();
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log.front(), '{') << log;
  EXPECT_NE(log.find("\"msg\":\"cricketd serving on"), std::string::npos) << log;
}

}  // namespace
}  // namespace cricket
