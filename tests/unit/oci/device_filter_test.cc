#include "oci/device_filter.h"

#include <gtest/gtest.h>

#include <cstring>

#include "oci/spec_default.h"

namespace cricket::oci {
namespace {

// Runs the generated program on one request: just the instructions GenerateDeviceFilter emits.
int Interpret(const std::vector<bpf_insn>& prog, uint32_t type, uint32_t access, uint32_t major,
        uint32_t minor) {
  uint32_t ctx[3] = {(access << 16) | type, major, minor};
  uint64_t reg[11] = {};
  for (size_t pc = 0; pc < prog.size(); ++pc) {
    const bpf_insn& in = prog[pc];
    uint64_t imm = static_cast<uint64_t>(static_cast<int64_t>(in.imm));
    switch (in.code) {
      case BPF_LDX | BPF_MEM | BPF_W: reg[in.dst_reg] = ctx[in.off / 4]; break;
      case BPF_ALU64 | BPF_AND | BPF_K: reg[in.dst_reg] &= imm; break;
      case BPF_ALU64 | BPF_RSH | BPF_K: reg[in.dst_reg] >>= imm; break;
      case BPF_ALU64 | BPF_MOV | BPF_K: reg[in.dst_reg] = imm; break;
      case BPF_ALU64 | BPF_MOV | BPF_X: reg[in.dst_reg] = reg[in.src_reg]; break;
      case BPF_JMP | BPF_JNE | BPF_K:
        if (reg[in.dst_reg] != imm) {
          pc += static_cast<size_t>(in.off);
        }
        break;
      case BPF_JMP | BPF_EXIT: return static_cast<int>(reg[0]);
      default: ADD_FAILURE() << "unexpected opcode " << int{in.code}; return -1;
    }
  }
  ADD_FAILURE() << "fell off the end";
  return -1;
}

constexpr uint32_t kChar = BPF_DEVCG_DEV_CHAR;
constexpr uint32_t kBlock = BPF_DEVCG_DEV_BLOCK;
constexpr uint32_t kRead = BPF_DEVCG_ACC_READ;
constexpr uint32_t kWrite = BPF_DEVCG_ACC_WRITE;
constexpr uint32_t kMknod = BPF_DEVCG_ACC_MKNOD;

TEST(DeviceFilterTest, DefaultRulesAllowTheDefaultDevicesOnly) {
  auto prog = GenerateDeviceFilter(DefaultSpec().linux->resources->devices);
  ASSERT_TRUE(prog.ok()) << prog.error().ToString();
  EXPECT_EQ(Interpret(*prog, kChar, kRead | kWrite, 1, 3), 1);  // /dev/null
  EXPECT_EQ(Interpret(*prog, kChar, kMknod, 1, 9), 1);          // /dev/urandom
  EXPECT_EQ(Interpret(*prog, kChar, kRead, 136, 7), 1);         // /dev/pts/7
  EXPECT_EQ(Interpret(*prog, kBlock, kRead, 8, 0), 0);          // /dev/sda
  EXPECT_EQ(Interpret(*prog, kChar, kRead, 10, 200), 0);        // /dev/net/tun
}

TEST(DeviceFilterTest, LaterRulesWinAndAccessMustBeASubset) {
  DeviceCgroup deny_all{false, "a", std::nullopt, std::nullopt, "rwm"};
  DeviceCgroup read_sda{true, "b", 8, 0, "r"};
  DeviceCgroup deny_zero{false, "c", 1, 5, "w"};
  DeviceCgroup allow_mem{true, "c", 1, std::nullopt, "rw"};
  auto prog = GenerateDeviceFilter({deny_all, read_sda, allow_mem, deny_zero});
  ASSERT_TRUE(prog.ok());
  EXPECT_EQ(Interpret(*prog, kBlock, kRead, 8, 0), 1);
  EXPECT_EQ(Interpret(*prog, kBlock, kRead | kWrite, 8, 0), 0);  // w is not granted
  EXPECT_EQ(Interpret(*prog, kChar, kRead, 1, 5), 1);
  EXPECT_EQ(Interpret(*prog, kChar, kWrite, 1, 5), 0);  // the later deny wins
  EXPECT_EQ(Interpret(*prog, kChar, kWrite, 1, 3), 1);
  EXPECT_EQ(Interpret(*prog, kChar, kMknod, 1, 3), 0);
}

// The verifier refuses reserved fields ("BPF_ALU uses reserved fields"): only jumps and loads
// carry an offset, only register moves a source register. A rule with partial access (a CRI
// device with permissions "r") emits the AND that once got a jump offset.
TEST(DeviceFilterTest, NoInstructionUsesReservedFields) {
  DeviceCgroup deny_all{false, "a", std::nullopt, std::nullopt, "rwm"};
  DeviceCgroup read_zero{true, "c", 1, 5, "r"};
  auto prog = GenerateDeviceFilter({deny_all, read_zero});
  ASSERT_TRUE(prog.ok());
  for (size_t pc = 0; pc < prog->size(); ++pc) {
    const bpf_insn& in = (*prog)[pc];
    if (BPF_CLASS(in.code) == BPF_ALU64) {
      EXPECT_EQ(in.off, 0) << "instruction " << pc;
      if (BPF_SRC(in.code) == BPF_K) {
        EXPECT_EQ(in.src_reg, 0) << "instruction " << pc;
      }
    }
  }
  EXPECT_EQ(Interpret(*prog, kChar, kRead, 1, 5), 1);
  EXPECT_EQ(Interpret(*prog, kChar, kWrite, 1, 5), 0);
}

TEST(DeviceFilterTest, NothingFollowsARuleThatMatchesEverything) {
  DeviceCgroup allow_null{true, "c", 1, 3, "rwm"};
  DeviceCgroup deny_all{false, "a", std::nullopt, std::nullopt, "rwm"};
  auto prog = GenerateDeviceFilter({allow_null, deny_all});
  ASSERT_TRUE(prog.ok());
  EXPECT_EQ(prog->size(), 6u + 2u);  // the loads, then the deny-all verdict only
  EXPECT_EQ(Interpret(*prog, kChar, kRead, 1, 3), 0);
}

TEST(DeviceFilterTest, NoRulesAllowEverything) {
  auto prog = GenerateDeviceFilter({});
  ASSERT_TRUE(prog.ok());
  EXPECT_EQ(Interpret(*prog, kBlock, kRead | kWrite | kMknod, 8, 0), 1);
}

TEST(DeviceFilterTest, BadRuleNamesTheField) {
  DeviceCgroup bad{true, "x", 1, 1, "r"};
  EXPECT_EQ(GenerateDeviceFilter({bad}).error().message(),
            "linux.resources.devices[0].type: must be a, b or c, got \"x\"");
  DeviceCgroup bad_access{true, "c", 1, 1, "rz"};
  EXPECT_EQ(GenerateDeviceFilter({bad_access}).error().message(),
            "linux.resources.devices[0].access: unknown access \"rz\"");
}

}  // namespace
}  // namespace cricket::oci
