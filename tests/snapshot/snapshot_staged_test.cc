// The staged open of a .hearth snapshot that Engine::Create uses: the header and the GGUF
// head verified at the open, the tensors' chunks verified by the parallel read-in, so that
// every byte is read once. Damage anywhere must still be refused, naming the chunk, and no
// Engine returned.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/engine.h"
#include "lib/runtime/thread_pool.h"
#include "lib/snapshot/model_file.h"
#include "lib/snapshot/snapshot.h"
#include "tests/testing/file_bytes.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;

const std::string kSource = HEARTH_SOURCE_DIR;
const std::string kTinyModel = kSource + "/tests/data/models/stories260K.gguf";
const std::string kSmolLm2 = kSource + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

using ::hearth::testing::ReadAll;
using ::hearth::testing::WriteAll;

// SmolLM2 packed once for the suite (~94 MiB, 24 chunks); each test damages a copy.
class SnapshotStagedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!Exists(kSmolLm2)) return;
    packed_ = new std::string(::testing::TempDir() + "/hearth_staged_" +
                              std::to_string(::getpid()) + ".hearth");
    absl::StatusOr<PackResult> r = PackSnapshot(kSmolLm2, *packed_);
    ASSERT_TRUE(r.ok()) << r.status();
    good_ = new std::vector<char>(ReadAll(*packed_));
    absl::StatusOr<SnapshotInfo> info = ReadSnapshotInfo(*packed_);
    ASSERT_TRUE(info.ok()) << info.status();
    info_ = new SnapshotInfo(*info);
  }
  static void TearDownTestSuite() {
    if (packed_ != nullptr) ::unlink(packed_->c_str());
    delete packed_;
    delete good_;
    delete info_;
    packed_ = nullptr;
  }
  void SetUp() override {
    if (packed_ == nullptr) GTEST_SKIP() << "run scripts/setup.sh to extract " << kSmolLm2;
    path_ = ::testing::TempDir() + "/hearth_staged_damaged_" + std::to_string(::getpid()) +
            ".hearth";
  }
  void TearDown() override { ::unlink(path_.c_str()); }

  // File offset of a random byte of tensor data inside chunk `chunk`.
  uint64_t RandomTensorByteIn(uint64_t chunk) {
    absl::StatusOr<StagedSnapshot> staged = OpenSnapshotStaged(*packed_);
    EXPECT_TRUE(staged.ok()) << staged.status();
    const uint64_t lo = chunk * info_->chunk_bytes;
    const uint64_t hi = std::min(lo + info_->chunk_bytes, info_->image_size);
    uint64_t begin = hi;
    uint64_t end = lo;
    for (const GgufTensor& t : staged->file->tensors()) {
      const uint64_t t_begin = static_cast<uint64_t>(t.data - staged->file->mapping());
      const uint64_t t_end = t_begin + t.n_bytes;
      if (t_end > lo && t_begin < hi) {
        begin = std::min(begin, std::max(t_begin, lo));
        end = std::max(end, std::min(t_end, hi));
      }
    }
    EXPECT_LT(begin, end) << "no tensor bytes in chunk " << chunk;
    std::uniform_int_distribution<uint64_t> pick(begin, end - 1);
    return info_->image_offset + pick(rng_);
  }

  // Writes the good snapshot to path_ with the bytes at `offsets` flipped by random masks.
  void WriteDamaged(const std::vector<uint64_t>& offsets) {
    std::vector<char> bytes = *good_;
    std::uniform_int_distribution<int> mask(1, 255);
    for (uint64_t at : offsets) bytes[at] = static_cast<char>(bytes[at] ^ mask(rng_));
    WriteAll(path_, bytes);
  }

  static std::string* packed_;
  static std::vector<char>* good_;
  static SnapshotInfo* info_;
  std::string path_;
  std::mt19937_64 rng_{0x5eed2026};
};

std::string* SnapshotStagedTest::packed_ = nullptr;
std::vector<char>* SnapshotStagedTest::good_ = nullptr;
SnapshotInfo* SnapshotStagedTest::info_ = nullptr;

std::string ChunkOf(uint64_t chunk, uint64_t count) {
  return absl::StrFormat("chunk %d of %d", chunk, count);
}

TEST_F(SnapshotStagedTest, TheOpenVerifiesTheHeadAndLeavesTheTensorChunks) {
  absl::StatusOr<StagedSnapshot> staged = OpenSnapshotStaged(*packed_);
  ASSERT_TRUE(staged.ok()) << staged.status();
  const SnapshotTensorCheck& tensors = staged->tensors;
  EXPECT_EQ(tensors.chunk_count(), info_->chunk_count);
  // The head (metadata, vocabulary, tensor table) ends in the last chunk verified at the
  // open: the first tensor starts before that chunk's end, after its start.
  uint64_t first_tensor = info_->image_size;
  for (const GgufTensor& t : staged->file->tensors()) {
    first_tensor = std::min(first_tensor, static_cast<uint64_t>(t.data - staged->file->mapping()));
  }
  ASSERT_GE(tensors.first_chunk(), 1u);
  EXPECT_LT(tensors.first_chunk(), tensors.chunk_count());
  EXPECT_GT(first_tensor, (tensors.first_chunk() - 1) * info_->chunk_bytes);
  EXPECT_LE(first_tensor, tensors.first_chunk() * info_->chunk_bytes);
  ThreadPool pool(3);
  EXPECT_TRUE(tensors.ReadInAndVerify(pool).ok());
}

