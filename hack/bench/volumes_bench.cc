// Portable volume benchmark (issue #7): two cricketd "nodes" on one machine, as in
// tests/integration/cri/portable_volume_fixture.h (own roots, states on tmpfs, sockets, bridges
// and subnets; one local coordination dir and one dir snapshot store shared under a temp dir).
// Prints JSON:
//   handover      a volume of --files × --file-kib random data written on A, handed to B as
//                 kubelet would move the pod: StopPodSandbox + RemovePodSandbox on A (the final
//                 snapshot and the release), then RunPodSandbox + CreateContainer (attach and
//                 restore) + StartContainer on B and a check that the data is there.
//   change        --change-kib rewritten on B, handed back to A: the bytes B uploaded (new blobs
//                 in the dir store) and A downloaded (new blobs in A's layer cache; also the
//                 restore_bytes_downloaded the admin API reports).
//   snapshot_under_write
//                 a container rewriting files for --writer-seconds, once alone and once while
//                 the admin Snapshot RPC runs back to back: the writer's MiB/s both ways and the
//                 snapshots' durations and sizes.
// Periodic snapshots are off (interval 1 h) so each figure is what one step costs. Root; both
// bridges are destroyed and ip_forward restored at the end.
//
//   bench_volumes IMAGE [--files N] [--file-kib K] [--change-kib C] [--writer-seconds S]

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cricket/admin/v1/volumes.grpc.pb.h"
#include "hack/bench/bench_daemon.h"
#include "hack/bench/bench_node.h"
#include "hack/bench/bench_stats.h"
#include "runtime/v1/api.grpc.pb.h"
#include "tests/support/cri_calls.h"

namespace {

namespace v1 = ::runtime::v1;
namespace admin = ::cricket::admin::v1;
using Clock = std::chrono::steady_clock;

using ::cricket::bench::Ms;
using ::cricket::bench::Percentile;

struct Args {
  std::string image;
  int files = 400;
  int file_kib = 256;
  int change_kib = 1024;
  int writer_seconds = 8;
};

constexpr const char* kVolume = "benchvol";
constexpr const char* kChecksums =
    "cd /data && busybox find . -type f | busybox sort | busybox xargs busybox md5sum | "
    "busybox md5sum";

// Every blob in a ContentStore layout (`blobs/sha256/<hex>`) with its size.
std::map<std::string, int64_t> Blobs(const std::string& store) {
  std::map<std::string, int64_t> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(store + "/blobs/sha256", ec)) {
    if (e.is_regular_file(ec)) {
      out[e.path().filename()] = static_cast<int64_t>(e.file_size(ec));
    }
  }
  return out;
}

int64_t NewBytes(const std::map<std::string, int64_t>& before,
                 const std::map<std::string, int64_t>& after) {
  int64_t n = 0;
  for (const auto& [name, size] : after) {
    if (!before.contains(name)) {
      n += size;
    }
  }
  return n;
}

// One cricketd "node" of the two: its BenchNode (own root, state on tmpfs, socket, bridge,
// subnet) with the portable root, coordination dir and snapshot store shared under `shared`.
class Node {
 public:
  Node(std::string name, const std::string& bridge, std::string subnet)
      : name_(std::move(name)),
        subnet_(std::move(subnet)),
        node_("volumes-" + name_, bridge),
        daemon_(node_, CRICKETD_PATH, name_) {}

  const std::string& name() const { return name_; }
  const std::string& dir() const { return node_.dir(); }
  std::string cache() const { return node_.root() + "/volumes/cache"; }
  v1::RuntimeService::Stub& runtime() { return daemon_.runtime(); }
  admin::Volumes::Stub& admin() { return daemon_.volumes(); }
  void KeepDir() { node_.KeepDir(); }

  bool Start(const std::string& shared, const std::string& image) {
    (void)node_.WriteConfig(subnet_, cricket::bench::PortableVolumesToml(shared, name_));
    return daemon_.Start(image);
  }
  // Removes every pod and stops cricketd; the bridge and the state tmpfs go with the Node.
  void Stop() { daemon_.Stop(std::chrono::seconds(10)); }

  v1::PodSandboxConfig PodConfig(const std::string& pod_name) const {
    v1::PodSandboxConfig config;
    config.mutable_metadata()->set_name(pod_name);
    config.mutable_metadata()->set_namespace_("default");
    config.mutable_metadata()->set_uid("uid-" + pod_name);
    config.set_log_directory(dir() + "/logs/" + pod_name);
    return config;
  }

