// GgufFile: a validated, memory-mapped GGUF file (versions 2 and 3).
//
// Open() maps the file read-only and checks everything before returning: magic, version,
// every metadata key/value (all 13 value types; arrays of arrays, which no model uses, are
// refused), the tensor table (names, ranks, dimensions, types, overflow of element
// counts), the alignment, and that every tensor's data lies inside the file. A corrupt,
// truncated or hostile file yields InvalidArgument / DataLoss naming the problem; nothing
// is read out of bounds.
//
// Usage:
//   absl::StatusOr<std::unique_ptr<GgufFile>> f = GgufFile::Open("model.gguf");
//   if (!f.ok()) return f.status();
//   absl::StatusOr<std::string> arch = (*f)->GetString("general.architecture");
//   const GgufTensor* t = (*f)->FindTensor("token_embd.weight");
//
// Ownership: the GgufFile owns the mapping; string_views and tensor data pointers stay
// valid for its lifetime. Thread-safety: immutable after Open(), safe to share.
#ifndef HEARTH_LIB_GGUF_GGUF_FILE_H_
#define HEARTH_LIB_GGUF_GGUF_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace hearth {

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};

// One metadata value. Scalars are widened; arrays keep a view of their raw bytes in the
// mapping (strings are decoded on demand through GgufFile accessors).
struct GgufValue {
  GgufValueType type = GgufValueType::kUint8;
  // Scalars.
  uint64_t u = 0;  // unsigned and bool
  int64_t i = 0;   // signed
  double f = 0;    // float32 / float64
  std::string_view str;
  // Arrays.
  GgufValueType array_type = GgufValueType::kUint8;
  uint64_t array_size = 0;
  const std::byte* array_data = nullptr;  // first element in the mapping
  std::vector<std::string_view> strings;  // decoded when array_type == kString
};

// Bytes of one value of a scalar type (array elements); 0 for strings and arrays.
size_t GgufScalarSize(GgufValueType type);

struct GgufTensor {
  std::string name;
  uint32_t type = 0;              // GgmlType id (validated as supported by GgufFile)
  std::vector<int64_t> dims;      // ne[0] is the contiguous (row) dimension
  int64_t n_elements = 0;
  uint64_t offset = 0;            // relative to the data section
  uint64_t n_bytes = 0;
  const std::byte* data = nullptr;  // inside the mapping
};

class GgufFile {
 public:
  static absl::StatusOr<std::unique_ptr<GgufFile>> Open(const std::string& path);
  // Parses an in-memory image (no copy; `bytes` must outlive the result). For tests and
  // the fuzzer.
  static absl::StatusOr<std::unique_ptr<GgufFile>> FromBytes(absl::Span<const std::byte> bytes);
  // Parses an image inside a mapping someone else owns (a .hearth snapshot's): the result
  // holds `keep_alive` until it is destroyed, so the bytes stay valid as long as it does.
  static absl::StatusOr<std::unique_ptr<GgufFile>> FromBytes(absl::Span<const std::byte> bytes,
                                                             std::shared_ptr<const void> keep_alive);

  ~GgufFile();
  GgufFile(const GgufFile&) = delete;
  GgufFile& operator=(const GgufFile&) = delete;

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  size_t file_size() const { return size_; }
  const std::byte* mapping() const { return base_; }

  const GgufValue* Find(std::string_view key) const;
  absl::StatusOr<std::string_view> GetString(std::string_view key) const;
  // Any integer type (or bool), range-checked into int64.
  absl::StatusOr<int64_t> GetInt(std::string_view key) const;
  // float32 / float64 or any integer type.
  absl::StatusOr<double> GetFloat(std::string_view key) const;
  absl::StatusOr<absl::Span<const std::string_view>> GetStringArray(std::string_view key) const;
  // Arrays of float32 (copied out) / of any integer type (widened).
  absl::StatusOr<std::vector<float>> GetFloatArray(std::string_view key) const;
  absl::StatusOr<std::vector<int64_t>> GetIntArray(std::string_view key) const;

  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* FindTensor(std::string_view name) const;
  const std::vector<std::string>& keys() const { return keys_; }

 private:
  GgufFile() = default;
  absl::Status Parse();

  const std::byte* base_ = nullptr;
  size_t size_ = 0;
  bool owns_mapping_ = false;
  std::shared_ptr<const void> keep_alive_;  // the owner of the bytes, when not this file
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::vector<std::string> keys_;  // in file order
  absl::flat_hash_map<std::string, GgufValue> metadata_;
  std::vector<GgufTensor> tensors_;
  absl::flat_hash_map<std::string, size_t> tensor_index_;
};

}  // namespace hearth

#endif  // HEARTH_LIB_GGUF_GGUF_FILE_H_
