// The .hearth snapshot on real files: packing keeps every key, value and tensor, an Engine
// on the snapshot generates what it does on the GGUF, and every damaged, truncated or
// foreign snapshot (and every failed pack) is a clear error, never a crash or a partial
// file.
#include "lib/snapshot/snapshot.h"

#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hearth/engine.h"
#include "lib/model/llama_model.h"
#include "lib/snapshot/crc32c.h"
#include "tests/testing/file_bytes.h"

namespace hearth {
namespace {

using ::testing::HasSubstr;
namespace L = snapshot_layout;

const std::string kSource = HEARTH_SOURCE_DIR;
const std::string kTinyModel = kSource + "/tests/data/models/stories260K.gguf";
const std::string kSmolLm2 = kSource + "/models/SmolLM2-135M-Instruct.Q4_1.gguf";

bool Exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

uint64_t FileSize(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

using ::hearth::testing::ReadAll;
using ::hearth::testing::WriteAll;

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
  }
  return names;
}

class SnapshotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/hearth_snapshot_XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& n : ListDir(dir_)) ::unlink((dir_ + "/" + n).c_str());
    ::rmdir(dir_.c_str());
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // The tiny model packed once per test.
  std::string PackTiny() {
    const std::string out = Path("tiny.hearth");
    absl::StatusOr<PackResult> r = PackSnapshot(kTinyModel, out);
    EXPECT_TRUE(r.ok()) << r.status();
    return out;
  }

  std::string dir_;
};

void ExpectSameValue(const GgufValue& a, const GgufValue& b, const std::string& key) {
  SCOPED_TRACE(key);
  ASSERT_EQ(a.type, b.type);
  EXPECT_EQ(a.u, b.u);
  EXPECT_EQ(a.i, b.i);
  EXPECT_EQ(std::memcmp(&a.f, &b.f, sizeof(double)), 0);  // bit-exact, NaN included
  EXPECT_EQ(a.str, b.str);
  if (a.type != GgufValueType::kArray) return;
  ASSERT_EQ(a.array_type, b.array_type);
  ASSERT_EQ(a.array_size, b.array_size);
  if (a.array_type == GgufValueType::kString) {
    EXPECT_EQ(a.strings, b.strings);
  } else {
    size_t elem = 0;
    switch (a.array_type) {
      case GgufValueType::kUint8: case GgufValueType::kInt8: case GgufValueType::kBool: elem = 1; break;
      case GgufValueType::kUint16: case GgufValueType::kInt16: elem = 2; break;
      case GgufValueType::kUint32: case GgufValueType::kInt32: case GgufValueType::kFloat32: elem = 4; break;
      default: elem = 8; break;
    }
    EXPECT_EQ(std::memcmp(a.array_data, b.array_data, a.array_size * elem), 0);
  }
}

// Every key/value (general.alignment aside, which becomes 4096) and every tensor equal.
void ExpectSameModel(const GgufFile& src, const GgufFile& snap, uint64_t alignment) {
  EXPECT_EQ(snap.alignment(), alignment);
  std::vector<std::string> src_keys = src.keys();
  std::vector<std::string> snap_keys = snap.keys();
  if (src.Find("general.alignment") == nullptr) src_keys.push_back("general.alignment");
  EXPECT_EQ(snap_keys, src_keys);
  for (const std::string& key : src.keys()) {
    if (key == "general.alignment") continue;
    ASSERT_NE(snap.Find(key), nullptr) << key;
    ExpectSameValue(*src.Find(key), *snap.Find(key), key);
  }
  absl::StatusOr<int64_t> align = snap.GetInt("general.alignment");
  ASSERT_TRUE(align.ok());
  EXPECT_EQ(static_cast<uint64_t>(*align), alignment);
  ASSERT_EQ(snap.tensors().size(), src.tensors().size());
  for (size_t i = 0; i < src.tensors().size(); ++i) {
    const GgufTensor& a = src.tensors()[i];
    const GgufTensor& b = snap.tensors()[i];
    SCOPED_TRACE(a.name);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.dims, b.dims);
    ASSERT_EQ(a.n_bytes, b.n_bytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.n_bytes), 0);
    EXPECT_EQ(b.offset % alignment, 0u);
  }
}

