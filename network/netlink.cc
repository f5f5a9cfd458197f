#include "network/netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include <cerrno>
#include <utility>
#include <vector>

namespace cricket::network {
namespace {

// Large enough for any request we build and a dump chunk.
constexpr size_t kBufferBytes = 32768;

struct Request {
  std::vector<char> buf = std::vector<char>(kBufferBytes);
  nlmsghdr* nlh;
  explicit Request(uint16_t type, uint16_t flags) {
    nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = type;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  }
  template <typename T>
  T* Header() {
    return static_cast<T*>(mnl_nlmsg_put_extra_header(nlh, sizeof(T)));
  }
};

int CollectLink(const nlmsghdr* nlh, void* data) {
  auto* links = static_cast<std::vector<LinkInfo>*>(data);
  const auto* ifi = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh));
  LinkInfo link;
  link.index = ifi->ifi_index;
  for (const auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, sizeof(*ifi)));
       mnl_attr_ok(attr, static_cast<int>(static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh)) -
                                         reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    switch (mnl_attr_get_type(attr)) {
      case IFLA_IFNAME:
        link.name = mnl_attr_get_str(attr);
        break;
      case IFLA_MASTER:
        link.master = static_cast<int>(mnl_attr_get_u32(attr));
        break;
      case IFLA_LINKINFO: {
        for (const auto* info = static_cast<const nlattr*>(mnl_attr_get_payload(attr));
             mnl_attr_ok(info, static_cast<int>(reinterpret_cast<const char*>(attr) +
                                                mnl_attr_get_len(attr) -
                                                reinterpret_cast<const char*>(info)));
             info = mnl_attr_next(info)) {
          if (mnl_attr_get_type(info) == IFLA_INFO_KIND) {
            link.kind = mnl_attr_get_str(info);
          }
        }
        break;
      }
      default:
        break;
    }
  }
  links->push_back(std::move(link));
  return MNL_CB_OK;
}

}  // namespace

Result<Netlink> Netlink::Open() {
  mnl_socket* sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
  if (sock == nullptr) {
    return Error::FromErrno(errno, "open netlink socket");
  }
  if (mnl_socket_bind(sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(sock);
    return Error::FromErrno(err, "bind netlink socket");
  }
  return Netlink(sock);
}

Netlink::Netlink(Netlink&& other) noexcept
    : sock_(std::exchange(other.sock_, nullptr)), seq_(other.seq_) {}

Netlink::~Netlink() {
  if (sock_ != nullptr) {
    mnl_socket_close(sock_);
  }
}

Result<void> Netlink::Transact(nlmsghdr* request, const std::string& what) {
  request->nlmsg_seq = seq_++;
  if (mnl_socket_sendto(sock_, request, request->nlmsg_len) < 0) {
    return Error::FromErrno(errno, what);
  }
  std::vector<char> buf(kBufferBytes);
  const unsigned int portid = mnl_socket_get_portid(sock_);
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0) {
      return Error::FromErrno(errno, what);
    }
    // mnl_cb_run returns MNL_CB_STOP on the ACK and -1 with errno set on an NLMSG_ERROR.
    int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), request->nlmsg_seq, portid, nullptr,
                        nullptr);
    if (rc < 0) {
      return Error::FromErrno(errno, what);
    }
    if (rc == MNL_CB_STOP) {
      return Ok();
    }
  }
}

namespace {

// True when the netlink messages in buf[0, n) end a dump (NLMSG_DONE or an error).
bool EndsDump(const char* buf, ssize_t n) {
  int left = static_cast<int>(n);
  for (const auto* nlh = reinterpret_cast<const nlmsghdr*>(buf); mnl_nlmsg_ok(nlh, left);
       nlh = mnl_nlmsg_next(nlh, &left)) {
    if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
      return true;
    }
  }
  return false;
}

}  // namespace

Result<std::vector<LinkInfo>> Netlink::ListLinks() {
  // A dump that links changed under (NLM_F_DUMP_INTR, which libmnl reports as EINTR) is
  // inconsistent: read it to its end and ask again. Pods come and go all the time on a node.
  constexpr int kAttempts = 10;
  for (int attempt = 1;; ++attempt) {
    auto links = DumpLinks();
    if (links.ok() || links.error().sys_errno() != EINTR || attempt == kAttempts) {
      return links;
    }
  }
}

Result<std::vector<LinkInfo>> Netlink::DumpLinks() {
  std::vector<char> req(kBufferBytes);
  nlmsghdr* nlh = mnl_nlmsg_put_header(req.data());
  nlh->nlmsg_type = RTM_GETLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = seq_++;
  auto* ifi = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(ifinfomsg)));
  ifi->ifi_family = AF_UNSPEC;
  if (mnl_socket_sendto(sock_, nlh, nlh->nlmsg_len) < 0) {
    return Error::FromErrno(errno, "list links");
  }
  std::vector<LinkInfo> links;
  std::vector<char> buf(kBufferBytes);
  const unsigned int portid = mnl_socket_get_portid(sock_);
  bool interrupted = false;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(sock_, buf.data(), buf.size());
    if (n < 0) {
      return Error::FromErrno(errno, "list links");
    }
    if (interrupted) {
      if (EndsDump(buf.data(), n)) {
        return Error::FromErrno(EINTR, "list links: interrupted by a link change");
      }
      continue;
    }
    int rc = mnl_cb_run(buf.data(), static_cast<size_t>(n), nlh->nlmsg_seq, portid, CollectLink,
                        &links);
    if (rc < 0 && errno == EINTR) {
      // The rest of this dump is still coming; it must be read before the socket's next use.
      if (EndsDump(buf.data(), n)) {
        return Error::FromErrno(EINTR, "list links: interrupted by a link change");
      }
      interrupted = true;
      continue;
    }
    if (rc < 0) {
      return Error::FromErrno(errno, "list links");
    }
    if (rc == MNL_CB_STOP) {
      return links;
    }
  }
}

