// A friend's state as bytes and back: what a store outside memory keeps per friend.
//
// Format 1, in this order: the built-in columns of stdlib/friend_columns.def that are stored
// (texts length-prefixed; tags and audiences as one byte per declared name), visited patterns,
// declared fields (a known byte, then the value), named scores, link and message history, the
// push schedule, the rule sequence, and the scenario instances. Pending timers are re-armed from
// the instances. A shorter record (an older version with fewer names) leaves the rest as it was.
#include <cstring>
#include <stdexcept>

#include "runtime/engine_impl.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::rt {
namespace {

template <typename T>
void put(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <typename T>
void get(std::string_view& in, T& v) {
  if (in.size() < sizeof v) return;
  std::memcpy(&v, in.data(), sizeof v);
  in.remove_prefix(sizeof v);
}

struct Writer {
  const FriendStore& s;
  std::string& out;
  void text(std::int32_t id) const {
    const std::string_view t = id < 0 ? std::string_view() : s.texts.get(id);
    put(out, static_cast<std::int32_t>(id < 0 ? -1 : static_cast<std::int32_t>(t.size())));
    out.append(t);
  }
  void bit(const Bitmap& b, std::uint32_t row) const { put(out, static_cast<std::uint8_t>(b.get(row))); }
};

struct Reader {
  FriendStore& s;
  std::string_view& in;
  std::int32_t text() const {
    std::int32_t n = -1;
    get(in, n);
    if (n < 0 || static_cast<std::size_t>(n) > in.size()) return kUnknownText;
    const std::int32_t id = s.texts.intern(in.substr(0, static_cast<std::size_t>(n)));
    in.remove_prefix(static_cast<std::size_t>(n));
    return id;
  }
  void bit(Bitmap& b, std::uint32_t row) const {
    std::uint8_t v = 0;
    get(in, v);
    b.set(row, v != 0);
  }
};

}  // namespace

std::string Engine::export_friend(std::uint32_t row) const {
  const Impl& m = *impl_;
  const FriendStore& s = *m.store;
  std::string out;
  put(out, std::uint8_t{1});
  const Writer w{s, out};
  for (const auto& c : stdlib::friend_columns()) {
    if (!c.stored) continue;
    switch (c.id) {
      case stdlib::FriendColumnId::Id:
        break;
      case stdlib::FriendColumnId::Gender:
        put(out, s.gender[row]);
        break;
      case stdlib::FriendColumnId::Age:
        put(out, s.age[row]);
        break;
      case stdlib::FriendColumnId::Region:
        put(out, s.region[row]);
        break;
      case stdlib::FriendColumnId::FriendSince:
        put(out, s.friend_since[row]);
        break;
      case stdlib::FriendColumnId::Source:
        w.text(s.source[row]);
        break;
      case stdlib::FriendColumnId::DisplayName:
        w.text(s.display_name[row]);
        break;
      case stdlib::FriendColumnId::Language:
        w.text(s.language[row]);
        break;
      case stdlib::FriendColumnId::Blocked:
        w.bit(s.blocked, row);
        break;
      case stdlib::FriendColumnId::Score:
        put(out, s.score[row]);
        break;
      case stdlib::FriendColumnId::Tags:
        for (const auto& t : s.tags) w.bit(t, row);
        break;
      case stdlib::FriendColumnId::Audiences:
        for (const auto& a : s.audiences) w.bit(a, row);
        break;
    }
  }
  for (const auto& v : s.visited) w.bit(v, row);
  for (std::size_t i = 0; i < s.fields.size(); ++i) {
    const auto& f = s.fields[i];
    const bool known = f.known.get(row);
    put(out, static_cast<std::uint8_t>(known));
    if (m.plan.schema.fields[i].type.kind == TypeKind::Text) {
      w.text(known ? static_cast<std::int32_t>(f.values[row]) : -1);
    } else {
      put(out, f.values[row]);
    }
  }
  for (const auto& n : s.named_scores) put(out, n[row]);
  for (const auto& l : s.links) {
    put(out, l.clicks[row]);
    put(out, l.last[row]);
  }
  for (const auto& h : s.messages) {
    put(out, h.sent[row]);
    put(out, h.opened[row]);
    put(out, h.last_opened[row]);
  }
  put(out, m.schedule.next_free[row]);
  put(out, m.schedule.push_day[row]);
  put(out, m.schedule.push_count[row]);
  put(out, m.rule_seq[row]);
  for (std::size_t f = 0; f < m.flows.size(); ++f) put(out, m.inst[row * m.flows.size() + f]);
  return out;
}

void Engine::import_friend(std::uint32_t row, std::string_view in) {
  Impl& m = *impl_;
  FriendStore& s = *m.store;
  m.grow();
  std::uint8_t version = 0;
  get(in, version);
  if (version != 1) throw std::runtime_error("friend state: unknown format " + std::to_string(version));
  const Reader r{s, in};
  for (const auto& c : stdlib::friend_columns()) {
    if (!c.stored) continue;
    switch (c.id) {
      case stdlib::FriendColumnId::Id:
        break;
      case stdlib::FriendColumnId::Gender:
        get(in, s.gender[row]);
        break;
      case stdlib::FriendColumnId::Age: {
        std::int16_t age = s.age[row];  // (a short record leaves the value as it was)
        get(in, age);
        s.set_age(row, age);
        break;
      }
      case stdlib::FriendColumnId::Region:
        get(in, s.region[row]);
        break;
      case stdlib::FriendColumnId::FriendSince:
        get(in, s.friend_since[row]);
        break;
      case stdlib::FriendColumnId::Source:
        s.source[row] = r.text();
        break;
      case stdlib::FriendColumnId::DisplayName:
        s.display_name[row] = r.text();
        break;
      case stdlib::FriendColumnId::Language:
        s.language[row] = r.text();
        break;
      case stdlib::FriendColumnId::Blocked:
        r.bit(s.blocked, row);
        break;
      case stdlib::FriendColumnId::Score: {
        std::int64_t score = s.score[row];
        get(in, score);
        s.set_score(row, score);
        break;
      }
      case stdlib::FriendColumnId::Tags:
        for (auto& t : s.tags) r.bit(t, row);
        break;
      case stdlib::FriendColumnId::Audiences:
        for (auto& a : s.audiences) r.bit(a, row);
        break;
    }
  }
  for (auto& v : s.visited) r.bit(v, row);
  for (std::size_t i = 0; i < s.fields.size(); ++i) {
    auto& f = s.fields[i];
    std::uint8_t known = 0;
    get(in, known);
    f.known.set(row, known != 0);
    if (m.plan.schema.fields[i].type.kind == TypeKind::Text) {
      const std::int32_t id = r.text();
      f.values[row] = id < 0 ? 0 : id;
    } else {
      get(in, f.values[row]);
    }
  }
  for (auto& n : s.named_scores) get(in, n[row]);
  for (auto& l : s.links) {
    get(in, l.clicks[row]);
    get(in, l.last[row]);
  }
  for (auto& h : s.messages) {
    get(in, h.sent[row]);
    get(in, h.opened[row]);
    get(in, h.last_opened[row]);
  }
  get(in, m.schedule.next_free[row]);
  get(in, m.schedule.push_day[row]);
  get(in, m.schedule.push_count[row]);
  get(in, m.rule_seq[row]);
  for (std::size_t f = 0; f < m.flows.size(); ++f) {
    Instance& i = m.inst[row * m.flows.size() + f];
    if (i.timer != kNoTimer) m.wheel.cancel(i.timer);
    get(in, i);
    // A timer id from another process means nothing here: arm it again at its deadline
    // (one already past fires at the next run_until). The split arm stays (the same version's
    // arms are numbered alike, and a running account keeps its A/B figures: import_stats).
    i.timer = kNoTimer;
    if (i.arm >= m.stats[f].arms.size()) {
      i.arm = kNoArm;
      i.arm_clicked = false;
    }
    if (i.status == kInside && i.wake > 0 && !i.wait_unknown && m.flows[f].nodes[i.node].kind == StepKind::Wait) {
      i.timer = m.wheel.add(static_cast<std::uint32_t>(i.wake), static_cast<std::uint32_t>(row * m.flows.size() + f));
    }
  }
}

}  // namespace okuri::rt
