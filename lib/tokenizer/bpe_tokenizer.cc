#include "lib/tokenizer/bpe_tokenizer.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "lib/tokenizer/unicode.h"

namespace hearth {
namespace {

struct Symbol {
  int32_t id;  // -1: a byte without a token; it never merges
  int32_t prev;
  int32_t next;
};

struct Candidate {
  int32_t rank;
  int32_t left;  // symbol index
  int32_t left_id;
  int32_t right_id;
  int32_t result;
};

}  // namespace

struct BpeTokenizer::Scratch {
  std::vector<Symbol> symbols;
  std::vector<Candidate> heap;
  std::vector<bool> alive;
};

namespace {

// Heap order: the top is the lowest rank, then the leftmost.
bool LowerPriority(const Candidate& a, const Candidate& b) {
  return a.rank != b.rank ? a.rank > b.rank : a.left > b.left;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BpeTokenizer>> BpeTokenizer::Create(
    const Vocab& vocab, absl::Span<const std::string_view> merges, PreTokenizerKind pre,
    bool ignore_merges) {
  std::unique_ptr<BpeTokenizer> bpe(new BpeTokenizer(vocab, pre, ignore_merges));
  for (int b = 0; b < 256; ++b) {
    std::string text;
    AppendUtf8(ByteToCodepoint(static_cast<uint8_t>(b)), &text);
    bpe->byte_tokens_[b] = vocab.Find(text);
  }
  bpe->merges_.reserve(merges.size());
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string_view merge = merges[rank];
    // The separator search starts at 1 so that a merge whose left part is a space works.
    const size_t space = merge.find(' ', 1);
    if (space == std::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tokenizer.ggml.merges[", rank, "] '", std::string(merge), "' has no space separator"));
    }
    const std::string_view left = merge.substr(0, space);
    const std::string_view right = merge.substr(space + 1);
    joined.assign(left);
    joined.append(right);
    const int32_t left_id = vocab.Find(left);
    const int32_t right_id = vocab.Find(right);
    const int32_t result = vocab.Find(joined);
    if (left_id < 0 || right_id < 0 || result < 0) {
      const std::string_view missing = left_id < 0 ? left : right_id < 0 ? right : joined;
      return absl::InvalidArgumentError(
          absl::StrCat("tokenizer.ggml.merges[", rank, "] '", std::string(merge), "' references '",
                       std::string(missing), "', which is not a token"));
    }
    // The first (lowest-ranked) occurrence of a pair wins.
    bpe->merges_.try_emplace(PairKey(left_id, right_id), Merge{static_cast<int32_t>(rank), result});
  }
  return bpe;
}

void BpeTokenizer::Encode(std::string_view text, std::vector<int32_t>* ids) const {
  // Re-encoding the decoded codepoints turns invalid bytes into U+FFFD for the pieces.
  const std::vector<char32_t> cps = DecodeUtf8(text);
  const std::vector<size_t> pieces = PreTokenize(pre_, cps);
  std::string piece;
  Scratch scratch;
  size_t begin = 0;
  for (const size_t length : pieces) {
    piece.clear();
    for (size_t i = begin; i < begin + length; ++i) AppendUtf8(cps[i], &piece);
    EncodePiece(piece, &scratch, ids);
    begin += length;
  }
}

void BpeTokenizer::EncodePiece(std::string_view utf8, Scratch* scratch,
                               std::vector<int32_t>* ids) const {
  if (ignore_merges_) {
    std::string mapped;
    for (const char c : utf8) AppendUtf8(ByteToCodepoint(static_cast<uint8_t>(c)), &mapped);
    if (const int32_t id = vocab_.Find(mapped); id >= 0) {
      ids->push_back(id);
      return;
    }
  }
  const int32_t n = static_cast<int32_t>(utf8.size());
  std::vector<Symbol>& symbols = scratch->symbols;
  symbols.resize(n);
  for (int32_t i = 0; i < n; ++i) {
    symbols[i] = Symbol{byte_tokens_[static_cast<uint8_t>(utf8[i])], i - 1, i + 1 < n ? i + 1 : -1};
  }
  std::vector<Candidate>& heap = scratch->heap;
  heap.clear();
  auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const int32_t left_id = symbols[left].id;
    const int32_t right_id = symbols[right].id;
    if (left_id < 0 || right_id < 0) return;
    auto it = merges_.find(PairKey(left_id, right_id));
    if (it == merges_.end()) return;
    heap.push_back(Candidate{it->second.rank, left, left_id, right_id, it->second.result});
    std::push_heap(heap.begin(), heap.end(), LowerPriority);
  };
  for (int32_t i = 1; i < n; ++i) consider(i - 1, i);
  std::vector<bool>& alive = scratch->alive;
  alive.assign(n, true);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), LowerPriority);
    const Candidate c = heap.back();
    heap.pop_back();
    Symbol& left = symbols[c.left];
    // A candidate is stale once either side has merged with something else.
    if (!alive[c.left] || left.id != c.left_id || left.next < 0 || !alive[left.next] ||
        symbols[left.next].id != c.right_id) {
      continue;
    }
    const int32_t right = left.next;
    left.id = c.result;
    alive[right] = false;
    left.next = symbols[right].next;
    if (left.next >= 0) symbols[left.next].prev = c.left;
    consider(left.prev, c.left);
    consider(c.left, left.next);
  }
  for (int32_t i = 0; i >= 0 && i < n; i = symbols[i].next) {
    if (symbols[i].id >= 0) ids->push_back(symbols[i].id);
  }
}

}  // namespace hearth
