#include "cri/oom_score.h"

#include <gtest/gtest.h>

#include "oci/spec_default.h"

namespace cricket::cri {
namespace {

TEST(OomScoreTest, ARequestBelowTheFloorIsRaisedToIt) {
  oci::Spec spec = oci::DefaultSpec();
  spec.process->oom_score_adj = -998;
  ClampOomScoreAdj(0, spec);
  EXPECT_EQ(spec.process->oom_score_adj, 0);
}

TEST(OomScoreTest, RequestsAtOrAboveTheFloorOrWithoutOneStay) {
  oci::Spec spec = oci::DefaultSpec();
  spec.process->oom_score_adj = 500;
  ClampOomScoreAdj(0, spec);
  EXPECT_EQ(spec.process->oom_score_adj, 500);
  spec.process->oom_score_adj = -998;
  ClampOomScoreAdj(std::nullopt, spec);  // CAP_SYS_RESOURCE: anything goes
  EXPECT_EQ(spec.process->oom_score_adj, -998);
  spec.process->oom_score_adj.reset();
  ClampOomScoreAdj(100, spec);
  EXPECT_FALSE(spec.process->oom_score_adj.has_value());
}

}  // namespace
}  // namespace cricket::cri
