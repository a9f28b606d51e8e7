#include "examples/server/openai_request.h"

#include "examples/server/openai_error.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace hearth_server {
namespace {

using nlohmann::json;

ApiError ErrorOf(std::string_view body, Endpoint endpoint) {
  absl::StatusOr<OpenAiRequest> r = ParseOpenAiRequest(body, endpoint);
  EXPECT_FALSE(r.ok()) << body;
  return ApiErrorFromStatus(r.status());
}

TEST(OpenAiRequestTest, ChatRequestWithEveryField) {
  const std::string body = R"({"model": "smollm2", "messages": [
      {"role": "developer", "content": "Be brief."},
      {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}],
      "max_completion_tokens": 12, "temperature": 0.25, "top_p": 0.5, "seed": -3,
      "stop": ["\n", "END"], "stream": true, "stream_options": {"include_usage": true}, "n": 1,
      "user": "acme", "frequency_penalty": 0})";
  absl::StatusOr<OpenAiRequest> r = ParseOpenAiRequest(body, Endpoint::kChatCompletions);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model, "smollm2");
  ASSERT_EQ(r->generate.messages.size(), 2u);
  EXPECT_EQ(r->generate.messages[0].role, "system");
  EXPECT_EQ(r->generate.messages[1].content, "Hi there");
  EXPECT_EQ(r->generate.max_tokens, 12);
  EXPECT_FLOAT_EQ(r->generate.sampling.temperature, 0.25f);
  EXPECT_FLOAT_EQ(r->generate.sampling.top_p, 0.5f);
  EXPECT_EQ(r->generate.sampling.seed, static_cast<uint64_t>(-3));
  EXPECT_TRUE(r->seed_explicit);
  EXPECT_EQ(r->generate.stop, (std::vector<std::string>{"\n", "END"}));
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  EXPECT_EQ(TenantOf("", *r), "acme");
  EXPECT_EQ(TenantOf("globex", *r), "globex");
  EXPECT_EQ(RoutingText(r->generate), "Be brief.\nHi there");
}

TEST(OpenAiRequestTest, CompletionDefaultsFollowOpenAi) {
  absl::StatusOr<OpenAiRequest> r =
      ParseOpenAiRequest(R"({"model": "m", "prompt": ["Once upon"], "stop": "."})", Endpoint::kCompletions);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->generate.prompt, "Once upon");
  EXPECT_EQ(r->generate.max_tokens, kDefaultCompletionMaxTokens);
  EXPECT_FLOAT_EQ(r->generate.sampling.temperature, 1.0f);
  EXPECT_FLOAT_EQ(r->generate.sampling.top_p, 1.0f);
  EXPECT_EQ(r->generate.sampling.top_k, 0);
  EXPECT_FALSE(r->seed_explicit);
  EXPECT_FALSE(r->stream);
  EXPECT_EQ(r->generate.stop, (std::vector<std::string>{"."}));
  EXPECT_EQ(TenantOf("", *r), "anonymous");
}

struct BadCase {
  const char* name;
  Endpoint endpoint;
  const char* body;
  const char* param;
};

class BadRequestTest : public testing::TestWithParam<BadCase> {};

TEST_P(BadRequestTest, IsA400NamingTheField) {
  const ApiError error = ErrorOf(GetParam().body, GetParam().endpoint);
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.type, "invalid_request_error");
  EXPECT_EQ(error.param, GetParam().param);
  EXPECT_FALSE(error.message.empty());
  const json body = json::parse(ApiErrorBody(error));
  EXPECT_EQ(body["error"]["message"], error.message);
  EXPECT_TRUE(body["error"].contains("code"));
}

constexpr Endpoint kChat = Endpoint::kChatCompletions;
constexpr Endpoint kText = Endpoint::kCompletions;

INSTANTIATE_TEST_SUITE_P(
    Fields, BadRequestTest,
    testing::Values(
        BadCase{"MalformedJson", kChat, R"({"model": "m", "messages": [)", ""},
        BadCase{"NotAnObject", kChat, R"(["model"])", ""},
        BadCase{"NoModel", kChat, R"({"messages": [{"role": "user", "content": "x"}]})", "model"},
        BadCase{"ModelNotString", kChat, R"({"model": 7, "messages": []})", "model"},
        BadCase{"NoMessages", kChat, R"({"model": "m"})", "messages"},
        BadCase{"EmptyMessages", kChat, R"({"model": "m", "messages": []})", "messages"},
        BadCase{"BadRole", kChat, R"({"model": "m", "messages": [{"role": "robot", "content": "x"}]})",
                "messages[0].role"},
        BadCase{"ContentNumber", kChat, R"({"model": "m", "messages": [{"role": "user", "content": 5}]})",
                "messages[0].content"},
        BadCase{"ImagePart", kChat,
                R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
                "messages[0].content"},
        BadCase{"NoPrompt", kText, R"({"model": "m"})", "prompt"},
        BadCase{"BatchPrompt", kText, R"({"model": "m", "prompt": ["a", "b"]})", "prompt"},
        BadCase{"ZeroMaxTokens", kText, R"({"model": "m", "prompt": "x", "max_tokens": 0})", "max_tokens"},
        BadCase{"StringMaxTokens", kText, R"({"model": "m", "prompt": "x", "max_tokens": "9"})", "max_tokens"},
        BadCase{"HotTemperature", kText, R"({"model": "m", "prompt": "x", "temperature": 2.5})", "temperature"},
        BadCase{"TopPZero", kText, R"({"model": "m", "prompt": "x", "top_p": 0})", "top_p"},
        BadCase{"FloatSeed", kText, R"({"model": "m", "prompt": "x", "seed": 1.5})", "seed"},
        BadCase{"FiveStops", kText, R"({"model": "m", "prompt": "x", "stop": ["a","b","c","d","e"]})", "stop"},
        BadCase{"StopNumber", kText, R"({"model": "m", "prompt": "x", "stop": [1]})", "stop"},
        BadCase{"StreamString", kText, R"({"model": "m", "prompt": "x", "stream": "yes"})", "stream"},
        BadCase{"TwoChoices", kText, R"({"model": "m", "prompt": "x", "n": 2})", "n"},
        BadCase{"UserNumber", kText, R"({"model": "m", "prompt": "x", "user": 3})", "user"}),
    [](const testing::TestParamInfo<BadCase>& param_info) { return param_info.param.name; });

TEST(OpenAiErrorTest, StatusCodesMapToHttp) {
  EXPECT_EQ(ApiErrorFromStatus(absl::NotFoundError("x")).http_status, 404);
  EXPECT_EQ(ApiErrorFromStatus(absl::UnavailableError("x")).http_status, 503);
  EXPECT_EQ(ApiErrorFromStatus(absl::DeadlineExceededError("x")).http_status, 503);
  EXPECT_EQ(ApiErrorFromStatus(absl::ResourceExhaustedError("x")).http_status, 429);
  EXPECT_EQ(ApiErrorFromStatus(absl::InternalError("x")).http_status, 500);
  EXPECT_EQ(RetryAfterSeconds(absl::Milliseconds(1)), 1);
  EXPECT_EQ(RetryAfterSeconds(absl::Milliseconds(2001)), 3);
  const json body = json::parse(ApiErrorBody({.message = "m"}));
  EXPECT_TRUE(body["error"]["param"].is_null());
  EXPECT_TRUE(body["error"]["code"].is_null());
}

}  // namespace
}  // namespace hearth_server
