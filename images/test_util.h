#pragma once
// Helpers shared by the images/ unit tests: a temporary directory removed at the end.

#include "common/temp_dir_for_test.h"

namespace berth::images::testing {

// Named after this library in its paths.
class TempDir : public berth::testing::TempDir {
 public:
  TempDir() : berth::testing::TempDir("berth-images") {}
};

}  // namespace berth::images::testing