void ExpectPackedFaithfully(const std::string& model, const std::string& out) {
  absl::StatusOr<PackResult> packed = PackSnapshot(model, out);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(packed->snapshot_bytes, FileSize(out));
  EXPECT_EQ(packed->source_bytes, FileSize(model));
  EXPECT_TRUE(IsSnapshotFile(out));
  EXPECT_FALSE(IsSnapshotFile(model));
  SnapshotInfo info;
  absl::StatusOr<std::unique_ptr<GgufFile>> snap = OpenSnapshot(out, &info);
  ASSERT_TRUE(snap.ok()) << snap.status();
  EXPECT_EQ(info.format_version, kSnapshotFormatVersion);
  EXPECT_EQ(info.source_size, FileSize(model));
  EXPECT_EQ(info.source_name, model.substr(model.find_last_of('/') + 1));
  EXPECT_EQ(info.image_offset, kSnapshotHeaderBytes);
  EXPECT_EQ(info.image_size % kSnapshotAlignment, 0u);
  absl::StatusOr<std::unique_ptr<GgufFile>> src = GgufFile::Open(model);
  ASSERT_TRUE(src.ok());
  ExpectSameModel(**src, **snap, kSnapshotAlignment);
  // Every tensor on its own page of the mapping.
  for (const GgufTensor& t : (*snap)->tensors()) {
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data) % kSnapshotAlignment, 0u) << t.name;
  }
}

TEST_F(SnapshotTest, PackKeepsEveryKeyValueAndTensorOfTheTinyModel) {
  ExpectPackedFaithfully(kTinyModel, Path("tiny.hearth"));
  EXPECT_THAT(ListDir(dir_), ::testing::ElementsAre("tiny.hearth"));  // no temporary left
}

TEST_F(SnapshotTest, PackKeepsEveryKeyValueAndTensorOfSmolLm2) {
  if (!Exists(kSmolLm2)) GTEST_SKIP() << "run scripts/setup.sh to extract " << kSmolLm2;
  ExpectPackedFaithfully(kSmolLm2, Path("smol.hearth"));
}

TEST_F(SnapshotTest, PackReplacesAnExistingOutput) {
  WriteAll(Path("tiny.hearth"), std::vector<char>(10, 'x'));
  ExpectPackedFaithfully(kTinyModel, Path("tiny.hearth"));
}

std::vector<int32_t> GreedyTokens(const std::string& model, const std::string& prompt) {
  EngineConfig config;
  config.model_path = model;
  config.threads = 2;
  absl::StatusOr<std::unique_ptr<Engine>> engine = Engine::Create(config);
  EXPECT_TRUE(engine.ok()) << engine.status();
  if (!engine.ok()) return {};
  GenerateRequest r;
  r.prompt = prompt;
  r.max_tokens = 32;
  r.sampling.temperature = 0;
  absl::StatusOr<GenerateResult> result = (*engine)->Generate(r);
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? result->tokens : std::vector<int32_t>{};
}

TEST_F(SnapshotTest, EngineOnTheSnapshotGeneratesTheSameGreedyTokens) {
  const std::string snap = PackTiny();
  const std::vector<int32_t> want = GreedyTokens(kTinyModel, "Once upon a time");
  ASSERT_EQ(want.size(), 32u);
  EXPECT_EQ(GreedyTokens(snap, "Once upon a time"), want);
}

TEST_F(SnapshotTest, EngineOnTheSmolLm2SnapshotGeneratesTheSameGreedyTokens) {
  if (!Exists(kSmolLm2)) GTEST_SKIP() << "run scripts/setup.sh to extract " << kSmolLm2;
  const std::string snap = Path("smol.hearth");
  ASSERT_TRUE(PackSnapshot(kSmolLm2, snap).ok());
  const std::vector<int32_t> want = GreedyTokens(kSmolLm2, "The capital of France is");
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(GreedyTokens(snap, "The capital of France is"), want);
}

// --- The GGUF writer over every value type. ---------------------------------------------

