#pragma once

// What a pod with CAP_NET_RAW can put on its wire: a hand-made Ethernet + IPv4 + UDP frame sent
// through an AF_PACKET socket, bypassing the pod's own routing (which would keep 127.0.0.1 on
// its loopback). For tests that check what the node accepts from a pod.

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "network/netns.h"

namespace cricket::network {

using Mac = std::array<uint8_t, ETH_ALEN>;

// The hardware address of `ifname` in the calling thread's namespace.
inline Result<Mac> InterfaceMac(const std::string& ifname) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq req{};
  std::strncpy(req.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (::ioctl(fd.get(), SIOCGIFHWADDR, &req) < 0) {
    return Error::FromErrno(errno, "SIOCGIFHWADDR " + ifname);
  }
  Mac mac{};
  std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, mac.size());
  return mac;
}

// RFC 1071 ones' complement sum, folded; `seed` carries a pseudo-header's partial sum.
inline uint16_t InternetChecksum(const uint8_t* data, size_t len, uint32_t seed = 0) {
  uint32_t sum = seed;
  for (size_t i = 0; i + 1 < len; i += 2) {
    sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  }
  if (len % 2 == 1) {
    sum += static_cast<uint32_t>(data[len - 1] << 8);
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

// Ethernet(dst_mac <- ifname's mac) / IPv4(src -> dst, TTL 64) / UDP(sport -> dport) / payload,
// with the IPv4 header and UDP checksums filled in. `src`/`dst` are dotted quads.
inline Result<std::vector<uint8_t>> BuildUdpFrame(const Mac& src_mac, const Mac& dst_mac,
                                                  const std::string& src, const std::string& dst,
                                                  uint16_t sport, uint16_t dport,
                                                  const std::string& payload) {
  in_addr saddr{};
  in_addr daddr{};
  if (::inet_pton(AF_INET, src.c_str(), &saddr) != 1 ||
      ::inet_pton(AF_INET, dst.c_str(), &daddr) != 1) {
    return Error(Code::kInvalidArgument, "bad address " + src + " or " + dst);
  }
  const size_t udp_len = sizeof(udphdr) + payload.size();
  // Headers are filled as local structs and copied in, so no pointer into the buffer is cast.
  ether_header eth{};
  std::memcpy(eth.ether_dhost, dst_mac.data(), ETH_ALEN);
  std::memcpy(eth.ether_shost, src_mac.data(), ETH_ALEN);
  eth.ether_type = htons(ETHERTYPE_IP);

  iphdr ip{};
  ip.version = 4;
  ip.ihl = 5;
  ip.tot_len = htons(static_cast<uint16_t>(sizeof(iphdr) + udp_len));
  ip.id = htons(0x4352);
  ip.ttl = 64;
  ip.protocol = IPPROTO_UDP;
  ip.saddr = saddr.s_addr;
  ip.daddr = daddr.s_addr;
  ip.check = htons(InternetChecksum(reinterpret_cast<const uint8_t*>(&ip), sizeof(ip)));

  std::vector<uint8_t> l4(udp_len);
  udphdr udp{};
  udp.source = htons(sport);
  udp.dest = htons(dport);
  udp.len = htons(static_cast<uint16_t>(udp_len));
  std::memcpy(l4.data() + sizeof(udphdr), payload.data(), payload.size());
  std::memcpy(l4.data(), &udp, sizeof(udp));
  // Pseudo-header: source, destination, protocol, UDP length (RFC 768).
  const auto* s = reinterpret_cast<const uint8_t*>(&saddr.s_addr);
  const auto* d = reinterpret_cast<const uint8_t*>(&daddr.s_addr);
  uint32_t pseudo = static_cast<uint32_t>((s[0] << 8 | s[1]) + (s[2] << 8 | s[3]) +
                                          (d[0] << 8 | d[1]) + (d[2] << 8 | d[3])) +
                    IPPROTO_UDP + static_cast<uint32_t>(udp_len);
  uint16_t check = InternetChecksum(l4.data(), l4.size(), pseudo);
  udp.check = htons(check == 0 ? 0xffff : check);
  std::memcpy(l4.data(), &udp, sizeof(udp));

  std::vector<uint8_t> frame;
  frame.reserve(sizeof(eth) + sizeof(ip) + l4.size());
  const auto* e = reinterpret_cast<const uint8_t*>(&eth);
  const auto* i = reinterpret_cast<const uint8_t*>(&ip);
  frame.insert(frame.end(), e, e + sizeof(eth));
  frame.insert(frame.end(), i, i + sizeof(ip));
  frame.insert(frame.end(), l4.begin(), l4.end());
  return frame;
}

// Sends `frame` as is out of `ifname` (calling thread's namespace). Needs CAP_NET_RAW.
inline Result<void> SendFrame(const std::string& ifname, const std::vector<uint8_t>& frame) {
  UniqueFd fd(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return Error::FromErrno(errno, "socket AF_PACKET");
  }
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(::if_nametoindex(ifname.c_str()));
  to.sll_halen = ETH_ALEN;
  std::memcpy(to.sll_addr, frame.data(), ETH_ALEN);
  if (to.sll_ifindex == 0) {
    return Error::FromErrno(errno, "if_nametoindex " + ifname);
  }
  if (::sendto(fd.get(), frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof(to)) < 0) {
    return Error::FromErrno(errno, "send raw frame on " + ifname);
  }
  return Ok();
}

// A UDP socket bound to ip:port in the calling thread's namespace.
inline Result<UniqueFd> BindUdp(const std::string& ip, uint16_t port) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0) {
    return Error::FromErrno(errno, "bind udp " + ip + ":" + std::to_string(port));
  }
  return fd;
}

