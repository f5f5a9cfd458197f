#include "tests/support/cri_calls.h"

namespace cricket::testing {

namespace v1 = ::runtime::v1;
namespace admin = ::cricket::admin::v1;

v1::PodSandboxConfig MakePodConfig(const std::string& name, const std::string& log_dir) {
  v1::PodSandboxConfig config;
  config.mutable_metadata()->set_name(name);
  config.mutable_metadata()->set_namespace_("default");
  config.mutable_metadata()->set_uid("uid-" + name);
  config.set_hostname(name);
  config.set_log_directory(log_dir + "/" + name);
  return config;
}

v1::ContainerConfig MakeShellContainer(const std::string& name, const std::string& image,
                                       const std::string& script, const std::string& host_path) {
  v1::ContainerConfig c;
  c.mutable_metadata()->set_name(name);
  c.mutable_image()->set_image(image);
  c.add_command("/bin/sh");
  c.add_args("-c");
  c.add_args(script);
  c.set_log_path(name + ".log");
  c.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(0);
  if (!host_path.empty()) {
    v1::Mount& m = *c.add_mounts();
    m.set_host_path(host_path);
    m.set_container_path("/data");
  }
  return c;
}

grpc::Status PullImage(v1::ImageService::Stub& images, const std::string& image) {
  grpc::ClientContext ctx;
  v1::PullImageRequest req;
  req.mutable_image()->set_image(image);
  v1::PullImageResponse resp;
  return images.PullImage(&ctx, req, &resp);
}

grpc::Status RunPod(v1::RuntimeService::Stub& runtime, const v1::PodSandboxConfig& config,
                    std::string* id) {
  grpc::ClientContext ctx;
  v1::RunPodSandboxRequest req;
  *req.mutable_config() = config;
  v1::RunPodSandboxResponse resp;
  grpc::Status status = runtime.RunPodSandbox(&ctx, req, &resp);
  *id = resp.pod_sandbox_id();
  return status;
}

grpc::Status StopAndRemovePod(v1::RuntimeService::Stub& runtime, const std::string& pod) {
  grpc::ClientContext stop_ctx;
  v1::StopPodSandboxRequest stop;
  stop.set_pod_sandbox_id(pod);
  v1::StopPodSandboxResponse stopped;
  grpc::Status status = runtime.StopPodSandbox(&stop_ctx, stop, &stopped);
  if (!status.ok()) {
    return status;
  }
  grpc::ClientContext ctx;
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(pod);
  v1::RemovePodSandboxResponse resp;
  return runtime.RemovePodSandbox(&ctx, req, &resp);
}

grpc::Status RemoveAllPods(v1::RuntimeService::Stub& runtime) {
  grpc::ClientContext ctx;
  v1::ListPodSandboxResponse pods;
  grpc::Status listed = runtime.ListPodSandbox(&ctx, {}, &pods);
  if (!listed.ok()) {
    return listed;
  }
  grpc::Status first = grpc::Status::OK;
  for (const auto& pod : pods.items()) {
    grpc::Status removed = StopAndRemovePod(runtime, pod.id());
    if (!removed.ok() && first.ok()) {
      first = removed;
    }
  }
  return first;
}

grpc::Status CreateContainer(v1::RuntimeService::Stub& runtime, const std::string& pod,
                             const v1::PodSandboxConfig& pod_config,
                             const v1::ContainerConfig& config, std::string* id) {
  grpc::ClientContext ctx;
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(pod);
  *req.mutable_sandbox_config() = pod_config;
  *req.mutable_config() = config;
  v1::CreateContainerResponse resp;
  grpc::Status status = runtime.CreateContainer(&ctx, req, &resp);
  *id = resp.container_id();
  return status;
}

grpc::Status StartContainer(v1::RuntimeService::Stub& runtime, const std::string& id) {
  grpc::ClientContext ctx;
  v1::StartContainerRequest req;
  req.set_container_id(id);
  v1::StartContainerResponse resp;
  return runtime.StartContainer(&ctx, req, &resp);
}

grpc::Status ExecShell(v1::RuntimeService::Stub& runtime, const std::string& id,
                       const std::string& script, int64_t timeout_s, v1::ExecSyncResponse* resp) {
  grpc::ClientContext ctx;
  v1::ExecSyncRequest req;
  req.set_container_id(id);
  req.add_cmd("/bin/sh");
  req.add_cmd("-c");
  req.add_cmd(script);
  req.set_timeout(timeout_s);
  return runtime.ExecSync(&ctx, req, resp);
}

int CountContainers(v1::RuntimeService::Stub& runtime) {
  grpc::ClientContext ctx;
  v1::ListContainersResponse list;
  if (!runtime.ListContainers(&ctx, {}, &list).ok()) {
    return -1;
  }
  return list.containers_size();
}

std::optional<admin::Volume> FindVolume(admin::Volumes::Stub& admin, const std::string& name,
                                        grpc::Status* status) {
  grpc::ClientContext ctx;
  admin::ListVolumesResponse resp;
  grpc::Status listed = admin.List(&ctx, {}, &resp);
  if (status != nullptr) {
    *status = listed;
  }
  for (const auto& v : resp.volumes()) {
    if (v.name() == name) {
      return v;
    }
  }
  return std::nullopt;
}

grpc::Status SnapshotVolume(admin::Volumes::Stub& admin, const std::string& name,
                            admin::SnapshotVolumeResponse* resp) {
  grpc::ClientContext ctx;
  admin::SnapshotVolumeRequest req;
  req.set_name(name);
  return admin.Snapshot(&ctx, req, resp);
}

}  // namespace cricket::testing
