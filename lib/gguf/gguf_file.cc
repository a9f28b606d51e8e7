#include "lib/gguf/gguf_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "kernels/cpu/quant_types.h"

namespace hearth {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read little-endian
constexpr uint64_t kMaxStringBytes = uint64_t{1} << 30;
constexpr uint64_t kMaxDims = 4;
// A count larger than the bytes left in the file cannot be honest: each element takes at
// least one byte. Checking this before reserving memory keeps hostile counts from
// allocating gigabytes.
constexpr uint64_t kMinBytesPerEntry = 1;


bool IsKnownValueType(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::kFloat64); }

// Bounds-checked little-endian cursor over the file image.
class Reader {
 public:
  Reader(const std::byte* data, size_t size) : data_(data), size_(size) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return size_ - offset_; }

  template <typename T>
  absl::Status Read(T* out, std::string_view what) {
    if (remaining() < sizeof(T)) return Truncated(what);
    std::memcpy(out, data_ + offset_, sizeof(T));
    offset_ += sizeof(T);
    return absl::OkStatus();
  }

  absl::Status ReadString(std::string_view* out, std::string_view what) {
    uint64_t n = 0;
    if (absl::Status s = Read(&n, what); !s.ok()) return s;
    if (n > kMaxStringBytes) {
      return absl::InvalidArgumentError(
          absl::StrFormat("GGUF: %s has an implausible length %u at offset %u", what, n, offset_));
    }
    if (remaining() < n) return Truncated(what);
    *out = std::string_view(reinterpret_cast<const char*>(data_ + offset_), n);
    offset_ += n;
    return absl::OkStatus();
  }

  absl::Status Skip(uint64_t n, std::string_view what) {
    if (remaining() < n) return Truncated(what);
    offset_ += n;
    return absl::OkStatus();
  }

  const std::byte* here() const { return data_ + offset_; }

 private:
  absl::Status Truncated(std::string_view what) const {
    return absl::DataLossError(absl::StrFormat(
        "GGUF: file truncated while reading %s at offset %u (file is %u bytes)", what, offset_,
        size_));
  }

  const std::byte* data_;
  size_t size_;
  size_t offset_ = 0;
};

template <typename T>
absl::Status ReadNumber(Reader& r, GgufValue& v, std::string_view what) {
  T x{};
  if (absl::Status s = r.Read(&x, what); !s.ok()) return s;
  v.f = static_cast<double>(x);
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) v.i = x;
  if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) v.u = x;
  return absl::OkStatus();
}

absl::Status ReadScalar(Reader& r, GgufValueType type, GgufValue& v, std::string_view key) {
  const std::string what = absl::StrFormat("value of '%s'", key);
  switch (type) {
    case GgufValueType::kUint8: return ReadNumber<uint8_t>(r, v, what);
    case GgufValueType::kInt8: return ReadNumber<int8_t>(r, v, what);
    case GgufValueType::kUint16: return ReadNumber<uint16_t>(r, v, what);
    case GgufValueType::kInt16: return ReadNumber<int16_t>(r, v, what);
    case GgufValueType::kUint32: return ReadNumber<uint32_t>(r, v, what);
    case GgufValueType::kInt32: return ReadNumber<int32_t>(r, v, what);
    case GgufValueType::kUint64: return ReadNumber<uint64_t>(r, v, what);
    case GgufValueType::kInt64: return ReadNumber<int64_t>(r, v, what);
    case GgufValueType::kFloat32: return ReadNumber<float>(r, v, what);
    case GgufValueType::kFloat64: return ReadNumber<double>(r, v, what);
    case GgufValueType::kBool: {
      if (absl::Status s = ReadNumber<uint8_t>(r, v, what); !s.ok()) return s;
      if (v.u > 1) {
        return absl::InvalidArgumentError(
            absl::StrFormat("GGUF: '%s' is a bool holding %d (must be 0 or 1)", key, v.u));
      }
      return absl::OkStatus();
    }
    case GgufValueType::kString:
      return r.ReadString(&v.str, what);
    case GgufValueType::kArray:
      break;
  }
  return absl::InternalError("ReadScalar called on an array");
}

