// `hearth generate`: flags are defined in generate_command.cc.
#ifndef HEARTH_EXAMPLES_CLI_GENERATE_COMMAND_H_
#define HEARTH_EXAMPLES_CLI_GENERATE_COMMAND_H_

namespace hearth_cli {

// Runs the command after flag parsing; returns the process exit code.
int RunGenerate();

}  // namespace hearth_cli

#endif  // HEARTH_EXAMPLES_CLI_GENERATE_COMMAND_H_
