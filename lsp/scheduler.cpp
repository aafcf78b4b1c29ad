#include "lsp/scheduler.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "compiler/incremental.hpp"
#include "compiler/workspace.hpp"

namespace okuri::lsp {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

bool has_any_syntax_error(const Program& p) {
  for (const auto& d : p.diags.all()) {
    if (d.code == Code::E001) return true;
  }
  return false;
}

}  // namespace

const Document* Snapshot::find_path(const std::string& path) const {
  for (const auto& [uri, d] : by_uri) {
    if (d->path == path) return d.get();
  }
  return nullptr;
}

const Document* Snapshot::find_uri(const std::string& uri) const {
  auto it = by_uri.find(uri);
  return it != by_uri.end() ? it->second.get() : nullptr;
}

std::string project_key(const std::string& path) {
  if (path.empty() || path.front() != '/') return path;  // not a file: a project of its own
  return fs::path(path).parent_path().string();
}

struct Scheduler::Impl {
  const std::chrono::milliseconds debounce;
  const Callbacks cb;

  // The open documents (replaced whole on every change).
  mutable std::mutex snapshot_mu;
  std::shared_ptr<const Snapshot> current = std::make_shared<Snapshot>();

  // Compiled Programs and the texts of files that are not open, shared by both workers.
  std::mutex programs_mu;
  std::deque<std::pair<ProjectInputs, std::shared_ptr<const Program>>> cache;  // most recent first
  std::map<std::string, std::shared_ptr<const Program>> latest;                // by project
  std::map<std::string, std::shared_ptr<const Program>> last_good;             // by project
  struct DiskFile {
    std::int64_t mtime = 0;
    std::int64_t size = -1;
    std::string text;
  };
  std::map<std::string, DiskFile> disk;
  // The diagnostics worker's incremental compilers, by project (that thread only).
  std::map<std::string, std::unique_ptr<IncrementalCompiler>> incremental;

  // Requests: the queue, and the ids pending (staged or queued) and cancelled.
  std::mutex requests_mu;
  std::condition_variable requests_cv;
  std::vector<Request> staged;
  std::deque<Request> queue;
  std::set<std::string> pending_ids;
  std::set<std::string> cancelled_ids;

  // Re-checks: the projects edited since their last check, and when edits paused long enough.
  std::mutex recheck_mu;
  std::condition_variable recheck_cv;
  std::set<std::string> dirty;
  Clock::time_point deadline{};

  std::atomic<bool> stopping{false};
  std::thread request_thread;
  std::thread diagnostics_thread;

  Impl(std::chrono::milliseconds d, Callbacks c) : debounce(d), cb(std::move(c)) {}

  // ---------------------------------------------------------------- compiles

  std::string read_disk(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return {};
    const std::int64_t mtime = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    {
      std::lock_guard lock(programs_mu);
      auto it = disk.find(path);
      if (it != disk.end() && it->second.mtime == mtime && it->second.size == st.st_size) return it->second.text;
    }
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::lock_guard lock(programs_mu);
    disk[path] = DiskFile{mtime, static_cast<std::int64_t>(st.st_size), ss.str()};
    return disk[path].text;
  }

  // Every file of the project: open documents' texts in place of the disk's.
  ProjectInputs gather(const Snapshot& snap, const std::string& key) {
    ProjectInputs in;
    std::vector<std::string> paths;
    std::error_code ec;
    if (!key.empty() && key.front() == '/' && fs::is_directory(key, ec)) {
      in.root = key;
      try {
        paths = project_files(key);
      } catch (const LoadError&) {
      }
    } else {
      in.root = ".";
    }
    std::set<std::string> seen;
    for (const auto& p : paths) {
      const std::string norm = fs::path(p).lexically_normal().string();
      seen.insert(norm);
      if (const Document* d = snap.find_path(norm)) {
        in.files.emplace_back(norm, d->text);
        in.versions[norm] = d->version;
      } else {
        in.files.emplace_back(norm, read_disk(norm));
      }
    }
    // Open documents of the folder that are not on disk (yet).
    for (const auto& [uri, d] : snap.by_uri) {
      if (project_key(d->path) != key || seen.count(d->path) != 0) continue;
      in.files.emplace_back(d->path, d->text);
      in.versions[d->path] = d->version;
    }
    std::sort(in.files.begin(), in.files.end());
    return in;
  }

  // `recheck`: the diagnostics worker's re-check, which compiles incrementally
  // from that project's previous re-check (same result as compile_sources).
  Compiled compile(const Snapshot& snap, const std::string& key, bool recheck) {
    Compiled c;
    c.inputs = gather(snap, key);
    {
      std::lock_guard lock(programs_mu);
      for (auto it = cache.begin(); it != cache.end(); ++it) {
        if (it->first == c.inputs) {
          c.program = it->second;
          break;
        }
      }
    }
    if (!c.program) {
      std::shared_ptr<const Program> p;
      if (recheck) {
        auto& inc = incremental[key];
        if (!inc) inc = std::make_unique<IncrementalCompiler>();
        p = inc->compile(c.inputs.root, c.inputs.files);
      } else {
        p = compile_sources(c.inputs.root, c.inputs.files);
      }
      std::lock_guard lock(programs_mu);
      cache.emplace_front(c.inputs, p);
      if (cache.size() > 8) cache.pop_back();
      c.program = std::move(p);
    }
    std::lock_guard lock(programs_mu);
    latest[key] = c.program;
    if (!has_any_syntax_error(*c.program)) last_good[key] = c.program;
    auto lg = last_good.find(key);
    if (lg != last_good.end()) c.last_good = lg->second;
    return c;
  }

  // ---------------------------------------------------------------- re-checks