absl::Status ReadValue(Reader& r, GgufValueType type, GgufValue& v, std::string_view key) {
  v.type = type;
  if (type != GgufValueType::kArray) return ReadScalar(r, type, v, key);

  uint32_t elem_type = 0;
  if (auto s = r.Read(&elem_type, "array element type"); !s.ok()) return s;
  if (!IsKnownValueType(elem_type)) {
    return absl::InvalidArgumentError(
        absl::StrFormat("GGUF: '%s' is an array of unknown value type %u", key, elem_type));
  }
  v.array_type = static_cast<GgufValueType>(elem_type);
  if (v.array_type == GgufValueType::kArray) {
    // Nested arrays are legal in the format but no model uses them; skipping them would
    // need unbounded recursion on hostile input, so they are refused.
    return absl::UnimplementedError(absl::StrFormat("GGUF: '%s' is an array of arrays", key));
  }
  if (auto s = r.Read(&v.array_size, "array length"); !s.ok()) return s;
  if (v.array_size > r.remaining() / kMinBytesPerEntry) {
    return absl::DataLossError(absl::StrFormat(
        "GGUF: array '%s' claims %u elements but only %u bytes remain", key, v.array_size,
        r.remaining()));
  }
  v.array_data = r.here();
  if (v.array_type == GgufValueType::kString) {
    v.strings.reserve(v.array_size);
    for (uint64_t i = 0; i < v.array_size; ++i) {
      std::string_view sv;
      if (auto s = r.ReadString(&sv, absl::StrFormat("element %d of '%s'", i, key)); !s.ok()) {
        return s;
      }
      v.strings.push_back(sv);
    }
    return absl::OkStatus();
  }
  const size_t elem = GgufScalarSize(v.array_type);
  if (v.array_size > r.remaining() / elem) {
    return absl::DataLossError(absl::StrFormat(
        "GGUF: array '%s' of %u elements runs past the end of the file", key, v.array_size));
  }
  if (v.array_type == GgufValueType::kBool) {
    for (uint64_t i = 0; i < v.array_size; ++i) {
      if (static_cast<uint8_t>(v.array_data[i]) > 1) {
        return absl::InvalidArgumentError(
            absl::StrFormat("GGUF: bool array '%s' holds a value other than 0 or 1", key));
      }
    }
  }
  return r.Skip(v.array_size * elem, "array data");
}

absl::StatusOr<int64_t> ScalarAsInt(const GgufValue& v, std::string_view key) {
  switch (v.type) {
    case GgufValueType::kUint8:
    case GgufValueType::kUint16:
    case GgufValueType::kUint32:
    case GgufValueType::kBool:
      return static_cast<int64_t>(v.u);
    case GgufValueType::kUint64:
      if (v.u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return absl::OutOfRangeError(absl::StrFormat("GGUF: '%s' = %u is too large", key, v.u));
      }
      return static_cast<int64_t>(v.u);
    case GgufValueType::kInt8:
    case GgufValueType::kInt16:
    case GgufValueType::kInt32:
    case GgufValueType::kInt64:
      return v.i;
    default:
      return absl::InvalidArgumentError(absl::StrFormat("GGUF: '%s' is not an integer", key));
  }
}

template <typename T>
T LoadUnaligned(const std::byte* p) {
  T x;
  std::memcpy(&x, p, sizeof(T));
  return x;
}

// Array elements sit unaligned in the mapping, so each is copied out.
template <typename T>
std::vector<int64_t> WidenArray(const std::byte* p, uint64_t n) {
  std::vector<int64_t> out(n);
  for (uint64_t i = 0; i < n; ++i) out[i] = LoadUnaligned<T>(p + sizeof(T) * i);
  return out;
}

}  // namespace

size_t GgufScalarSize(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16:
      return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32:
      return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64:
      return 8;
    case GgufValueType::kString:
    case GgufValueType::kArray:
      return 0;
  }
  return 0;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrFormat("cannot open model file '%s': %s", path, std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrFormat("model file '%s' is not a regular file", path));
  }
  auto file = std::unique_ptr<GgufFile>(new GgufFile());
  file->size_ = static_cast<size_t>(st.st_size);
  if (file->size_ == 0) {
    ::close(fd);
    return absl::DataLossError(absl::StrFormat("model file '%s' is empty", path));
  }
  void* base = ::mmap(nullptr, file->size_, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file alive
  if (base == MAP_FAILED) {
    return absl::InternalError(
        absl::StrFormat("cannot map model file '%s': %s", path, std::strerror(errno)));
  }
  file->base_ = static_cast<const std::byte*>(base);
  file->owns_mapping_ = true;
  if (absl::Status s = file->Parse(); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(path, ": ", s.message()));
  }
  return file;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::FromBytes(absl::Span<const std::byte> bytes) {
  auto file = std::unique_ptr<GgufFile>(new GgufFile());
  file->base_ = bytes.data();
  file->size_ = bytes.size();
  if (absl::Status s = file->Parse(); !s.ok()) return s;
  return file;
}

absl::StatusOr<std::unique_ptr<GgufFile>> GgufFile::FromBytes(
    absl::Span<const std::byte> bytes, std::shared_ptr<const void> keep_alive) {
  absl::StatusOr<std::unique_ptr<GgufFile>> file = FromBytes(bytes);
  if (file.ok()) (*file)->keep_alive_ = std::move(keep_alive);
  return file;
}

GgufFile::~GgufFile() {
  if (owns_mapping_) ::munmap(const_cast<std::byte*>(base_), size_);
}

