// libFuzzer target: any byte string given to the GGUF reader, and to everything built on
// a file it accepts (model config, weight binding, tokenizer), must give a Status, never a
// crash, hang or out-of-bounds read (run under ASan/UBSan).
#include <cstddef>
#include <cstdint>

#include "lib/gguf/gguf_file.h"
#include "lib/model/llama_config.h"
#include "lib/model/llama_weights.h"
#include "lib/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<std::unique_ptr<hearth::GgufFile>> file = hearth::GgufFile::FromBytes(
      absl::MakeConstSpan(reinterpret_cast<const std::byte*>(data), size));
  if (!file.ok()) return 0;
  // Touch every byte the reader claims is inside the file.
  uint64_t sum = 0;
  for (const std::string& key : (*file)->keys()) {
    if (auto strings = (*file)->GetStringArray(key); strings.ok()) {
      for (std::string_view s : *strings) sum += s.empty() ? 0 : static_cast<uint8_t>(s.back());
    }
    if (auto ints = (*file)->GetIntArray(key); ints.ok()) sum += ints->size();
    if (auto floats = (*file)->GetFloatArray(key); floats.ok()) sum += floats->size();
  }
  for (const hearth::GgufTensor& t : (*file)->tensors()) {
    if (t.n_bytes > 0) sum += static_cast<uint8_t>(t.data[t.n_bytes - 1]);
  }
  if (absl::StatusOr<hearth::LlamaConfig> config = hearth::ReadLlamaConfig(**file); config.ok()) {
    (void)hearth::BindLlamaWeights(**file, &*config);
  }
  if (auto tokenizer = hearth::Tokenizer::FromGguf(**file); tokenizer.ok()) {
    (void)(*tokenizer)->Encode("Hello world 123 <|im_start|>", true, true);
  }
  return sum == 0xFFFFFFFFFFFFFFFFull ? 1 : 0;
}
