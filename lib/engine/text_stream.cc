#include "lib/engine/text_stream.h"

#include <algorithm>

namespace hearth {

size_t CompleteUtf8Prefix(std::string_view s) {
  // Look back at most 3 bytes for the lead byte of the last character.
  const size_t n = s.size();
  for (size_t back = 1; back <= std::min<size_t>(4, n); ++back) {
    const unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    size_t need = 1;
    if ((c & 0xE0) == 0xC0) need = 2;
    else if ((c & 0xF0) == 0xE0) need = 3;
    else if ((c & 0xF8) == 0xF0) need = 4;
    return back < need ? n - back : n;
  }
  return n;  // only continuation bytes: invalid, but nothing left to wait for
}

TextStream::TextStream(std::vector<std::string> stop_strings)
    : stop_strings_(std::move(stop_strings)) {
  std::erase_if(stop_strings_, [](const std::string& s) { return s.empty(); });
}

bool TextStream::Append(std::string_view bytes) {
  if (stopped_) return true;
  const size_t old_size = text_.size();
  text_.append(bytes);
  for (const std::string& stop : stop_strings_) {
    // Only a match that ends in the new bytes can be new.
    const size_t from = old_size >= stop.size() ? old_size - stop.size() + 1 : 0;
    const size_t at = text_.find(stop, from);
    if (at != std::string::npos) {
      text_.resize(at);
      stopped_ = true;
    }
  }
  return stopped_;
}

size_t TextStream::HeldBackForStopStrings() const {
  size_t held = 0;
  for (const std::string& stop : stop_strings_) {
    for (size_t k = std::min(stop.size() - 1, text_.size()); k > held; --k) {
      if (std::string_view(text_).substr(text_.size() - k) == std::string_view(stop).substr(0, k)) {
        held = k;
        break;
      }
    }
  }
  return held;
}

std::string TextStream::TakeReady() {
  size_t end = text_.size() - (stopped_ ? 0 : HeldBackForStopStrings());
  end = CompleteUtf8Prefix(std::string_view(text_).substr(0, end));
  if (end <= released_) return {};
  std::string ready = text_.substr(released_, end - released_);
  released_ = end;
  return ready;
}

std::string TextStream::Finish() {
  const size_t complete = CompleteUtf8Prefix(text_);
  if (complete < text_.size()) text_.replace(complete, std::string::npos, "\xEF\xBF\xBD");
  std::string rest = text_.substr(std::min(released_, text_.size()));
  released_ = text_.size();
  return rest;
}

}  // namespace hearth
