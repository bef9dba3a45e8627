#include "common/result.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

Result<int> parsePositive(int v) {
  if (v <= 0) return fail(Code::kInvalidArgument, "value {} must be positive", v);
  return v;
}

Result<int> doubled(int v) {
  int x = BERTH_TRY_CTX(parsePositive(v), "doubled");
  return 2 * x;
}

Status voidChain(int v) {
  BERTH_TRY(parsePositive(v));
  return {};
}

TEST(Result, TryPropagatesValue) {
  EXPECT_EQ(doubled(4).value(), 8);
}

TEST(Result, TryAddsContextPrefix) {
  auto r = doubled(-1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.error().message(), "doubled: value -1 must be positive");
}

TEST(Result, VoidStatus) {
  EXPECT_TRUE(voidChain(1));
  EXPECT_FALSE(voidChain(0));
}

TEST(Result, ErrnoErrorKeepsErrnoAndMapsCode) {
  Error e = errnoError(ENOENT, "open /x");
  EXPECT_EQ(e.sysErrno(), ENOENT);
  EXPECT_EQ(e.code(), Code::kNotFound);
  EXPECT_EQ(e.message(), "open /x: no such file or directory");
  EXPECT_EQ(errnoError(EEXIST, "x").code(), Code::kAlreadyExists);
  EXPECT_EQ(errnoError(EPERM, "x").code(), Code::kPermissionDenied);
}

TEST(Result, CodeNamesMatchGrpc) {
  EXPECT_EQ(codeName(Code::kFailedPrecondition), "FAILED_PRECONDITION");
  EXPECT_EQ(static_cast<int>(Code::kUnauthenticated), 16);
}

}  // namespace
}  // namespace berth
