#include "lib/runtime/json_text.h"

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hearth {
namespace {

using Json = nlohmann::json;

// nlohmann reports where a parse failed only through an exception or a SAX handler; hearth
// never throws, so a second, SAX-only pass locates the error once parsing has failed.
class SyntaxErrorLocator final : public nlohmann::json_sax<Json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& error) override {
    position_ = position;
    message_ = error.what();  // names the line and column
    return false;
  }
  std::size_t position() const { return position_; }
  const std::string& message() const { return message_; }

 private:
  std::size_t position_ = 0;
  std::string message_ = "not valid JSON";
};

}  // namespace

absl::StatusOr<Json> ParseJsonText(std::string_view text) {
  Json value = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!value.is_discarded()) return value;
  SyntaxErrorLocator locator;
  Json::sax_parse(text.begin(), text.end(), &locator);
  return absl::InvalidArgumentError(
      absl::StrCat("malformed JSON at byte ", locator.position(), ": ", locator.message()));
}

}  // namespace hearth
