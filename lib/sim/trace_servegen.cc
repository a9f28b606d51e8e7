// ServeGen (Alibaba Bailian) per-client rates: requests generated per client and 10-minute
// window from the window's fitted inter-arrival law, token counts from the 6-hour summary.
// The header comment of ServeGenOptions (include/hearth/trace.h) states the method.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "hearth/trace.h"
#include "lib/sim/trace_file.h"
#include "lib/sim/trace_formats.h"
#include "lib/sim/trace_random.h"

namespace hearth {
namespace trace_internal {
namespace {

constexpr absl::string_view kRatesHeader =
    "category,model,client_id,window_start_s,rate_rps,iat_cv,iat_dist,iat_shape,iat_scale";
constexpr absl::string_view kTokensHeader =
    "category,model,client_id,window_start_s,window_len_s,expected_requests,"
    "input_tokens_mean,input_tokens_p50,input_tokens_p90,input_tokens_p99,"
    "output_tokens_mean,output_tokens_p50,output_tokens_p90,output_tokens_p99,"
    "reason_ratio_mean";
constexpr int64_t kWindowS = 600;
constexpr int64_t kTokenWindowS = 21600;
// The standard normal's 90th percentile: sigma of a log-normal from its p50 and p90.
constexpr double kNormalP90 = 1.2815515655446004;

struct RateWindow {
  size_t model = 0;  // index into ServeGenOptions::models
  int64_t client = 0;
  int64_t start_s = 0;
  int64_t count = 0;  // requests in the window, before rate_scale
  bool weibull = false;
  double shape = 0;
};

// A token-count distribution: log-normal, rounded, clamped to [1, max].
struct LengthFit {
  double mu = 0;
  double sigma = 0;
  double max = 1;

  int Draw(TraceRng& rng) const {
    const double value = std::exp(mu + sigma * rng.Normal());
    return static_cast<int>(std::clamp(std::round(value), 1.0, max));
  }
};

struct TokenFit {
  LengthFit prompt;
  LengthFit output;
};

struct ModelTokens {
  absl::flat_hash_map<std::pair<int64_t, int64_t>, TokenFit> by_client_window;
  std::vector<TokenFit> rows;         // every row, for the model's mixture
  std::vector<double> cumulative;     // running sum of the rows' expected_requests

