#include "lib/gguf/gguf_file.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/gguf_builder.h"

namespace hearth {
namespace {

using ::hearth::testing::GgufBuilder;
using ::testing::HasSubstr;

std::vector<std::byte> FloatBytes(const std::vector<float>& v) {
  std::vector<std::byte> out(v.size() * sizeof(float));
  std::memcpy(out.data(), v.data(), out.size());
  return out;
}

absl::StatusOr<std::unique_ptr<GgufFile>> Parse(const std::vector<std::byte>& image) {
  return GgufFile::FromBytes(absl::MakeConstSpan(image));
}

TEST(GgufFileTest, ReadsEveryMetadataTypeAndTensors) {
  std::vector<float> w(64 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.25f * static_cast<float>(i) - 3.0f;
  const std::vector<std::byte> image = GgufBuilder()
                                           .String("general.architecture", "llama")
                                           .Uint32("u32", 4000000000u)
                                           .Int32("i32", -7)
                                           .Float32("f32", 1.5f)
                                           .Bool("flag", true)
                                           .StringArray("names", {"a", "bc", ""})
                                           .Float32Array("scores", {0.5f, -1.0f})
                                           .Int32Array("ids", {3, -4, 5})
                                           .Tensor("w", {64, 3}, cpu::GgmlType::kF32, FloatBytes(w))
                                           .Tensor("v", {32}, cpu::GgmlType::kF32,
                                                   FloatBytes(std::vector<float>(32, 2.0f)))
                                           .Build();
  absl::StatusOr<std::unique_ptr<GgufFile>> f = Parse(image);
  ASSERT_TRUE(f.ok()) << f.status();
  const GgufFile& file = **f;
  EXPECT_EQ(file.version(), 3u);
  EXPECT_EQ(*file.GetString("general.architecture"), "llama");
  EXPECT_EQ(*file.GetInt("u32"), 4000000000);
  EXPECT_EQ(*file.GetInt("i32"), -7);
  EXPECT_EQ(*file.GetFloat("f32"), 1.5);
  EXPECT_EQ(*file.GetInt("flag"), 1);
  EXPECT_THAT(*file.GetStringArray("names"), ::testing::ElementsAre("a", "bc", ""));
  EXPECT_THAT(*file.GetFloatArray("scores"), ::testing::ElementsAre(0.5f, -1.0f));
  EXPECT_THAT(*file.GetIntArray("ids"), ::testing::ElementsAre(3, -4, 5));
  EXPECT_THAT(file.keys(), ::testing::ElementsAre("general.architecture", "u32", "i32", "f32",
                                                  "flag", "names", "scores", "ids"));
  ASSERT_EQ(file.tensors().size(), 2u);
  const GgufTensor* t = file.FindTensor("w");
  ASSERT_NE(t, nullptr);
  EXPECT_THAT(t->dims, ::testing::ElementsAre(64, 3));
  EXPECT_EQ(t->n_bytes, w.size() * sizeof(float));
  EXPECT_EQ(std::memcmp(t->data, w.data(), t->n_bytes), 0);
  // Aligned within the file; a page-aligned mapping makes that an aligned address.
  EXPECT_EQ((file.FindTensor("v")->data - file.mapping()) % 32, 0);
}

TEST(GgufFileTest, MissingAndMistypedKeysNameTheKey) {
  auto f = Parse(GgufBuilder().String("s", "x").Build());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ((*f)->GetString("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT((*f)->GetString("nope").status().message(), HasSubstr("nope"));
  EXPECT_EQ((*f)->GetInt("s").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*f)->GetStringArray("s").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GgufFileTest, AcceptsVocabularyOnlyFileWithoutPadding) {
  // A file with no tensors may end right after its metadata.
  auto f = Parse(GgufBuilder().String("tokenizer.ggml.model", "gpt2").Build());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE((*f)->tensors().empty());
}

TEST(GgufFileTest, AcceptsVersionTwo) {
  auto f = Parse(GgufBuilder().Version(2).String("a", "b").Build());
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->version(), 2u);
}

TEST(GgufFileTest, RejectsBadMagicAndVersion) {
  std::vector<std::byte> image = GgufBuilder().String("a", "b").Build();
  image[0] = std::byte{'X'};
  EXPECT_EQ(Parse(image).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Parse(image).status().message(), HasSubstr("not a GGUF file"));
  EXPECT_EQ(Parse(GgufBuilder().Version(1).Build()).status().code(),
            absl::StatusCode::kUnimplemented);
  EXPECT_EQ(Parse(GgufBuilder().Version(4).Build()).status().code(),
            absl::StatusCode::kUnimplemented);
}

TEST(GgufFileTest, EveryTruncationIsAnErrorNotACrash) {
  const std::vector<std::byte> image =
      GgufBuilder()
          .String("general.architecture", "llama")
          .StringArray("tokens", {"x", "yy"})
          .Float32Array("scores", {1, 2})
          .Tensor("w", {32, 2}, cpu::GgmlType::kF32, FloatBytes(std::vector<float>(64, 1.0f)))
          .Build();
  ASSERT_TRUE(Parse(image).ok());
  for (size_t n = 0; n < image.size(); ++n) {
    std::vector<std::byte> cut(image.begin(), image.begin() + n);
    absl::StatusOr<std::unique_ptr<GgufFile>> f = Parse(cut);
    EXPECT_FALSE(f.ok()) << "prefix of " << n << " bytes parsed";
  }
}

TEST(GgufFileTest, RejectsTensorPastEndOfFile) {
  std::vector<std::byte> image =
      GgufBuilder()
          .Tensor("w", {32, 2}, cpu::GgmlType::kF32, FloatBytes(std::vector<float>(64, 1.0f)))
          .Build();
  image.resize(image.size() - 4);
  absl::Status s = Parse(image).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("'w'"));
}

TEST(GgufFileTest, RejectsUnsupportedTensorType) {
  const std::vector<std::byte> image =
      GgufBuilder().Tensor("w", {256}, static_cast<cpu::GgmlType>(12), std::vector<std::byte>(144)).Build();
  absl::Status s = Parse(image).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_THAT(s.message(), HasSubstr("type 12"));
}

TEST(GgufFileTest, RejectsRowNotWholeBlocks) {
  const std::vector<std::byte> image =
      GgufBuilder().Tensor("w", {48}, cpu::GgmlType::kQ4_0, std::vector<std::byte>(36)).Build();
  EXPECT_EQ(Parse(image).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GgufFileTest, RejectsHostileCountsWithoutAllocating) {
  // A header claiming 2^60 metadata entries must fail fast, not try to reserve them.
  std::vector<std::byte> image = GgufBuilder().String("a", "b").Build();
  const uint64_t huge = uint64_t{1} << 60;
  std::memcpy(image.data() + 16, &huge, sizeof(huge));
  EXPECT_EQ(Parse(image).status().code(), absl::StatusCode::kDataLoss);
}

TEST(GgufFileTest, RejectsDuplicateKeysAndBadAlignment) {
  EXPECT_EQ(Parse(GgufBuilder().String("a", "b").String("a", "c").Build()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Parse(GgufBuilder().Uint32("general.alignment", 24).Build()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(GgufFileTest, OpenReportsMissingFile) {
  absl::Status s = GgufFile::Open("/nonexistent/model.gguf").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/model.gguf"));
}

TEST(GgufFileTest, OpensRealTinyModel) {
  auto f = GgufFile::Open(std::string(HEARTH_SOURCE_DIR) + "/tests/data/models/stories260K.gguf");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(*(*f)->GetString("general.architecture"), "llama");
  EXPECT_NE((*f)->FindTensor("token_embd.weight"), nullptr);
}

}  // namespace
}  // namespace hearth
