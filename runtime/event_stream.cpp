#include "runtime/event_stream.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <fstream>
#include <mutex>
#include <queue>
#include <thread>

#include "compiler/literals.hpp"
#include "runtime/mapped_file.hpp"

namespace okuri::rt {
namespace {

std::string utc_time(std::int64_t ms) {
  const std::int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
  const std::int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  const std::int64_t s = secs - days * 86400;
  const CivilDate d = civil_from_days(days);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", d.year, d.month, d.day, s / 3600, s / 60 % 60, s % 60);
}

// "1h", "2d 3h", "45m 10s": how far apart two times are.
std::string span(std::int64_t ms) {
  std::int64_t s = ms / 1000;
  std::string out;
  for (const auto& [unit, secs] : {std::pair{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}}) {
    if (s >= secs || (out.empty() && secs == 1)) {
      out += fmt::format("{}{}{}", out.empty() ? "" : " ", s / secs, unit);
      s %= secs;
    }
  }
  return out;
}

// A first-in first-out queue in blocks of 256: a std::deque of events this size allocates a block
// for every event (a stream passes a million through the sort window), and one vector would
// keep up to twice the window's events in room. A block emptied at the front is reused at the back.
template <typename T>
class Fifo {
 public:
  bool empty() const { return size_ == 0; }
  T& front() { return blocks_.front()[head_]; }
  T& back() {
    const std::size_t at = head_ + size_ - 1;
    return blocks_[at / kBlock][at % kBlock];
  }
  template <typename... A>
  void emplace_back(A&&... a) {
    const std::size_t at = head_ + size_;
    if (at / kBlock == blocks_.size()) {
      blocks_.push_back(spare_ ? std::move(spare_) : std::make_unique<T[]>(kBlock));
    }
    blocks_[at / kBlock][at % kBlock] = T{std::forward<A>(a)...};
    ++size_;
  }
  // The item must have been moved out: its shell stays until the block is reused.
  void pop_front() {
    ++head_;
    --size_;
    if (head_ == kBlock) {
      spare_ = std::move(blocks_.front());
      blocks_.pop_front();
      head_ = 0;
    }
  }

 private:
  static constexpr std::size_t kBlock = 256;
  std::deque<std::unique_ptr<T[]>> blocks_;
  std::unique_ptr<T[]> spare_;
  std::size_t head_ = 0, size_ = 0;  // the front's place in the first block; the items held
};

// One file's events in time order.
class Source {
 public:
  virtual ~Source() = default;
  // The source's next event, or null at its end.
  virtual InputEvent* peek() = 0;
  virtual void pop() = 0;
};

// Events already in memory (webhook bodies), sorted.
class VectorSource : public Source {
 public:
  explicit VectorSource(std::vector<InputEvent> events) : events_(std::move(events)) { sort_by_time(events_); }
  InputEvent* peek() override { return next_ < events_.size() ? &events_[next_] : nullptr; }
  void pop() override { ++next_; }

 private:
  std::vector<InputEvent> events_;
  std::size_t next_ = 0;
};

// A JSONL file read line by line from its mapping. Events are held until no event within the
// window could still come before them: those that arrive in order wait in a queue, the others in
// a heap, and the earlier of the two heads goes next.
class JsonlSource : public Source {
 public:
  JsonlSource(const std::string& path, EventReader& reader, std::int64_t window, std::atomic<std::size_t>& bytes)
      : path_(path), reader_(reader), window_(window), bytes_(bytes) {
    try {
      file_ = std::make_unique<MappedFile>(path);
    } catch (const std::runtime_error& e) {
      throw EventError(e.what());
    }
    text_ = file_->text();
  }

  std::size_t size() const { return text_.size(); }

  InputEvent* peek() override {
    fill();
    Held* h = head();
    return h == nullptr ? nullptr : &h->ev;
  }

  void pop() override {
    Held* h = head();
    if (h == nullptr) return;
    if (!in_order_.empty() && h == &in_order_.front()) {
      in_order_.pop_front();
    } else {
      std::pop_heap(late_.begin(), late_.end(), later);
      late_.pop_back();
    }
  }

