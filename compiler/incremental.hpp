// Incremental compiles for the language server: the result is always exactly
// what compile_sources gives for the same inputs (same AST, node ids, spans,
// symbols and diagnostics); only the work differs.
//
// The compiler keeps, per file, the last Program in which the file parsed
// cleanly. On the next compile of the same files, a file whose text is
// unchanged reuses its declarations; a file with an edit re-parses only the
// declarations the edit can reach (the grammar's file rule over that stretch
// of text, offsets shifted) and reuses the others. Reused declarations come
// from a private copy of that Program, which the compile moves into the new
// Program and edits in place (spans and node ids moved to where a full parse
// would put them); prepare() makes that copy ahead, after a compile, so that
// the next compile does not (the language server calls it after publishing).
//
// Names and types: the checker's first pass (what every declaration declares)
// runs over the whole project; when it declares exactly what it declared last
// time, the second pass (each declaration's body) is replayed from its record
// for every declaration taken unchanged and run only for the edited ones
// (check_program_incremental). A scenario or broadcast taken unchanged whose
// expressions kept their types keeps its step graph and graph-check
// diagnostics; edited ones are lowered and checked again.
//
// It falls back to a full parse of a file whenever reuse is not provably
// equal: the file never parsed cleanly (or had a build diagnostic outside its
// declarations), the re-parsed stretch has a syntax error or does not end
// cleanly before the next reused declaration, or the set of files changed. A
// text with a syntax error does not replace the file's clean base, so the
// edit that fixes it is re-parsed in part again.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "compiler/checker.hpp"
#include "compiler/program.hpp"

namespace okuri {

class IncrementalCompiler {
 public:
  // What the last compile did, for tests and benchmarks.
  struct Stats {
    std::uint32_t files_reused = 0;    // unchanged text: every declaration reused
    std::uint32_t files_patched = 0;   // changed text: some declarations re-parsed
    std::uint32_t files_parsed = 0;    // parsed whole
    std::uint32_t decls_reparsed = 0;  // in patched files
    std::uint32_t decls_reused = 0;
    std::uint32_t files_copied = 0;    // copies of a base made during the compile (prepare() makes them ahead)
    std::uint32_t decls_checked = 0;   // bodies checked
    std::uint32_t decls_replayed = 0;  // bodies whose last check was replayed
  };

  IncrementalCompiler();
  ~IncrementalCompiler();
  IncrementalCompiler(const IncrementalCompiler&) = delete;
  IncrementalCompiler& operator=(const IncrementalCompiler&) = delete;

  // Same contract as compile_sources. The returned Program is not modified
  // later; the compiler may keep a reference to it for later calls.
  std::shared_ptr<const Program> compile(std::string root, std::vector<std::pair<std::string, std::string>> files);

  // Makes, ahead of the next compile, the private copy of the last result's
  // declarations that the next compile moves into its Program and edits in
  // place (otherwise the next compile makes it itself). The language server
  // calls it after publishing diagnostics, while the user types.
  void prepare();

  const Stats& last_stats() const { return stats_; }
  // Forgets the previous Program: the next compile parses everything.
  void reset();

 private:
  struct FileState;
  struct Copy;
  static std::unique_ptr<Copy> make_copy(const FileState& st);
  std::shared_ptr<const Program> compile_files(std::string root,
                                               std::vector<std::pair<std::string, std::string>> files);
  void check(Program& p, std::vector<FileState>& states);
  std::vector<std::unique_ptr<Copy>> copies_;  // by file index, made by prepare()
  std::vector<std::unique_ptr<Copy>> stale_;   // to free in prepare(), off the re-check's path
  bool prepared_ = false;                      // prepare() was called since the last compile
  std::size_t prev_graphs_ = 0;
  bool compiled_ = false;
  IncrementalCheck check_;       // the last check's interface
  std::uint64_t check_gen_ = 1;  // changes with it
  std::string prev_root_;
  std::vector<FileState> prev_files_;  // by file index of the last compile
  Stats stats_;
};

}  // namespace okuri
