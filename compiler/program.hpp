// A checked project: sources, AST, symbols, side tables and diagnostics.
// This is what the later phases (step graph, predicates, runtime, language
// server) read. Side tables are keyed by ast::NodeId.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "compiler/ast.hpp"
#include "compiler/diagnostic.hpp"
#include "compiler/step_graph.hpp"
#include "compiler/types.hpp"

namespace okuri {

enum class SymbolKind { Tag, Message, Link, Segment, Field, Scenario, Step, Audience, Form, Event, Score, Broadcast, Test };
const char* kind_word(SymbolKind k);  // "tag", "message", …

struct Symbol {
  SymbolKind kind;
  std::string name;
  Span span;                // the name where it is defined
  const ast::Decl* decl = nullptr;
  std::string scope;        // steps: the scenario's name
  Type type;                // fields: their type; segments: bool
  std::uint32_t uses = 0;
  std::int64_t message_count = 1;  // messages: LINE message objects it sends (json arrays may hold several)
};

// One use of a name in the source, resolved.
struct Reference {
  Span span;
  std::uint32_t symbol;
};

struct AccountSettings {
  std::string timezone = "Asia/Tokyo";
  std::optional<MinuteOfDay> quiet_from;
  std::optional<MinuteOfDay> quiet_to;
  std::optional<std::int64_t> daily_limit;
  std::string plan = "free";
  std::vector<std::string> staff;  // LINE user ids that `notify` reaches (pushed by `okuri serve`)
  // Minute `m` falls inside the quiet window [from, to) (which may cross midnight).
  bool in_quiet_hours(MinuteOfDay m) const;
  bool operator==(const AccountSettings&) const = default;
};

struct Program {
  std::string root;  // the project folder (message json paths are relative to it)
  SourceSet sources;
  ast::Project ast;
  TypeTable types;
  std::vector<Symbol> symbols;
  std::vector<Reference> references;
  std::vector<Type> expr_types;                          // by NodeId
  std::vector<std::uint32_t> expr_symbols;               // by NodeId: NameRef/Call → symbol (kNoSymbol: none)
  AccountSettings account;
  Diagnostics diags;
  std::vector<StepGraph> graphs;  // one per scenario and broadcast, in source order
  // `message NAME json "file"`: the file's LINE message objects (a JSON array), read and checked
  // once when the project compiles, and the files read (what a reload watches).
  std::unordered_map<std::string, std::string> message_json;
  std::vector<std::string> message_files;

  const Symbol* find(SymbolKind k, std::string_view name, std::string_view scope = {}) const;
  std::optional<std::uint32_t> find_index(SymbolKind k, std::string_view name, std::string_view scope = {}) const;
  Type type_of(ast::NodeId id) const { return id < expr_types.size() ? expr_types[id] : Type{}; }
  static constexpr std::uint32_t kNoSymbol = 0xFFFFFFFFu;
  // The symbol a NameRef or Call resolved to, if any.
  const Symbol* symbol_of(ast::NodeId id) const {
    return id < expr_symbols.size() && expr_symbols[id] != kNoSymbol ? &symbols[expr_symbols[id]] : nullptr;
  }
};

}  // namespace okuri
