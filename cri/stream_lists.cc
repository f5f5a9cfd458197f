// StreamPodSandboxes, StreamContainers, StreamContainerStats, StreamPodSandboxStats and
// StreamImages: the unary lists' bodies (same filters, same items) with their items sent in
// messages of at most deps_.stream_chunk_items (cri/chunked_stream.h).

#include <charconv>
#include <cstring>

#include "cri/chunked_stream.h"
#include "cri/service.h"

namespace cricket::cri {

size_t StreamChunkItemsFrom(const char* env_value) {
  if (env_value == nullptr) {
    return kDefaultStreamChunkItems;
  }
  size_t items = 0;
  const char* end = env_value + std::strlen(env_value);
  auto [ptr, ec] = std::from_chars(env_value, end, items);
  if (ec != std::errc() || ptr != end || items == 0) {
    return kDefaultStreamChunkItems;
  }
  return items;
}

Result<void> CriService::StreamPodSandboxes(const v1::StreamPodSandboxesRequest& req,
                                            StreamSink<v1::StreamPodSandboxesResponse>& sink) {
  return StreamInChunks(
      sink, &v1::StreamPodSandboxesResponse::mutable_pod_sandboxes, deps_.stream_chunk_items,
      [&](const ItemSlot<v1::PodSandbox>& slot) { return ListPodSandboxInto(req.filter(), slot); });
}

Result<void> CriService::StreamContainers(const v1::StreamContainersRequest& req,
                                          StreamSink<v1::StreamContainersResponse>& sink) {
  return StreamInChunks(
      sink, &v1::StreamContainersResponse::mutable_containers, deps_.stream_chunk_items,
      [&](const ItemSlot<v1::Container>& slot) { return ListContainersInto(req.filter(), slot); });
}

Result<void> CriService::StreamContainerStats(const v1::StreamContainerStatsRequest& req,
                                              StreamSink<v1::StreamContainerStatsResponse>& sink) {
  return StreamInChunks(sink, &v1::StreamContainerStatsResponse::mutable_container_stats,
                        deps_.stream_chunk_items, [&](const ItemSlot<v1::ContainerStats>& slot) {
                          return ListContainerStatsInto(req.filter(), slot);
                        });
}

Result<void> CriService::StreamPodSandboxStats(
    const v1::StreamPodSandboxStatsRequest& req,
    StreamSink<v1::StreamPodSandboxStatsResponse>& sink) {
  return StreamInChunks(sink, &v1::StreamPodSandboxStatsResponse::mutable_pod_sandbox_stats,
                        deps_.stream_chunk_items, [&](const ItemSlot<v1::PodSandboxStats>& slot) {
                          return ListPodSandboxStatsInto(req.filter(), slot);
                        });
}

Result<void> CriService::StreamImages(const v1::StreamImagesRequest& req,
                                      StreamSink<v1::StreamImagesResponse>& sink) {
  return StreamInChunks(
      sink, &v1::StreamImagesResponse::mutable_images, deps_.stream_chunk_items,
      [&](const ItemSlot<v1::Image>& slot) { return ListImagesInto(req.filter(), slot); });
}

}  // namespace cricket::cri
