// `hearth serve [--model NAME=PATH]...`: flags are defined in serve_command.cc.
#ifndef HEARTH_EXAMPLES_CLI_SERVE_COMMAND_H_
#define HEARTH_EXAMPLES_CLI_SERVE_COMMAND_H_

#include <string>
#include <vector>

namespace hearth_cli {

// Runs the server after flag parsing; `model_specs` are the --model values in the order
// given (--model repeats for serve, so hearth_main collects them). Returns the exit code.
int RunServe(const std::vector<std::string>& model_specs);

// Moves every "--model X" / "--model=X" out of `args` (the program name first) into the
// result, leaving the other arguments in order.
std::vector<std::string> TakeModelFlags(std::vector<std::string>& args);

}  // namespace hearth_cli

#endif  // HEARTH_EXAMPLES_CLI_SERVE_COMMAND_H_
