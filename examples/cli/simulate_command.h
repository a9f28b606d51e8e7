// `hearth simulate`: flags are defined in simulate_command.cc.
#ifndef HEARTH_EXAMPLES_CLI_SIMULATE_COMMAND_H_
#define HEARTH_EXAMPLES_CLI_SIMULATE_COMMAND_H_

namespace hearth_cli {

// Runs the command after flag parsing; returns the process exit code.
int RunSimulate();

}  // namespace hearth_cli

#endif  // HEARTH_EXAMPLES_CLI_SIMULATE_COMMAND_H_
