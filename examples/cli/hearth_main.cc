// hearth: the command-line front end.
//
//   hearth generate --prompt "Why is the sky blue?" --chat --max-tokens 128
//   hearth simulate --trace data/traces/AzureLLMInferenceTrace_conv_2023.csv --policy kpa
//   hearth pack models/SmolLM2-135M-Instruct.Q4_1.gguf -o smollm2.hearth
//   hearth serve --model smollm2=models/SmolLM2-135M-Instruct.Q4_1.gguf --port 8080
//
// `generate` streams an answer from the Engine; `simulate` replays a workload trace through
// the control plane (WarmPool, AutoScaler, CostOptimizer); `pack` writes a model as a
// load-optimised .hearth snapshot, which --model accepts like a .gguf; `serve` answers the
// OpenAI API over HTTP, scaling each model to zero when idle. Each command's flags
// live in its own file; `hearth --help` lists them all.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "examples/cli/generate_command.h"
#include "examples/cli/pack_command.h"
#include "examples/cli/serve_command.h"
#include "examples/cli/simulate_command.h"

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "\n  hearth generate --prompt TEXT [--chat] [--max-tokens N] [--temperature T] [--top-p P]"
      " [--seed S] [--threads N] [--json] [--model FILE]\n"
      "  hearth simulate --trace FILE[=MODEL][,FILE...] [--policy NAME|all] [--profile FILE]"
      " [--time-scale F] [--out DIR]\n"
      "  hearth pack INPUT.gguf -o OUTPUT.hearth\n"
      "  hearth serve [--model NAME=PATH]... [--host H] [--port P] [--keep-alive-s S]"
      " [--min-warm N] [--rate R] [--burst B] [--max-queue N] [--route SMALL,LARGE]");
  // Accept --max-tokens as well as --max_tokens, as users of other CLIs type it.
  std::vector<std::string> args(argv, argv + argc);
  const bool packing = std::find(args.begin() + 1, args.end(), "pack") != args.end();
  // `hearth serve` takes --model once per model; absl keeps only a flag's last value.
  const bool serving = std::find(args.begin() + 1, args.end(), "serve") != args.end();
  const std::vector<std::string> served_models =
      serving ? hearth_cli::TakeModelFlags(args) : std::vector<std::string>{};
  for (size_t k = 1; k < args.size(); ++k) {
    std::string& a = args[k];
    // `hearth pack IN -o OUT`: -o is pack's --output.
    if (packing && a == "-o" && k + 1 < args.size()) {
      a = "--output=" + args[k + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(k) + 1);
    }
    if (a.rfind("--", 0) == 0) {
      const size_t eq = a.find('=');
      for (size_t i = 2; i < std::min(eq, a.size()); ++i) {
        if (a[i] == '-') a[i] = '_';
      }
    }
  }
  std::vector<char*> fixed;
  for (std::string& a : args) fixed.push_back(a.data());
  std::vector<char*> positional =
      absl::ParseCommandLine(static_cast<int>(fixed.size()), fixed.data());
  const std::string command = positional.size() == 2 ? positional[1] : "";
  if (command == "generate") return hearth_cli::RunGenerate();
  if (command == "simulate") return hearth_cli::RunSimulate();
  if (command == "serve") return hearth_cli::RunServe(served_models);
  if (positional.size() >= 2 && std::string(positional[1]) == "pack") {
    if (positional.size() != 3) {
      std::fprintf(stderr, "hearth: usage: hearth pack INPUT.gguf -o OUTPUT.hearth\n");
      return 2;
    }
    return hearth_cli::RunPack(positional[2]);
  }
  std::fprintf(stderr, "usage: %s\n", absl::ProgramUsageMessage().data());
  return 2;
}
