// `hearth pack INPUT.gguf -o OUTPUT.hearth`: flags are defined in pack_command.cc.
#ifndef HEARTH_EXAMPLES_CLI_PACK_COMMAND_H_
#define HEARTH_EXAMPLES_CLI_PACK_COMMAND_H_

#include <string>

namespace hearth_cli {

// Packs `input` into the snapshot named by --output; returns the process exit code.
int RunPack(const std::string& input);

}  // namespace hearth_cli

#endif  // HEARTH_EXAMPLES_CLI_PACK_COMMAND_H_
