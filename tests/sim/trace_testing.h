// Shared by the trace tests: where the fixtures are, and scratch files for bad input.
#ifndef HEARTH_TESTS_SIM_TRACE_TESTING_H_
#define HEARTH_TESTS_SIM_TRACE_TESTING_H_

#include <fstream>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace hearth::testing {

// A fixture in tests/data/traces (rows cut from the real files).
inline std::string FixturePath(std::string_view name) {
  return std::string(HEARTH_SOURCE_DIR) + "/tests/data/traces/" + std::string(name);
}

// A real trace in data/traces.
inline std::string RealTracePath(std::string_view name) {
  return std::string(HEARTH_SOURCE_DIR) + "/data/traces/" + std::string(name);
}

// Writes `contents` to a fresh file named `name` in the test's scratch folder.
inline std::string WriteScratchFile(std::string_view name, std::string_view contents) {
  const std::string path = ::testing::TempDir() + "/" + std::string(name);
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  return path;
}

}  // namespace hearth::testing

#endif  // HEARTH_TESTS_SIM_TRACE_TESTING_H_
