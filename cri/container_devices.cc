#include "cri/container_devices.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <filesystem>
#include <set>

namespace cricket::cri {
namespace {

namespace v1 = ::runtime::v1;

// The node at `host_path` as a device at `container_path`; nullopt when it is no device.
Result<std::optional<oci::Device>> DeviceAt(const std::string& host_path,
                                            const std::string& container_path) {
  struct stat st {};
  if (::stat(host_path.c_str(), &st) < 0) {  // follows links: /dev/disk/by-id/... are links
    return Error::FromErrno(errno, "device " + host_path);
  }
  oci::Device device;
  if (S_ISCHR(st.st_mode)) {
    device.type = "c";
  } else if (S_ISBLK(st.st_mode)) {
    device.type = "b";
  } else {
    return std::optional<oci::Device>();
  }
  device.path = container_path;
  device.major = major(st.st_rdev);
  device.minor = minor(st.st_rdev);
  device.file_mode = st.st_mode & 07777;
  device.uid = st.st_uid;
  device.gid = st.st_gid;
  return std::optional(device);
}

void Allow(const oci::Device& device, const std::string& access, oci::Spec& spec) {
  auto& resources = spec.linux->resources ? *spec.linux->resources : spec.linux->resources.emplace();
  resources.devices.push_back(
      oci::DeviceCgroup{true, device.type, device.major, device.minor, access});
}

}  // namespace

Result<std::vector<oci::Device>> DevicesBelow(const std::string& dir, const std::string& prefix) {
  static const std::set<std::string> kSkipped = {"pts", "shm", "mqueue", "fd", "ptmx", "console"};
  std::vector<oci::Device> out;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) {
    return Error::FromErrno(ec.value(), "list devices in " + dir);
  }
  for (const auto& entry : it) {
    const std::string name = entry.path().filename();
    if (name.starts_with(".") || kSkipped.contains(name)) {
      continue;
    }
    if (entry.is_directory(ec) && !entry.is_symlink(ec)) {
      CR_ASSIGN_OR_RETURN(auto below, DevicesBelow(entry.path(), prefix + "/" + name));
      out.insert(out.end(), below.begin(), below.end());
      continue;
    }
    if (entry.is_symlink(ec)) {
      continue;  // the node it names is listed under its own name
    }
    auto device = DeviceAt(entry.path(), prefix + "/" + name);
    if (device.ok() && device->has_value()) {
      out.push_back(**device);
    }
  }
  return out;
}

Result<void> AddDevices(const v1::ContainerConfig& config, oci::Spec& spec) {
  if (config.linux().security_context().privileged()) {
    CR_ASSIGN_OR_RETURN(auto host, DevicesBelow("/dev", "/dev"));
    for (auto& device : host) {
      spec.linux->devices.push_back(std::move(device));  // the cgroup already allows all
    }
  }
  for (int i = 0; i < config.devices_size(); ++i) {
    const v1::Device& want = config.devices(i);
    const std::string field = "devices[" + std::to_string(i) + "]";
    std::string access = want.permissions().empty() ? "rwm" : want.permissions();
    if (access.find_first_not_of("rwm") != std::string::npos) {
      return Error(Code::kInvalidArgument,
                   field + ".permissions: " + access + " (expected some of r, w, m)");
    }
    if (want.host_path().empty() || want.container_path().empty() ||
        want.container_path().front() != '/') {
      return Error(Code::kInvalidArgument,
                   field + ": host_path and an absolute container_path are required");
    }
    CR_ASSIGN_OR_RETURN(auto device, DeviceAt(want.host_path(), want.container_path()));
    if (device) {
      Allow(*device, access, spec);
      spec.linux->devices.push_back(std::move(*device));
      continue;
    }
    if (!std::filesystem::is_directory(want.host_path())) {
      return Error(Code::kInvalidArgument,
                   field + ": " + want.host_path() + " is neither a device nor a directory");
    }
    CR_ASSIGN_OR_RETURN(auto below, DevicesBelow(want.host_path(), want.container_path()));
    for (auto& d : below) {
      Allow(d, access, spec);
      spec.linux->devices.push_back(std::move(d));
    }
  }
  return Ok();
}

}  // namespace cricket::cri
