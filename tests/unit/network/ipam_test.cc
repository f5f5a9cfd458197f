#include "network/ipam.h"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "common/files.h"
#include "common/lock_file.h"
#include "network/claims.h"
#include "tests/support/temp_dir.h"

namespace cricket::network {
namespace {

using ::cricket::testing::TempDir;

Ipam OpenIpam(const TempDir& dir, const char* cidr) {
  return Ipam::Open(dir.Join("leases"), *Ipv4Cidr::Parse(cidr)).value();
}

TEST(IpamTest, HandsOutDistinctAddressesSkippingGateway) {
  TempDir dir;
  Ipam ipam = OpenIpam(dir, "10.90.0.0/24");
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) {
    auto ip = ipam.Allocate("pod" + std::to_string(i));
    ASSERT_TRUE(ip.ok()) << ip.error().ToString();
    EXPECT_NE(ip->ToString(), "10.90.0.0");
    EXPECT_NE(ip->ToString(), "10.90.0.1");
    EXPECT_TRUE(seen.insert(ip->ToString()).second);
  }
  EXPECT_EQ(*seen.begin(), "10.90.0.10");  // .2 .. .11 in string order starts at .10
  EXPECT_TRUE(seen.contains("10.90.0.2"));
}

TEST(IpamTest, SameOwnerGetsSameAddress) {
  TempDir dir;
  Ipam ipam = OpenIpam(dir, "10.90.0.0/24");
  auto a = ipam.Allocate("pod-a");
  auto again = ipam.Allocate("pod-a");
  ASSERT_TRUE(a.ok() && again.ok());
  EXPECT_EQ(*a, *again);
  EXPECT_EQ(ipam.Leases()->size(), 1u);
}

TEST(IpamTest, FullRangeIsResourceExhaustedAndBroadcastNeverUsed) {
  TempDir dir;
  Ipam ipam = OpenIpam(dir, "10.90.0.0/29");  // .2 .. .6 usable
  for (int i = 0; i < 5; ++i) {
    auto ip = ipam.Allocate("pod" + std::to_string(i));
    ASSERT_TRUE(ip.ok());
    EXPECT_NE(ip->ToString(), "10.90.0.7");
  }
  auto full = ipam.Allocate("one-too-many");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(full.error().message(),
            "pod range 10.90.0.0/29 is full: no address left for one-too-many");
}

TEST(IpamTest, ReleaseFreesAndIsIdempotent) {
  TempDir dir;
  Ipam ipam = OpenIpam(dir, "10.90.0.0/30");  // only .2
  ASSERT_TRUE(ipam.Allocate("a").ok());
  EXPECT_FALSE(ipam.Allocate("b").ok());
  ASSERT_TRUE(ipam.Release("a").ok());
  ASSERT_TRUE(ipam.Release("a").ok());
  ASSERT_TRUE(ipam.Release("never-seen").ok());
  EXPECT_EQ(ipam.Allocate("b")->ToString(), "10.90.0.2");
}

TEST(IpamTest, ReleaseAllDropsLeasesOfAnyRange) {
  TempDir dir;
  ASSERT_TRUE(OpenIpam(dir, "10.91.0.0/24").Allocate("old-range").ok());
  Ipam ipam = OpenIpam(dir, "10.90.0.0/24");
  ASSERT_TRUE(ipam.Allocate("a").ok());
  ASSERT_TRUE(ipam.Allocate("b").ok());

  ASSERT_TRUE(ipam.ReleaseAll().ok());

  EXPECT_TRUE(ipam.Leases()->empty());
  EXPECT_TRUE(OpenIpam(dir, "10.91.0.0/24").Leases()->empty());
  EXPECT_TRUE(ipam.ReleaseAll().ok());
}

TEST(IpamTest, LeasesSurviveReopen) {
  TempDir dir;
  Ipv4 first;
  {
    Ipam ipam = OpenIpam(dir, "10.90.0.0/24");
    first = *ipam.Allocate("a");
  }
  Ipam reopened = OpenIpam(dir, "10.90.0.0/24");
  auto leases = reopened.Leases();
  ASSERT_TRUE(leases.ok());
  ASSERT_EQ(leases->size(), 1u);
  EXPECT_EQ(leases->at(first), "a");
  EXPECT_NE(*reopened.Allocate("b"), first);
}

TEST(IpamTest, LeftoverTempFileFromCrashIsIgnoredAndSwept) {
  TempDir dir;
  Ipam ipam = OpenIpam(dir, "10.90.0.0/24");
  ASSERT_TRUE(ipam.Allocate("a").ok());
  std::string junk = dir.Join("leases/.tmp-99999-10.90.0.3");
  ASSERT_TRUE(WriteFileAtomic(junk, "dead\n", 0600).ok());
  EXPECT_EQ(ipam.Leases()->size(), 1u);
  ASSERT_TRUE(ipam.Allocate("b").ok());
  EXPECT_FALSE(std::filesystem::exists(junk));
}

// A claimant waits for a holder longer than the 2000 tries of 1 ms the lock once allowed: 50
// pods started at once on a busy node queued longer than that, and RunPodSandbox failed.
TEST(IpamTest, ClaimLockWaitsForASlowHolder) {
  TempDir dir;
  auto claims = ClaimDir::Open(dir.Join("leases"));
  ASSERT_TRUE(claims.ok());
  auto held = std::make_optional(LockFile::Acquire(dir.Join("leases/lock")));
  ASSERT_TRUE(held->ok());
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::seconds(4));
    held.reset();
  });
  const auto start = std::chrono::steady_clock::now();
  auto lock = claims->Lock();
  const auto waited = std::chrono::steady_clock::now() - start;
  release.join();
  ASSERT_TRUE(lock.ok()) << lock.error().ToString();
  EXPECT_GE(waited, std::chrono::seconds(3));
}