absl::Status GgufFile::Parse() {
  Reader r(base_, size_);
  uint32_t magic = 0;
  if (auto s = r.Read(&magic, "magic"); !s.ok()) return s;
  if (magic != kMagic) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "not a GGUF file (magic 0x%08x, expected 0x%08x \"GGUF\")", magic, kMagic));
  }
  if (auto s = r.Read(&version_, "version"); !s.ok()) return s;
  if (version_ != 2 && version_ != 3) {
    return absl::UnimplementedError(
        absl::StrFormat("GGUF version %u is not supported (2 and 3 are)", version_));
  }
  uint64_t n_tensors = 0, n_kv = 0;
  if (auto s = r.Read(&n_tensors, "tensor count"); !s.ok()) return s;
  if (auto s = r.Read(&n_kv, "metadata count"); !s.ok()) return s;
  if (n_kv > r.remaining() / kMinBytesPerEntry || n_tensors > r.remaining() / kMinBytesPerEntry) {
    return absl::DataLossError(absl::StrFormat(
        "GGUF: header claims %u metadata entries and %u tensors, more than the file can hold",
        n_kv, n_tensors));
  }

  keys_.reserve(n_kv);
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string_view key;
    if (auto s = r.ReadString(&key, absl::StrCat("key of metadata entry ", i)); !s.ok()) return s;
    uint32_t type = 0;
    if (auto s = r.Read(&type, "metadata value type"); !s.ok()) return s;
    if (!IsKnownValueType(type)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("GGUF: metadata '%s' has unknown value type %u", key, type));
    }
    GgufValue value;
    if (auto s = ReadValue(r, static_cast<GgufValueType>(type), value, key); !s.ok()) return s;
    auto [it, inserted] = metadata_.try_emplace(std::string(key), std::move(value));
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrFormat("GGUF: duplicate metadata key '%s'", key));
    }
    keys_.emplace_back(key);
  }

  if (const GgufValue* a = Find("general.alignment")) {
    absl::StatusOr<int64_t> align = ScalarAsInt(*a, "general.alignment");
    if (!align.ok()) return align.status();
    if (*align <= 0 || (*align & (*align - 1)) != 0 || *align > (1 << 20)) {
      return absl::InvalidArgumentError(
          absl::StrFormat("GGUF: general.alignment %d is not a power of two", *align));
    }
    alignment_ = static_cast<uint64_t>(*align);
  }

  tensors_.reserve(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensor t;
    std::string_view name;
    if (auto s = r.ReadString(&name, absl::StrCat("name of tensor ", i)); !s.ok()) return s;
    t.name = std::string(name);
    uint32_t n_dims = 0;
    if (auto s = r.Read(&n_dims, "tensor rank"); !s.ok()) return s;
    if (n_dims == 0 || n_dims > kMaxDims) {
      return absl::InvalidArgumentError(
          absl::StrFormat("GGUF: tensor '%s' has rank %u (1 to %u supported)", name, n_dims, kMaxDims));
    }
    int64_t n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim = 0;
      if (auto s = r.Read(&dim, "tensor dimension"); !s.ok()) return s;
      if (dim == 0 || dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
          static_cast<int64_t>(dim) > std::numeric_limits<int64_t>::max() / n_elements) {
        return absl::InvalidArgumentError(
            absl::StrFormat("GGUF: tensor '%s' has an invalid dimension %u", name, dim));
      }
      n_elements *= static_cast<int64_t>(dim);
      t.dims.push_back(static_cast<int64_t>(dim));
    }
    t.n_elements = n_elements;
    if (auto s = r.Read(&t.type, "tensor type"); !s.ok()) return s;
    if (!cpu::IsSupportedType(t.type)) {
      return absl::UnimplementedError(absl::StrFormat(
          "GGUF: tensor '%s' has type %u (%s), which hearth does not support (f32, f16, q4_0, "
          "q4_1, q8_0 are)",
          name, t.type, cpu::TypeName(t.type)));
    }
    const auto type = static_cast<cpu::GgmlType>(t.type);
    if (t.dims[0] % cpu::BlockElements(type) != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "GGUF: tensor '%s' row of %d elements is not a whole number of %s blocks", name,
          t.dims[0], cpu::TypeName(t.type)));
    }
    t.n_bytes = static_cast<uint64_t>(n_elements / cpu::BlockElements(type)) * cpu::BlockBytes(type);
    if (auto s = r.Read(&t.offset, "tensor offset"); !s.ok()) return s;
    if (t.offset % alignment_ != 0) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "GGUF: tensor '%s' offset %u is not aligned to %u", name, t.offset, alignment_));
    }
    auto [it, inserted] = tensor_index_.try_emplace(t.name, tensors_.size());
    if (!inserted) {
      return absl::InvalidArgumentError(absl::StrFormat("GGUF: duplicate tensor '%s'", name));
    }
    tensors_.push_back(std::move(t));
  }

  // The data section starts at the next multiple of the alignment. A file with no tensors
  // may end right after its metadata without that padding.
  if (tensors_.empty()) return absl::OkStatus();
  const uint64_t data_start = (r.offset() + alignment_ - 1) / alignment_ * alignment_;
  if (data_start > size_) {
    return absl::DataLossError("GGUF: file ends before its tensor data section");
  }
  const uint64_t data_size = size_ - data_start;
  for (GgufTensor& t : tensors_) {
    if (t.offset > data_size || t.n_bytes > data_size - t.offset) {
      return absl::DataLossError(absl::StrFormat(
          "GGUF: tensor '%s' (%u bytes at data offset %u) runs past the end of the file "
          "(%u data bytes)",
          t.name, t.n_bytes, t.offset, data_size));
    }
    t.data = base_ + data_start + t.offset;
  }
  return absl::OkStatus();
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  // Debian's Abseil keeps its own string_view type, so the key is converted explicitly.
  auto it = metadata_.find(absl::string_view(key.data(), key.size()));
  return it == metadata_.end() ? nullptr : &it->second;
}

