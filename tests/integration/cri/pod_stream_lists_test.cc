// The streaming lists (StreamPodSandboxes, StreamContainers, StreamContainerStats,
// StreamPodSandboxStats, StreamImages) through a real cricketd with real pods and containers:
// the same items as the unary List* for the same filter, in messages of at most the chunk size
// (CRICKET_STREAM_CHUNK_ITEMS=2 here, so that a few objects make several messages), and a
// client that cancels mid-stream. Root; images from the registry fixture.

#include <stdlib.h>

#include <functional>
#include <string>
#include <vector>

#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "common/files.h"
#include "tests/integration/cri/pod_fixture.h"

namespace cricket {
namespace {

namespace v1 = ::runtime::v1;
using google::protobuf::util::MessageDifferencer;

constexpr int kChunk = 2;

class StreamListsTest : public ::cricket::testing::PodFixture {
 protected:
  void SetUp() override {
    // Read by cricketd at start-up; the daemon Start() launches inherits it. Teardown's restart
    // (if any) may use the default.
    ::setenv("CRICKET_STREAM_CHUNK_ITEMS", std::to_string(kChunk).c_str(), 1);
    PodFixture::SetUp();
    ::unsetenv("CRICKET_STREAM_CHUNK_ITEMS");
  }

  // Every message of a server stream, and its final status in `status`.
  template <typename Resp, typename Req, typename Call>
  std::vector<Resp> ReadAll(Call call, const Req& req, grpc::Status* status) {
    grpc::ClientContext ctx;
    auto reader = call(&ctx, req);
    std::vector<Resp> out;
    Resp msg;
    while (reader->Read(&msg)) {
      out.push_back(msg);
    }
    *status = reader->Finish();
    return out;
  }

  // The items of `messages`, in order; each message holds 1..kChunk of them.
  template <typename Item, typename Resp, typename Items>
  std::vector<Item> Flatten(const std::vector<Resp>& messages, Items items) {
    std::vector<Item> out;
    for (const auto& msg : messages) {
      const auto& field = items(msg);
      EXPECT_GE(field.size(), 1);
      EXPECT_LE(field.size(), kChunk);
      out.insert(out.end(), field.begin(), field.end());
    }
    return out;
  }

  std::vector<v1::PodSandbox> StreamedPods(const v1::PodSandboxFilter& filter) {
    v1::StreamPodSandboxesRequest req;
    *req.mutable_filter() = filter;
    grpc::Status status;
    auto messages = ReadAll<v1::StreamPodSandboxesResponse>(
        [&](grpc::ClientContext* ctx, const auto& r) {
          return runtime_->StreamPodSandboxes(ctx, r);
        },
        req, &status);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return Flatten<v1::PodSandbox>(messages, [](const auto& m) { return m.pod_sandboxes(); });
  }

  std::vector<v1::PodSandbox> ListedPods(const v1::PodSandboxFilter& filter) {
    grpc::ClientContext ctx;
    v1::ListPodSandboxRequest req;
    *req.mutable_filter() = filter;
    v1::ListPodSandboxResponse resp;
    EXPECT_TRUE(runtime_->ListPodSandbox(&ctx, req, &resp).ok());
    return {resp.items().begin(), resp.items().end()};
  }

  std::vector<v1::Container> StreamedContainers(const v1::ContainerFilter& filter) {
    v1::StreamContainersRequest req;
    *req.mutable_filter() = filter;
    grpc::Status status;
    auto messages = ReadAll<v1::StreamContainersResponse>(
        [&](grpc::ClientContext* ctx, const auto& r) { return runtime_->StreamContainers(ctx, r); },
        req, &status);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return Flatten<v1::Container>(messages, [](const auto& m) { return m.containers(); });
  }

  std::vector<v1::Container> ListedContainers(const v1::ContainerFilter& filter) {
    grpc::ClientContext ctx;
    v1::ListContainersRequest req;
    *req.mutable_filter() = filter;
    v1::ListContainersResponse resp;
    EXPECT_TRUE(runtime_->ListContainers(&ctx, req, &resp).ok());
    return {resp.containers().begin(), resp.containers().end()};
  }

