#include "storage/volumes/snapshots/index_diff.h"

#include <algorithm>
#include <unordered_map>

namespace cricket::storage::volumes {
namespace {

std::string Parent(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

bool MetadataDiffers(const IndexEntry& a, const IndexEntry& b) {
  if (a.type != b.type || a.mode != b.mode || a.uid != b.uid || a.gid != b.gid) {
    return true;
  }
  switch (a.type) {
    case EntryType::kDir:
      return a.mtime_ns != b.mtime_ns;
    case EntryType::kSymlink:
      return a.link_target != b.link_target || a.mtime_ns != b.mtime_ns;
    case EntryType::kCharDevice:
    case EntryType::kBlockDevice:
      return a.rdev != b.rdev || a.mtime_ns != b.mtime_ns;
    default:
      return a.size != b.size || a.mtime_ns != b.mtime_ns;
  }
}

// Compares a regular file whose metadata matches. True when its content changed.
Result<bool> ContentChanged(const IndexEntry& prev, IndexEntry& cur, const HashFile& hash_file,
                            int64_t racy_before_ns) {
  bool ambiguous = cur.ctime_ns != prev.ctime_ns || cur.mtime_ns >= racy_before_ns;
  if (!ambiguous) {
    cur.hash = prev.hash;
    return false;
  }
  if (prev.hash.empty()) {
    return true;  // nothing to compare with: pack it
  }
  CR_ASSIGN_OR_RETURN(std::string hash, hash_file(cur));
  cur.hash = hash;
  return hash != prev.hash;
}

}  // namespace

Result<IndexDiff> DiffIndex(const VolumeIndex& previous, std::vector<IndexEntry>& current,
                            const HashFile& hash_file, int64_t racy_margin_ns) {
  std::unordered_map<std::string, const IndexEntry*> prev_by_path;
  prev_by_path.reserve(previous.entries.size());
  for (const IndexEntry& e : previous.entries) {
    prev_by_path.emplace(e.path, &e);
  }
  std::unordered_map<std::string, size_t> cur_by_path;
  cur_by_path.reserve(current.size());
  for (size_t i = 0; i < current.size(); ++i) {
    cur_by_path.emplace(current[i].path, i);
  }

  IndexDiff diff;
  std::vector<bool> pack(current.size(), false);
  int64_t racy_before_ns = previous.scan_time_ns - racy_margin_ns;
  for (size_t i = 0; i < current.size(); ++i) {
    IndexEntry& cur = current[i];
    auto it = prev_by_path.find(cur.path);
    bool changed = false;
    if (it == prev_by_path.end()) {
      diff.added.push_back(cur.path);
      changed = true;
    } else {
      const IndexEntry& prev = *it->second;
      changed = prev.dirty || MetadataDiffers(prev, cur);
      if (!changed && cur.type == EntryType::kFile) {
        CR_ASSIGN_OR_RETURN(changed, ContentChanged(prev, cur, hash_file, racy_before_ns));
      }
      if (changed) {
        diff.modified.push_back(cur.path);
      }
    }
    if (!changed) {
      continue;
    }
    pack[i] = true;
    // Ancestors precede their descendants in pre-order; mark them on the way up.
    for (std::string p = Parent(cur.path); !p.empty(); p = Parent(p)) {
      auto a = cur_by_path.find(p);
      if (a == cur_by_path.end() || pack[a->second]) {
        break;
      }
      pack[a->second] = true;
    }
  }
  for (size_t i = 0; i < current.size(); ++i) {
    if (pack[i]) {
      diff.pack.push_back(i);
    }
  }

  for (const IndexEntry& prev : previous.entries) {
    if (cur_by_path.count(prev.path) != 0) {
      continue;
    }
    diff.deleted.push_back(prev.path);
    std::string parent = Parent(prev.path);
    if (parent.empty()) {
      diff.whiteouts.push_back(prev.path);
      continue;
    }
    auto p = cur_by_path.find(parent);
    if (p != cur_by_path.end() && current[p->second].type == EntryType::kDir) {
      auto was = prev_by_path.find(parent);
      if (was != prev_by_path.end() && was->second->type == EntryType::kDir) {
        diff.whiteouts.push_back(prev.path);
      }
    }
  }
  std::sort(diff.whiteouts.begin(), diff.whiteouts.end());
  return diff;
}

}  // namespace cricket::storage::volumes
