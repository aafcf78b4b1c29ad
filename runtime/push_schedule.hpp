// When a push may go out: after the friend's earlier pushes (their order is kept), outside the
// account's quiet hours, within the daily limit, and no earlier than a broadcast's throttle
// allows. Deliveries move; the scenario's clock does not (runtime.md).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "compiler/program.hpp"
#include "stdlib/functions.hpp"

namespace okuri::rt {

class PushSchedule {
 public:
  PushSchedule(const AccountSettings& account, const stdlib::Zone& zone) : account_(account), zone_(zone) {}
  void grow(std::size_t rows);

  // The first moment a push made at `t` may go out, booked for the friend. `why` is what stood in
  // the way at `t` ("quiet hours", "daily limit", "throttle", "earlier pushes"), empty if nothing.
  std::int64_t book(std::uint32_t row, std::int64_t t, std::string& why);

  // The first moment from `t` outside the account's quiet hours (for no friend in particular:
  // what LINE's broadcast and narrowcast wait for).
  std::int64_t outside_quiet_hours(std::int64_t t) const;

  // A broadcast's throttle: no push before this moment (0: none).
  std::int64_t throttle_floor = 0;

  // Per friend, saved with the friend's state (the codec) and carried across versions.
  std::vector<std::int64_t> next_free;  // the friend's last booked push
  std::vector<std::int64_t> push_day;   // the local day of push_count
  std::vector<std::uint32_t> push_count;

 private:
  const AccountSettings& account_;
  const stdlib::Zone& zone_;
  bool limited(std::uint32_t row, std::int64_t at) const;
};

}  // namespace okuri::rt
