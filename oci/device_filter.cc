#include "oci/device_filter.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace cricket::oci {
namespace {

// Registers: r2 device type, r3 requested access, r4 major, r5 minor (loaded from
// struct bpf_cgroup_dev_ctx in r1), r0 the verdict.
bpf_insn Insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn insn{};
  insn.code = code;
  insn.dst_reg = dst & 0xf;
  insn.src_reg = src & 0xf;
  insn.off = off;
  insn.imm = imm;
  return insn;
}

bpf_insn LoadWord(uint8_t dst, int16_t offset) {
  return Insn(BPF_LDX | BPF_MEM | BPF_W, dst, BPF_REG_1, offset, 0);
}
bpf_insn Alu(uint8_t op, uint8_t dst, int32_t imm) {
  return Insn(BPF_ALU64 | op | BPF_K, dst, 0, 0, imm);
}
bpf_insn MovReg(uint8_t dst, uint8_t src) { return Insn(BPF_ALU64 | BPF_MOV | BPF_X, dst, src, 0, 0); }
bpf_insn JumpIfNot(uint8_t reg, int32_t imm, int16_t skip) {
  return Insn(BPF_JMP | BPF_JNE | BPF_K, reg, 0, skip, imm);
}
bpf_insn Return(int32_t verdict) { return Alu(BPF_MOV, BPF_REG_0, verdict); }
bpf_insn Exit() { return Insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0); }

Result<int32_t> AccessMask(const std::string& access, const std::string& field) {
  int32_t mask = 0;
  for (char c : access.empty() ? std::string("rwm") : access) {
    switch (c) {
      case 'r': mask |= BPF_DEVCG_ACC_READ; break;
      case 'w': mask |= BPF_DEVCG_ACC_WRITE; break;
      case 'm': mask |= BPF_DEVCG_ACC_MKNOD; break;
      default:
        return Error(Code::kInvalidArgument, field + ".access: unknown access \"" + access + "\"");
    }
  }
  return mask;
}

}  // namespace

Result<std::vector<bpf_insn>> GenerateDeviceFilter(const std::vector<DeviceCgroup>& rules) {
  constexpr int32_t kAll = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
  std::vector<bpf_insn> prog = {
      LoadWord(BPF_REG_2, 0), Alu(BPF_AND, BPF_REG_2, 0xffff),  // type
      LoadWord(BPF_REG_3, 0), Alu(BPF_RSH, BPF_REG_3, 16),      // access
      LoadWord(BPF_REG_4, 4),                                   // major
      LoadWord(BPF_REG_5, 8),                                   // minor
  };
  // The last matching rule decides, so check them from the end and stop at the first match.
  for (size_t n = rules.size(); n-- > 0;) {
    const DeviceCgroup& rule = rules[n];
    std::string field = "linux.resources.devices[" + std::to_string(n) + "]";
    CR_ASSIGN_OR_RETURN(int32_t access, AccessMask(rule.access, field));
    std::vector<bpf_insn> checks;
    if (rule.type == "c" || rule.type == "b") {
      checks.push_back(JumpIfNot(BPF_REG_2, rule.type == "c" ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK, 0));
    } else if (!rule.type.empty() && rule.type != "a") {
      return Error(Code::kInvalidArgument, field + ".type: must be a, b or c, got \"" + rule.type + "\"");
    }
    if (access != kAll) {
      // Matches when the requested bits are a subset of the rule's.
      checks.push_back(MovReg(BPF_REG_1, BPF_REG_3));
      checks.push_back(Alu(BPF_AND, BPF_REG_1, ~access));
      checks.push_back(JumpIfNot(BPF_REG_1, 0, 0));
    }
    if (rule.major && *rule.major >= 0) {
      checks.push_back(JumpIfNot(BPF_REG_4, static_cast<int32_t>(*rule.major), 0));
    }
    if (rule.minor && *rule.minor >= 0) {
      checks.push_back(JumpIfNot(BPF_REG_5, static_cast<int32_t>(*rule.minor), 0));
    }
    // Every failed check jumps past this rule's verdict (two instructions). Jumps only: the
    // access AND shares its op bits with JNE (0x50), and an ALU instruction with an offset is
    // refused by the verifier ("BPF_ALU uses reserved fields").
    for (size_t i = 0; i < checks.size(); ++i) {
      if (BPF_CLASS(checks[i].code) == BPF_JMP && BPF_OP(checks[i].code) == BPF_JNE) {
        checks[i].off = static_cast<int16_t>(checks.size() - i - 1 + 2);
      }
    }
    prog.insert(prog.end(), checks.begin(), checks.end());
    prog.push_back(Return(rule.allow ? 1 : 0));
    prog.push_back(Exit());
    if (checks.empty()) {
      return prog;  // matches everything: earlier rules can never decide (and the verifier
                    // refuses unreachable instructions)
    }
  }
  // No rule matched: v1 starts from the parent's (open) set.
  prog.push_back(Return(1));
  prog.push_back(Exit());
  return prog;
}

Result<void> AttachDeviceFilter(int cgroup_dir_fd, const std::vector<bpf_insn>& program) {
  static constexpr char kLicense[] = "Apache";
  bpf_attr load{};
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = reinterpret_cast<uint64_t>(program.data());  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  load.insn_cnt = static_cast<uint32_t>(program.size());
  load.license = reinterpret_cast<uint64_t>(kLicense);  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
  UniqueFd prog(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load))));
  if (!prog.valid()) {
    // Load again with the verifier's log, to say why.
    std::string log(4096, '\0');
    load.log_level = 1;
    load.log_buf = reinterpret_cast<uint64_t>(log.data());  // NOLINT(cppcoreguidelines-pro-type-reinterpret-cast)
    load.log_size = static_cast<uint32_t>(log.size());
    int err = errno;
    ::syscall(SYS_bpf, BPF_PROG_LOAD, &load, sizeof(load));
    log.resize(std::strlen(log.c_str()));
    while (!log.empty() && log.back() == '\n') {
      log.pop_back();
    }
    // The verifier ends with a "processed N insns" summary; the reason is the line before it.
    if (size_t summary = log.rfind("\nprocessed "); summary != std::string::npos) {
      log.resize(summary);
    }
    std::string last = log.substr(log.rfind('\n') == std::string::npos ? 0 : log.rfind('\n') + 1);
    return Error::FromErrno(err, "load the device cgroup eBPF program" +
                                     (last.empty() ? std::string() : " (verifier: " + last + ")"));
  }
  bpf_attr attach{};
  attach.target_fd = static_cast<uint32_t>(cgroup_dir_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attach.attach_type = BPF_CGROUP_DEVICE;
  attach.attach_flags = BPF_F_ALLOW_MULTI;
  if (::syscall(SYS_bpf, BPF_PROG_ATTACH, &attach, sizeof(attach)) < 0) {
    return Error::FromErrno(errno, "attach the device cgroup eBPF program");
  }
  return Ok();
}

}  // namespace cricket::oci
