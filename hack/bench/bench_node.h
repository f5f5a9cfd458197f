#pragma once

// A throw-away node for one bench run: a temp dir holding cricketd's root, its state dir (on a
// tmpfs, as /run is on a real node), its config.toml and log, with a bridge of the bench's own.
// The destructor puts the host back — the bridge's rules (whatever their subnet), ip_forward as
// it was, the tmpfs, the dir — also when the bench returns early. Stop cricketd before it runs.

#include <string>
#include <string_view>
#include <vector>

namespace cricket::bench {

class BenchNode {
 public:
  // The dir is /tmp/crbench-<name>-XXXXXX.
  BenchNode(std::string_view name, std::string bridge);
  ~BenchNode();
  BenchNode(const BenchNode&) = delete;
  BenchNode& operator=(const BenchNode&) = delete;

  // Writes config.toml: `sections` (whole TOML tables, may be empty) then a [network] table with
  // this node's bridge and `subnet`. False when it cannot be written.
  bool WriteConfig(std::string_view subnet, std::string_view sections = "") const;

  const std::string& dir() const { return dir_; }
  const std::string& bridge() const { return bridge_; }
  std::string root() const { return dir_ + "/root"; }
  std::string state() const { return dir_ + "/state"; }
  std::string socket() const { return state() + "/cricket.sock"; }
  std::string log() const { return dir_ + "/cricketd.log"; }
  bool state_on_tmpfs() const { return state_on_tmpfs_; }

  // cricketd's arguments for this node, logging warnings and errors only.
  std::vector<std::string> CricketdArgs() const;
  // The dir (cricketd's log, the pods' logs) stays after the bench, for a failed run.
  void KeepDir() { keep_dir_ = true; }

 private:
  std::string dir_;
  std::string bridge_;
  std::string ip_forward_;
  bool state_on_tmpfs_ = false;
  bool keep_dir_ = false;
};

// A [volumes] table for WriteConfig: portable volumes of node `node_name` under
// `shared`/portable, with the coordination dir and snapshot store beside it (every node of a
// bench shares them), and no timed snapshot during the run. Creates `shared`/portable.
std::string PortableVolumesToml(std::string_view shared, std::string_view node_name);

// Drops the page-cache pages of cricketd and of its helper binaries (cricket-shim, -pause,
// -fetch, -runtime: files named cricket* beside it or one directory over, as FindHelperBinary
// looks) before a run that measures RSS. Why: a binary just written by the linker or dpkg sits
// in the page cache in large folios, and on this kernel a fault maps the whole folio, so the
// same idle cricketd shows ~3 MB more resident text than after a reboot, when its text comes in
// through readahead. Evicting gives the after-reboot figure every time. Clean pages only; a
// file still being written keeps its pages.
void EvictCricketBinaries(const std::string& cricketd_path);

}  // namespace cricket::bench