class GgufBuilder {
 public:
  template <typename T>
  void Put(T x) {
    const auto* p = reinterpret_cast<const std::byte*>(&x);
    bytes.insert(bytes.end(), p, p + sizeof(T));
  }
  void Str(std::string_view s) {
    Put<uint64_t>(s.size());
    const auto* p = reinterpret_cast<const std::byte*>(s.data());
    bytes.insert(bytes.end(), p, p + s.size());
  }
  void Key(std::string_view k, GgufValueType t) {
    Str(k);
    Put<uint32_t>(static_cast<uint32_t>(t));
  }
  template <typename T>
  void Array(std::string_view k, GgufValueType t, const std::vector<T>& v) {
    Key(k, GgufValueType::kArray);
    Put<uint32_t>(static_cast<uint32_t>(t));
    Put<uint64_t>(v.size());
    for (T x : v) Put<T>(x);
  }
  std::vector<std::byte> bytes;
};

std::vector<std::byte> EveryTypeGguf(bool with_alignment) {
  GgufBuilder b;
  b.Put<uint32_t>(0x46554747);
  b.Put<uint32_t>(3);
  b.Put<uint64_t>(2);                       // tensors
  b.Put<uint64_t>(with_alignment ? 26 : 25);  // keys
  b.Key("u8", GgufValueType::kUint8); b.Put<uint8_t>(250);
  b.Key("i8", GgufValueType::kInt8); b.Put<int8_t>(-7);
  b.Key("u16", GgufValueType::kUint16); b.Put<uint16_t>(65000);
  b.Key("i16", GgufValueType::kInt16); b.Put<int16_t>(-32000);
  b.Key("u32", GgufValueType::kUint32); b.Put<uint32_t>(4000000000u);
  if (with_alignment) { b.Key("general.alignment", GgufValueType::kUint32); b.Put<uint32_t>(64); }
  b.Key("i32", GgufValueType::kInt32); b.Put<int32_t>(-2000000000);
  b.Key("f32", GgufValueType::kFloat32); b.Put<float>(0.1f);
  b.Key("bool", GgufValueType::kBool); b.Put<uint8_t>(1);
  b.Key("str", GgufValueType::kString); b.Str(std::string_view("h\xc3\xa9llo\0world", 12));
  b.Key("empty", GgufValueType::kString); b.Str("");
  b.Key("u64", GgufValueType::kUint64); b.Put<uint64_t>(18000000000000000000ull);
  b.Key("i64", GgufValueType::kInt64); b.Put<int64_t>(-9000000000000000000ll);
  b.Key("f64", GgufValueType::kFloat64); b.Put<double>(-1.0 / 3.0);
  b.Array<uint8_t>("a.u8", GgufValueType::kUint8, {0, 1, 255});
  b.Array<int8_t>("a.i8", GgufValueType::kInt8, {-128, 127});
  b.Array<uint16_t>("a.u16", GgufValueType::kUint16, {1, 65535});
  b.Array<int16_t>("a.i16", GgufValueType::kInt16, {-32768});
  b.Array<uint32_t>("a.u32", GgufValueType::kUint32, {7, 8, 9});
  b.Array<int32_t>("a.i32", GgufValueType::kInt32, {});
  b.Array<float>("a.f32", GgufValueType::kFloat32, {1.5f, -0.0f, 3e38f});
  b.Array<uint8_t>("a.bool", GgufValueType::kBool, {1, 0, 1});
  b.Array<uint64_t>("a.u64", GgufValueType::kUint64, {~0ull});
  b.Array<int64_t>("a.i64", GgufValueType::kInt64, {-1, 1});
  b.Array<double>("a.f64", GgufValueType::kFloat64, {2.5, 1e300});
  b.Key("a.str", GgufValueType::kArray);
  b.Put<uint32_t>(static_cast<uint32_t>(GgufValueType::kString));
  b.Put<uint64_t>(3);
  b.Str("a"); b.Str(""); b.Str("ccc");
  // Two f32 tensors: 8 elements at 0 and 3x2 after it.
  const uint64_t align = with_alignment ? 64 : 32;
  b.Str("t.a"); b.Put<uint32_t>(1); b.Put<uint64_t>(8); b.Put<uint32_t>(0); b.Put<uint64_t>(0);
  b.Str("t.b"); b.Put<uint32_t>(2); b.Put<uint64_t>(3); b.Put<uint64_t>(2); b.Put<uint32_t>(0);
  b.Put<uint64_t>(align);
  while (b.bytes.size() % align != 0) b.bytes.push_back(std::byte{0});
  for (int i = 0; i < 8; ++i) b.Put<float>(static_cast<float>(i) + 0.25f);
  while (b.bytes.size() % align != 0) b.bytes.push_back(std::byte{0});
  for (int i = 0; i < 6; ++i) b.Put<float>(-static_cast<float>(i));
  return b.bytes;
}

