#include "report/bubble.hpp"

#include <fmt/format.h>

namespace okuri::report {

using nlohmann::json;

std::string escape_html(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

namespace {

std::string str(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return "";
  return j[key].get<std::string>();
}

// Pixels as written ("12px", "1.5px"): digits and a point before `px`, nothing else reaches a style.
std::string pixels(const std::string& s) {
  if (s.size() < 3 || s.size() > 10 || s.compare(s.size() - 2, 2, "px") != 0) return "";
  const std::string n = s.substr(0, s.size() - 2);
  return n.find_first_not_of("0123456789.") == std::string::npos ? s : "";
}

// Flex sizes and spacings as CSS (LINE's keywords, or pixels as written).
std::string flex_size(const std::string& s) {
  static const std::pair<const char*, const char*> sizes[] = {
      {"xxs", "11px"}, {"xs", "12px"},  {"sm", "13px"},  {"md", "14px"},  {"lg", "16px"},
      {"xl", "18px"},  {"xxl", "20px"}, {"3xl", "24px"}, {"4xl", "28px"}, {"5xl", "32px"}};
  for (const auto& [k, v] : sizes) {
    if (s == k) return v;
  }
  return pixels(s);
}
std::string flex_spacing(const std::string& s) {
  static const std::pair<const char*, const char*> sp[] = {
      {"none", "0"}, {"xs", "2px"}, {"sm", "4px"}, {"md", "8px"}, {"lg", "12px"}, {"xl", "16px"}, {"xxl", "20px"}};
  for (const auto& [k, v] : sp) {
    if (s == k) return v;
  }
  return pixels(s);
}
// A CSS colour only when it is one LINE accepts (#RRGGBB or #RRGGBBAA): nothing else reaches the page.
std::string color(const std::string& s) {
  if ((s.size() != 7 && s.size() != 9) || s[0] != '#') return "";
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return "";
  }
  return s;
}

// LINE's `aspectRatio` ("20:13") as CSS ("20/13"); anything but two numbers is square.
std::string aspect_ratio(const std::string& r) {
  const auto colon = r.find(':');
  auto number = [](const std::string& s) {
    return !s.empty() && s.size() <= 8 && s.find_first_not_of("0123456789.") == std::string::npos;
  };
  if (colon == std::string::npos || !number(r.substr(0, colon)) || !number(r.substr(colon + 1))) return "1/1";
  return r.substr(0, colon) + "/" + r.substr(colon + 1);
}

// The words on placeholders, in the page's language.
struct Labels {
  const char *image, *sticker, *video, *audio, *location, *imagemap, *not_drawn;
};
const Labels kJa{"画像", "スタンプ", "動画", "音声", "位置情報", "イメージマップ", "レポートでは描画しません"};
const Labels kEn{"image", "sticker", "video", "audio", "location", "imagemap", "not drawn in the report"};

std::string placeholder(const std::string& what, const std::string& detail) {
  return fmt::format("<div class=\"ph\"><b>{}</b>{}</div>", escape_html(what),
                     detail.empty() ? "" : "<br><small>" + escape_html(detail) + "</small>");
}

std::string flex_component(const json& c, const std::string& parent_layout, const Labels& w);

std::string flex_box(const json& b, const Labels& w) {
  const std::string layout = str(b, "layout").empty() ? "vertical" : str(b, "layout");
  std::string style = layout == "vertical" ? "flex-direction:column;" : "flex-direction:row;align-items:baseline;";
  if (layout == "horizontal") style = "flex-direction:row;";
  if (auto s = flex_spacing(str(b, "spacing")); !s.empty()) style += "gap:" + s + ";";
  if (auto s = flex_spacing(str(b, "paddingAll")); !s.empty()) style += "padding:" + s + ";";
  if (auto c = color(str(b, "backgroundColor")); !c.empty()) style += "background:" + c + ";";
  std::string out = fmt::format("<div class=\"fx-box\" style=\"{}\">", style);
  if (b.contains("contents") && b["contents"].is_array()) {
    for (const auto& c : b["contents"]) out += flex_component(c, layout, w);
  }
  return out + "</div>";
}

std::string flex_common(const json& c, const std::string& parent_layout) {
  std::string style;
  if (c.contains("flex") && c["flex"].is_number_integer()) {
    style += fmt::format("flex:{} 1 0;", c["flex"].get<int>());
  } else if (parent_layout != "vertical") {
    style += "flex:1 1 0;";
  }
  if (auto s = flex_spacing(str(c, "margin")); !s.empty()) {
    style += (parent_layout == "vertical" ? "margin-top:" : "margin-left:") + s + ";";
  }
  return style;
}

std::string flex_component(const json& c, const std::string& parent_layout, const Labels& w) {
  const std::string type = str(c, "type");
  const std::string common = flex_common(c, parent_layout);
  if (type == "box") return "<div style=\"" + common + "display:flex\">" + flex_box(c, w) + "</div>";
  if (type == "text") {
    std::string style = common;
    if (auto s = flex_size(str(c, "size")); !s.empty()) style += "font-size:" + s + ";";
    if (str(c, "weight") == "bold") style += "font-weight:bold;";
    if (auto col = color(str(c, "color")); !col.empty()) style += "color:" + col + ";";
    const std::string align = str(c, "align");
    if (align == "center" || align == "end" || align == "start") style += "text-align:" + align + ";";
    if (c.value("wrap", false)) style += "white-space:pre-wrap;";
    return fmt::format("<div class=\"fx-text\" style=\"{}\">{}</div>", style, escape_html(str(c, "text")));
  }
  if (type == "image") {
    return fmt::format("<div class=\"fx-image\" style=\"{}aspect-ratio:{}\" title=\"{}\">{}</div>", common,
                       aspect_ratio(str(c, "aspectRatio")), escape_html(str(c, "url")), w.image);
  }
  if (type == "button") {
    const json& a = c.contains("action") ? c["action"] : json::object();
    const std::string st = str(c, "style");
    std::string style = common;
    if (auto col = color(str(c, "color")); !col.empty()) {
      style += (st == "primary" || st == "secondary" ? "background:" : "color:") + col + ";";
    }
    return fmt::format("<div class=\"fx-button {}\" style=\"{}\" title=\"{}\">{}</div>",
                       st == "primary"     ? "primary"
                       : st == "secondary" ? "secondary"
                                           : "link",
                       style, escape_html(str(a, "uri").empty() ? str(a, "data") : str(a, "uri")),
                       escape_html(str(a, "label")));
  }
  if (type == "separator") return "<div class=\"fx-sep\"></div>";
  if (type == "filler" || type == "spacer") return "<div style=\"" + common + "\"></div>";
  return placeholder(type.empty() ? "component" : type, w.not_drawn);
}

std::string flex_bubble(const json& b, const Labels& w) {
  std::string out = "<div class=\"fx-bubble\">";
  for (const char* part : {"header", "hero", "body", "footer"}) {
    if (!b.contains(part) || !b[part].is_object()) continue;
    out += fmt::format("<div class=\"fx-{}\">", part);
    out += str(b[part], "type") == "box" ? flex_box(b[part], w) : flex_component(b[part], "vertical", w);
    out += "</div>";
  }
  return out + "</div>";
}

std::string template_html(const json& t, const Labels& w) {
  std::string out = "<div class=\"tpl\">";
  const std::string type = str(t, "type");
  auto one = [&](const json& col) {
    std::string s = "<div class=\"tpl-col\">";
    if (!str(col, "thumbnailImageUrl").empty())
      s += fmt::format("<div class=\"fx-image\" style=\"aspect-ratio:1.51/1\">{}</div>", w.image);
    if (!str(col, "title").empty()) s += "<div class=\"tpl-title\">" + escape_html(str(col, "title")) + "</div>";
    s += "<div class=\"tpl-text\">" + escape_html(str(col, "text")) + "</div>";
    if (col.contains("actions") && col["actions"].is_array()) {
      for (const auto& a : col["actions"]) {
        s += fmt::format("<div class=\"fx-button link\" title=\"{}\">{}</div>",
                         escape_html(str(a, "uri").empty() ? str(a, "data") : str(a, "uri")),
                         escape_html(str(a, "label")));
      }
    }
    return s + "</div>";
  };
  if (type == "carousel" && t.contains("columns") && t["columns"].is_array()) {
    out += "<div class=\"carousel\">";
    for (const auto& col : t["columns"]) out += one(col);
    out += "</div>";
  } else {
    out += one(t);
  }
  return out + "</div>";
}

std::string one_message(const json& m, const Labels& w) {
  const std::string type = str(m, "type");
  if (type == "text") return "<div class=\"bubble text\">" + escape_html(str(m, "text")) + "</div>";
  if (type == "sticker") {
    return "<div class=\"sticker\">" +
           placeholder(w.sticker, fmt::format("{} / {}", m.value("packageId", ""), m.value("stickerId", ""))) +
           "</div>";
  }
  if (type == "image" || type == "video") {
    return "<div class=\"media\">" + placeholder(type == "image" ? w.image : w.video, str(m, "originalContentUrl")) +
           "</div>";
  }
  if (type == "audio") return "<div class=\"bubble\">" + placeholder(w.audio, str(m, "originalContentUrl")) + "</div>";
  if (type == "location") {
    return "<div class=\"bubble\">" + placeholder(std::string(w.location) + ": " + str(m, "title"), str(m, "address")) +
           "</div>";
  }
  if (type == "template" && m.contains("template")) return template_html(m["template"], w);
  if (type == "flex" && m.contains("contents")) {
    const json& c = m["contents"];
    if (str(c, "type") == "carousel" && c.contains("contents") && c["contents"].is_array()) {
      std::string out = "<div class=\"carousel\">";
      for (const auto& b : c["contents"]) out += flex_bubble(b, w);
      return out + "</div>";
    }
    return flex_bubble(c, w);
  }
  if (type == "imagemap") return "<div class=\"media\">" + placeholder(w.imagemap, str(m, "altText")) + "</div>";
  return "<div class=\"bubble\">" + placeholder(type, "") + "</div>";
}

}  // namespace

std::string bubbles_html(const json& messages, bool ja) {
  std::string out = "<div class=\"chat\">";
  if (messages.is_array()) {
    for (const auto& m : messages) out += "<div class=\"msg\">" + one_message(m, ja ? kJa : kEn) + "</div>";
  }
  return out + "</div>";
}

}  // namespace okuri::report
