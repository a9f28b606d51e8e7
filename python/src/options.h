// Keyword options (`**options` in Python) read into a C++ config struct.
//
// One table per struct names each keyword and the field it sets, so the keywords, their
// defaults (the struct's own) and the docstring listing them cannot drift apart:
//
//   const OptionTable<KpaConfig>& Table() {
//     static const auto* table = &(new OptionTable<KpaConfig>)
//         ->Add("container_concurrency", &KpaConfig::container_concurrency)
//         .AddSeconds("tick_s", &KpaConfig::tick);
//     return *table;
//   }
//   KpaConfig config = Table().Read(kwargs);   // starts from KpaConfig{}
//
// Durations are seconds in Python (a float; math.inf where the field takes an infinite
// duration). An unknown keyword or a value of the wrong type is a TypeError, as for any
// Python function; the values themselves are checked by the C++ factory that gets them.
#ifndef HEARTH_PYTHON_OPTIONS_H_
#define HEARTH_PYTHON_OPTIONS_H_

#include <cmath>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <pybind11/pybind11.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "status.h"

namespace hearth::python {

// Python's name for a value's type, for messages.
inline std::string TypeName(pybind11::handle value) {
  return pybind11::str(pybind11::type::of(value).attr("__name__"));
}

// Seconds from Python as a duration; TypeError unless a number, infinity allowed.
inline absl::Duration SecondsToDuration(pybind11::handle value, const char* name) {
  if (!pybind11::isinstance<pybind11::float_>(value) &&
      !pybind11::isinstance<pybind11::int_>(value)) {
    throw pybind11::type_error(
        absl::StrCat("'", name, "' takes seconds as a number, not ", TypeName(value)));
  }
  const double seconds = value.cast<double>();
  // absl::Seconds(NaN) is undefined; a NaN duration is no duration at all.
  if (std::isnan(seconds)) {
    throw StatusError(absl::InvalidArgumentError(absl::StrCat("'", name, "' is NaN")));
  }
  return std::isinf(seconds) ? (seconds > 0 ? absl::InfiniteDuration() : -absl::InfiniteDuration())
                             : absl::Seconds(seconds);
}

template <typename Config>
class OptionTable {
 public:
  // `field` is a member pointer or a callable returning a reference into the config (for
  // nested fields).
  template <typename Field>
  OptionTable& Add(const char* name, Field field) {
    options_.push_back({name, [field](Config& c, pybind11::handle value, const char* key) {
                          using T = std::decay_t<decltype(std::invoke(field, c))>;
                          try {
                            std::invoke(field, c) = value.cast<T>();
                          } catch (const pybind11::cast_error&) {
                            throw pybind11::type_error(absl::StrCat(
                                "option '", key, "' has the wrong type (", TypeName(value), ")"));
                          }
                        },
                        [field](Config& c) { return pybind11::repr(pybind11::cast(std::invoke(field, c))); }});
    return *this;
  }

  // An absl::Duration field, in seconds.
  template <typename Field>
  OptionTable& AddSeconds(const char* name, Field field) {
    options_.push_back(
        {name,
         [field](Config& c, pybind11::handle value, const char* key) {
           std::invoke(field, c) = SecondsToDuration(value, key);
         },
         [field](Config& c) {
           return pybind11::repr(pybind11::float_(absl::ToDoubleSeconds(std::invoke(field, c))));
         }});
    return *this;
  }

  // Config{} with the given keywords applied.
  Config Read(const pybind11::dict& kwargs) const {
    Config config;
    for (const auto& [key, value] : kwargs) {
      const std::string name = pybind11::str(key);
      const Option* option = Find(name);
      if (option == nullptr) {
        throw pybind11::type_error(absl::StrCat("unexpected keyword argument '", name,
                                                "'; expected one of: ", Names()));
      }
      option->set(config, value, option->name);
    }
    return config;
  }

  // "name=default, ..." for docstrings, the defaults read from Config{}.
  std::string Describe() const {
    Config defaults;
    std::vector<std::string> parts;
    for (const Option& option : options_) {
      parts.push_back(absl::StrCat(option.name, "=", std::string(option.show(defaults))));
    }
    return absl::StrJoin(parts, ", ");
  }

 private:
  struct Option {
    const char* name;
    std::function<void(Config&, pybind11::handle, const char*)> set;
    std::function<pybind11::str(Config&)> show;
  };

  const Option* Find(const std::string& name) const {
    for (const Option& option : options_) {
      if (name == option.name) return &option;
    }
    return nullptr;
  }

  std::string Names() const {
    std::vector<std::string> names;
    for (const Option& option : options_) names.push_back(option.name);
    return absl::StrJoin(names, ", ");
  }

  std::vector<Option> options_;
};

}  // namespace hearth::python

#endif  // HEARTH_PYTHON_OPTIONS_H_
