#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/friends_input.hpp"
#include "compiler/pred_ir.hpp"
#include "compiler/workspace.hpp"
#include "runtime/friend_store.hpp"
#include "runtime/friends_file.hpp"
#include "runtime/interpreter.hpp"
#include "runtime/jit_module.hpp"

namespace okuri::cli {
namespace {

// The top-level clauses of a condition: the operands of its outermost `and` chain.
void clauses(const ast::Expr& e, std::vector<const ast::Expr*>& out) {
  const ast::Expr* cur = &ast::strip_parens(e);
  if (const auto* b = std::get_if<ast::Binary>(&cur->v); b != nullptr && b->op == ast::BinOp::And) {
    clauses(*b->lhs, out);
    clauses(*b->rhs, out);
    return;
  }
  out.push_back(&e);
}

// Whether a condition reads one of LINE's estimates (`line.age` …): LINE applies those when it
// sends a narrowcast; your friend data does not have them.
bool reads_line_estimate(const ast::Expr& e) {
  return std::visit(
      [](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ast::Member>) {
          return v.object.text == "line";
        } else if constexpr (std::is_same_v<T, ast::Binary>) {
          return reads_line_estimate(*v.lhs) || reads_line_estimate(*v.rhs);
        } else if constexpr (std::is_same_v<T, ast::Not> || std::is_same_v<T, ast::Neg>) {
          return reads_line_estimate(*v.operand);
        } else if constexpr (std::is_same_v<T, ast::Paren>) {
          return reads_line_estimate(*v.inner);
        } else if constexpr (std::is_same_v<T, ast::Call>) {
          for (const auto& a : v.args) {
            if (reads_line_estimate(*a)) return true;
          }
          return false;
        } else {
          return false;
        }
      },
      e.v);
}

}  // namespace

