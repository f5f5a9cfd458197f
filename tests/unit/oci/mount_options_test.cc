#include "oci/mount_options.h"

#include <sys/mount.h>

#include <gtest/gtest.h>

namespace cricket::oci {
namespace {

TEST(MountOptionsTest, FlagsPropagationAndData) {
  auto opts = ParseMountOptions({"rbind", "ro", "nosuid", "rslave", "size=64k", "mode=755"});
  ASSERT_TRUE(opts.ok());
  EXPECT_EQ(opts->flags, static_cast<unsigned long>(MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID));
  ASSERT_EQ(opts->propagation.size(), 1u);
  EXPECT_EQ(opts->propagation[0], static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(opts->data, "size=64k,mode=755");
}

TEST(MountOptionsTest, LaterOptionWins) {
  auto opts = ParseMountOptions({"ro", "rw"});
  ASSERT_TRUE(opts.ok());
  EXPECT_EQ(opts->flags & MS_RDONLY, 0u);
}

TEST(MountOptionsTest, RecursiveReadOnly) {
  auto opts = ParseMountOptions({"rbind", "rro"});
  ASSERT_TRUE(opts.ok());
  EXPECT_TRUE(opts->recursive_readonly);
}

TEST(MountOptionsTest, EmptyOptionIsAnError) {
  auto opts = ParseMountOptions({"ro", ""});
  ASSERT_FALSE(opts.ok());
  EXPECT_EQ(opts.error().code(), Code::kInvalidArgument);
}

TEST(MountOptionsTest, PropagationFlags) {
  EXPECT_EQ(PropagationFlags("rslave"), static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(PropagationFlags("x"), 0u);
}

}  // namespace
}  // namespace cricket::oci