  // The ids of stats items (usage figures change between two calls; the ids and order do not).
  template <typename Stats>
  static std::vector<std::string> Ids(const Stats& items) {
    std::vector<std::string> ids;
    for (const auto& s : items) {
      ids.push_back(s.attributes().id());
    }
    return ids;
  }

  template <typename Item>
  static void ExpectSame(const std::vector<Item>& streamed, const std::vector<Item>& listed,
                         const std::string& what) {
    ASSERT_EQ(streamed.size(), listed.size()) << what;
    for (size_t i = 0; i < listed.size(); ++i) {
      EXPECT_TRUE(MessageDifferencer::Equals(streamed[i], listed[i]))
          << what << " item " << i << ":\n"
          << streamed[i].DebugString() << "vs\n"
          << listed[i].DebugString();
    }
  }
};

TEST_F(StreamListsTest, EachStreamSendsWhatItsUnaryListSendsInChunks) {
  // Three pods (one stopped), three containers (two running, one only created).
  std::vector<v1::PodSandboxConfig> configs;
  std::vector<std::string> pods;
  for (const char* name : {"sa", "sb", "sc"}) {
    configs.push_back(PodConfig(name));
    (*configs.back().mutable_labels())["tier"] = std::string(name) == "sc" ? "back" : "front";
    pods.push_back(RunPod(configs.back()));
  }
  std::vector<std::string> ctrs(3);
  ASSERT_TRUE(CreateContainer(pods[0], configs[0], "c1", "exec busybox sleep 1000", &ctrs[0]).ok());
  ASSERT_TRUE(CreateContainer(pods[0], configs[0], "c2", "exec busybox sleep 1000", &ctrs[1]).ok());
  ASSERT_TRUE(CreateContainer(pods[1], configs[1], "c3", "exec busybox sleep 1000", &ctrs[2]).ok());
  ASSERT_TRUE(StartContainer(ctrs[0]).ok());
  ASSERT_TRUE(StartContainer(ctrs[1]).ok());
  {
    grpc::ClientContext ctx;
    v1::StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(pods[2]);
    v1::StopPodSandboxResponse stopped;
    ASSERT_TRUE(runtime_->StopPodSandbox(&ctx, stop, &stopped).ok());
  }

  // Pods: no filter (3 items: 2 messages), labels, state, id prefix.
  std::vector<v1::PodSandboxFilter> pod_filters(4);
  (*pod_filters[1].mutable_label_selector())["tier"] = "front";
  pod_filters[2].mutable_state()->set_state(v1::SANDBOX_READY);
  pod_filters[3].set_id(pods[1].substr(0, 12));
  const std::vector<size_t> pod_counts = {3, 2, 2, 1};
  for (size_t i = 0; i < pod_filters.size(); ++i) {
    auto streamed = StreamedPods(pod_filters[i]);
    EXPECT_EQ(streamed.size(), pod_counts[i]) << "pod filter " << i;
    ExpectSame(streamed, ListedPods(pod_filters[i]), "pod filter " + std::to_string(i));
  }

  // Containers: no filter, pod, state, labels.
  std::vector<v1::ContainerFilter> ctr_filters(4);
  ctr_filters[1].set_pod_sandbox_id(pods[0]);
  ctr_filters[2].mutable_state()->set_state(v1::CONTAINER_CREATED);
  (*ctr_filters[3].mutable_label_selector())["name"] = "c2";
  const std::vector<size_t> ctr_counts = {3, 2, 1, 1};
  for (size_t i = 0; i < ctr_filters.size(); ++i) {
    auto streamed = StreamedContainers(ctr_filters[i]);
    EXPECT_EQ(streamed.size(), ctr_counts[i]) << "container filter " << i;
    ExpectSame(streamed, ListedContainers(ctr_filters[i]), "container filter " + std::to_string(i));
  }

  // Container stats: all, one pod's.
  for (const std::string& pod : {std::string(), pods[0]}) {
    v1::StreamContainerStatsRequest req;
    req.mutable_filter()->set_pod_sandbox_id(pod);
    grpc::Status status;
    auto messages = ReadAll<v1::StreamContainerStatsResponse>(
        [&](grpc::ClientContext* ctx, const auto& r) {
          return runtime_->StreamContainerStats(ctx, r);
        },
        req, &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto streamed =
        Flatten<v1::ContainerStats>(messages, [](const auto& m) { return m.container_stats(); });
    grpc::ClientContext ctx;
    v1::ListContainerStatsRequest list;
    list.mutable_filter()->set_pod_sandbox_id(pod);
    v1::ListContainerStatsResponse listed;
    ASSERT_TRUE(runtime_->ListContainerStats(&ctx, list, &listed).ok());
    EXPECT_EQ(Ids(streamed), Ids(listed.stats())) << "container stats of pod '" << pod << "'";
    EXPECT_EQ(streamed.size(), pod.empty() ? 3U : 2U);
  }

  // Pod stats (ready pods only, as the unary list): all, by label.
  for (const std::string& tier : {std::string(), std::string("front")}) {
    v1::StreamPodSandboxStatsRequest req;
    v1::ListPodSandboxStatsRequest list;
    if (!tier.empty()) {
      (*req.mutable_filter()->mutable_label_selector())["tier"] = tier;
      (*list.mutable_filter()->mutable_label_selector())["tier"] = tier;
    }
    grpc::Status status;
    auto messages = ReadAll<v1::StreamPodSandboxStatsResponse>(
        [&](grpc::ClientContext* ctx, const auto& r) {
          return runtime_->StreamPodSandboxStats(ctx, r);
        },
        req, &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto streamed =
        Flatten<v1::PodSandboxStats>(messages, [](const auto& m) { return m.pod_sandbox_stats(); });
    grpc::ClientContext ctx;
    v1::ListPodSandboxStatsResponse listed;
    ASSERT_TRUE(runtime_->ListPodSandboxStats(&ctx, list, &listed).ok());
    EXPECT_EQ(Ids(streamed), Ids(listed.stats())) << "pod stats, tier '" << tier << "'";
    EXPECT_EQ(streamed.size(), 2U);
  }

  // Images: all, and the one the filter names.
  auto images = ImageStub();
  for (const std::string& ref : {std::string(), image_}) {
    v1::StreamImagesRequest req;
    req.mutable_filter()->mutable_image()->set_image(ref);
    grpc::Status status;
    auto messages = ReadAll<v1::StreamImagesResponse>(
        [&](grpc::ClientContext* ctx, const auto& r) { return images->StreamImages(ctx, r); }, req,
        &status);
    ASSERT_TRUE(status.ok()) << status.error_message();
    auto streamed = Flatten<v1::Image>(messages, [](const auto& m) { return m.images(); });
    grpc::ClientContext ctx;
    v1::ListImagesRequest list;
    list.mutable_filter()->mutable_image()->set_image(ref);
    v1::ListImagesResponse listed;
    ASSERT_TRUE(images->ListImages(&ctx, list, &listed).ok());
    ExpectSame(streamed, {listed.images().begin(), listed.images().end()}, "images " + ref);
    EXPECT_FALSE(streamed.empty());
  }
}

// A client that reads one message and cancels: its call ends CANCELLED and cricketd serves on.
// Whether cricketd itself sees the cancel depends on timing (gRPC may have buffered every message
// already), so that part is ChunkedStreamTest's (a cancelled sink stops the listing).
TEST_F(StreamListsTest, ACancelledStreamEndsAndTheDaemonServesOn) {
  std::vector<std::string> pods;
  for (const char* name : {"ca", "cb", "cc", "cd", "ce"}) {
    v1::PodSandboxConfig config = PodConfig(name);
    (*config.mutable_annotations())["filler"] = std::string(512 << 10, 'x');
    pods.push_back(RunPod(config));
  }
  grpc::ClientContext ctx;
  auto reader = runtime_->StreamPodSandboxes(&ctx, v1::StreamPodSandboxesRequest());
  v1::StreamPodSandboxesResponse first;
  ASSERT_TRUE(reader->Read(&first));
  EXPECT_EQ(first.pod_sandboxes_size(), kChunk);
  ctx.TryCancel();
  v1::StreamPodSandboxesResponse rest;
  while (reader->Read(&rest)) {
  }
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::CANCELLED) << status.error_message();

  // The daemon answers the next call.
  EXPECT_EQ(ListedPods({}).size(), pods.size());
}

}  // namespace
}  // namespace cricket
