#include "compiler/workspace.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "compiler/ast_builder.hpp"
#include "compiler/checker.hpp"
#include "compiler/text_width.hpp"
#include "grammar/syntax_tree.hpp"

namespace okuri {

namespace fs = std::filesystem;

std::unique_ptr<Program> compile_sources(std::string root, std::vector<std::pair<std::string, std::string>> files) {
  auto p = std::make_unique<Program>();
  p->root = std::move(root);
  std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [path, text] : files) p->sources.add(std::move(path), std::move(text));
  ast::NodeId next = 0;
  for (std::uint32_t i = 0; i < p->sources.size(); ++i) {
    const auto& f = p->sources.file(i);
    if (f.text.size() >= 0xFFFFFFF0u) {
      p->diags.report(Code::E001, Span{i, 0, 0}, "file is too large (4 GiB or more)");
      continue;
    }
    if (const auto bad = first_invalid_utf8(f.text); bad != std::string::npos) {
      p->diags.report(Code::E001, Span{i, static_cast<std::uint32_t>(bad), static_cast<std::uint32_t>(bad + 1)},
                      "the file is not valid UTF-8 here; save it as UTF-8");
    }
    const auto tree = grammar::parse(f.text);
    p->ast.files.push_back(build_ast(tree, f, i, next, p->diags));
  }
  p->ast.node_count = next;
  check_parsed(*p);
  return p;
}

void check_parsed(Program& p) {
  p.expr_types.resize(p.ast.node_count + 1);
  check_program(p);
  p.graphs = lower_program(p);
  check_graphs(p, p.graphs);
  p.diags.drop_syntax_cascades(p.sources);
  p.diags.sort();
}

std::vector<std::string> project_files(const std::string& path) {
  std::error_code ec;
  const fs::path fp(path);
  if (fs::is_directory(fp, ec)) {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(fp, ec)) {
      // The non-throwing test: a symbolic link that loops or dangles is not a source, not a crash.
      std::error_code entry_ec;
      if (entry.is_regular_file(entry_ec) && entry.path().extension() == ".okuri") {
        out.push_back((fp / entry.path().filename()).string());
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  if (fs::is_regular_file(fp, ec)) return {path};
  throw LoadError("no such file or folder: " + path);
}

std::unique_ptr<Program> compile_path(const std::string& path) {
  const auto files = project_files(path);
  std::error_code ec;
  const bool dir = fs::is_directory(fs::path(path), ec);
  if (dir && files.empty()) throw LoadError("no .okuri files in " + path);
  std::vector<std::pair<std::string, std::string>> sources;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw LoadError("cannot read " + f);
    std::stringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw LoadError("cannot read " + f);
    std::string shown = f;
    if (shown.rfind("./", 0) == 0) shown = shown.substr(2);
    sources.emplace_back(std::move(shown), ss.str());
  }
  const std::string root = dir ? path : fs::path(path).parent_path().string();
  return compile_sources(root.empty() ? "." : root, std::move(sources));
}

}  // namespace okuri
