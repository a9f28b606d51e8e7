#include "examples/server/openai_request.h"

#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "examples/server/openai_error.h"
#include "nlohmann/json.hpp"

namespace hearth_server {
namespace {

using nlohmann::json;

constexpr size_t kMaxStopStrings = 4;  // OpenAI's limit

const json* Field(const json& body, const char* name) {
  auto it = body.find(name);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

absl::StatusOr<std::string> ParsePrompt(const json& body) {
  const json* prompt = Field(body, "prompt");
  if (prompt == nullptr) return InvalidParam("prompt", "'prompt' is required");
  if (prompt->is_string()) return prompt->get<std::string>();
  if (prompt->is_array() && prompt->size() == 1 && (*prompt)[0].is_string()) {
    return (*prompt)[0].get<std::string>();
  }
  return InvalidParam("prompt",
                      "'prompt' must be a string or a list of one string (batched prompts: "
                      "send one request each)");
}

absl::StatusOr<std::string> ParseContent(const json& content, size_t index) {
  const std::string param = absl::StrCat("messages[", index, "].content");
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) {
    return InvalidParam(param, absl::StrCat("'", param, "' must be a string or a list of text parts"));
  }
  std::string text;
  for (const json& part : content) {
    auto type = part.is_object() ? part.find("type") : part.end();
    auto value = part.is_object() ? part.find("text") : part.end();
    if (type == part.end() || *type != "text" || value == part.end() || !value->is_string()) {
      return InvalidParam(param, absl::StrCat("'", param,
                                              "' parts must be {\"type\": \"text\", \"text\": "
                                              "string}; this model reads text only"));
    }
    text += value->get<std::string>();
  }
  return text;
}

absl::StatusOr<std::vector<hearth::ChatMessage>> ParseMessages(const json& body) {
  const json* messages = Field(body, "messages");
  if (messages == nullptr) return InvalidParam("messages", "'messages' is required");
  if (!messages->is_array() || messages->empty()) {
    return InvalidParam("messages", "'messages' must be a non-empty list");
  }
  std::vector<hearth::ChatMessage> out;
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& message = (*messages)[i];
    const std::string param = absl::StrCat("messages[", i, "]");
    if (!message.is_object()) return InvalidParam(param, absl::StrCat("'", param, "' must be an object"));
    const json* role = Field(message, "role");
    if (role == nullptr || !role->is_string()) {
      return InvalidParam(param + ".role", absl::StrCat("'", param, ".role' must be a string"));
    }
    std::string role_name = role->get<std::string>();
    // OpenAI's newer name for the system role.
    if (role_name == "developer") role_name = "system";
    if (role_name != "system" && role_name != "user" && role_name != "assistant") {
      return InvalidParam(param + ".role",
                          absl::StrCat("'", param, ".role' must be system, developer, user or assistant, not '",
                                       role_name, "'"));
    }
    const json* content = Field(message, "content");
    if (content == nullptr) {
      return InvalidParam(param + ".content", absl::StrCat("'", param, ".content' is required"));
    }
    absl::StatusOr<std::string> text = ParseContent(*content, i);
    if (!text.ok()) return text.status();
    out.push_back({std::move(role_name), *std::move(text)});
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParseStop(const json& stop) {
  if (stop.is_string()) return std::vector<std::string>{stop.get<std::string>()};
  if (!stop.is_array() || stop.size() > kMaxStopStrings) {
    return InvalidParam("stop", "'stop' must be a string or a list of up to 4 strings");
  }
  std::vector<std::string> out;
  for (const json& s : stop) {
    if (!s.is_string()) return InvalidParam("stop", "'stop' must hold strings only");
    out.push_back(s.get<std::string>());
  }
  return out;
}

absl::Status ParseMaxTokens(const json& body, Endpoint endpoint, int& max_tokens) {
  const char* name = "max_tokens";
  const json* value = Field(body, name);
  if (value == nullptr && endpoint == Endpoint::kChatCompletions) {
    name = "max_completion_tokens";
    value = Field(body, name);
  }
  if (value == nullptr) return absl::OkStatus();
  if (!value->is_number_integer() || value->get<int64_t>() <= 0 ||
      value->get<int64_t>() > std::numeric_limits<int>::max()) {
    return InvalidParam(name, absl::StrCat("'", name, "' must be an integer > 0"));
  }
  max_tokens = static_cast<int>(value->get<int64_t>());
  return absl::OkStatus();
}

absl::Status ParseSampling(const json& body, OpenAiRequest& request) {
  hearth::SamplingParams& sampling = request.generate.sampling;
  sampling.temperature = 1.0f;
  sampling.top_p = 1.0f;
  sampling.top_k = 0;
  sampling.min_p = 0.0f;
  if (const json* t = Field(body, "temperature")) {
    if (!t->is_number() || !(t->get<double>() >= 0 && t->get<double>() <= 2)) {
      return InvalidParam("temperature", "'temperature' must be a number in [0, 2]");
    }
    sampling.temperature = static_cast<float>(t->get<double>());
  }
  if (const json* p = Field(body, "top_p")) {
    if (!p->is_number() || !(p->get<double>() > 0 && p->get<double>() <= 1)) {
      return InvalidParam("top_p", "'top_p' must be a number in (0, 1]");
    }
    sampling.top_p = static_cast<float>(p->get<double>());
  }
  if (const json* seed = Field(body, "seed")) {
    if (!seed->is_number_integer()) return InvalidParam("seed", "'seed' must be an integer");
    // A negative seed is as good a seed as any: keep its bits.
    sampling.seed = seed->is_number_unsigned() ? seed->get<uint64_t>()
                                               : static_cast<uint64_t>(seed->get<int64_t>());
    request.seed_explicit = true;
  }
  return absl::OkStatus();
}

absl::Status ParseStreamOptions(const json& body, OpenAiRequest& request) {
  if (const json* stream = Field(body, "stream")) {
    if (!stream->is_boolean()) return InvalidParam("stream", "'stream' must be true or false");
    request.stream = stream->get<bool>();
  }
  if (const json* options = Field(body, "stream_options")) {
    const json* usage = options->is_object() ? Field(*options, "include_usage") : nullptr;
    if (!options->is_object() || (usage != nullptr && !usage->is_boolean())) {
      return InvalidParam("stream_options",
                          "'stream_options' must be an object with a boolean include_usage");
    }
    request.include_usage = usage != nullptr && usage->get<bool>();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OpenAiRequest> ParseOpenAiRequest(std::string_view body_text, Endpoint endpoint) {
  const json body = json::parse(body_text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return InvalidParam("", "the request body is not valid JSON");
  if (!body.is_object()) return InvalidParam("", "the request body must be a JSON object");

  OpenAiRequest request;
  request.endpoint = endpoint;
  const json* model = Field(body, "model");
  if (model == nullptr || !model->is_string() || model->get_ref<const std::string&>().empty()) {
    return InvalidParam("model", "'model' must be a non-empty string (GET /v1/models lists them)");
  }
  request.model = model->get<std::string>();

  if (endpoint == Endpoint::kCompletions) {
    absl::StatusOr<std::string> prompt = ParsePrompt(body);
    if (!prompt.ok()) return prompt.status();
    request.generate.prompt = *std::move(prompt);
    request.generate.max_tokens = kDefaultCompletionMaxTokens;
  } else {
    absl::StatusOr<std::vector<hearth::ChatMessage>> messages = ParseMessages(body);
    if (!messages.ok()) return messages.status();
    request.generate.messages = *std::move(messages);
    request.generate.max_tokens = kDefaultChatMaxTokens;
  }
  if (absl::Status s = ParseMaxTokens(body, endpoint, request.generate.max_tokens); !s.ok()) return s;
  if (absl::Status s = ParseSampling(body, request); !s.ok()) return s;
  if (const json* stop = Field(body, "stop")) {
    absl::StatusOr<std::vector<std::string>> strings = ParseStop(*stop);
    if (!strings.ok()) return strings.status();
    request.generate.stop = *std::move(strings);
  }
  if (absl::Status s = ParseStreamOptions(body, request); !s.ok()) return s;
  if (const json* n = Field(body, "n")) {
    if (!n->is_number_integer() || n->get<int64_t>() != 1) {
      return InvalidParam("n", "'n' must be 1: this server returns one choice per request");
    }
  }
  if (const json* ignore_eos = Field(body, "ignore_eos")) {
    if (!ignore_eos->is_boolean()) return InvalidParam("ignore_eos", "'ignore_eos' must be true or false");
    request.generate.ignore_eos = ignore_eos->get<bool>();
  }
  if (const json* user = Field(body, "user")) {
    if (!user->is_string()) return InvalidParam("user", "'user' must be a string");
    request.user = user->get<std::string>();
  }
  return request;
}

std::string TenantOf(std::string_view tenant_header, const OpenAiRequest& request) {
  if (!tenant_header.empty()) return std::string(tenant_header);
  if (!request.user.empty()) return request.user;
  return "anonymous";
}

std::string RoutingText(const hearth::GenerateRequest& request) {
  if (request.messages.empty()) return request.prompt;
  std::string text;
  for (const hearth::ChatMessage& m : request.messages) {
    if (!text.empty()) text += '\n';
    text += m.content;
  }
  return text;
}

}  // namespace hearth_server
