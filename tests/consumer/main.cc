// Loads a model through the installed hearth package and reports how an empty prompt is
// refused; exits non-zero if either step does not behave as documented.
#include <cstdio>

#include "hearth/engine.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: consumer MODEL.gguf\n");
    return 2;
  }
  hearth::EngineConfig config;
  config.model_path = argv[1];
  absl::StatusOr<std::unique_ptr<hearth::Engine>> engine = hearth::Engine::Create(config);
  if (!engine.ok()) {
    std::fprintf(stderr, "load failed: %s\n", std::string(engine.status().message()).c_str());
    return 1;
  }
  hearth::GenerateRequest request;
  request.prompt = "Once upon a time";
  request.max_tokens = 8;
  request.sampling.temperature = 0;
  absl::StatusOr<hearth::GenerateResult> result = (*engine)->Generate(request);
  if (!result.ok() || result->completion_tokens == 0) return 1;
  std::printf("consumer: %s%s\n", request.prompt.c_str(), result->text.c_str());
  request.prompt.clear();
  return (*engine)->Generate(request).status().code() == absl::StatusCode::kInvalidArgument ? 0 : 1;
}
