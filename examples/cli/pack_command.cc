// `hearth pack`: write a GGUF model as a load-optimised .hearth snapshot.
#include "examples/cli/pack_command.h"

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "lib/snapshot/snapshot.h"

ABSL_FLAG(std::string, output, "", "pack: the snapshot to write (also -o)");

namespace hearth_cli {

int RunPack(const std::string& input) {
  const std::string output = absl::GetFlag(FLAGS_output);
  if (input.empty() || output.empty()) {
    std::fprintf(stderr, "hearth: usage: hearth pack INPUT.gguf -o OUTPUT.hearth\n");
    return 2;
  }
  absl::StatusOr<hearth::PackResult> packed = hearth::PackSnapshot(input, output);
  if (!packed.ok()) {
    std::fprintf(stderr, "hearth: cannot pack '%s': %s\n", input.c_str(),
                 std::string(packed.status().message()).c_str());
    return 1;
  }
  const hearth::SnapshotInfo& info = packed->info;
  constexpr double kMiB = 1024.0 * 1024.0;
  std::printf("packed %s (%.1f MiB) -> %s (%.1f MiB: %u chunks of %.0f MiB, snapshot format %u) "
              "in %.2f s\n",
              input.c_str(), static_cast<double>(packed->source_bytes) / kMiB, output.c_str(),
              static_cast<double>(packed->snapshot_bytes) / kMiB,
              static_cast<unsigned>(info.chunk_count), static_cast<double>(info.chunk_bytes) / kMiB,
              info.format_version, packed->seconds);
  return 0;
}

}  // namespace hearth_cli
