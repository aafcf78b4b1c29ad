// The report's delivery figures, counted while a simulation runs, so that neither the events
// nor the deliveries need to be kept: pushes and replies per month against the plan, and per
// message its deliveries, the clicks credited to it and the friends who blocked soon after it.
//
// Deliveries come from the engine in the order it makes them, which is not time order (a push
// deferred by quiet hours is made before others that go out sooner); the tally holds them until
// the clock has passed their time and hands them on in (time, making) order, the order in which
// `okuri simulate` prints them. Clicks and blocks are counted once every delivery at or before
// their time has been.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/engine.hpp"

namespace okuri::rt {

// Per message (by schema index), what friends did with it. A click on a declared link is credited
// to the friend's latest delivery before it of a message carrying that link; a friend who blocked
// the account within 3 days after receiving a message counts once for that message.
struct MessageFigures {
  std::int64_t pushes = 0, replies = 0, skipped_blocked = 0;
  std::int64_t clicks = 0;                      // tracked clicks credited to the message
  std::int64_t blocked_within_3d = 0;           // friends
  std::optional<std::uint32_t> first_receiver;  // the first friend it went to
};

class ReportTally {
 public:
  ReportTally(const Engine& e, const stdlib::Zone& zone);

  // A delivery the engine made (any order).
  void made(Delivery d);
  // An input event, in time order, and its friend's row: clicks and blocks are kept until
  // settled, the others ignored.
  void event(const InputEvent& ev, std::uint32_t row);
  // Counts what happened before `before` (seconds): deliveries in (time, making) order, each also
  // handed to `out`, and the clicks and blocks among them.
  void settle(std::int64_t before, const std::function<void(const Delivery&)>& out);
  // The end of the run at `to`: everything at or before it is settled; later deliveries are
  // counted as still deferred, and not handed on.
  void finish(std::int64_t to, const std::function<void(const Delivery&)>& out);

  struct Month {
    std::string month;  // 2026-03
    std::int64_t pushes = 0;
    std::int64_t replies = 0;  // free: shown apart
    std::string ran_out;       // the date of the first push over the allowance
  };
  std::int64_t allowance() const { return allowance_; }
  const std::vector<Month>& months() const { return months_; }
  std::int64_t pushes() const { return pushes_; }
  std::int64_t replies() const { return replies_; }
  std::int64_t skipped() const { return skipped_; }
  std::int64_t deferred() const { return deferred_; }
  std::int64_t pending() const { return pending_; }
  const std::vector<MessageFigures>& messages() const { return figures_; }

 private:
  const Engine& e_;
  const stdlib::Zone& zone_;
  std::int64_t allowance_ = 0;
  std::vector<Month> months_;
  std::int64_t pushes_ = 0, replies_ = 0, skipped_ = 0, deferred_ = 0, pending_ = 0;
  std::vector<MessageFigures> figures_;
  std::vector<std::vector<std::uint32_t>> links_of_;  // per message, the declared links it carries (sorted)
  // The month of the latest delivery, and where it ends (UTC seconds): one time formatting a month.
  std::int64_t month_end_ = INT64_MIN;

  // Deliveries waiting for the clock: a min-heap on (time, making order) of small handles, so
  // that keeping the heap in order moves 24 bytes, not a Delivery; the deliveries wait in
  // slots, reused once settled. The slots are a deque: growing one never copies the waiting
  // deliveries nor leaves half its room unused (tens of thousands wait in a large simulation).
  struct Held {
    std::int64_t time;
    std::uint64_t seq;
    std::uint32_t slot;
  };
  // The heap's order: the earliest time on top, and at equal times the one made first.
  static bool later(const Held& a, const Held& b) { return a.time != b.time ? a.time > b.time : a.seq > b.seq; }
  std::vector<Held> held_;
  std::deque<Delivery> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t seq_ = 0;
  struct Pending {
    std::int64_t time;
    std::uint32_t row;
    bool click;
    std::uint32_t link;
  };
  std::deque<Pending> events_;  // clicks and blocks, in time order

  // Per link and friend, the message of the latest delivery carrying the link (-1: none).
  std::vector<std::vector<std::int32_t>> last_with_link_;
  std::vector<std::uint32_t> credited_;  // delivered()'s scratch: the links of one delivery credited so far
  // Per friend, what they received in the last 3 days; and the messages they count for already.
  struct Recent {
    std::int64_t time;
    std::uint32_t message;
  };
  std::vector<std::vector<Recent>> recent_;
  std::unordered_map<std::uint32_t, std::vector<std::uint32_t>> counted_;

  void delivered(const Delivery& d);
  void apply(const Pending& p);
};

// The tally of deliveries and events already in hand (a running account's outbox and clicks;
// tests): events in time order, or null.
ReportTally tally_of(const Engine& e, const std::vector<Delivery>& deliveries, const std::vector<InputEvent>* events,
                     std::int64_t to, const stdlib::Zone& zone);

}  // namespace okuri::rt