TEST(GgufImageTest, EveryValueTypeRoundTrips) {
  for (bool with_alignment : {false, true}) {
    SCOPED_TRACE(with_alignment ? "with general.alignment" : "without general.alignment");
    const std::vector<std::byte> src_bytes = EveryTypeGguf(with_alignment);
    absl::StatusOr<std::unique_ptr<GgufFile>> src = GgufFile::FromBytes(src_bytes);
    ASSERT_TRUE(src.ok()) << src.status();
    ASSERT_EQ((*src)->tensors().size(), 2u);
    for (uint64_t alignment : {uint64_t{32}, uint64_t{4096}}) {
      const std::vector<std::byte> image = BuildGgufImage(**src, alignment);
      EXPECT_EQ(image.size() % alignment, 0u);
      absl::StatusOr<std::unique_ptr<GgufFile>> out = GgufFile::FromBytes(image);
      ASSERT_TRUE(out.ok()) << out.status();
      ExpectSameModel(**src, **out, alignment);
      // Writing the written image again changes nothing.
      EXPECT_EQ(BuildGgufImage(**out, alignment), image);
    }
  }
}

// --- Damaged, truncated and foreign snapshots. --------------------------------------------

TEST_F(SnapshotTest, FlippedByteInATensorChunkIsDataLossNamingTheChunk) {
  const std::string snap = PackTiny();
  std::vector<char> bytes = ReadAll(snap);
  SnapshotInfo info;
  {
    absl::StatusOr<std::unique_ptr<GgufFile>> ok = OpenSnapshot(snap, &info);
    ASSERT_TRUE(ok.ok()) << ok.status();
  }
  // The last byte of the image is padding or tensor data in the last chunk.
  const uint64_t at = bytes.size() - 5000;
  const uint64_t chunk = (at - kSnapshotHeaderBytes) / info.chunk_bytes;
  bytes[at] = static_cast<char>(bytes[at] ^ 0x10);
  WriteAll(snap, bytes);
  absl::StatusOr<std::unique_ptr<GgufFile>> f = OpenSnapshot(snap);
  ASSERT_EQ(f.status().code(), absl::StatusCode::kDataLoss) << f.status();
  EXPECT_THAT(f.status().message(), HasSubstr(absl::StrFormat("chunk %d of %d", chunk, info.chunk_count)));
  EXPECT_THAT(f.status().message(), HasSubstr("re-pack"));
  // The Engine's load path says the same.
  EXPECT_EQ(LlamaModel::Load(snap).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SnapshotTest, EveryChunkIsChecked) {
  // A model big enough for several chunks: SmolLM2 if present.
  if (!Exists(kSmolLm2)) GTEST_SKIP() << "needs " << kSmolLm2;
  const std::string snap = Path("smol.hearth");
  ASSERT_TRUE(PackSnapshot(kSmolLm2, snap).ok());
  std::vector<char> bytes = ReadAll(snap);
  absl::StatusOr<SnapshotInfo> info = ReadSnapshotInfo(snap);
  ASSERT_TRUE(info.ok());
  ASSERT_GT(info->chunk_count, 4u);
  for (uint64_t chunk : {uint64_t{0}, info->chunk_count / 2, info->chunk_count - 1}) {
    const uint64_t at = kSnapshotHeaderBytes + chunk * info->chunk_bytes + 123;
    bytes[at] = static_cast<char>(bytes[at] ^ 1);
    WriteAll(snap, bytes);
    absl::StatusOr<std::unique_ptr<GgufFile>> f = OpenSnapshot(snap);
    ASSERT_EQ(f.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(f.status().message(), HasSubstr(absl::StrFormat("chunk %d of", chunk)));
    bytes[at] = static_cast<char>(bytes[at] ^ 1);
  }
}

TEST_F(SnapshotTest, FlippedByteInTheHeaderIsDataLoss) {
  const std::string snap = PackTiny();
  const std::vector<char> good = ReadAll(snap);
  for (size_t at : {L::kImageSize, L::kChunkBytes, L::kSourceName + 2, L::kChunkCrcs,
                    size_t{2000}, L::kHeaderCrc + 1, L::kFormatVersion + 3}) {
    SCOPED_TRACE(at);
    std::vector<char> bytes = good;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x40);
    WriteAll(snap, bytes);
    absl::StatusOr<std::unique_ptr<GgufFile>> f = OpenSnapshot(snap);
    EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss) << f.status();
    EXPECT_THAT(f.status().message(), HasSubstr("header"));
  }
}

