#include "service/project_version.hpp"

#include <fmt/format.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "compiler/workspace.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::svc {

using nlohmann::json;

// What the saved friend states depend on: the schema's names and every scenario's steps.
std::int64_t project_shape(rt::Engine& e) {
  std::string s;
  const auto& sc = e.schema();
  for (const auto* list : {&sc.tags, &sc.links, &sc.messages, &sc.audiences, &sc.scores, &sc.visit_patterns}) {
    for (const auto& n : *list) s += n + '\0';
    s += '\1';
  }
  for (const auto& f : sc.fields) s += f.name + '\0' + std::to_string(static_cast<int>(f.type.kind)) + '\0';
  for (std::size_t f = 0; f < e.flow_count(); ++f) {
    const auto& g = e.flow(f);
    s += g.name + '\2';
    for (std::uint32_t n = 0; n < g.node_count(); ++n) s += g.node(n).id + '\0';
  }
  return static_cast<std::int64_t>(XXH64(s.data(), s.size(), 0) & 0x7FFFFFFFFFFFFFFF) | 1;
}

// The project's `.okuri` sources, as the store keeps them with the states they wrote.
std::string sources_of(const Program& p) {
  json files = json::array();
  for (std::uint32_t i = 0; i < p.sources.size(); ++i) {
    const auto& f = p.sources.file(i);
    if (f.path.size() >= 6 && f.path.compare(f.path.size() - 6, 6, ".okuri") == 0)
      files.push_back({{"path", f.path}, {"text", f.text}});
  }
  // The JSON message files' contents too: editing one alone is a change to reload. (A version
  // compiled back from the database reads them from disk again: they only render texts.)
  json messages = json::object();
  for (const auto& [name, objects] : p.message_json) messages[name] = objects;
  return json{{"root", p.root}, {"files", files}, {"message_json", messages}}.dump();
}

std::unique_ptr<Program> program_from(const std::string& sources) {
  const json j = json::parse(sources);
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& f : j.at("files"))
    files.emplace_back(f.at("path").get<std::string>(), f.at("text").get<std::string>());
  return compile_sources(j.at("root").get<std::string>(), std::move(files));
}

std::string error_text(const Program& p) {
  std::vector<Diagnostic> errors;
  for (const auto& d : p.diags.all()) {
    if (d.severity == Severity::Error) errors.push_back(d);
  }
  return render_human(p.sources, errors, RenderOptions{false});
}

// What the watcher compares: every `.okuri` file of the project with its size and time of change.
// What the watcher compares: the project's `.okuri` files and the JSON message files the last
// compile read, by size and time.
std::string fingerprint(const std::string& project, const std::vector<std::string>& message_files) {
  std::string out;
  try {
    auto files = project_files(project);
    files.insert(files.end(), message_files.begin(), message_files.end());
    for (const auto& f : files) {
      std::error_code ec;
      const auto size = std::filesystem::file_size(f, ec);
      const auto time = std::filesystem::last_write_time(f, ec).time_since_epoch().count();
      out += fmt::format("{}|{}|{}\n", f, ec ? 0 : size, ec ? 0 : time);
    }
  } catch (const std::exception& e) {
    out = std::string("unreadable: ") + e.what();
  }
  return out;
}

namespace {

bool ops_notify(const std::vector<plan::Op>& ops) {
  for (const auto& o : ops) {
    if (o.kind == plan::OpKind::Notify) return true;
    for (const auto& a : o.arms) {
      if (ops_notify(a.body)) return true;
    }
    if (o.else_body && ops_notify(*o.else_body)) return true;
  }
  return false;
}

}  // namespace

ProjectNeeds needs_of(const plan::Plan& pl) {
  ProjectNeeds n;
  const int clicked = static_cast<int>(stdlib::EventId::LinkClicked);
  for (const auto& r : pl.rules) {
    n.clicks = n.clicks || r.match.type == clicked;
    n.notify = n.notify || ops_notify(r.body);
  }
  for (const auto& f : pl.flows) {
    for (const auto& s : f.start_on) n.clicks = n.clicks || s.match.type == clicked;
    for (const auto& node : f.nodes) {
      n.notify = n.notify || ops_notify(node.ops);
      for (const auto& e : node.out) n.clicks = n.clicks || (e.on_event && e.match.type == clicked);
    }
  }
  for (const auto* list : {&pl.preds, &pl.values}) {
    for (const auto& pr : *list) {
      for (const auto& node : pr.nodes) n.clicks = n.clicks || node.op == ir::Op::Clicked || node.op == ir::Op::Clicks;
    }
  }
  return n;
}

}  // namespace okuri::svc