 private:
  struct Held {
    Held() = default;
    // A constructor, not an aggregate: emplace_back builds one in place (clang 14 has no
    // aggregate initialization from parentheses).
    Held(std::uint64_t s, InputEvent&& e) : seq(s), ev(std::move(e)) {}
    std::uint64_t seq = 0;
    InputEvent ev;
  };
  static bool later(const Held& a, const Held& b) {
    return a.ev.time_ms != b.ev.time_ms ? a.ev.time_ms > b.ev.time_ms : a.seq > b.seq;
  }

  std::string path_;
  EventReader& reader_;
  std::int64_t window_;
  std::atomic<std::size_t>& bytes_;
  std::unique_ptr<MappedFile> file_;
  std::string_view text_;
  std::size_t pos_ = 0, line_ = 0, released_ = 0;
  std::uint64_t seq_ = 0;
  Fifo<Held> in_order_;        // arrived in time order: sorted
  std::vector<Held> late_;     // a heap of the others
  std::int64_t newest_ = INT64_MIN;
  std::size_t newest_line_ = 0;  // the line of the newest event (named only in an error)

  // Events before this time can no longer come: the newest read, less the window.
  std::int64_t settled() const { return newest_ == INT64_MIN ? INT64_MIN : newest_ - window_; }

  Held* head() {
    Held* a = in_order_.empty() ? nullptr : &in_order_.front();
    Held* b = late_.empty() ? nullptr : &late_.front();
    if (a == nullptr) return b;
    if (b == nullptr) return a;
    return later(*a, *b) ? b : a;
  }

  // Reads until the head can no longer be preceded by an event to come, or to the end.
  void fill() {
    while (pos_ < text_.size()) {
      const Held* h = head();
      if (h != nullptr && h->ev.time_ms <= settled()) return;
      read_line();
    }
  }

  void read_line() {
    const void* nl = std::memchr(text_.data() + pos_, '\n', text_.size() - pos_);
    const std::size_t end =
        nl == nullptr ? text_.size() : static_cast<std::size_t>(static_cast<const char*>(nl) - text_.data());
    const std::string_view line = text_.substr(pos_, end - pos_);
    pos_ = nl == nullptr ? text_.size() : end + 1;
    ++line_;
    if (pos_ - released_ >= (std::size_t{1} << 20) || pos_ == text_.size()) {
      file_->release(released_, pos_);
      bytes_ += pos_ - released_;
      released_ = pos_;
    }
    auto ev = reader_.read_line(path_, line_, line);
    if (!ev) return;
    const std::int64_t t = ev->time_ms;
    if (t < settled()) {
      throw EventError(fmt::format(
          "{}: this event ({}) comes {} before one already read at {} ({}); events may be out of time order by at "
          "most {}. Sort the file by time (for example `jq -c -s 'sort_by(.time)[]' FILE`, when every time has the "
          "same "
          "offset), or allow more with --sort-window",
          fmt::format("{}:{}", path_, line_), utc_time(t), span(newest_ - t), fmt::format("{}:{}", path_, newest_line_),
          utc_time(newest_), span(window_)));
    }
    if (in_order_.empty() || in_order_.back().ev.time_ms <= t) {
      in_order_.emplace_back(seq_++, std::move(*ev));
    } else {
      late_.emplace_back(seq_++, std::move(*ev));
      std::push_heap(late_.begin(), late_.end(), later);
    }
    if (t > newest_) {
      newest_ = t;
      newest_line_ = line_;
    }
  }
};

}  // namespace

struct EventStream::Impl {
  EventReader reader;
  EventStreamOptions options;
  std::vector<std::unique_ptr<Source>> sources;
  std::atomic<std::size_t> bytes{0};
  std::size_t total = 0;

  std::mutex mu;
  std::condition_variable ready, room;
  struct Batch {
    std::vector<InputEvent> events;
    std::vector<FriendStore::IdKey> keys;  // one per event
  };
  std::deque<Batch> batches;
  // Batches the caller is done with, handed back by next(): their events' texts were allocated
  // on the reading thread, and are freed there (and the vectors reused), not on the thread
  // running the events, where freeing them cost as much as a tenth of the run.
  std::vector<std::vector<InputEvent>> spent;
  bool done = false, stop = false;
  std::exception_ptr error;
  std::thread producer;

