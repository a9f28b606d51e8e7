#include "lib/tokenizer/spm_tokenizer.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_format.h"
#include "lib/tokenizer/unicode.h"

namespace hearth {
namespace {

struct Symbol {
  size_t offset;
  size_t length;  // 0 once merged into its left neighbour
  int32_t prev;
  int32_t next;
};

struct Candidate {
  float score;
  int32_t left;
  int32_t right;
  size_t length;  // of the merged text; a mismatch means a side changed since
};

// Heap order: the top is the highest score, then the leftmost.
bool LowerPriority(const Candidate& a, const Candidate& b) {
  return a.score != b.score ? a.score < b.score : a.left > b.left;
}

}  // namespace

SpmTokenizer::SpmTokenizer(const Vocab& vocab, int32_t unk_id) : vocab_(vocab) {
  for (int b = 0; b < 256; ++b) {
    const int32_t id = vocab.Find(absl::StrFormat("<0x%02X>", b));
    byte_tokens_[b] = id >= 0 ? id : unk_id;
  }
}

void SpmTokenizer::Encode(std::string_view raw, std::vector<int32_t>* ids) const {
  std::string text;
  text.reserve(raw.size() + raw.size() / 4);
  for (const char c : raw) {
    if (c == ' ') {
      text.append(kSpmSpaceMarker);
    } else {
      text.push_back(c);
    }
  }
  std::vector<Symbol> symbols;
  for (size_t offset = 0; offset < text.size();) {
    const size_t length =
        std::min(Utf8SequenceLength(static_cast<uint8_t>(text[offset])), text.size() - offset);
    const int32_t index = static_cast<int32_t>(symbols.size());
    offset += length;
    symbols.push_back(
        Symbol{offset - length, length, index - 1, offset == text.size() ? -1 : index + 1});
  }
  auto view = [&](size_t offset, size_t length) {
    return std::string_view(text).substr(offset, length);
  };
  std::vector<Candidate> heap;
  auto consider = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) return;
    const size_t length = symbols[left].length + symbols[right].length;
    const int32_t id = vocab_.Find(view(symbols[left].offset, length));
    if (id < 0) return;
    const float score = vocab_.scores.empty() ? 0.0f : vocab_.scores[id];
    heap.push_back(Candidate{score, left, right, length});
    std::push_heap(heap.begin(), heap.end(), LowerPriority);
  };
  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) consider(i - 1, i);
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), LowerPriority);
    const Candidate c = heap.back();
    heap.pop_back();
    Symbol& left = symbols[c.left];
    Symbol& right = symbols[c.right];
    if (left.length == 0 || right.length == 0 || left.length + right.length != c.length) continue;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = c.left;
    consider(left.prev, c.left);
    consider(c.left, left.next);
  }
  for (int32_t i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) {
    const std::string_view piece = view(symbols[i].offset, symbols[i].length);
    if (const int32_t id = vocab_.Find(piece); id >= 0) {
      ids->push_back(id);
      continue;
    }
    for (const char c : piece) {
      if (const int32_t id = byte_tokens_[static_cast<uint8_t>(c)]; id >= 0) ids->push_back(id);
    }
  }
}

}  // namespace hearth