// The first datagram that arrives on `fd` within `timeout_ms`, or "" if none does.
inline std::string ReceiveWithin(const UniqueFd& fd, int timeout_ms) {
  pollfd p{.fd = fd.get(), .events = POLLIN, .revents = 0};
  if (::poll(&p, 1, timeout_ms) != 1) {
    return "";
  }
  char buf[2048];
  ssize_t n = ::recv(fd.get(), buf, sizeof(buf), MSG_DONTWAIT);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// What the node received when a pod crafted one UDP datagram for the node's 127.0.0.1 and one,
// as a control, for the gateway address, both as raw frames from the pod's eth0 to `bridge`'s
// MAC at the same free port. `error` says why the probe could not run.
struct LoopbackProbe {
  std::string to_loopback;
  std::string to_gateway;
  uint16_t port = 0;
  std::string error;
};

inline LoopbackProbe ProbeNodeLoopbackFromPod(int pod_netns, const std::string& bridge,
                                              const std::string& pod_ip,
                                              const std::string& gateway) {
  LoopbackProbe probe;
  auto run = [&]() -> Result<void> {
    // A node service bound to loopback only, and the control on the gateway.
    CR_ASSIGN_OR_RETURN(UniqueFd loopback, BindUdp("127.0.0.1", 0));
    sockaddr_in bound{};
    socklen_t len = sizeof(bound);
    if (::getsockname(loopback.get(), reinterpret_cast<sockaddr*>(&bound), &len) < 0) {
      return Error::FromErrno(errno, "getsockname");
    }
    probe.port = ntohs(bound.sin_port);
    CR_ASSIGN_OR_RETURN(UniqueFd control, BindUdp(gateway, probe.port));
    CR_ASSIGN_OR_RETURN(Mac bridge_mac, InterfaceMac(bridge));
    for (const std::string& dst : {std::string("127.0.0.1"), gateway}) {
      CR_RETURN_IF_ERROR(RunInNetns(pod_netns, [&]() -> Result<void> {
        CR_ASSIGN_OR_RETURN(Mac eth0, InterfaceMac("eth0"));
        CR_ASSIGN_OR_RETURN(auto frame, BuildUdpFrame(eth0, bridge_mac, pod_ip, dst, 40000,
                                                      probe.port, "to " + dst));
        return SendFrame("eth0", frame);
      }));
    }
    // The loopback datagram went first: by the time the control is in, it would be too.
    probe.to_gateway = ReceiveWithin(control, 2000);
    probe.to_loopback = ReceiveWithin(loopback, 500);
    return Ok();
  };
  if (auto done = run(); !done.ok()) {
    probe.error = done.error().ToString();
  }
  return probe;
}

}  // namespace cricket::network