TEST_F(SnapshotStagedTest, DamageInTheLastTensorChunkIsCaughtByTheReadIn) {
  const uint64_t last = info_->chunk_count - 1;
  WriteDamaged({RandomTensorByteIn(last)});
  // The open reads only the head, so it cannot see this damage yet...
  absl::StatusOr<StagedSnapshot> staged = OpenSnapshotStaged(path_);
  ASSERT_TRUE(staged.ok()) << staged.status();
  // ...the read-in does, on any number of threads, and names the chunk.
  for (int threads : {1, 2, 5}) {
    ThreadPool pool(threads);
    const absl::Status s = staged->tensors.ReadInAndVerify(pool);
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << threads << " threads: " << s;
    EXPECT_THAT(s.message(), HasSubstr(ChunkOf(last, info_->chunk_count)));
    EXPECT_THAT(s.message(), HasSubstr("re-pack"));
  }
}

TEST_F(SnapshotStagedTest, EngineCreateRefusesDamageInTheLastTensorChunkNamingIt) {
  const uint64_t last = info_->chunk_count - 1;
  WriteDamaged({RandomTensorByteIn(last)});
  EngineConfig config;
  config.model_path = path_;
  config.threads = 2;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(config);
  ASSERT_FALSE(engine.ok()) << "a damaged snapshot was loaded";
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kDataLoss) << engine.status();
  EXPECT_THAT(engine.status().message(), HasSubstr(ChunkOf(last, info_->chunk_count)));
  EXPECT_THAT(engine.status().message(), HasSubstr(path_));
}

TEST_F(SnapshotStagedTest, WithSeveralDamagedChunksTheFirstIsNamed) {
  // Chunks in different threads' runs: whichever thread finishes first, the report names
  // the lowest chunk.
  const uint64_t count = info_->chunk_count;
  const uint64_t first = count / 2;
  WriteDamaged({RandomTensorByteIn(count - 1), RandomTensorByteIn(first),
                RandomTensorByteIn(count - 3)});
  for (int threads : {2, 4}) {
    EngineConfig config;
    config.model_path = path_;
    config.threads = threads;
    absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(config);
    ASSERT_EQ(engine.status().code(), absl::StatusCode::kDataLoss) << engine.status();
    EXPECT_THAT(engine.status().message(), HasSubstr(ChunkOf(first, count)));
  }
}

TEST_F(SnapshotStagedTest, DamageInTheHeadIsCaughtByTheOpen) {
  // A byte of the vocabulary (inside the head's first chunk): the GGUF image still parses,
  // so only the checksum can tell.
  std::vector<char> bytes = *good_;
  const std::string token = "Hello";
  const auto it = std::search(bytes.begin() + 4096, bytes.end(), token.begin(), token.end());
  ASSERT_NE(it, bytes.end());
  const uint64_t at = static_cast<uint64_t>(it - bytes.begin());
  ASSERT_LT(at, 4096 + info_->chunk_bytes);
  bytes[at] = 'J';
  WriteAll(path_, bytes);
  absl::StatusOr<StagedSnapshot> staged = OpenSnapshotStaged(path_);
  EXPECT_EQ(staged.status().code(), absl::StatusCode::kDataLoss) << staged.status();
  EXPECT_THAT(staged.status().message(), HasSubstr(ChunkOf(0, info_->chunk_count)));
}

TEST_F(SnapshotStagedTest, AHeadThatNoLongerParsesIsReportedAsDamageNotAsABadGguf) {
  std::vector<char> bytes = *good_;
  bytes[4096] = 'X';  // the image's GGUF magic
  WriteAll(path_, bytes);
  absl::StatusOr<StagedSnapshot> staged = OpenSnapshotStaged(path_);
  EXPECT_EQ(staged.status().code(), absl::StatusCode::kDataLoss) << staged.status();
  EXPECT_THAT(staged.status().message(), HasSubstr(ChunkOf(0, info_->chunk_count)));
}

TEST(ModelFileTest, AGgufFileIsReadInWithoutChecksums) {
  absl::StatusOr<OpenedModelFile> opened = OpenModelFile(kTinyModel);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_FALSE(opened->snapshot_tensors.has_value());
  EXPECT_EQ(opened->gguf_bytes, opened->file->mapping());
  ThreadPool pool(2);
  EXPECT_TRUE(opened->ReadIn(pool).ok());
}

TEST(ModelFileTest, ANonModelFileIsRefusedByTheGgufPath) {
  const std::string path = ::testing::TempDir() + "/hearth_not_a_model_" +
                           std::to_string(::getpid());
  std::mt19937 rng(7);
  std::vector<char> junk(10000);
  for (char& c : junk) c = static_cast<char>(rng());
  WriteAll(path, junk);
  absl::StatusOr<OpenedModelFile> opened = OpenModelFile(path);
  ::unlink(path.c_str());
  EXPECT_FALSE(opened.ok());
  EXPECT_THAT(opened.status().message(), HasSubstr("GGUF"));
}

}  // namespace
}  // namespace hearth