void add_segment_command(CLI::App& app, int& status) {
  auto* seg = app.add_subcommand("segment", "Work with segments: `okuri segment count`.");
  seg->require_subcommand(1);
  struct Options {
    std::string path;
    std::string name;
    std::string friends;
    std::string where;
    std::string format = "human";
    std::string engine = "auto";
    std::string cache_dir;
    bool quiet = false;
  };
  auto opts = std::make_shared<Options>();
  auto* cmd = seg->add_subcommand("count", "Count the friends a segment (or a broadcast target, or --where) reaches.");
  cmd->footer(
      "Load friends (CSV with a header row, or JSONL) and count how many a segment reaches, with the count\n"
      "behind each top-level `and` clause. NAME may also be a broadcast: its `to` target is counted and\n"
      "LINE's size limits are checked (narrowcasts under 100 friends are refused).");
  cmd->add_option("path", opts->path, "Project folder or .okuri file")->required();
  cmd->add_option("name", opts->name, "Segment or broadcast name (omit with --where)");
  cmd->add_option("--friends", opts->friends, "Friends file: .csv or .jsonl")->required();
  cmd->add_option("--where", opts->where, "An ad-hoc condition instead of a named segment, e.g. 'age in 20..29'");
  cmd->add_option("--format", opts->format, "human (default) or json")->check(CLI::IsMember({"human", "json"}));
  cmd->add_option("--engine", opts->engine,
                  "interp, jit or auto (default: the interpreter; reading the file takes the time)")
      ->check(CLI::IsMember({"interp", "jit", "auto"}));
  cmd->add_option("--cache-dir", opts->cache_dir, "Where the JIT keeps compiled code (default: ~/.cache/okuri/jit)");
  cmd->add_flag("--quiet", opts->quiet, "No progress line on stderr while loading a large file");
  cmd->callback([opts, &status] {
    if (opts->name.empty() == opts->where.empty()) {
      std::cerr << "okuri segment count: give a segment NAME or --where 'EXPR' (one of them)\n";
      status = 2;
      return;
    }
    std::unique_ptr<Program> p = compile_for_command(opts->path, "segment count", status);
    if (!p) return;
    if (!opts->where.empty()) {
      // Compile the condition as a segment of the project, so every name resolves.
      std::vector<std::pair<std::string, std::string>> sources;
      for (std::uint32_t i = 0; i < p->sources.size(); ++i) sources.emplace_back(p->sources.file(i).path, p->sources.file(i).text);
      // On a line of its own: an error in it shows the condition as the user wrote it.
      sources.emplace_back("--where", "segment __where__ =\n" + opts->where + "\n");
      p = require_no_errors(compile_sources(p->root, std::move(sources)), "segment count", status);
      if (!p) return;
    }
    const std::string name = opts->where.empty() ? opts->name : "__where__";
    const ast::Expr* expr = nullptr;
    bool is_broadcast = false;
    if (const auto* s = p->find(SymbolKind::Segment, name)) {
      expr = std::get<ast::SegmentDecl>(s->decl->v).expr.get();
    } else if (const auto* b = p->find(SymbolKind::Broadcast, name)) {
      expr = std::get<ast::BroadcastDecl>(b->decl->v).target.get();
      is_broadcast = true;
    } else {
      std::cerr << "okuri segment count: no segment or broadcast named `" << name << "` in " << opts->path << "\n";
      status = 2;
      return;
    }
    ir::Schema schema = ir::make_schema(*p);
    std::vector<const ast::Expr*> parts;
    if (expr != nullptr) clauses(*expr, parts);
    std::vector<ir::Predicate> preds;
    if (expr != nullptr) preds.push_back(ir::lower_predicate(*p, schema, *expr, name));
    for (const auto* c : parts)
      preds.push_back(ir::lower_predicate(*p, schema, *c, std::string(p->sources.text(c->span))));
    // Only the columns the condition reads (and audiences, for the notes on their sizes).
    std::set<std::string> columns = rt::friend_columns_read(schema, preds);
    if (!schema.audiences.empty()) columns.insert("audiences");
    const stdlib::Zone zone(schema.timezone.c_str());
    rt::EvalEnv env;
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    env.now = now;
    env.zone = &zone;
    env.today = zone.local_days(now);
    // Engine: reading the file takes the time. The interpreter scans a million friends in a few
    // milliseconds, less than loading LLVM takes (about 50 ms), so it is the default.
    bool use_jit = opts->engine == "jit";
    if (use_jit && !jit::module_loaded()) {
      std::cerr << "okuri: " << jit::module_error() << "; use --engine interp\n";
      status = 2;
      return;
    }
    std::shared_ptr<const jit::CompiledGroup> compiled;
    rt::EnvAbi env_abi{env.now, env.today, env.zone};
    if (use_jit && !preds.empty()) {
      try {
        compiled = jit::module_compile(opts->cache_dir, "segment", preds, schema, jit::Tier::Optimized);
      } catch (const std::exception& e) {
        std::cerr << "okuri: " << e.what() << "; counting with the interpreter\n";
        use_jit = false;
      }
    }
    // The friends are counted a chunk of the file at a time, on the thread that read it: no
    // store of every friend is built (rt::scan_friends). Per thread: its binding, its mask, its sums.
    struct Sums {
      rt::ColumnBinding binding;
      std::vector<std::uint64_t> mask;
      std::vector<std::size_t> passed;   // per predicate
      std::vector<std::size_t> members;  // per audience
      std::size_t total = 0;
    };
    std::deque<Sums> sums;  // a deque: growing it for a new thread leaves the others' sums in place
    std::mutex grow_mu;
    auto batch = [&](const rt::FriendStore& friends, unsigned thread) {
      Sums* s = nullptr;
      {
        std::lock_guard<std::mutex> lock(grow_mu);
        if (thread >= sums.size()) sums.resize(thread + 1);
        s = &sums[thread];
      }
      s->passed.resize(preds.size(), 0);
      s->members.resize(schema.audiences.size(), 0);
      s->total += friends.size();
      if (use_jit) s->binding.bind(friends);
      for (std::size_t i = 0; i < preds.size(); ++i) {
        if (use_jit) {
          s->mask.assign((friends.size() + 63) / 64, 0);
          compiled->scan[i](s->binding.slots.data(), &env_abi, friends.size(), s->mask.data());
        } else {
          rt::scan(preds[i], friends, env, s->mask);
        }
        s->passed[i] += rt::count_bits(s->mask);
      }
      for (std::size_t a = 0; a < schema.audiences.size(); ++a)
        s->members[a] += rt::count_bits(friends.audiences[a].words);
    };
    if (!scan_friends_file(schema, opts->friends, opts->quiet, status, &columns, batch)) return;
    std::size_t total = 0;
    std::vector<std::size_t> passed(preds.size(), 0), members(schema.audiences.size(), 0);
    for (const auto& s : sums) {
      total += s.total;
      for (std::size_t i = 0; i < s.passed.size(); ++i) passed[i] += s.passed[i];
      for (std::size_t a = 0; a < s.members.size(); ++a) members[a] += s.members[a];
    }
    std::size_t count = total;
    struct ClauseCount {
      std::string text;
      std::size_t count;
      bool line_estimate;  // LINE applies it: every friend passes it here
    };
    std::vector<ClauseCount> clause_counts;
    if (expr != nullptr) {
      count = passed[0];
      if (parts.size() > 1) {
        for (std::size_t i = 1; i < preds.size(); ++i) {
          clause_counts.push_back({preds[i].name, passed[i], reads_line_estimate(*parts[i - 1])});
        }
      }
    }
    std::vector<std::string> notes;
    if (expr != nullptr && reads_line_estimate(*expr)) {
      std::vector<std::string> which;
      for (const auto* c : parts) {
        if (reads_line_estimate(*c)) which.push_back("`" + std::string(p->sources.text(c->span)) + "`");
      }
      const bool one = which.size() == 1;
      notes.push_back(fmt::format(
          "{} {} LINE's own {}: LINE applies {} when it sends and your friend data does not have {}, so every friend "
          "passes {} in these counts (LINE will reach fewer)",
          fmt::join(which, ", "), one ? "is" : "are", one ? "estimate" : "estimates", one ? "it" : "them",
          one ? "it" : "them", one ? "it" : "them"));
    }
    if (is_broadcast && count < 100) {
      notes.push_back(fmt::format("LINE refuses a narrowcast that reaches fewer than 100 friends; this one reaches {}", count));
    }
    for (std::size_t a = 0; a < schema.audiences.size(); ++a) {
      if (members[a] < 50) {
        notes.push_back(fmt::format("audience `{}` has {} members here; LINE needs at least 50 to use an audience",
                                    schema.audiences[a], members[a]));
      }
    }
    const std::string shown = opts->where.empty() ? opts->name : opts->where;
    if (opts->format == "json") {
      nlohmann::json j{{"segment", shown}, {"count", count}, {"total", total}};
      auto cl = nlohmann::json::array();
      for (const auto& c : clause_counts) {
        cl.push_back({{"clause", c.text}, {"count", c.count}, {"line_estimate", c.line_estimate}});
      }
      j["clauses"] = std::move(cl);
      j["notes"] = notes;
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      return;
    }
    const double pct = total == 0 ? 0.0 : 100.0 * static_cast<double>(count) / static_cast<double>(total);
    std::cout << fmt::format("{}: {} of {} friends ({:.1f}%)\n", shown, count, total, pct);
    for (const auto& c : clause_counts) {
      std::cout << fmt::format("  {:>10}  {}{}\n", c.count, c.text,
                               c.line_estimate ? "  (LINE's estimate: not counted here)" : "");
    }
    for (const auto& n : notes) std::cout << "note: " << n << "\n";
  });
}

}  // namespace okuri::cli