  grpc::Status RunPod(const v1::PodSandboxConfig& config, std::string* id) {
    grpc::ClientContext ctx;
    v1::RunPodSandboxRequest req;
    *req.mutable_config() = config;
    v1::RunPodSandboxResponse resp;
    grpc::Status s = daemon_.runtime().RunPodSandbox(&ctx, req, &resp);
    *id = resp.pod_sandbox_id();
    return s;
  }

  // A container sleeping with the portable volume at /data.
  grpc::Status CreateContainer(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                               const std::string& host_path, const std::string& image,
                               std::string* id) {
    grpc::ClientContext ctx;
    v1::CreateContainerRequest req;
    req.set_pod_sandbox_id(pod);
    *req.mutable_sandbox_config() = pod_config;
    v1::ContainerConfig& c = *req.mutable_config();
    c.mutable_metadata()->set_name("app");
    c.mutable_image()->set_image(image);
    c.add_command("busybox");
    c.add_args("sleep");
    c.add_args("3600");
    c.set_log_path("app.log");
    c.mutable_linux()->mutable_security_context()->mutable_run_as_user()->set_value(0);
    v1::Mount& m = *c.add_mounts();
    m.set_host_path(host_path);
    m.set_container_path("/data");
    v1::CreateContainerResponse resp;
    grpc::Status s = daemon_.runtime().CreateContainer(&ctx, req, &resp);
    *id = resp.container_id();
    return s;
  }

  grpc::Status StartContainer(const std::string& id) {
    grpc::ClientContext ctx;
    v1::StartContainerRequest req;
    req.set_container_id(id);
    v1::StartContainerResponse resp;
    return daemon_.runtime().StartContainer(&ctx, req, &resp);
  }

  grpc::Status StopPod(const std::string& pod) {
    grpc::ClientContext ctx;
    v1::StopPodSandboxRequest req;
    req.set_pod_sandbox_id(pod);
    v1::StopPodSandboxResponse resp;
    return daemon_.runtime().StopPodSandbox(&ctx, req, &resp);
  }

  grpc::Status RemovePodOnly(const std::string& pod) {
    grpc::ClientContext ctx;
    v1::RemovePodSandboxRequest req;
    req.set_pod_sandbox_id(pod);
    v1::RemovePodSandboxResponse resp;
    return daemon_.runtime().RemovePodSandbox(&ctx, req, &resp);
  }

  grpc::Status RemovePod(const std::string& pod) {
    grpc::Status s = StopPod(pod);
    return s.ok() ? RemovePodOnly(pod) : s;
  }

  // Runs `script` in `ctr`; false (with the reason on stderr) unless it exits 0.
  bool Exec(const std::string& ctr, const std::string& script, std::string* out = nullptr,
            int64_t timeout_s = 300) {
    grpc::ClientContext ctx;
    v1::ExecSyncRequest req;
    req.set_container_id(ctr);
    req.add_cmd("/bin/sh");
    req.add_cmd("-c");
    req.add_cmd(script);
    req.set_timeout(timeout_s);
    v1::ExecSyncResponse resp;
    grpc::Status s = daemon_.runtime().ExecSync(&ctx, req, &resp);
    if (!s.ok() || resp.exit_code() != 0) {
      std::cerr << name_ << ": exec " << script << ": " << s.error_message() << resp.stderr()
                << "\n";
      return false;
    }
    if (out != nullptr) {
      *out = resp.stdout();
    }
    return true;
  }

 private:
  std::string name_;
  std::string subnet_;
  cricket::bench::BenchNode node_;  // outlives daemon_: it removes what cricketd leaves
  cricket::bench::BenchDaemon daemon_;
};

struct Bench {
  Args args;
  std::string shared;  // portable root, coordination dir, store
  Node* a = nullptr;
  Node* b = nullptr;
  nlohmann::json out;

  std::string host_path() const { return shared + "/portable/" + kVolume; }
  std::string store() const { return shared + "/store"; }
};

struct PodOnNode {
  std::string pod;
  std::string ctr;
};

