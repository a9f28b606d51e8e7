#include "lib/autoscale/sample_history.h"

#include "absl/strings/str_cat.h"

namespace hearth {

absl::Status SampleHistory::Add(const LoadSample& sample) {
  if (absl::Status status = ValidateLoadSample(sample); !status.ok()) return status;
  if (!samples_.empty() && sample.time < samples_.back().time) {
    return absl::InvalidArgumentError(
        absl::StrCat("LoadSample.time ", absl::FormatTime(sample.time),
                     " is before the previous sample's ", absl::FormatTime(samples_.back().time)));
  }
  samples_.push_back(sample);
  return absl::OkStatus();
}

std::optional<double> SampleHistory::Mean(
    absl::Time after, absl::Time until, absl::FunctionRef<double(const LoadSample&)> field) const {
  double sum = 0;
  int count = 0;
  // Newest first: the windows are short compared with the history kept.
  for (auto it = samples_.rbegin(); it != samples_.rend() && it->time > after; ++it) {
    if (it->time > until) continue;
    sum += field(*it);
    ++count;
  }
  if (count == 0) return std::nullopt;
  return sum / count;
}

void SampleHistory::DropUntil(absl::Time t) {
  while (samples_.size() > 1 && samples_.front().time <= t) samples_.pop_front();
}

}  // namespace hearth
