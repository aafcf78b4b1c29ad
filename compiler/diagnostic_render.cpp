#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "compiler/diagnostic.hpp"
#include "compiler/text_width.hpp"

namespace okuri {
namespace {

const char* severity_word(Severity s) {
  switch (s) {
    case Severity::Error:
      return "error";
    case Severity::Warning:
      return "warning";
    case Severity::Note:
      return "note";
  }
  return "error";
}

struct Colors {
  bool on;
  const char* bold() const { return on ? "\x1b[1m" : ""; }
  const char* reset() const { return on ? "\x1b[0m" : ""; }
  const char* sev(Severity s) const {
    if (!on) return "";
    switch (s) {
      case Severity::Error:
        return "\x1b[1;31m";
      case Severity::Warning:
        return "\x1b[1;35m";
      case Severity::Note:
        return "\x1b[1;36m";
    }
    return "";
  }
  const char* caret() const { return on ? "\x1b[1;32m" : ""; }
};

// Display columns of a source line shown in full; a longer one is cut around the span.
constexpr int kMaxShownColumns = 100;
// Columns shown before the span when the span starts past the middle of the window.
constexpr int kShownBefore = 16;

// The part of `line` between display columns [from, to), whole characters only.
std::string columns_of(std::string_view line, int from, int to) {
  std::string out;
  int col = 0;
  for (std::size_t i = 0; i < line.size();) {
    const std::size_t start = i;
    const int w = display_width(decode_utf8(line, i));
    if (col >= from && col + w <= to) out.append(line.substr(start, i - start));
    col += w;
  }
  return out;
}

// The source line with tabs shown as one space, and the caret line under the span.
// A line wider than kMaxShownColumns (a 5,000-character text) is cut to a window
// around the start of the span, with `…` where it was cut.
void render_snippet(std::string& out, const SourceFile& f, Span span, const Colors& c) {
  const LineCol start = f.line_col(span.begin);
  const std::string_view line = f.line_text(start.line);
  std::string shown(line);
  for (char& ch : shown) {
    if (ch == '\t') ch = ' ';
  }
  const std::uint32_t line_begin = f.line_starts[start.line - 1];
  const std::uint32_t col_begin = span.begin - line_begin;
  std::uint32_t col_end = std::max(span.end, span.begin) - line_begin;
  if (col_end > line.size()) col_end = static_cast<std::uint32_t>(line.size());
  const int pad = display_width(line.substr(0, std::min<std::size_t>(col_begin, line.size())));
  int width = col_end > col_begin ? display_width(line.substr(col_begin, col_end - col_begin)) : 1;
  if (width < 1) width = 1;
  const int total = display_width(line);
  if (total > kMaxShownColumns) {
    int from = pad > kMaxShownColumns / 2 ? pad - kShownBefore : 0;
    int to = std::min(total, from + kMaxShownColumns);
    from = std::max(0, std::min(from, to - kMaxShownColumns));
    std::string cut = (from > 0 ? "…" : "") + columns_of(shown, from, to) + (to < total ? "…" : "");
    const int lead = from > 0 ? 1 : 0;  // the width of the leading `…`
    const int cut_pad = pad - from + lead;
    const int cut_width = std::max(1, std::min(width, to - pad));
    out += "  ";
    out += cut;
    out += "\n  ";
    out.append(static_cast<std::size_t>(cut_pad), ' ');
    out += c.caret();
    out += '^';
    out.append(static_cast<std::size_t>(cut_width - 1), '~');
    out += c.reset();
    out += '\n';
    return;
  }
  out += "  ";
  out += shown;
  out += "\n  ";
  out.append(static_cast<std::size_t>(pad), ' ');
  out += c.caret();
  out += '^';
  out.append(static_cast<std::size_t>(width - 1), '~');
  out += c.reset();
  out += '\n';
}

nlohmann::json location_json(const SourceSet& sources, Span s) {
  const auto& f = sources.file(s.file);
  const auto b = f.line_col(s.begin);
  const auto e = f.line_col(s.end);
  return {{"file", f.path}, {"line", b.line}, {"column", b.column}, {"end_line", e.line}, {"end_column", e.column}};
}

}  // namespace

std::string render_human(const SourceSet& sources, const std::vector<Diagnostic>& diags, RenderOptions opts) {
  const Colors c{opts.color};
  std::string out;
  for (const auto& d : diags) {
    const auto& f = sources.file(d.span.file);
    const auto lc = f.line_col(d.span.begin);
    out += fmt::format("{}{}:{}:{}: {}{}:{} {}{} [{}]{}\n", c.bold(), f.path, lc.line, lc.column, c.sev(d.severity),
                       severity_word(d.severity), c.reset(), c.bold(), d.message, info(d.code).name, c.reset());
    render_snippet(out, f, d.span, c);
    for (const auto& n : d.notes) {
      if (n.span) {
        const auto& nf = sources.file(n.span->file);
        const auto nlc = nf.line_col(n.span->begin);
        out += fmt::format("{}{}:{}:{}: {}note:{} {}\n", c.bold(), nf.path, nlc.line, nlc.column, c.sev(Severity::Note),
                           c.reset(), n.message);
        render_snippet(out, nf, *n.span, c);
      } else {
        out += fmt::format("  {}note:{} {}\n", c.sev(Severity::Note), c.reset(), n.message);
      }
    }
  }
  return out;
}

std::string summary_line(const std::vector<Diagnostic>& diags) {
  std::size_t errors = 0;
  std::size_t warnings = 0;
  for (const auto& d : diags) {
    if (d.severity == Severity::Error) ++errors;
    if (d.severity == Severity::Warning) ++warnings;
  }
  if (errors == 0 && warnings == 0) return {};
  return fmt::format("{} error{}, {} warning{}", errors, errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
}

std::string render_json(const SourceSet& sources, const std::vector<Diagnostic>& diags) {
  auto arr = nlohmann::json::array();
  for (const auto& d : diags) {
    auto j = location_json(sources, d.span);
    j["severity"] = severity_word(d.severity);
    j["code"] = std::string(info(d.code).name);
    j["message"] = d.message;
    auto notes = nlohmann::json::array();
    for (const auto& n : d.notes) {
      nlohmann::json nj = n.span ? location_json(sources, *n.span) : nlohmann::json::object();
      nj["message"] = n.message;
      notes.push_back(std::move(nj));
    }
    j["notes"] = std::move(notes);
    if (d.fix) {
      auto fj = location_json(sources, d.fix->span);
      fj["replacement"] = d.fix->replacement;
      j["fix"] = std::move(fj);
    }
    arr.push_back(std::move(j));
  }
  return arr.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_sarif(const SourceSet& sources, const std::vector<Diagnostic>& diags) {
  using nlohmann::json;
  auto rules = json::array();
  for (const auto& ci : all_codes()) {
    rules.push_back({{"id", std::string(ci.name)},
                     {"name", std::string(ci.title)},
                     {"shortDescription", {{"text", std::string(ci.title)}}},
                     {"helpUri", fmt::format("docs/diagnostics/{}.md", ci.name)},
                     {"defaultConfiguration", {{"level", ci.severity == Severity::Error ? "error" : "warning"}}}});
  }
  auto region = [&](Span s) {
    const auto& f = sources.file(s.file);
    const auto b = f.line_col(s.begin);
    const auto e = f.line_col(s.end);
    return json{{"startLine", b.line}, {"startColumn", b.column}, {"endLine", e.line}, {"endColumn", e.column}};
  };
  auto results = json::array();
  for (const auto& d : diags) {
    json r{{"ruleId", std::string(info(d.code).name)},
           {"ruleIndex", static_cast<int>(d.code)},
           {"level", d.severity == Severity::Error ? "error" : "warning"},
           {"message", {{"text", d.message}}},
           {"locations",
            json::array({{{"physicalLocation",
                           {{"artifactLocation", {{"uri", sources.file(d.span.file).path}}},
                            {"region", region(d.span)}}}}})}};
    if (!d.notes.empty()) {
      auto related = json::array();
      int id = 1;
      for (const auto& n : d.notes) {
        if (!n.span) continue;
        related.push_back({{"id", id++},
                           {"message", {{"text", n.message}}},
                           {"physicalLocation",
                            {{"artifactLocation", {{"uri", sources.file(n.span->file).path}}},
                             {"region", region(*n.span)}}}});
      }
      if (!related.empty()) r["relatedLocations"] = std::move(related);
    }
    results.push_back(std::move(r));
  }
  json sarif{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
             {"version", "2.1.0"},
             {"runs", json::array({{{"tool",
                                     {{"driver",
                                       {{"name", "okuri"},
                                        {"version", "0.1.0"},
                                        {"rules", rules}}}}},
                                    {"columnKind", "unicodeCodePoints"},
                                    {"results", results}}})}};
  return sarif.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace okuri
