#pragma once
// The Backend contract as a test suite, written once (backend_conformance.cpp) and run on every
// backend: a backend's test file instantiates it with a factory,
//   INSTANTIATE_TEST_SUITE_P(Sqlite, BackendConformance, ::testing::Values(factory));
// Each test works under a key root of its own and counts revisions from where it started, so the
// backends may share one server (etcd) across tests.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "controlplane/storage/backend.h"
#include "controlplane/storage/storage_testing.h"

namespace berth::controlplane::storage::testing {

struct BackendFactory {
  std::string name;
  // A backend for one test; an error fails the test.
  std::function<Result<std::unique_ptr<Backend>>()> make;
  // Non-empty: every test skips with it (the backend cannot run on this machine).
  std::function<std::string()> skipReason;
};

class BackendConformance : public ::testing::TestWithParam<BackendFactory> {
 protected:
  void SetUp() override;
  // A key under this test's root: k("pods/a") -> "/registry/<test>/pods/a".
  std::string k(std::string_view rest) const { return root_ + std::string(rest); }
  std::int64_t revision();

  std::unique_ptr<Backend> backend_;
  std::string root_;
};

void PrintTo(const BackendFactory& factory, std::ostream* os);
std::string printFactoryName(const ::testing::TestParamInfo<BackendFactory>& info);

}  // namespace berth::controlplane::storage::testing
