// Parsing JSON text without exceptions, with an error that says where.
#ifndef HEARTH_LIB_RUNTIME_JSON_TEXT_H_
#define HEARTH_LIB_RUNTIME_JSON_TEXT_H_

#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace hearth {

// The JSON value of `text`, or InvalidArgument "malformed JSON at byte N: ..." whose
// message also gives the line and column of the first syntax error.
absl::StatusOr<nlohmann::json> ParseJsonText(std::string_view text);

}  // namespace hearth

#endif  // HEARTH_LIB_RUNTIME_JSON_TEXT_H_