  const TokenFit& DrawFromMixture(TraceRng& rng) const {
    const double u = rng.Uniform() * cumulative.back();
    const size_t i = std::upper_bound(cumulative.begin(), cumulative.end(), u) -
                     cumulative.begin();
    return rows[std::min(i, rows.size() - 1)];
  }
};

absl::Status CheckServeGenOptions(const ServeGenOptions& o) {
  if (o.models.empty()) return absl::InvalidArgumentError("ServeGenOptions::models is empty");
  if (!std::isfinite(o.rate_scale) || o.rate_scale < 0) {
    return absl::InvalidArgumentError(absl::StrCat("ServeGenOptions::rate_scale ", o.rate_scale,
                                                   " is not a finite number >= 0"));
  }
  if (o.top_clients < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ServeGenOptions::top_clients ", o.top_clients, " < 0"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TokensPath(absl::string_view rates_path, const ServeGenOptions& o) {
  if (!o.tokens_path.empty()) return o.tokens_path;
  const size_t slash = rates_path.find_last_of('/');
  const size_t name_start = slash == absl::string_view::npos ? 0 : slash + 1;
  const size_t at = rates_path.find("rates_10min", name_start);
  if (at == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot name the token summary of ", rates_path,
        " (no 'rates_10min' in its name): set ServeGenOptions::tokens_path"));
  }
  return absl::StrCat(rates_path.substr(0, at), "tokens_6h",
                      rates_path.substr(at + absl::string_view("rates_10min").size()));
}

// Reads the rate rows of the selected models and clients that overlap the time window.
absl::StatusOr<std::vector<RateWindow>> ParseRates(
    absl::string_view path, absl::string_view text, const TraceOptions& options,
    const absl::flat_hash_map<std::string, size_t>& model_index) {
  LineReader lines(text);
  absl::string_view line;
  lines.Next(&line);
  if (line != kRatesHeader) {
    return RowPlace{path, 1}.Error(
        absl::StrCat("header '", line, "' is not '", kRatesHeader, "'"));
  }
  const absl::flat_hash_set<int64_t> wanted_clients(options.servegen.client_ids.begin(),
                                                    options.servegen.client_ids.end());
  absl::flat_hash_set<int64_t> found_clients;
  std::vector<bool> model_seen(model_index.size(), false);
  std::vector<RateWindow> windows;
  RateWindow previous{.model = model_index.size()};  // matches no model
  std::vector<absl::string_view> fields;
  while (lines.Next(&line)) {
    const RowPlace at{path, lines.line_number()};
    SplitCsv(line, &fields);
    if (absl::Status s = CheckColumnCount(fields, 9, at); !s.ok()) return s;
    const auto model = model_index.find(fields[1]);
    if (model == model_index.end()) continue;
    model_seen[model->second] = true;
    absl::StatusOr<int64_t> client = ParseInt64(fields[2], "client_id", at);
    if (!client.ok()) return client.status();
    if (!wanted_clients.empty() && !wanted_clients.contains(*client)) continue;
    found_clients.insert(*client);
    absl::StatusOr<int64_t> start = ParseInt64(fields[3], "window_start_s", at);
    if (!start.ok()) return start.status();
    if (*start < 0 || *start % kWindowS != 0) {
      return at.Error(absl::StrCat("window_start_s ", *start, " is not a multiple of ",
                                   kWindowS, " >= 0"));
    }
    if (model->second == previous.model && *client == previous.client &&
        *start <= previous.start_s) {
      return at.Error(absl::StrCat("window_start_s ", *start, " is not after the previous row's ",
                                   previous.start_s, " (a client's rows must be sorted)"));
    }
    absl::StatusOr<double> rate = ParseNonNegative(fields[4], "rate_rps", at);
    if (!rate.ok()) return rate.status();
    const double exact = *rate * kWindowS;
    const double count = std::round(exact);
    if (std::abs(exact - count) > 1e-6 * std::max(1.0, exact)) {
      return at.Error(absl::StrCat("rate_rps ", fields[4], " x ", kWindowS,
                                   " is not a whole number of requests"));
    }
    RateWindow window{.model = model->second,
                      .client = *client,
                      .start_s = *start,
                      .count = static_cast<int64_t>(count)};
    previous = window;
    if (window.count > 0) {
      if (fields[6] != "Gamma" && fields[6] != "Weibull") {
        return at.Error(absl::StrCat("iat_dist '", fields[6],
                                     "' is not Gamma or Weibull (the window has requests)"));
      }
      window.weibull = fields[6] == "Weibull";
      absl::StatusOr<double> shape = ParseNonNegative(fields[7], "iat_shape", at);
      if (!shape.ok()) return shape.status();
      absl::StatusOr<double> scale = ParseNonNegative(fields[8], "iat_scale", at);
      if (!scale.ok()) return scale.status();
      if (*shape <= 0 || *scale <= 0) {
        return at.Error(absl::StrCat("iat_shape ", fields[7], " and iat_scale ", fields[8],
                                     " must be > 0 (the window has requests)"));
      }
      window.shape = *shape;
    }
    const bool overlaps = static_cast<double>(window.start_s) < options.end_s &&
                          static_cast<double>(window.start_s + kWindowS) > options.start_s;
    if (overlaps && window.count > 0) windows.push_back(window);
  }
  for (const auto& [name, index] : model_index) {
    if (!model_seen[index]) {
      return absl::InvalidArgumentError(
          absl::StrCat("ServeGen model '", name, "' has no rows in ", path));
    }
  }
  for (int64_t client : options.servegen.client_ids) {
    if (!found_clients.contains(client)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "ServeGen client ", client, " is not a client of the selected models in ", path));
    }
  }
  return windows;
}

// Keeps the windows of each model's top_clients clients by requests.
void KeepTopClients(int top_clients, std::vector<RateWindow>* windows) {
  absl::flat_hash_map<std::pair<size_t, int64_t>, int64_t> volume;
  for (const RateWindow& w : *windows) volume[{w.model, w.client}] += w.count;
  std::vector<std::pair<std::pair<size_t, int64_t>, int64_t>> ranked(volume.begin(),
                                                                     volume.end());
  // Per model, most requests first; ties by client id so the choice is deterministic.
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    if (a.first.first != b.first.first) return a.first.first < b.first.first;
    if (a.second != b.second) return a.second > b.second;
    return a.first.second < b.first.second;
  });
  absl::flat_hash_set<std::pair<size_t, int64_t>> kept;
  absl::flat_hash_map<size_t, int> taken;
  for (const auto& [key, requests] : ranked) {
    if (taken[key.first]++ < top_clients) kept.insert(key);
  }
  std::erase_if(*windows, [&kept](const RateWindow& w) {
    return !kept.contains(std::make_pair(w.model, w.client));
  });
}