  static constexpr std::size_t kBatchesAhead = 2;

  Impl(const EventCatalog& catalog, EventStreamOptions o) : reader(catalog), options(o) {
    reader.keep_origins(o.origins);
  }

  // The next event over all sources, moved to the end of `out`: the earliest, and at equal times
  // the first source's.
  bool take(std::vector<InputEvent>& out) {
    Source* best = nullptr;
    InputEvent* best_ev = nullptr;
    for (auto& s : sources) {
      InputEvent* e = s->peek();
      if (e != nullptr && (best_ev == nullptr || e->time_ms < best_ev->time_ms)) {
        best = s.get();
        best_ev = e;
      }
    }
    if (best == nullptr) return false;
    out.push_back(std::move(*best_ev));
    best->pop();
    return true;
  }

  void produce() {
    try {
      std::vector<std::vector<InputEvent>> returned;
      while (true) {
        {
          std::lock_guard<std::mutex> lock(mu);
          returned.swap(spent);
        }
        std::vector<InputEvent> batch;
        if (!returned.empty()) {
          batch = std::move(returned.back());
          batch.clear();
        }
        returned.clear();
        batch.reserve(options.batch);
        while (batch.size() < options.batch && take(batch)) {
        }
        const bool last = batch.size() < options.batch;
        std::vector<FriendStore::IdKey> keys;
        keys.reserve(batch.size());
        for (const auto& e : batch) keys.push_back(FriendStore::key_of(e.friend_id));
        std::unique_lock<std::mutex> lock(mu);
        room.wait(lock, [&] { return stop || batches.size() < kBatchesAhead; });
        if (stop) return;
        if (!batch.empty()) batches.push_back(Batch{std::move(batch), std::move(keys)});
        if (last) done = true;
        ready.notify_one();
        if (last) return;
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu);
      error = std::current_exception();
      done = true;
      ready.notify_one();
    }
  }
};

EventStream::EventStream(const EventCatalog& catalog, const std::vector<std::string>& files, EventStreamOptions options)
    : impl_(std::make_unique<Impl>(catalog, options)) {
  for (const auto& f : files) {
    if (f.size() > 5 && f.substr(f.size() - 5) == ".json") {
      std::ifstream is(f, std::ios::binary);
      if (!is) throw EventError(fmt::format("{}: cannot read the file", f));
      std::string body((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
      impl_->total += body.size();
      impl_->bytes += body.size();
      impl_->sources.push_back(std::make_unique<VectorSource>(impl_->reader.read_webhook(body)));
    } else {
      auto s = std::make_unique<JsonlSource>(f, impl_->reader, options.window_ms, impl_->bytes);
      impl_->total += s->size();
      impl_->sources.push_back(std::move(s));
    }
  }
  impl_->producer = std::thread([this] { impl_->produce(); });
}

EventStream::~EventStream() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop = true;
    impl_->room.notify_all();
  }
  if (impl_->producer.joinable()) impl_->producer.join();
}

bool EventStream::next(std::vector<InputEvent>& out, std::vector<FriendStore::IdKey>* keys) {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->ready.wait(lock, [&] { return !impl_->batches.empty() || impl_->done; });
  if (!impl_->batches.empty()) {
    if (!out.empty()) impl_->spent.push_back(std::move(out));
    out = std::move(impl_->batches.front().events);
    if (keys != nullptr) *keys = std::move(impl_->batches.front().keys);
    impl_->batches.pop_front();
    impl_->room.notify_one();
    return true;
  }
  out.clear();
  if (keys != nullptr) keys->clear();
  if (impl_->error) std::rethrow_exception(impl_->error);
  return false;
}

std::size_t EventStream::bytes_read() const { return impl_->bytes.load(); }
std::size_t EventStream::bytes_total() const { return impl_->total; }
const EventReader& EventStream::reader() const { return impl_->reader; }

}  // namespace okuri::rt
