// Events of several files as one stream in time order, read as they are needed: memory holds
// the events of the sort window and a few batches, never the files.
//
// A JSONL file is read from a memory mapping, line by line, on a thread of its own while the
// caller runs the events before. It may be out of time order by at most the window (webhook
// redeliveries, exports merged from several sources): events within it are put in order; an
// event earlier than that is an error at its line, naming the window and how to sort the file.
// Webhook bodies (.json) are read whole. The files are merged by time; at equal times, in the
// order given, and within a file in line order.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "runtime/event_input.hpp"
#include "runtime/friend_store.hpp"

namespace okuri::rt {

struct EventStreamOptions {
  std::int64_t window_ms = 3600 * 1000;  // how far out of order an event may come
  std::size_t batch = 1024;              // events handed over at a time
  bool origins = true;                   // events carry "file:line" (for traces)
};

class EventStream {
 public:
  // Starts reading at once. Throws EventError for a file it cannot open.
  EventStream(const EventCatalog& catalog, const std::vector<std::string>& files, EventStreamOptions options = {});
  ~EventStream();
  EventStream(const EventStream&) = delete;
  EventStream& operator=(const EventStream&) = delete;

  // The next events in time order, at most a batch, replacing `out`; false when none are left.
  // With `keys`, each event's friend id parsed for the store (FriendStore::key_of), made on the
  // reading thread so that the thread running the events does not (Engine::handle_all takes them).
  // Throws EventError: a bad line, an event out of order beyond the window.
  bool next(std::vector<InputEvent>& out, std::vector<FriendStore::IdKey>* keys = nullptr);
  // Bytes of the files read so far, and in all (for progress).
  std::size_t bytes_read() const;
  std::size_t bytes_total() const;
  // Valid once next() has returned false.
  const EventReader& reader() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace okuri::rt
