// Whole-file reads and writes for tests that damage, truncate or rewrite fixtures.
#ifndef HEARTH_TESTS_TESTING_FILE_BYTES_H_
#define HEARTH_TESTS_TESTING_FILE_BYTES_H_

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace hearth::testing {

inline std::vector<char> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), {});
}

inline void WriteAll(const std::string& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace hearth::testing

#endif  // HEARTH_TESTS_TESTING_FILE_BYTES_H_