// kubelet's moves: the pod goes from `from` (stop + remove: final snapshot, release) and comes
// up on `to` (run, create: attach + restore, start), then `check` runs there. Timings in `out`.
bool MovePod(Bench& bench, Node& from, const PodOnNode& old, Node& to, const std::string& pod_name,
             const std::string& check, PodOnNode* moved, nlohmann::json& out) {
  const auto t0 = Clock::now();
  if (auto s = from.StopPod(old.pod); !s.ok()) {
    std::cerr << from.name() << ": StopPodSandbox: " << s.error_message() << "\n";
    return false;
  }
  const auto t1 = Clock::now();
  if (auto s = from.RemovePodOnly(old.pod); !s.ok()) {
    std::cerr << from.name() << ": RemovePodSandbox: " << s.error_message() << "\n";
    return false;
  }
  const auto t2 = Clock::now();
  auto config = to.PodConfig(pod_name);
  if (auto s = to.RunPod(config, &moved->pod); !s.ok()) {
    std::cerr << to.name() << ": RunPodSandbox: " << s.error_message() << "\n";
    return false;
  }
  const auto t3 = Clock::now();
  if (auto s =
          to.CreateContainer(moved->pod, config, bench.host_path(), bench.args.image, &moved->ctr);
      !s.ok()) {
    std::cerr << to.name() << ": CreateContainer: " << s.error_message() << "\n";
    return false;
  }
  const auto t4 = Clock::now();
  if (auto s = to.StartContainer(moved->ctr); !s.ok()) {
    std::cerr << to.name() << ": StartContainer: " << s.error_message() << "\n";
    return false;
  }
  const auto t5 = Clock::now();
  if (!to.Exec(moved->ctr, check)) {
    return false;
  }
  const auto t6 = Clock::now();
  out["from_stop_pod_ms"] = Ms(t1 - t0);
  out["from_remove_pod_ms"] = Ms(t2 - t1);
  out["final_snapshot_and_release_ms"] = Ms(t2 - t0);
  out["to_run_pod_ms"] = Ms(t3 - t2);
  out["to_create_container_ms"] = Ms(t4 - t3);  // attach: lease + restore
  out["to_start_container_ms"] = Ms(t5 - t4);
  out["to_data_check_ms"] = Ms(t6 - t5);
  out["attach_restore_and_start_ms"] = Ms(t6 - t2);
  out["total_ms"] = Ms(t6 - t0);
  return true;
}

// What the admin API says `node`'s restore at attach downloaded; -1 when it cannot tell.
int64_t RestoreBytes(Node& node) {
  auto row = cricket::testing::FindVolume(node.admin(), kVolume);
  return row && row->attached_here() ? row->restore_bytes_downloaded() : -1;
}

// (a) A writes the volume; the pod moves to B.
bool Handover(Bench& bench, PodOnNode* on_b) {
  Node& a = *bench.a;
  Node& b = *bench.b;
  auto config = a.PodConfig("writer");
  PodOnNode on_a;
  if (auto s = a.RunPod(config, &on_a.pod); !s.ok()) {
    std::cerr << "RunPodSandbox on A: " << s.error_message() << "\n";
    return false;
  }
  if (auto s = a.CreateContainer(on_a.pod, config, bench.host_path(), bench.args.image, &on_a.ctr);
      !s.ok() || !a.StartContainer(on_a.ctr).ok()) {
    std::cerr << "container on A: " << s.error_message() << "\n";
    return false;
  }
  const std::string files = std::to_string(bench.args.files);
  const std::string write = "mkdir -p /data/d0 /data/d1 /data/d2 /data/d3; i=0; while [ $i -lt " +
                            files + " ]; do busybox dd if=/dev/urandom of=/data/d$((i%4))/f$i bs=" +
                            std::to_string(bench.args.file_kib) +
                            "k count=1 2>/dev/null || exit 1; i=$((i+1)); done";
  const auto w0 = Clock::now();
  std::string sums;
  if (!a.Exec(on_a.ctr, write) || !a.Exec(on_a.ctr, kChecksums, &sums)) {
    return false;
  }
  nlohmann::json& out = bench.out["handover"];
  out["files"] = bench.args.files;
  out["volume_bytes"] = int64_t{bench.args.files} * bench.args.file_kib * 1024;
  out["write_on_a_ms"] = Ms(Clock::now() - w0);
  const auto store0 = Blobs(bench.store());
  const auto cache0 = Blobs(b.cache());
  // "Present": every file there with its size; the checksums are compared after the clock.
  const std::string check = "test $(busybox find /data -type f | busybox wc -l) -eq " + files;
  if (!MovePod(bench, a, on_a, b, "reader", check, on_b, out)) {
    return false;
  }
  out["uploaded_by_a_bytes"] = NewBytes(store0, Blobs(bench.store()));
  out["downloaded_by_b_bytes"] = NewBytes(cache0, Blobs(b.cache()));
  out["restored_by_b_bytes_admin"] = RestoreBytes(b);
  std::string sums_b;
  out["identical"] = b.Exec(on_b->ctr, kChecksums, &sums_b) && sums_b == sums;
  out["target_ms"] = 5000;
  return true;
}

