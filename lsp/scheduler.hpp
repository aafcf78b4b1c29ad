// The language server's scheduler (clangd's TUScheduler): the open documents,
// the compiled Programs both workers share, and the two worker threads — the
// request worker, which answers requests in order with cancellation, and the
// diagnostics worker, which re-checks a project once edits pause.
//
// It knows documents, projects and threads; it does not know JSON or LSP
// methods. The server (lsp/server.cpp) binds the protocol to it: it hands
// over each request as a closure that computes the answer, and receives each
// finished re-check through a callback.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "compiler/program.hpp"

namespace okuri::lsp {

struct Document {
  std::string uri;
  std::string path;  // the path the Program shows (a file path, or the URI for other schemes)
  std::string text;
  std::int64_t version = 0;
};

// The open documents at one moment. Immutable once published.
struct Snapshot {
  std::map<std::string, std::shared_ptr<const Document>> by_uri;
  std::uint64_t generation = 0;

  const Document* find_path(const std::string& path) const;
  const Document* find_uri(const std::string& uri) const;
};

// What a project compile reads: the folder and every file's text.
struct ProjectInputs {
  std::string root;
  std::vector<std::pair<std::string, std::string>> files;  // sorted by path
  std::map<std::string, std::int64_t> versions;            // open documents among them
  friend bool operator==(const ProjectInputs& a, const ProjectInputs& b) {
    return a.root == b.root && a.files == b.files;
  }
};

struct Compiled {
  std::shared_ptr<const Program> program;
  std::shared_ptr<const Program> last_good;  // the project's latest Program without syntax errors
  ProjectInputs inputs;
};

// The project a path belongs to: its folder, or the path itself when it is not a file.
std::string project_key(const std::string& path);

class Scheduler {
 public:
  // One request: `answer` computes the whole response; `cancelled` the answer
  // sent instead when the request was cancelled before or while it ran.
  struct Request {
    std::string id;  // the request id, as the protocol spells it (for cancellation)
    std::function<std::string()> answer;
    std::function<std::string()> cancelled;
  };
  struct Callbacks {
    std::function<void(const std::string& body)> send;  // serialised by the transport
    // On the diagnostics worker, after a re-check that no newer edit superseded.
    std::function<void(const Snapshot&, const std::string& project, const Compiled&)> publish;
    std::function<void(const std::string& line)> log;
  };

  Scheduler(std::chrono::milliseconds debounce, Callbacks callbacks);
  ~Scheduler();  // stops the workers
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void start();
  // Answers the requests already queued, then joins both workers.
  void stop();

  // ---- documents (the reader's thread)
  std::shared_ptr<const Snapshot> snapshot() const;
  // Replaces the document at `uri` (removes it when `doc` is null) and
  // schedules a re-check of its project.
  void update(const std::string& uri, std::shared_ptr<const Document> doc);
  void recheck_all();

  // ---- compiles (any thread)
  // The project's Program for the snapshot's texts: from the cache, or compiled now.
  Compiled compile(const Snapshot& snap, const std::string& project);
  // The project's most recent Program and its last one without syntax errors,
  // whatever texts they were compiled from (null when none yet).
  std::pair<std::shared_ptr<const Program>, std::shared_ptr<const Program>> recent(const std::string& project);

  // ---- requests (the reader's thread)
  // A request read from the input: pending (so it can be cancelled) but not
  // started until release(). The reader stages every request of what is
  // already available before releasing them, so that a cancellation sent right
  // behind its request is always seen before that request starts.
  void stage(Request r);
  void release();
  // Marks a pending request; an unknown or answered id is ignored.
  void cancel(const std::string& id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace okuri::lsp