Result<int> Netlink::LinkIndex(const std::string& name) {
  CR_ASSIGN_OR_RETURN(auto links, ListLinks());
  for (const auto& link : links) {
    if (link.name == name) {
      return link.index;
    }
  }
  return Error(Code::kNotFound, "link " + name + " not found");
}

Result<void> Netlink::CreateBridge(const std::string& name, int mtu) {
  Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(r.nlh, IFLA_IFNAME, name.c_str());
  mnl_attr_put_u32(r.nlh, IFLA_MTU, static_cast<uint32_t>(mtu));
  nlattr* linkinfo = mnl_attr_nest_start(r.nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(r.nlh, IFLA_INFO_KIND, "bridge");
  mnl_attr_nest_end(r.nlh, linkinfo);
  return Transact(r.nlh, "create bridge " + name);
}

Result<void> Netlink::CreateVeth(const std::string& name, const std::string& peer_name,
                                 int peer_netns_fd, int mtu) {
  Request r(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(r.nlh, IFLA_IFNAME, name.c_str());
  mnl_attr_put_u32(r.nlh, IFLA_MTU, static_cast<uint32_t>(mtu));
  nlattr* linkinfo = mnl_attr_nest_start(r.nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(r.nlh, IFLA_INFO_KIND, "veth");
  nlattr* data = mnl_attr_nest_start(r.nlh, IFLA_INFO_DATA);
  nlattr* peer = mnl_attr_nest_start(r.nlh, VETH_INFO_PEER);
  // The peer's attributes follow its own ifinfomsg inside the nest.
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(r.nlh, IFLA_IFNAME, peer_name.c_str());
  mnl_attr_put_u32(r.nlh, IFLA_MTU, static_cast<uint32_t>(mtu));
  mnl_attr_put_u32(r.nlh, IFLA_NET_NS_FD, static_cast<uint32_t>(peer_netns_fd));
  mnl_attr_nest_end(r.nlh, peer);
  mnl_attr_nest_end(r.nlh, data);
  mnl_attr_nest_end(r.nlh, linkinfo);
  return Transact(r.nlh, "create veth " + name);
}

Result<void> Netlink::DeleteLink(const std::string& name) {
  Request r(RTM_DELLINK, 0);
  r.Header<ifinfomsg>()->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(r.nlh, IFLA_IFNAME, name.c_str());
  auto deleted = Transact(r.nlh, "delete link " + name);
  if (!deleted.ok() && deleted.error().sys_errno() == ENODEV) {
    return Error(Code::kNotFound, "link " + name + " not found");
  }
  return deleted;
}

Result<void> Netlink::SetUp(int index) {
  Request r(RTM_NEWLINK, 0);
  auto* ifi = r.Header<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  ifi->ifi_flags = IFF_UP;
  ifi->ifi_change = IFF_UP;
  return Transact(r.nlh, "set link " + std::to_string(index) + " up");
}

Result<void> Netlink::SetMaster(int index, int master_index) {
  Request r(RTM_NEWLINK, 0);
  auto* ifi = r.Header<ifinfomsg>();
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  mnl_attr_put_u32(r.nlh, IFLA_MASTER, static_cast<uint32_t>(master_index));
  return Transact(r.nlh, "attach link " + std::to_string(index) + " to bridge " +
                             std::to_string(master_index));
}

Result<void> Netlink::AddAddress(int index, Ipv4 ip, int prefix) {
  Request r(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
  auto* ifa = r.Header<ifaddrmsg>();
  ifa->ifa_family = AF_INET;
  ifa->ifa_prefixlen = static_cast<unsigned char>(prefix);
  ifa->ifa_index = static_cast<unsigned int>(index);
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  uint32_t addr = htonl(ip.value);
  mnl_attr_put_u32(r.nlh, IFA_LOCAL, addr);
  mnl_attr_put_u32(r.nlh, IFA_ADDRESS, addr);
  return Transact(r.nlh, "add address " + ip.ToString() + "/" + std::to_string(prefix) +
                             " to link " + std::to_string(index));
}

Result<void> Netlink::AddDefaultRoute(Ipv4 gateway) {
  Request r(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
  auto* rtm = r.Header<rtmsg>();
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 0;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put_u32(r.nlh, RTA_GATEWAY, htonl(gateway.value));
  return Transact(r.nlh, "add default route via " + gateway.ToString());
}

}  // namespace cricket::network
