// GgufBuilder: writes GGUF images in memory, for tests and fuzz seeds.
//
//   std::vector<std::byte> image = GgufBuilder()
//       .String("general.architecture", "llama")
//       .Tensor("w", {32, 2}, cpu::GgmlType::kF32, bytes)
//       .Build();
#ifndef HEARTH_TESTS_TESTING_GGUF_BUILDER_H_
#define HEARTH_TESTS_TESTING_GGUF_BUILDER_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "kernels/cpu/quant_types.h"
#include "lib/gguf/gguf_file.h"

namespace hearth::testing {

class GgufBuilder {
 public:
  GgufBuilder& Version(uint32_t v) { version_ = v; return *this; }
  GgufBuilder& Alignment(uint32_t a) { alignment_ = a; return Uint32("general.alignment", a); }

  GgufBuilder& String(const std::string& key, const std::string& value) {
    Key(key, GgufValueType::kString);
    Str(kv_, value);
    ++n_kv_;
    return *this;
  }
  GgufBuilder& Uint32(const std::string& key, uint32_t v) { return Scalar(key, GgufValueType::kUint32, v); }
  GgufBuilder& Int32(const std::string& key, int32_t v) { return Scalar(key, GgufValueType::kInt32, v); }
  GgufBuilder& Float32(const std::string& key, float v) { return Scalar(key, GgufValueType::kFloat32, v); }
  GgufBuilder& Bool(const std::string& key, bool v) {
    return Scalar(key, GgufValueType::kBool, static_cast<uint8_t>(v));
  }
  GgufBuilder& StringArray(const std::string& key, const std::vector<std::string>& values) {
    ArrayHeader(key, GgufValueType::kString, values.size());
    for (const std::string& s : values) Str(kv_, s);
    return *this;
  }
  GgufBuilder& Float32Array(const std::string& key, const std::vector<float>& values) {
    ArrayHeader(key, GgufValueType::kFloat32, values.size());
    for (float v : values) Put(kv_, v);
    return *this;
  }
  GgufBuilder& Int32Array(const std::string& key, const std::vector<int32_t>& values) {
    ArrayHeader(key, GgufValueType::kInt32, values.size());
    for (int32_t v : values) Put(kv_, v);
    return *this;
  }

  // dims[0] is the contiguous dimension; data must hold the tensor's bytes.
  GgufBuilder& Tensor(const std::string& name, const std::vector<int64_t>& dims,
                      cpu::GgmlType type, const std::vector<std::byte>& data) {
    Str(info_, name);
    Put(info_, static_cast<uint32_t>(dims.size()));
    for (int64_t d : dims) Put(info_, static_cast<uint64_t>(d));
    Put(info_, static_cast<uint32_t>(type));
    while (data_.size() % alignment_ != 0) data_.push_back(std::byte{0});
    Put(info_, static_cast<uint64_t>(data_.size()));
    data_.insert(data_.end(), data.begin(), data.end());
    ++n_tensors_;
    return *this;
  }

  std::vector<std::byte> Build() const {
    std::vector<std::byte> out;
    Put(out, uint32_t{0x46554747});
    Put(out, version_);
    Put(out, n_tensors_);
    Put(out, n_kv_);
    out.insert(out.end(), kv_.begin(), kv_.end());
    out.insert(out.end(), info_.begin(), info_.end());
    if (n_tensors_ > 0) {
      while (out.size() % alignment_ != 0) out.push_back(std::byte{0});
      out.insert(out.end(), data_.begin(), data_.end());
    }
    return out;
  }

 private:
  template <typename T>
  static void Put(std::vector<std::byte>& out, T v) {
    const size_t at = out.size();
    out.resize(at + sizeof(T));
    std::memcpy(out.data() + at, &v, sizeof(T));
  }
  static void Str(std::vector<std::byte>& out, const std::string& s) {
    Put(out, static_cast<uint64_t>(s.size()));
    const size_t at = out.size();
    out.resize(at + s.size());
    std::memcpy(out.data() + at, s.data(), s.size());
  }
  void Key(const std::string& key, GgufValueType type) {
    Str(kv_, key);
    Put(kv_, static_cast<uint32_t>(type));
  }
  template <typename T>
  GgufBuilder& Scalar(const std::string& key, GgufValueType type, T v) {
    Key(key, type);
    Put(kv_, v);
    ++n_kv_;
    return *this;
  }
  void ArrayHeader(const std::string& key, GgufValueType type, size_t n) {
    Key(key, GgufValueType::kArray);
    Put(kv_, static_cast<uint32_t>(type));
    Put(kv_, static_cast<uint64_t>(n));
    ++n_kv_;
  }

  uint32_t version_ = 3;
  uint32_t alignment_ = 32;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
  std::vector<std::byte> kv_;
  std::vector<std::byte> info_;
  std::vector<std::byte> data_;
};

}  // namespace hearth::testing

#endif  // HEARTH_TESTS_TESTING_GGUF_BUILDER_H_