// (b) B rewrites --change-kib of existing files; the pod moves back to A.
bool Change(Bench& bench, const PodOnNode& on_b, PodOnNode* on_a) {
  Node& a = *bench.a;
  Node& b = *bench.b;
  const int per_file = bench.args.file_kib;
  const int n = std::max(1, bench.args.change_kib / per_file);
  const std::string change =
      "i=0; while [ $i -lt " + std::to_string(n) +
      " ]; do busybox dd if=/dev/urandom of=/data/d$((i%4))/f$i bs=" + std::to_string(per_file) +
      "k count=1 conv=notrunc 2>/dev/null || exit 1; i=$((i+1)); done";
  std::string sums;
  if (!b.Exec(on_b.ctr, change) || !b.Exec(on_b.ctr, kChecksums, &sums)) {
    return false;
  }
  nlohmann::json& out = bench.out["change"];
  out["changed_bytes"] = int64_t{n} * per_file * 1024;
  const auto store0 = Blobs(bench.store());
  const auto cache0 = Blobs(a.cache());
  const std::string check =
      "test $(busybox find /data -type f | busybox wc -l) -eq " + std::to_string(bench.args.files);
  if (!MovePod(bench, b, on_b, a, "writer2", check, on_a, out["handback"])) {
    return false;
  }
  const int64_t up = NewBytes(store0, Blobs(bench.store()));
  const int64_t down = NewBytes(cache0, Blobs(a.cache()));
  out["uploaded_by_b_bytes"] = up;
  out["downloaded_by_a_bytes"] = down;
  out["moved_bytes"] = up + down;
  out["restored_by_a_bytes_admin"] = RestoreBytes(a);
  out["source"] =
      "uploaded: new blobs in the dir snapshot store (layer, config, manifest); downloaded: new "
      "blobs in A's layer cache <root>/volumes/cache (layer, config); *_admin: the volume's "
      "restore_bytes_downloaded in the admin API (B's final-snapshot upload is not there: its "
      "counters go with its attachment)";
  out["target_bytes_each_way"] = 2 * 1024 * 1024;
  std::string sums_a;
  out["identical"] = a.Exec(on_a->ctr, kChecksums, &sums_a) && sums_a == sums;
  return true;
}

// The writer: rewrites 16 files of 1 MiB of random data round robin for `seconds`; prints the
// MiB written.
std::string WriterScript(int seconds) {
  return "mkdir -p /data/w; end=$(( $(busybox date +%s) + " + std::to_string(seconds) +
         " )); n=0; while [ $(busybox date +%s) -lt $end ]; do busybox dd if=/dev/urandom "
         "of=/data/w/f$((n%16)) bs=1M count=1 2>/dev/null || exit 1; n=$((n+1)); done; echo $n";
}

// MiB/s of one writer run; < 0 when it failed.
double RunWriter(Node& node, const std::string& ctr, int seconds) {
  std::string mib;
  const auto t0 = Clock::now();
  if (!node.Exec(ctr, WriterScript(seconds), &mib, seconds + 120)) {
    return -1;
  }
  return std::stod(mib) / std::chrono::duration<double>(Clock::now() - t0).count();
}

