#include "compiler/message_files.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace okuri {
namespace {

const char* const kTypes[] = {"text", "sticker", "image", "video", "audio", "location", "imagemap", "template", "flex"};

std::string check_object(const std::string& file, const nlohmann::json& m, std::size_t index, bool in_array) {
  const std::string where = in_array ? fmt::format(" (message {} of the array)", index + 1) : std::string();
  if (!m.is_object()) return fmt::format("message file `{}`{}: a LINE message must be a JSON object", file, where);
  auto t = m.find("type");
  if (t == m.end() || !t->is_string()) {
    return fmt::format("message file `{}`{}: the LINE message has no \"type\"", file, where);
  }
  const std::string type = t->get<std::string>();
  bool known = false;
  for (const char* k : kTypes) known = known || type == k;
  if (!known) {
    return fmt::format(
        "message file `{}`{}: \"type\": \"{}\" is not a LINE message type (text, sticker, image, video, audio, location, "
        "imagemap, template, flex)",
        file, where, type);
  }
  auto need = [&](const char* key) -> std::string {
    auto it = m.find(key);
    if (it == m.end() || (it->is_string() && it->get<std::string>().empty())) {
      return fmt::format("message file `{}`{}: a {} message needs \"{}\"", file, where, type, key);
    }
    return {};
  };
  std::string err;
  if (type == "flex" || type == "template" || type == "imagemap") {
    if (!(err = need("altText")).empty()) return err;
  }
  if (type == "text" && !(err = need("text")).empty()) return err;
  if (type == "flex" && !(err = need("contents")).empty()) return err;
  if (type == "template" && !(err = need("template")).empty()) return err;
  if ((type == "image" || type == "video") && !(err = need("originalContentUrl")).empty()) return err;
  if ((type == "image" || type == "video") && !(err = need("previewImageUrl")).empty()) return err;
  if (type == "audio" && !(err = need("originalContentUrl")).empty()) return err;
  if (type == "sticker" && (!(err = need("packageId")).empty() || !(err = need("stickerId")).empty())) return err;
  if (type == "text") {
    const auto& text = m["text"];
    if (!text.is_string()) return fmt::format("message file `{}`{}: \"text\" must be a string", file, where);
  }
  return {};
}

}  // namespace

MessageFileCheck check_message_json(const std::string& file, const std::string& text) {
  MessageFileCheck r;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    const auto colon = what.find("parse error");
    r.error = fmt::format("message file `{}` is not valid JSON: {}", file,
                          colon == std::string::npos ? what : what.substr(colon));
    return r;
  }
  if (j.is_array()) {
    if (j.empty() || j.size() > 5) {
      r.error = fmt::format("message file `{}` holds {} messages; LINE sends 1 to 5 at a time", file, j.size());
      return r;
    }
    for (std::size_t i = 0; i < j.size(); ++i) {
      r.error = check_object(file, j[i], i, true);
      if (!r.error.empty()) return r;
    }
    r.message_count = static_cast<std::int64_t>(j.size());
    return r;
  }
  r.error = check_object(file, j, 0, false);
  r.message_count = 1;
  return r;
}

MessageFileCheck check_message_file(const std::string& root, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path full = fs::path(root) / path;
  std::ifstream in(full, std::ios::binary);
  if (!in) {
    MessageFileCheck r;
    r.error = fmt::format("message file `{}` does not exist (looked for {})", path, full.lexically_normal().string());
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return check_message_json(path, ss.str());
}

}  // namespace okuri
