#include "shim/oom_watch.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "common/log.h"
#include "oci/cgroup_fs.h"

namespace cricket::shim {
namespace {

constexpr const char* kEventsFile = "memory.events";

Result<uint64_t> OomKills(const std::string& cgroup_dir) {
  return oci::cgroupfs::ReadKeyedValue(cgroup_dir + "/" + kEventsFile, "oom_kill");
}

// oom_kill of each cgroup directly below `slice_dir` but `self`. One without a readable counter
// (gone meanwhile) is left out.
std::map<std::string, uint64_t> SiblingKills(const std::string& slice_dir, const std::string& self) {
  std::map<std::string, uint64_t> kills;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(slice_dir, ec)) {
    const std::string name = entry.path().filename();
    if (name == self || !entry.is_directory(ec)) {
      continue;
    }
    if (auto count = OomKills(entry.path()); count.ok()) {
      kills.emplace(name, *count);
    }
  }
  return kills;
}

}  // namespace

Result<OomWatch> OomWatch::Start(std::unique_ptr<oci::CgroupManager> cgroup) {
  const std::string file = cgroup->OomEventsFile();
  if (file.empty()) {
    return OomWatch(std::move(cgroup), UniqueFd(), "", "");
  }
  UniqueFd fd(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "inotify_init1 for " + file);
  }
  if (::inotify_add_watch(fd.get(), file.c_str(), IN_MODIFY) < 0) {
    return Error::FromErrno(errno, "watch " + file);
  }
  const std::filesystem::path dir = std::filesystem::path(file).parent_path();
  std::string slice_dir = dir.parent_path();
  // The slice's own changes keep the baseline fresh when a sibling's kill is the news.
  if (!slice_dir.ends_with(".slice") ||
      ::inotify_add_watch(fd.get(), (slice_dir + "/" + kEventsFile).c_str(), IN_MODIFY) < 0) {
    slice_dir.clear();
  }
  OomWatch watch(std::move(cgroup), std::move(fd), std::move(slice_dir), dir.filename());
  watch.OnReadable();  // a kill before the watch began (during create) counts too
  return watch;
}

std::optional<OomWatch::PodCounts> OomWatch::ReadPodCounts() const {
  PodCounts counts;
  counts.siblings = SiblingKills(slice_dir_, name_);
  auto slice = OomKills(slice_dir_);
  if (!slice.ok()) {
    return std::nullopt;
  }
  counts.slice = *slice;
  return counts;
}

void OomWatch::OnReadable() {
  if (!inotify_.valid()) {
    return;
  }
  // The events carry no data we need (which file changed does not matter: the counters are
  // read again). Once the cgroup is removed the kernel drops its watch (IN_IGNORED).
  alignas(inotify_event) char buf[4096];
  while (::read(inotify_.get(), buf, sizeof(buf)) > 0) {
  }
  if (killed_) {
    return;
  }
  // Read before the own counter, and kept only when that read works and shows no kill: a
  // baseline must never already hold this container's own kill.
  std::optional<PodCounts> counts;
  if (!slice_dir_.empty()) {
    counts = ReadPodCounts();
  }
  auto killed = cgroup_->OomKilled();
  // A missing file reads as "no kill": whether the cgroup is still there decides what that
  // means. Asked after the read, so a read that raced with the removal counts as gone too.
  gone_ = !killed.ok() || ::access(cgroup_->OomEventsFile().c_str(), F_OK) != 0;
  if (gone_) {
    return;  // keep what was seen
  }
  killed_ = *killed;
  if (!killed_ && counts) {
    baseline_ = std::move(counts);
  }
}

bool OomWatch::KilledBySliceCounts() const {
  if (slice_dir_.empty() || !baseline_) {
    return false;
  }
  auto slice = OomKills(slice_dir_);
  if (!slice.ok() || *slice <= baseline_->slice) {
    return false;
  }
  // After the slice's count: a sibling's kill between the two reads counts for the sibling.
  const std::map<std::string, uint64_t> now = SiblingKills(slice_dir_, name_);
  uint64_t explained = 0;
  for (const auto& [name, before] : baseline_->siblings) {
    auto it = now.find(name);
    if (it == now.end()) {
      return false;  // gone, and with it what it might explain
    }
    explained += it->second > before ? it->second - before : 0;
  }
  for (const auto& [name, kills] : now) {
    if (!baseline_->siblings.contains(name)) {
      explained += kills;  // new since the baseline: all its kills are
    }
  }
  return *slice - baseline_->slice > explained;
}

bool OomWatch::Killed() {
  OnReadable();
  if (!killed_ && gone_ && KilledBySliceCounts()) {
    killed_ = true;
    log::Info({}, "OOM kill of {} read from its slice {}: its cgroup was gone before its own count",
              name_, slice_dir_);
  }
  return killed_;
}

}  // namespace cricket::shim
