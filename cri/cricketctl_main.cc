// cricketctl: the operator's CLI for cricketd's admin API (cricket.admin.v1).
//
//   cricketctl [--socket PATH] [--json] volumes ls
//   cricketctl [--socket PATH] volumes inspect|snapshot|release NAME
//   cricketctl [--socket PATH] version
//   cricketctl [--socket PATH] images import FILE|- | export REF FILE|- | pull REF
//   cricketctl [--config PATH] check
//
// ls prints a table (JSON with --json); inspect and snapshot print JSON. version is the CRI
// Version call. check inspects this node (cri/admin/node_check.h), needs no cricketd, and exits
// 1 when a check FAILs. Exit status otherwise: 0, 1 when cricketd answers with an error (printed
// with its gRPC code), 2 for bad usage.

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>

#include "cri/admin/node_check.h"
#include "cri/config.h"
#include "cri/cricketctl_images.h"
#include "cricket/admin/v1/volumes.grpc.pb.h"
#include "runtime/v1/api.grpc.pb.h"

namespace {

namespace admin_v1 = ::cricket::admin::v1;

int Usage() {
  std::fprintf(stderr,
               "usage: cricketctl [--socket PATH] [--json] volumes ls\n"
               "       cricketctl [--socket PATH] volumes inspect|snapshot|release NAME\n"
               "       cricketctl [--socket PATH] version\n"
               "       cricketctl [--socket PATH] images import FILE|- | export REF FILE|- | "
               "pull REF\n"
               "       cricketctl [--config PATH] check\n"
               "  --socket PATH   cricketd's socket (default /run/cricket/cricket.sock)\n"
               "  --config PATH   cricketd's config file for check (default %s)\n",
               std::string(cricket::cri::kDefaultConfigPath).c_str());
  return 2;
}

std::string Json(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

int Failed(const grpc::Status& status) {
  std::fprintf(stderr, "cricketctl: %s (code %d)\n", status.error_message().c_str(),
               static_cast<int>(status.error_code()));
  return 1;
}

std::string Short(const std::string& digest) {
  return digest.size() > 19 ? digest.substr(0, 19) : digest;
}

void PrintTable(const admin_v1::ListVolumesResponse& resp) {
  std::printf("%-24s %-20s %-8s %-20s %-6s %s\n", "VOLUME", "OWNER", "TOKEN", "HEAD", "HERE",
              "STATE");
  for (const auto& v : resp.volumes()) {
    std::string state = v.stale() ? "stale" : v.attached_here() ? "attached" : "-";
    if (v.attached_here()) {
      state += " users=" + std::to_string(v.users_size());
    }
    std::printf("%-24s %-20s %-8lld %-20s %-6s %s\n", v.name().c_str(),
                v.owner().empty() ? "-" : v.owner().c_str(), static_cast<long long>(v.token()),
                v.head().empty() ? "-" : Short(v.head()).c_str(), v.attached_here() ? "yes" : "no",
                state.c_str());
  }
}

// The node check with cricketd's configuration (the file it would read, flags not included).
int Check(const std::string& config_path) {
  std::vector<std::string> args;
  if (!config_path.empty()) {
    args = {"--config", config_path};
  }
  auto config = cricket::cri::ResolveConfig(args);
  if (!config.ok()) {
    std::fprintf(stderr, "cricketctl: %s\n", config.error().message().c_str());
    return 2;
  }
  cricket::cri::admin::LinuxNodeCheckEnv env;
  auto rows = cricket::cri::admin::CheckNode(env, *config);
  std::fputs(cricket::cri::admin::FormatCheckTable(rows).c_str(), stdout);
  return cricket::cri::admin::CheckExitCode(rows);
}

int Version(const std::string& socket) {
  auto stub = ::runtime::v1::RuntimeService::NewStub(
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  ::runtime::v1::VersionResponse resp;
  grpc::Status status = stub->Version(&ctx, {}, &resp);
  if (!status.ok()) {
    return Failed(status);
  }
  std::printf("Version:  %s\nRuntimeName:  %s\nRuntimeVersion:  %s\nRuntimeApiVersion:  %s\n",
              resp.version().c_str(), resp.runtime_name().c_str(), resp.runtime_version().c_str(),
              resp.runtime_api_version().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket = "/run/cricket/cricket.sock";
  std::string config_path;
  bool json = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--socket" && i + 1 < argc) {
      socket = argv[++i];
    } else if (arg.starts_with("--socket=")) {
      socket = arg.substr(9);
    } else if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.starts_with("--config=")) {
      config_path = arg.substr(9);
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "-h" || arg == "--help") {
      Usage();
      return 0;
    } else {
      args.push_back(arg);
    }
  }
  if (args.size() == 1 && args[0] == "check") {
    return Check(config_path);
  }
  if (args.size() == 1 && args[0] == "version") {
    return Version(socket);
  }
  if (!args.empty() && args[0] == "images") {
    return cricket::cri::ImagesCommand(socket, {args.begin() + 1, args.end()});
  }
  if (args.size() < 2 || args[0] != "volumes") {
    return Usage();
  }
  const std::string& verb = args[1];
  const bool named = verb == "inspect" || verb == "snapshot" || verb == "release";
  if ((verb == "ls" && args.size() != 2) || (named && args.size() != 3) ||
      (!named && verb != "ls")) {
    return Usage();
  }
  auto stub = admin_v1::Volumes::NewStub(
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  if (verb == "ls") {
    admin_v1::ListVolumesResponse resp;
    grpc::Status status = stub->List(&ctx, {}, &resp);
    if (!status.ok()) {
      return Failed(status);
    }
    if (json) {
      std::printf("%s\n", Json(resp).c_str());
    } else {
      PrintTable(resp);
    }
    return 0;
  }
  if (verb == "inspect") {
    admin_v1::InspectVolumeRequest req;
    req.set_name(args[2]);
    admin_v1::InspectVolumeResponse resp;
    grpc::Status status = stub->Inspect(&ctx, req, &resp);
    if (!status.ok()) {
      return Failed(status);
    }
    std::printf("%s\n", Json(resp.volume()).c_str());
    return 0;
  }
  if (verb == "snapshot") {
    admin_v1::SnapshotVolumeRequest req;
    req.set_name(args[2]);
    admin_v1::SnapshotVolumeResponse resp;
    grpc::Status status = stub->Snapshot(&ctx, req, &resp);
    if (!status.ok()) {
      return Failed(status);
    }
    std::printf("%s\n", Json(resp).c_str());
    return 0;
  }
  admin_v1::ReleaseVolumeRequest req;
  req.set_name(args[2]);
  admin_v1::ReleaseVolumeResponse resp;
  grpc::Status status = stub->Release(&ctx, req, &resp);
  if (!status.ok()) {
    return Failed(status);
  }
  std::printf("volume %s released\n", args[2].c_str());
  return 0;
}