// (c) On A: the writer alone, then the writer while the admin Snapshot RPC runs back to back.
bool SnapshotUnderWrite(Bench& bench, const PodOnNode& on_a) {
  Node& a = *bench.a;
  nlohmann::json& out = bench.out["snapshot_under_write"];
  const int seconds = bench.args.writer_seconds;
  out["writer"] = "16 files x 1 MiB from /dev/urandom rewritten round robin for " +
                  std::to_string(seconds) + " s";
  const double alone = RunWriter(a, on_a.ctr, seconds);
  if (alone < 0) {
    return false;
  }
  std::atomic<bool> done = false;
  std::vector<double> ms;
  std::vector<double> uploaded;
  std::string error;
  std::thread snapshots([&] {
    while (!done) {
      grpc::ClientContext ctx;
      admin::SnapshotVolumeRequest req;
      req.set_name(kVolume);
      admin::SnapshotVolumeResponse resp;
      const auto t0 = Clock::now();
      grpc::Status s = a.admin().Snapshot(&ctx, req, &resp);
      if (!s.ok()) {
        error = s.error_message();
        return;
      }
      ms.push_back(Ms(Clock::now() - t0));
      uploaded.push_back(static_cast<double>(resp.bytes_uploaded()));
    }
  });
  const double with = RunWriter(a, on_a.ctr, seconds);
  done = true;
  snapshots.join();
  if (with < 0 || !error.empty()) {
    std::cerr << "snapshot while writing: " << error << "\n";
    return false;
  }
  out["writer_mib_per_s_alone"] = alone;
  out["writer_mib_per_s_with_snapshots"] = with;
  out["writer_slowdown_percent"] = alone > 0 ? 100.0 * (alone - with) / alone : 0.0;
  out["snapshots"] = ms.size();
  out["snapshot_ms"] = {
      {"median", Percentile(ms, 0.5)}, {"p90", Percentile(ms, 0.9)}, {"max", Percentile(ms, 1.0)}};
  out["snapshot_uploaded_bytes_median"] = Percentile(uploaded, 0.5);
  out["volume_bytes"] = int64_t{bench.args.files} * bench.args.file_kib * 1024 + (16 << 20);
  return true;
}

bool RunPhases(Bench& bench) {
  PodOnNode on_b;
  PodOnNode on_a;
  if (!Handover(bench, &on_b) || !Change(bench, on_b, &on_a) || !SnapshotUnderWrite(bench, on_a)) {
    return false;
  }
  // Issue #7's targets on loopback: hand-over <= 5 s; a 1 MB change moves <= 2 MB (each way).
  const nlohmann::json& change = bench.out["change"];
  bench.out["targets_met"] = {
      {"handover_le_5s", bench.out["handover"]["total_ms"].get<double>() <= 5000},
      {"change_le_2mb_each_way", change["uploaded_by_b_bytes"].get<int64_t>() <= (2 << 20) &&
                                     change["downloaded_by_a_bytes"].get<int64_t>() <= (2 << 20)}};
  return true;
}

int Run(const Args& args) {
  char tmpl[] = "/tmp/crbench-volumes-XXXXXX";
  const std::string shared = ::mkdtemp(tmpl);
  const int tag = ::getpid() % 10000;
  const std::string net = std::to_string(::getpid() % 250);
  Node a("node-a", "crbva" + std::to_string(tag), "10.241." + net + ".0/24");
  Node b("node-b", "crbvb" + std::to_string(tag), "10.242." + net + ".0/24");
  Bench bench{.args = args, .shared = shared, .a = &a, .b = &b, .out = {}};
  bench.out["cricketd"] = CRICKETD_PATH;
  bool ok = a.Start(bench.shared, args.image) && b.Start(bench.shared, args.image);
  ok = ok && RunPhases(bench);
  // Everything started is stopped, failed or not.
  a.Stop();
  b.Stop();
  std::cout << bench.out.dump() << "\n";
  if (!ok) {
    a.KeepDir();
    b.KeepDir();
    std::cerr << "logs kept in " << a.dir() << ", " << b.dir() << " and " << shared << "\n";
    return 1;
  }
  std::error_code ec;
  std::filesystem::remove_all(shared, ec);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&](int& v) { v = std::stoi(argv[++i]); };
    if (a == "--files" && i + 1 < argc) {
      next(args.files);
    } else if (a == "--file-kib" && i + 1 < argc) {
      next(args.file_kib);
    } else if (a == "--change-kib" && i + 1 < argc) {
      next(args.change_kib);
    } else if (a == "--writer-seconds" && i + 1 < argc) {
      next(args.writer_seconds);
    } else if (args.image.empty() && !a.starts_with("--")) {
      args.image = a;
    } else {
      args.image.clear();
      break;
    }
  }
  if (args.image.empty() || ::geteuid() != 0) {
    std::cerr << "usage (as root): bench_volumes IMAGE [--files N] [--file-kib K] "
                 "[--change-kib C] [--writer-seconds S]\n";
    return 2;
  }
  return Run(args);
}
