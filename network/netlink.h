#pragma once

// Netlink: the rtnetlink requests Cricket needs (links, addresses, routes), over libmnl. A
// Netlink talks to the network namespace of the thread that opened it. Not thread-safe: one
// per thread. Every error names the request and the object ("create veth vethab12: EEXIST").

#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "network/ipv4.h"

struct mnl_socket;
struct nlmsghdr;

namespace cricket::network {

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;  // "bridge", "veth", ... or empty
  int master = 0;    // index of the bridge it is enslaved to, 0 if none
};

class Netlink {
 public:
  static Result<Netlink> Open();
  Netlink(Netlink&& other) noexcept;
  Netlink& operator=(Netlink&&) = delete;
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;
  ~Netlink();

  // kNotFound when no link has that name.
  Result<int> LinkIndex(const std::string& name);
  Result<std::vector<LinkInfo>> ListLinks();

  // kAlreadyExists when the name is taken.
  Result<void> CreateBridge(const std::string& name, int mtu);
  // A veth pair: `name` here, `peer_name` created directly inside the namespace `peer_netns_fd`.
  Result<void> CreateVeth(const std::string& name, const std::string& peer_name,
                          int peer_netns_fd, int mtu);
  // kNotFound when absent.
  Result<void> DeleteLink(const std::string& name);
  Result<void> SetUp(int index);
  Result<void> SetMaster(int index, int master_index);
  // kAlreadyExists when the address is already there.
  Result<void> AddAddress(int index, Ipv4 ip, int prefix);
  Result<void> AddDefaultRoute(Ipv4 gateway);

 private:
  explicit Netlink(mnl_socket* sock) : sock_(sock) {}
  // Sends one request and waits for its ACK; `what` names it in errors.
  Result<void> Transact(nlmsghdr* request, const std::string& what);
  // One RTM_GETLINK dump; EINTR when a link change made it inconsistent.
  Result<std::vector<LinkInfo>> DumpLinks();

  mnl_socket* sock_;
  unsigned int seq_ = 1;
};

}  // namespace cricket::network
