// What a JSON line that simdjson refused is, in words for the person who wrote the file.
#pragma once

#include <simdjson.h>

#include <string>

namespace okuri::rt {

inline std::string json_error_text(simdjson::error_code e) {
  switch (e) {
    case simdjson::NUMBER_ERROR:
    case simdjson::NUMBER_OUT_OF_RANGE:
      return "a number is malformed or out of range (number overflow)";
    case simdjson::UTF8_ERROR:
      return "a text is not valid UTF-8";
    case simdjson::UNCLOSED_STRING:
      return "a text is not closed with \"";
    default:
      return simdjson::error_message(e);
  }
}

}  // namespace okuri::rt
