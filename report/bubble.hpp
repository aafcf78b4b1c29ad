// LINE message objects drawn as a friend sees them in the chat: text bubbles, stickers,
// images, template buttons and a documented subset of flex messages (box, text, image, button,
// separator, with their layout). HTML for the report; nothing is fetched at view time, so
// images and stickers show as framed placeholders with what they are.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace okuri::report {

// `messages`: a JSON array of LINE message objects, as the renderer makes them. `ja`: the
// placeholders' words in Japanese, else English.
std::string bubbles_html(const nlohmann::json& messages, bool ja = true);

// Text safe inside HTML elements and attribute values.
std::string escape_html(const std::string& s);

}  // namespace okuri::report