TEST_F(SnapshotTest, TruncationAnywhereIsDataLoss) {
  const std::string snap = PackTiny();
  const std::vector<char> good = ReadAll(snap);
  for (size_t keep : {size_t{8}, size_t{100}, size_t{4095}, size_t{4096}, size_t{4097},
                      good.size() / 2, good.size() - 4096, good.size() - 1}) {
    SCOPED_TRACE(keep);
    WriteAll(snap, std::vector<char>(good.begin(), good.begin() + static_cast<long>(keep)));
    absl::StatusOr<std::unique_ptr<GgufFile>> f = OpenSnapshot(snap);
    EXPECT_EQ(f.status().code(), absl::StatusCode::kDataLoss) << f.status();
    EXPECT_THAT(f.status().message(), HasSubstr("truncated"));
    EXPECT_FALSE(LlamaModel::Load(snap).ok());
  }
  // Shorter than the magic: not a snapshot at all, so the GGUF path reports it.
  WriteAll(snap, std::vector<char>(good.begin(), good.begin() + 5));
  EXPECT_FALSE(IsSnapshotFile(snap));
  EXPECT_FALSE(LlamaModel::Load(snap).ok());
  // Bytes appended after the image are refused too.
  std::vector<char> longer = good;
  longer.resize(good.size() + 4096);
  WriteAll(snap, longer);
  EXPECT_EQ(OpenSnapshot(snap).status().code(), absl::StatusCode::kDataLoss);
}

// The standard check value, and pieces extending one another, whichever implementation
// the CPU picks (the table one is what a CPU without SSE4.2 runs).
TEST(Crc32cTest, KnownAnswerAndPieces) {
  const std::string digits = "123456789";
  EXPECT_EQ(Crc32c(0, digits.data(), digits.size()), 0xE3069283u);
  EXPECT_EQ(Crc32cPortable(0, digits.data(), digits.size()), 0xE3069283u);
  std::vector<unsigned char> data(10007);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>(i * 131 + 7);
  const uint32_t whole = Crc32c(0, data.data(), data.size());
  EXPECT_EQ(Crc32cPortable(0, data.data(), data.size()), whole);
  for (size_t cut : {size_t{0}, size_t{1}, size_t{7}, size_t{4096}, data.size()}) {
    EXPECT_EQ(Crc32c(Crc32c(0, data.data(), cut), data.data() + cut, data.size() - cut), whole);
  }
}

// The hardware path runs three interleaved stripes of 4096 bytes and joins them; every
// length around a multiple of the 12288-byte step, at every alignment and from a non-zero
// start, must give the table's value.
TEST(Crc32cTest, InterleavedStripesAgreeWithTheTable) {
  std::mt19937_64 rng(20261129);
  std::vector<unsigned char> data(5 * 12288 + 64);
  for (unsigned char& b : data) b = static_cast<unsigned char>(rng());
  for (size_t n : {size_t{12287}, size_t{12288}, size_t{12289}, size_t{24576 + 8},
                   size_t{3 * 12288 - 1}, size_t{5 * 12288 + 13}}) {
    for (size_t skew : {size_t{0}, size_t{1}, size_t{5}}) {
      const uint32_t start = static_cast<uint32_t>(rng());
      EXPECT_EQ(Crc32c(start, data.data() + skew, n), Crc32cPortable(start, data.data() + skew, n))
          << "n=" << n << " skew=" << skew;
    }
  }
}

