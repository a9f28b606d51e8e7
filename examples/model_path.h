// Which model file the command-line programs (examples/, bench/) load: the one rule
// README documents.
#ifndef HEARTH_EXAMPLES_MODEL_PATH_H_
#define HEARTH_EXAMPLES_MODEL_PATH_H_

#include <cstdlib>
#include <string>

namespace hearth_examples {

inline constexpr char kDefaultModelPath[] = "models/SmolLM2-135M-Instruct.Q4_1.gguf";

// `flag` if set, else $HEARTH_MODEL if set, else the SmolLM2 file setup extracts.
inline std::string ResolveModelPath(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("HEARTH_MODEL");
  return env != nullptr && *env != '\0' ? env : kDefaultModelPath;
}

}  // namespace hearth_examples

#endif  // HEARTH_EXAMPLES_MODEL_PATH_H_