  void schedule_check(const std::string& key) {
    std::lock_guard lock(recheck_mu);
    dirty.insert(key);
    deadline = Clock::now() + debounce;
    recheck_cv.notify_all();
  }

  std::shared_ptr<const Snapshot> snapshot() const {
    std::lock_guard lock(snapshot_mu);
    return current;
  }

  void diagnostics_loop() {
    for (;;) {
      std::string key;
      {
        std::unique_lock lock(recheck_mu);
        for (;;) {
          if (stopping) return;
          if (dirty.empty()) {
            recheck_cv.wait(lock);
            continue;
          }
          if (Clock::now() < deadline) {
            recheck_cv.wait_until(lock, deadline);
            continue;
          }
          break;
        }
        key = *dirty.begin();
        dirty.erase(dirty.begin());
      }
      auto snap = snapshot();
      Compiled c;
      try {
        c = compile(*snap, key, true);
      } catch (const std::exception& e) {
        cb.log("check failed: " + std::string(e.what()));
        continue;
      }
      {
        // A newer edit of this project supersedes this check: publish only the next one.
        std::lock_guard lock(recheck_mu);
        if (dirty.count(key) != 0) continue;
      }
      cb.publish(*snap, key, c);
      // A project without open documents keeps no incremental state.
      if (std::none_of(snap->by_uri.begin(), snap->by_uri.end(),
                       [&](const auto& d) { return project_key(d.second->path) == key; })) {
        incremental.erase(key);
      } else if (auto it = incremental.find(key); it != incremental.end()) {
        // While the user types on: the copy the next re-check will edit in place.
        it->second->prepare();
      }
    }
  }

  // ---------------------------------------------------------------- requests

  void request_loop() {
    for (;;) {
      Request r;
      {
        std::unique_lock lock(requests_mu);
        requests_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) return;  // stopping, and nothing left to answer
        r = std::move(queue.front());
        queue.pop_front();
        if (cancelled_ids.count(r.id) != 0) {
          cancelled_ids.erase(r.id);
          pending_ids.erase(r.id);
          cb.send(r.cancelled());
          continue;
        }
      }
      std::string body = r.answer();
      {
        std::lock_guard lock(requests_mu);
        const bool cancelled = cancelled_ids.erase(r.id) != 0;
        pending_ids.erase(r.id);
        if (cancelled) {
          cb.send(r.cancelled());
          continue;
        }
      }
      cb.send(body);
    }
  }
};

Scheduler::Scheduler(std::chrono::milliseconds debounce, Callbacks callbacks)
    : impl_(std::make_unique<Impl>(debounce, std::move(callbacks))) {}

Scheduler::~Scheduler() { stop(); }

void Scheduler::start() {
  impl_->request_thread = std::thread([this] { impl_->request_loop(); });
  impl_->diagnostics_thread = std::thread([this] { impl_->diagnostics_loop(); });
}

void Scheduler::stop() {
  Impl& m = *impl_;
  m.stopping = true;
  {
    std::lock_guard lock(m.requests_mu);
    m.requests_cv.notify_all();
  }
  {
    std::lock_guard lock(m.recheck_mu);
    m.recheck_cv.notify_all();
  }
  if (m.request_thread.joinable()) m.request_thread.join();
  if (m.diagnostics_thread.joinable()) m.diagnostics_thread.join();
}

std::shared_ptr<const Snapshot> Scheduler::snapshot() const { return impl_->snapshot(); }

void Scheduler::update(const std::string& uri, std::shared_ptr<const Document> doc) {
  Impl& m = *impl_;
  std::string key;
  {
    std::lock_guard lock(m.snapshot_mu);
    auto next = std::make_shared<Snapshot>(*m.current);
    next->generation++;
    auto it = next->by_uri.find(uri);
    if (doc) {
      key = project_key(doc->path);
      next->by_uri[uri] = std::move(doc);
    } else if (it != next->by_uri.end()) {
      key = project_key(it->second->path);
      next->by_uri.erase(it);
    } else {
      return;  // closing a document that is not open changes nothing
    }
    m.current = std::move(next);
  }
  m.schedule_check(key);
}

void Scheduler::recheck_all() {
  auto snap = snapshot();
  std::set<std::string> keys;
  for (const auto& [uri, d] : snap->by_uri) keys.insert(project_key(d->path));
  for (const auto& k : keys) impl_->schedule_check(k);
}

Compiled Scheduler::compile(const Snapshot& snap, const std::string& project) {
  return impl_->compile(snap, project, false);
}

std::pair<std::shared_ptr<const Program>, std::shared_ptr<const Program>> Scheduler::recent(
    const std::string& project) {
  Impl& m = *impl_;
  std::lock_guard lock(m.programs_mu);
  std::pair<std::shared_ptr<const Program>, std::shared_ptr<const Program>> r;
  if (auto l = m.latest.find(project); l != m.latest.end()) r.first = l->second;
  if (auto g = m.last_good.find(project); g != m.last_good.end()) r.second = g->second;
  return r;
}

void Scheduler::stage(Request r) {
  std::lock_guard lock(impl_->requests_mu);
  impl_->pending_ids.insert(r.id);
  impl_->staged.push_back(std::move(r));
}

void Scheduler::release() {
  Impl& m = *impl_;
  std::lock_guard lock(m.requests_mu);
  if (m.staged.empty()) return;
  for (auto& r : m.staged) m.queue.push_back(std::move(r));
  m.staged.clear();
  m.requests_cv.notify_all();
}

void Scheduler::cancel(const std::string& id) {
  std::lock_guard lock(impl_->requests_mu);
  if (impl_->pending_ids.count(id) != 0) impl_->cancelled_ids.insert(id);
}

}  // namespace okuri::lsp
