#include "compiler/message_files.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "stdlib/json_depth.hpp"

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
  if (stdlib::json_too_deep(text)) {
    r.error = fmt::format("message file `{}` nests JSON deeper than {} levels", file, stdlib::kJsonDepthLimit);
    return r;
  }
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // a syntax error, or a number out of range
    std::string what = e.what();
    const auto colon = std::min(what.find("parse error"), what.find("number overflow"));
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
    r.json = j.dump();
    return r;
  }
  r.error = check_object(file, j, 0, false);
  r.message_count = 1;
  if (r.error.empty()) r.json = nlohmann::json::array({j}).dump();
  return r;
}

bool is_uri_key(std::string_view key) { return key == "uri" || key == "linkUri" || key == "desktop"; }

std::vector<std::string> message_uris(const std::string& json) {
  std::vector<std::string> out;
  if (json.empty()) return out;
  const auto j = nlohmann::json::parse(json, nullptr, false);
  for_each_uri(j, [&](const nlohmann::json& v) { out.push_back(v.get<std::string>()); });
  return out;
}

MessageFileCheck check_message_file(const std::string& root, const std::string& path) {
  namespace fs = std::filesystem;
  const fs::path full = fs::path(root) / path;  // an absolute `path` stands for itself
  MessageFileCheck r;
  std::error_code ec;
  const auto status = fs::status(full, ec);
  if (ec || !fs::exists(status)) {
    r.error = fmt::format("message file `{}` does not exist (looked for {})", path, full.lexically_normal().string());
    return r;
  }
  if (!fs::is_regular_file(status)) {
    r.error =
        fmt::format("message file `{}` is not a regular file ({}): write the LINE message objects into a .json file",
                    path, full.lexically_normal().string());
    return r;
  }
  const auto size = fs::file_size(full, ec);
  if (ec || size > kMaxMessageFileBytes) {
    r.error =
        fmt::format("message file `{}` is {} bytes; at most {} are read", path, ec ? 0 : size, kMaxMessageFileBytes);
    return r;
  }
  std::ifstream in(full, std::ios::binary);
  if (!in) {
    r.error = fmt::format("message file `{}` cannot be read ({})", path, full.lexically_normal().string());
    return r;
  }
  std::string text(static_cast<std::size_t>(size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  text.resize(static_cast<std::size_t>(in.gcount()));
  r = check_message_json(path, text);
  r.resolved = full.lexically_normal().string();
  return r;
}

}  // namespace okuri