// Two processes allocating at once never share an address.
TEST(IpamTest, RacingProcessesNeverShareAnAddress) {
  TempDir dir;
  constexpr int kPerProcess = 40;
  pid_t children[2];
  for (int c = 0; c < 2; ++c) {
    children[c] = ::fork();
    ASSERT_GE(children[c], 0);
    if (children[c] == 0) {
      auto ipam = Ipam::Open(dir.Join("leases"), *Ipv4Cidr::Parse("10.90.0.0/24"));
      for (int i = 0; i < kPerProcess; ++i) {
        if (!ipam.ok() || !ipam->Allocate("p" + std::to_string(c) + "-" + std::to_string(i)).ok()) {
          ::_exit(1);
        }
      }
      ::_exit(0);
    }
  }
  for (pid_t child : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  Ipam ipam = OpenIpam(dir, "10.90.0.0/24");
  auto leases = ipam.Leases();
  ASSERT_TRUE(leases.ok());
  EXPECT_EQ(leases->size(), 2u * kPerProcess);  // one file per address: a clash would lose one
  std::set<std::string> owners;
  for (const auto& [ip, owner] : *leases) {
    owners.insert(owner);
  }
  EXPECT_EQ(owners.size(), 2u * kPerProcess);
}

TEST(IpamTest, NewRangeLeavesOldLeasesValid) {
  TempDir dir;
  Ipam ipam = OpenIpam(dir, "10.90.0.0/24");
  auto old_ip = ipam.Allocate("old-pod");
  auto new_ip = ipam.Allocate("new-pod", *Ipv4Cidr::Parse("10.91.0.0/24"));
  ASSERT_TRUE(old_ip.ok() && new_ip.ok());
  EXPECT_TRUE(Ipv4Cidr::Parse("10.91.0.0/24")->Contains(*new_ip)) << new_ip->ToString();
  EXPECT_EQ(ipam.AllLeases()->size(), 2u);
  EXPECT_EQ(ipam.Leases()->size(), 1u);  // range() is still the one given to Open
  ASSERT_TRUE(ipam.Release("old-pod").ok());
  EXPECT_EQ(ipam.AllLeases()->size(), 1u);
  EXPECT_EQ(ipam.AllLeases()->begin()->second, "new-pod");
}

}  // namespace
}  // namespace cricket::network