namespace {
absl::Status Missing(std::string_view key) {
  return absl::NotFoundError(absl::StrFormat("GGUF: metadata key '%s' is missing", key));
}
}  // namespace

absl::StatusOr<std::string_view> GgufFile::GetString(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type != GgufValueType::kString) {
    return absl::InvalidArgumentError(absl::StrFormat("GGUF: '%s' is not a string", key));
  }
  return v->str;
}

absl::StatusOr<int64_t> GgufFile::GetInt(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  return ScalarAsInt(*v, key);
}

absl::StatusOr<double> GgufFile::GetFloat(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type == GgufValueType::kFloat32 || v->type == GgufValueType::kFloat64) return v->f;
  absl::StatusOr<int64_t> i = ScalarAsInt(*v, key);
  if (!i.ok()) {
    return absl::InvalidArgumentError(absl::StrFormat("GGUF: '%s' is not a number", key));
  }
  return static_cast<double>(*i);
}

absl::StatusOr<absl::Span<const std::string_view>> GgufFile::GetStringArray(
    std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type != GgufValueType::kArray || v->array_type != GgufValueType::kString) {
    return absl::InvalidArgumentError(absl::StrFormat("GGUF: '%s' is not an array of strings", key));
  }
  return absl::MakeConstSpan(v->strings);
}

absl::StatusOr<std::vector<float>> GgufFile::GetFloatArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type != GgufValueType::kArray || v->array_type != GgufValueType::kFloat32) {
    return absl::InvalidArgumentError(absl::StrFormat("GGUF: '%s' is not an array of float32", key));
  }
  std::vector<float> out(v->array_size);
  std::memcpy(out.data(), v->array_data, out.size() * sizeof(float));
  return out;
}

absl::StatusOr<std::vector<int64_t>> GgufFile::GetIntArray(std::string_view key) const {
  const GgufValue* v = Find(key);
  if (v == nullptr) return Missing(key);
  if (v->type != GgufValueType::kArray) {
    return absl::InvalidArgumentError(absl::StrFormat("GGUF: '%s' is not an array", key));
  }
  const std::byte* p = v->array_data;
  const uint64_t n = v->array_size;
  switch (v->array_type) {
    case GgufValueType::kUint8:
    case GgufValueType::kBool: return WidenArray<uint8_t>(p, n);
    case GgufValueType::kInt8: return WidenArray<int8_t>(p, n);
    case GgufValueType::kUint16: return WidenArray<uint16_t>(p, n);
    case GgufValueType::kInt16: return WidenArray<int16_t>(p, n);
    case GgufValueType::kUint32: return WidenArray<uint32_t>(p, n);
    case GgufValueType::kInt32: return WidenArray<int32_t>(p, n);
    case GgufValueType::kInt64: return WidenArray<int64_t>(p, n);
    case GgufValueType::kUint64: {
      std::vector<int64_t> out;
      out.reserve(n);
      for (uint64_t i = 0; i < n; ++i) {
        const uint64_t x = LoadUnaligned<uint64_t>(p + 8 * i);
        if (x > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
          return absl::OutOfRangeError(absl::StrFormat("GGUF: '%s' holds a value too large", key));
        }
        out.push_back(static_cast<int64_t>(x));
      }
      return out;
    }
    default:
      return absl::InvalidArgumentError(
          absl::StrFormat("GGUF: '%s' is not an array of integers", key));
  }
}

const GgufTensor* GgufFile::FindTensor(std::string_view name) const {
  auto it = tensor_index_.find(absl::string_view(name.data(), name.size()));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace hearth
