#include "compiler/text_template.hpp"

namespace okuri {
namespace {

std::string_view trim(std::string_view s, std::size_t& offset) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
    ++offset;
  }
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

void literal(std::vector<TextPart>& out, std::string_view text, std::size_t begin) {
  if (text.empty()) return;
  if (!out.empty() && !out.back().is_ref) {
    out.back().text.append(text);
    out.back().end = begin + text.size();
    return;
  }
  TextPart p;
  p.text = std::string(text);
  p.begin = begin;
  p.end = begin + text.size();
  out.push_back(std::move(p));
}

}  // namespace

std::vector<TextPart> parse_text_template(std::string_view text) {
  std::vector<TextPart> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find('{', pos);
    const std::size_t close = open == std::string_view::npos ? std::string_view::npos : text.find('}', open);
    if (close == std::string_view::npos) {
      literal(out, text.substr(pos), pos);
      break;
    }
    literal(out, text.substr(pos, open - pos), pos);
    pos = close + 1;
    const std::string_view inner = text.substr(open + 1, close - open - 1);
    if (inner.empty()) {
      literal(out, "{}", open);
      continue;
    }
    TextPart p;
    p.is_ref = true;
    p.begin = open;
    p.end = close + 1;
    const std::size_t bar = inner.find('|');
    const std::string_view head = inner.substr(0, bar);
    if (bar != std::string_view::npos) {
      std::size_t fallback_at = open + 1 + bar + 1;
      p.fallback = std::string(trim(inner.substr(bar + 1), fallback_at));
    }
    const std::size_t colon = head.find(':');
    std::size_t name_at = open + 1;
    const std::string_view name = trim(head.substr(0, colon), name_at);
    p.text = std::string(name);
    p.name_begin = name_at;
    p.name_end = name_at + name.size();
    if (colon != std::string_view::npos) {
      std::size_t format_at = open + 1 + colon + 1;
      const std::string_view format = trim(head.substr(colon + 1), format_at);
      p.format = std::string(format);
      p.format_begin = format_at;
      p.format_end = format_at + format.size();
    }
    out.push_back(std::move(p));
  }
  return out;
}

const std::vector<TextFormat>& text_formats() {
  static const std::vector<TextFormat> list = {
      {"ja", "5月16日(土) 10:00", true, true, false},
      {"ja_year", "2026年5月16日(土) 10:00", true, true, false},
      {"date", "2026-05-16", true, true, false},
      {"time", "10:00", false, true, true},
  };
  return list;
}

const TextFormat* find_text_format(std::string_view name) {
  for (const auto& f : text_formats()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace okuri
