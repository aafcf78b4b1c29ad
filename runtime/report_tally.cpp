#include "runtime/report_tally.hpp"

#include <algorithm>

#include "compiler/literals.hpp"
#include "runtime/report.hpp"

namespace okuri::rt {
namespace {

constexpr std::int64_t kThreeDays = 3 * 86400;

}  // namespace

ReportTally::ReportTally(const Engine& e, const stdlib::Zone& zone)
    : e_(e), zone_(zone), allowance_(plan_allowance(e.program().account.plan)), figures_(e.schema().messages.size()) {
  links_of_.resize(figures_.size());
  for (std::uint32_t m = 0; m < figures_.size(); ++m) links_of_[m] = e.renderer().links_of(m);
  last_with_link_.resize(e.plan().links.size());
}

void ReportTally::made(Delivery d) {
  if (d.skipped) {
    ++skipped_;
    for (auto m : d.messages) ++figures_[m].skipped_blocked;
    return;
  }
  std::uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(std::move(d));
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = std::move(d);
  }
  held_.push_back(Held{slots_[slot].time, seq_++, slot});
  std::push_heap(held_.begin(), held_.end(), later);
}

void ReportTally::event(const InputEvent& ev, std::uint32_t row) {
  const bool click = ev.type == "link_clicked";
  if (!click && ev.type != "friend_blocked") return;
  std::uint32_t link = 0;
  if (click) {
    const auto& declared = e_.plan().links;
    while (link < declared.size() && declared[link].name != ev.arg) ++link;
    if (link == declared.size()) return;
  }
  events_.push_back(Pending{ev.time_ms / 1000, row, click, link});
}

void ReportTally::settle(std::int64_t before, const std::function<void(const Delivery&)>& out) {
  while (true) {
    const bool has_d = !held_.empty() && held_.front().time < before;
    const bool has_e = !events_.empty() && events_.front().time < before;
    if (!has_d && !has_e) return;
    // At equal times deliveries first: a click at the second a message went out is on it.
    if (has_d && (!has_e || held_.front().time <= events_.front().time)) {
      std::pop_heap(held_.begin(), held_.end(), later);
      const std::uint32_t slot = held_.back().slot;
      held_.pop_back();
      const Delivery& d = slots_[slot];
      delivered(d);
      if (out) out(d);
      free_slots_.push_back(slot);
    } else {
      apply(events_.front());
      events_.pop_front();
    }
  }
}

void ReportTally::finish(std::int64_t to, const std::function<void(const Delivery&)>& out) {
  settle(to + 1, out);
  pending_ += static_cast<std::int64_t>(held_.size());
  held_.clear();
  slots_.clear();
  free_slots_.clear();
  events_.clear();
}

void ReportTally::delivered(const Delivery& d) {
  if (months_.empty() || d.time >= month_end_) {
    const std::string month = format_time(d.time, zone_).substr(0, 7);
    if (months_.empty() || months_.back().month != month) months_.push_back(Month{month, 0, 0, {}});
    // The first second of the next month, local time.
    const CivilDate day = civil_from_days(zone_.local_days(d.time));
    const CivilDate next = day.month == 12 ? CivilDate{day.year + 1, 1, 1} : CivilDate{day.year, day.month + 1, 1};
    month_end_ = zone_.to_utc(days_from_civil(next), 0);
  }
  auto& mo = months_.back();
  if (d.reply) {
    ++replies_;
    ++mo.replies;
  } else {
    ++pushes_;
    if (d.time != d.logical) ++deferred_;
    ++mo.pushes;
    if (mo.pushes == allowance_ + 1) mo.ran_out = format_time(d.time, zone_).substr(0, 10);
  }
  std::vector<std::uint32_t>& credited_links = credited_;  // kept between deliveries: no allocation each
  credited_links.clear();
  for (auto m : d.messages) {
    auto& f = figures_[m];
    ++(d.reply ? f.replies : f.pushes);
    if (!f.first_receiver) f.first_receiver = d.row;
    // A click is credited to the first message of the latest delivery that carries its link.
    for (auto link : links_of_[m]) {
      if (std::find(credited_links.begin(), credited_links.end(), link) != credited_links.end()) continue;
      credited_links.push_back(link);
      auto& last = last_with_link_[link];
      if (last.size() <= d.row) last.resize(std::max<std::size_t>(d.row + 1, last.size() * 2), -1);
      last[d.row] = static_cast<std::int32_t>(m);
    }
  }
  if (recent_.size() <= d.row) recent_.resize(std::max<std::size_t>(d.row + 1, recent_.size() * 2));
  auto& recent = recent_[d.row];
  std::size_t old = 0;
  while (old < recent.size() && recent[old].time < d.time - kThreeDays) ++old;
  recent.erase(recent.begin(), recent.begin() + static_cast<std::ptrdiff_t>(old));
  for (auto m : d.messages) recent.push_back(Recent{d.time, m});
}

void ReportTally::apply(const Pending& p) {
  if (p.click) {
    const auto& last = last_with_link_[p.link];
    if (p.row < last.size() && last[p.row] >= 0) ++figures_[static_cast<std::size_t>(last[p.row])].clicks;
    return;
  }
  if (p.row >= recent_.size()) return;
  auto& counted = counted_[p.row];
  for (const auto& r : recent_[p.row]) {
    if (r.time < p.time - kThreeDays || r.time > p.time) continue;
    if (std::find(counted.begin(), counted.end(), r.message) != counted.end()) continue;
    counted.push_back(r.message);
    ++figures_[r.message].blocked_within_3d;
  }
}

ReportTally tally_of(const Engine& e, const std::vector<Delivery>& deliveries, const std::vector<InputEvent>* events,
                     std::int64_t to, const stdlib::Zone& zone) {
  ReportTally t(e, zone);
  for (const auto& d : deliveries) t.made(d);
  if (events != nullptr) {
    for (const auto& ev : *events) {
      if (const auto row = e.store().find(ev.friend_id)) t.event(ev, *row);
    }
  }
  t.finish(to, {});
  return t;
}

}  // namespace okuri::rt
