#include "network/dns_files.h"

#include "common/files.h"

namespace cricket::network {

std::string RenderResolvConf(const DnsConfig& dns, const std::string& node_resolv_conf) {
  if (dns.empty()) {
    return node_resolv_conf;
  }
  std::string out;
  if (!dns.searches.empty()) {
    out += "search";
    for (const auto& s : dns.searches) {
      out += " " + s;
    }
    out += "\n";
  }
  for (const auto& server : dns.servers) {
    out += "nameserver " + server + "\n";
  }
  if (!dns.options.empty()) {
    out += "options";
    for (const auto& o : dns.options) {
      out += " " + o;
    }
    out += "\n";
  }
  return out;
}

std::string RenderHosts(const std::string& pod_ip, const std::string& hostname) {
  std::string out =
      "127.0.0.1\tlocalhost\n"
      "::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\n"
      "fe00::0\tip6-mcastprefix\n"
      "fe00::1\tip6-allnodes\n"
      "fe00::2\tip6-allrouters\n";
  if (!pod_ip.empty() && !hostname.empty()) {
    out += pod_ip + "\t" + hostname + "\n";
  }
  return out;
}

Result<PodNameFiles> WritePodNameFiles(const std::string& dir, const std::string& hostname,
                                       const std::string& pod_ip, const DnsConfig& dns,
                                       const std::string& node_resolv_conf_path) {
  CR_RETURN_IF_ERROR(MakeDirs(dir, 0755));
  std::string node_resolv;
  if (dns.empty()) {
    auto read = ReadFile(node_resolv_conf_path);
    if (read.ok()) {
      node_resolv = std::move(read).value();
    } else if (read.error().code() != Code::kNotFound) {
      return read.error();
    }
  }
  PodNameFiles files{dir + "/resolv.conf", dir + "/hosts", dir + "/hostname"};
  CR_RETURN_IF_ERROR(WriteFileAtomic(files.resolv_conf, RenderResolvConf(dns, node_resolv), 0644,
                                     Durability::kProcessCrash));
  CR_RETURN_IF_ERROR(WriteFileAtomic(files.hosts, RenderHosts(pod_ip, hostname), 0644,
                                     Durability::kProcessCrash));
  CR_RETURN_IF_ERROR(WriteFileAtomic(files.hostname, hostname + "\n", 0644,
                                     Durability::kProcessCrash));
  return files;
}

}  // namespace cricket::network