TEST_F(SnapshotTest, SnapshotOfAnotherFormatVersionAsksForARepack) {
  const std::string snap = PackTiny();
  std::vector<char> bytes = ReadAll(snap);
  const uint32_t other = kSnapshotFormatVersion + 1;
  std::memcpy(bytes.data() + L::kFormatVersion, &other, 4);
  // A genuine file of that version has a valid header checksum.
  const uint32_t crc = Crc32c(0, bytes.data(), L::kHeaderCrc);
  std::memcpy(bytes.data() + L::kHeaderCrc, &crc, 4);
  WriteAll(snap, bytes);
  absl::StatusOr<std::unique_ptr<GgufFile>> f = OpenSnapshot(snap);
  ASSERT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition) << f.status();
  EXPECT_THAT(f.status().message(),
              HasSubstr(absl::StrFormat("snapshot format %d", other)));
  EXPECT_THAT(f.status().message(),
              HasSubstr(absl::StrFormat("this hearth reads %d", kSnapshotFormatVersion)));
  EXPECT_THAT(f.status().message(), HasSubstr("re-pack"));
  EXPECT_EQ(LlamaModel::Load(snap).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SnapshotTest, WrongMagicIsNotASnapshotAndTheGgufPathSaysSo) {
  const std::string snap = PackTiny();
  std::vector<char> bytes = ReadAll(snap);
  bytes[0] = 'X';
  WriteAll(snap, bytes);
  EXPECT_FALSE(IsSnapshotFile(snap));
  absl::Status s = LlamaModel::Load(snap).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_THAT(s.message(), HasSubstr("not a GGUF file"));
  EXPECT_EQ(OpenSnapshot(snap).status().code(), absl::StatusCode::kInvalidArgument);
}

// --- Packing failures. -------------------------------------------------------------------

TEST_F(SnapshotTest, PackingToAFullDeviceIsResourceExhausted) {
  if (!Exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const std::vector<std::string> before = ListDir("/dev");
  absl::StatusOr<PackResult> r = PackSnapshot(kTinyModel, "/dev/full");
  ASSERT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("/dev/full"));
  EXPECT_EQ(ListDir("/dev").size(), before.size());  // no temporary file beside it
}

TEST_F(SnapshotTest, RunningOutOfSpaceMidWayRemovesTheTemporaryFile) {
  // A file-size limit makes write() fail with EFBIG part-way, as a full disk would.
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto* previous = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 300 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  absl::StatusOr<PackResult> r = PackSnapshot(kTinyModel, Path("tiny.hearth"));
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, previous);
  ASSERT_GT(FileSize(kTinyModel), small.rlim_cur);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr(Path("tiny.hearth.tmp.")));
  EXPECT_THAT(ListDir(dir_), ::testing::IsEmpty());
}

TEST_F(SnapshotTest, PackingIntoAMissingDirectoryFailsCleanly) {
  absl::StatusOr<PackResult> r = PackSnapshot(kTinyModel, Path("no/such/dir/tiny.hearth"));
  ASSERT_EQ(r.status().code(), absl::StatusCode::kNotFound) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("no/such/dir/tiny.hearth"));
  EXPECT_THAT(ListDir(dir_), ::testing::IsEmpty());
}

TEST_F(SnapshotTest, PackingOntoTheInputIsRefused) {
  const std::string copy = Path("model.gguf");
  const std::vector<char> original = ReadAll(kTinyModel);
  WriteAll(copy, original);
  absl::StatusOr<PackResult> r = PackSnapshot(copy, copy);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_THAT(r.status().message(), HasSubstr("onto itself"));
  // Through another name for the same file, too.
  ASSERT_EQ(::link(copy.c_str(), Path("alias.hearth").c_str()), 0);
  EXPECT_EQ(PackSnapshot(copy, Path("alias.hearth")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadAll(copy), original);
  EXPECT_THAT(ListDir(dir_), ::testing::UnorderedElementsAre("model.gguf", "alias.hearth"));
}

TEST_F(SnapshotTest, PackingASnapshotOrABadFileIsRefused) {
  const std::string snap = PackTiny();
  EXPECT_THAT(PackSnapshot(snap, Path("again.hearth")).status().message(),
              HasSubstr("already a hearth snapshot"));
  EXPECT_EQ(PackSnapshot(Path("missing.gguf"), Path("x.hearth")).status().code(),
            absl::StatusCode::kNotFound);
  const std::string bad = Path("bad.gguf");
  const std::vector<char> model = ReadAll(kTinyModel);
  WriteAll(bad, std::vector<char>(model.begin(), model.begin() + 1000));
  EXPECT_FALSE(PackSnapshot(bad, Path("x.hearth")).ok());
  EXPECT_THAT(ListDir(dir_), ::testing::UnorderedElementsAre("tiny.hearth", "bad.gguf"));
}

}  // namespace
}  // namespace hearth
