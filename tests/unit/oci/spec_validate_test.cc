#include "oci/spec_validate.h"

#include <sched.h>
#include <sys/mount.h>

#include <gtest/gtest.h>

#include "oci/spec_default.h"

namespace cricket::oci {
namespace {

Spec ValidSpec() {
  Spec spec = DefaultSpec();
  ResolveBundlePaths(spec, "/bundle");
  return spec;
}

void ExpectInvalid(const Spec& spec, std::string_view prefix) {
  auto result = ValidateSpec(spec);
  ASSERT_FALSE(result.ok()) << "expected an error starting with " << prefix;
  EXPECT_EQ(result.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(result.error().message().substr(0, prefix.size()), prefix) << result.error().message();
}

TEST(SpecValidateTest, DefaultSpecIsValid) {
  auto result = ValidateSpec(ValidSpec());
  EXPECT_TRUE(result.ok()) << result.error().ToString();
}

TEST(SpecValidateTest, ResolvesRelativeRootAndBindSourcesAgainstBundle) {
  Spec spec = DefaultSpec();
  spec.mounts.push_back(Mount{"/data", "bind", "data", {"rbind"}, {}, {}});
  spec.mounts.push_back(Mount{"/abs", "", "/src", {"bind"}, {}, {}});
  ResolveBundlePaths(spec, "/b");
  EXPECT_EQ(spec.root->path, "/b/rootfs");
  EXPECT_EQ(spec.mounts[7].source, "/b/data");
  EXPECT_EQ(spec.mounts[8].source, "/src");
  EXPECT_EQ(spec.mounts[0].source, "proc");  // not a bind mount
}

TEST(SpecValidateTest, RelativeRootPathIsRejected) {
  Spec spec = DefaultSpec();
  ExpectInvalid(spec, "root.path: must be absolute");
}

TEST(SpecValidateTest, UnknownMajorVersion) {
  Spec spec = ValidSpec();
  spec.oci_version = "2.0.0";
  ExpectInvalid(spec, "ociVersion: unsupported major version 2");
}

TEST(SpecValidateTest, OlderMinorVersionIsAccepted) {
  Spec spec = ValidSpec();
  spec.oci_version = "1.0.2-dev";
  EXPECT_TRUE(ValidateSpec(spec).ok());
}

TEST(SpecValidateTest, GarbageVersion) {
  Spec spec = ValidSpec();
  spec.oci_version = "v1";
  ExpectInvalid(spec, "ociVersion: not a version");
}

TEST(SpecValidateTest, RelativeMountDestination) {
  Spec spec = ValidSpec();
  spec.mounts.push_back(Mount{"data", "tmpfs", "tmpfs", {}, {}, {}});
  ExpectInvalid(spec, "mounts[7].destination: must be an absolute path");
}

TEST(SpecValidateTest, BindMountWithoutSource) {
  Spec spec = ValidSpec();
  spec.mounts.push_back(Mount{"/data", "", "", {"rbind", "ro"}, {}, {}});
  ExpectInvalid(spec, "mounts[7].source: a bind mount needs a source");
}

TEST(SpecValidateTest, MountWithoutTypeThatIsNotBind) {
  Spec spec = ValidSpec();
  spec.mounts.push_back(Mount{"/data", "", "/src", {"ro"}, {}, {}});
  ExpectInvalid(spec, "mounts[7].type: missing");
}

TEST(SpecValidateTest, UnknownNamespaceType) {
  Spec spec = ValidSpec();
  spec.linux->namespaces.push_back(Namespace{"foo", ""});
  ExpectInvalid(spec, "linux.namespaces[6].type: unknown namespace type \"foo\"");
}

TEST(SpecValidateTest, DuplicateNamespace) {
  Spec spec = ValidSpec();
  spec.linux->namespaces.push_back(Namespace{"pid", ""});
  ExpectInvalid(spec, "linux.namespaces[6].type: namespace \"pid\" listed twice");
}

TEST(SpecValidateTest, HostnameNeedsUtsNamespace) {
  Spec spec = ValidSpec();
  std::erase_if(spec.linux->namespaces, [](const Namespace& ns) { return ns.type == "uts"; });
  ExpectInvalid(spec, "hostname: needs its own uts namespace");
}

TEST(SpecValidateTest, MissingArgsAndRelativeCwd) {
  Spec spec = ValidSpec();
  spec.process->args.clear();
  ExpectInvalid(spec, "process.args");
  spec = ValidSpec();
  spec.process->cwd = "tmp";
  ExpectInvalid(spec, "process.cwd: must be an absolute path");
}

TEST(SpecValidateTest, UnknownRlimit) {
  Spec spec = ValidSpec();
  spec.process->rlimits.push_back(Rlimit{"RLIMIT_BOGUS", 1, 1});
  ExpectInvalid(spec, "process.rlimits[1].type: unknown rlimit");
}

TEST(SpecValidateTest, UnknownRootfsPropagation) {
  Spec spec = ValidSpec();
  spec.linux->rootfs_propagation = "sideways";
  ExpectInvalid(spec, "linux.rootfsPropagation");
}

TEST(SpecValidateTest, NamespaceFlagsAndPropagation) {
  EXPECT_EQ(NamespaceCloneFlag("network"), CLONE_NEWNET);
  EXPECT_EQ(NamespaceCloneFlag("bogus"), 0);
  EXPECT_EQ(PropagationFlags("rslave"), static_cast<unsigned long>(MS_SLAVE | MS_REC));
  EXPECT_EQ(PropagationFlags("x"), 0u);
}


TEST(SpecValidateTest, IdmappedMountsMustBeBindsWithBothMappings) {
  Spec spec = ValidSpec();
  Mount m;
  m.destination = "/t";
  m.type = "tmpfs";
  m.source = "tmpfs";
  m.options = {"idmap"};
  spec.mounts.push_back(m);
  ExpectInvalid(spec, "mounts[" + std::to_string(spec.mounts.size() - 1) + "].options: idmapped");
  spec.mounts.back() = Mount{"/d", "bind", "/data", {"rbind"}, {IdMapping{0, 1000, 1}}, {}};
  ExpectInvalid(spec, "mounts[" + std::to_string(spec.mounts.size() - 1) + "].uidMappings: an idmapped");
  spec.mounts.back().gid_mappings = {IdMapping{0, 1000, 1}};
  EXPECT_TRUE(ValidateSpec(spec).ok());
}

}  // namespace
}  // namespace cricket::oci