LengthFit FitLength(double p50, double p90, double p99) {
  const double median = std::max(p50, 1.0);
  return LengthFit{.mu = std::log(median),
                   .sigma = p90 > median ? (std::log(p90) - std::log(median)) / kNormalP90 : 0,
                   .max = std::max(1.0, 2 * p99)};
}

// Reads the token summary rows of the selected models.
absl::StatusOr<std::vector<ModelTokens>> ParseTokens(
    absl::string_view path, absl::string_view text,
    const absl::flat_hash_map<std::string, size_t>& model_index) {
  LineReader lines(text);
  absl::string_view line;
  lines.Next(&line);
  if (line != kTokensHeader) {
    return RowPlace{path, 1}.Error(
        absl::StrCat("header '", line, "' is not '", kTokensHeader, "'"));
  }
  std::vector<ModelTokens> models(model_index.size());
  std::vector<absl::string_view> fields;
  while (lines.Next(&line)) {
    const RowPlace at{path, lines.line_number()};
    SplitCsv(line, &fields);
    if (absl::Status s = CheckColumnCount(fields, 15, at); !s.ok()) return s;
    const auto model = model_index.find(fields[1]);
    if (model == model_index.end()) continue;
    absl::StatusOr<int64_t> client = ParseInt64(fields[2], "client_id", at);
    if (!client.ok()) return client.status();
    absl::StatusOr<int64_t> start = ParseInt64(fields[3], "window_start_s", at);
    if (!start.ok()) return start.status();
    if (*start < 0 || *start % kTokenWindowS != 0) {
      return at.Error(absl::StrCat("window_start_s ", *start, " is not a multiple of ",
                                   kTokenWindowS, " >= 0"));
    }
    if (fields[4] != "21600") {
      return at.Error(absl::StrCat("window_len_s ", fields[4], " is not 21600"));
    }
    // A weight of the model's mixture, not a count to reproduce: the summary writes the
    // largest ones rounded in scientific notation (e.g. 1.2212e+06).
    absl::StatusOr<double> expected = ParseNonNegative(fields[5], "expected_requests", at);
    if (!expected.ok()) return expected.status();
    // Columns 7-9 and 11-13: p50, p90, p99 of input and of output tokens.
    static constexpr absl::string_view kNames[] = {
        "input_tokens_p50",  "input_tokens_p90",  "input_tokens_p99",
        "output_tokens_p50", "output_tokens_p90", "output_tokens_p99"};
    double p[6];
    for (int i = 0; i < 6; ++i) {
      absl::StatusOr<double> value = ParseNonNegative(fields[i < 3 ? 7 + i : 8 + i], kNames[i], at);
      if (!value.ok()) return value.status();
      p[i] = *value;
    }
    for (int base : {0, 3}) {
      if (!(p[base] <= p[base + 1] && p[base + 1] <= p[base + 2])) {
        return at.Error(absl::StrCat(kNames[base], ", ", kNames[base + 1], ", ", kNames[base + 2],
                                     " are not in ascending order"));
      }
    }
    const TokenFit fit{.prompt = FitLength(p[0], p[1], p[2]),
                       .output = FitLength(p[3], p[4], p[5])};
    ModelTokens& tokens = models[model->second];
    if (!tokens.by_client_window.emplace(std::make_pair(*client, *start), fit).second) {
      return at.Error(absl::StrCat("second row for client ", *client, " and window_start_s ",
                                   *start));
    }
    tokens.rows.push_back(fit);
    tokens.cumulative.push_back((tokens.cumulative.empty() ? 0.0 : tokens.cumulative.back()) +
                                *expected);
  }
  return models;
}

// The window's requests: n + 1 gaps drawn from the fitted law and rescaled so the n
// arrivals fill the window exactly (the fit's scale cancels out; its shape — the
// burstiness — stays).
void GenerateWindow(const RateWindow& w, int64_t n, const std::string& model,
                    const std::string& tenant, const TokenFit* fit,
                    const ModelTokens& mixture, TraceRng& rng,
                    std::vector<TraceRequest>* out) {
  std::vector<double> gaps(static_cast<size_t>(n) + 1);
  double max_log = -std::numeric_limits<double>::infinity();
  for (double& g : gaps) {
    g = w.weibull ? rng.LogWeibull(w.shape) : rng.LogGamma(w.shape);
    max_log = std::max(max_log, g);
  }
  double total = 0;
  for (double& g : gaps) {
    g = std::exp(g - max_log);  // the largest gap is 1: no underflow of the sum
    total += g;
  }
  const double start = static_cast<double>(w.start_s);
  const double last = std::nextafter(start + kWindowS, start);
  double elapsed = 0;
  for (int64_t k = 0; k < n; ++k) {
    elapsed += gaps[k];
    const TokenFit& tokens = fit != nullptr ? *fit : mixture.DrawFromMixture(rng);
    out->push_back(TraceRequest{
        .arrival_s = std::min(start + kWindowS * (elapsed / total), last),
        .model = model,
        .tenant = tenant,
        .prompt_tokens = tokens.prompt.Draw(rng),
        .output_tokens = tokens.output.Draw(rng)});
  }
}

}  // namespace

absl::StatusOr<std::vector<TraceRequest>> ParseServeGen(absl::string_view path,
                                                        absl::string_view text,
                                                        const TraceOptions& options) {
  const ServeGenOptions& o = options.servegen;
  if (absl::Status s = CheckServeGenOptions(o); !s.ok()) return s;
  absl::flat_hash_map<std::string, size_t> model_index;
  for (size_t i = 0; i < o.models.size(); ++i) {
    if (!model_index.emplace(o.models[i], i).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("ServeGenOptions::models lists '", o.models[i], "' twice"));
    }
  }

  absl::StatusOr<std::vector<RateWindow>> windows = ParseRates(path, text, options, model_index);
  if (!windows.ok()) return windows.status();
  if (o.top_clients > 0) KeepTopClients(o.top_clients, &*windows);

  absl::StatusOr<std::string> tokens_path = TokensPath(path, o);
  if (!tokens_path.ok()) return tokens_path.status();
  absl::StatusOr<std::string> tokens_text = ReadTraceFile(*tokens_path);
  if (!tokens_text.ok()) return tokens_text.status();
  absl::StatusOr<std::vector<ModelTokens>> tokens =
      ParseTokens(*tokens_path, *tokens_text, model_index);
  if (!tokens.ok()) return tokens.status();
  for (const auto& [name, index] : model_index) {
    if ((*tokens)[index].rows.empty() || (*tokens)[index].cumulative.back() <= 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the token summary ", *tokens_path, " has no requests of model '", name, "'"));
    }
  }

  double expected = 0;
  for (const RateWindow& w : *windows) expected += static_cast<double>(w.count) * o.rate_scale;
  if (expected > static_cast<double>(options.max_generated_requests)) {
    return TooManyRequests(path, expected, options);
  }

  std::vector<TraceRequest> requests;
  for (const RateWindow& w : *windows) {
    const std::string& model = o.models[w.model];
    TraceRng rng(MixSeed(MixSeed(MixSeed(options.seed, HashName(model)),
                                 static_cast<uint64_t>(w.client)),
                         static_cast<uint64_t>(w.start_s)));
    const double scaled = static_cast<double>(w.count) * o.rate_scale;
    double whole = std::floor(scaled);
    if (rng.Uniform() < scaled - whole) whole += 1;
    const auto n = static_cast<int64_t>(whole);
    if (n == 0) continue;
    const ModelTokens& model_tokens = (*tokens)[w.model];
    const auto fit = model_tokens.by_client_window.find(
        {w.client, w.start_s / kTokenWindowS * kTokenWindowS});
    GenerateWindow(w, n, model, absl::StrCat(model, "/", w.client),
                   fit == model_tokens.by_client_window.end() ? nullptr : &fit->second,
                   model_tokens, rng, &requests);
  }
  return requests;
}

}  // namespace trace_internal

absl::StatusOr<std::vector<TraceRequest>> ReadServeGenTrace(std::string_view path,
                                                            const TraceOptions& options) {
  return trace_internal::ReadWith(trace_internal::ParseServeGen, trace_internal::AbslView(path), options);
}

}  // namespace hearth
