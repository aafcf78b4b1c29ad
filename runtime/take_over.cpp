// A new version of the project takes every friend over from the engine of the old one: the
// built-in columns as they are, declared names by name, and friends inside a scenario where
// `okuri diff` says they land (docs/versions.md).
#include <fmt/format.h>

#include <map>
#include <unordered_map>

#include "compiler/versions.hpp"
#include "runtime/engine_impl.hpp"
#include "stdlib/builtins.hpp"

namespace okuri::rt {
namespace {

// For each name of `from`, its index in `to` (-1: gone).
std::vector<int> name_map(const std::vector<std::string>& from, const std::vector<std::string>& to) {
  std::unordered_map<std::string_view, int> at;
  for (std::size_t i = 0; i < to.size(); ++i) at.emplace(to[i], static_cast<int>(i));
  std::vector<int> out(from.size(), -1);
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (auto it = at.find(from[i]); it != at.end()) out[i] = it->second;
  }
  return out;
}

// Fields: by name, kept when the kind of value is the same; enum values and sets by value name.
struct FieldMove {
  int to = -1;
  std::vector<int> values;  // enum value index → new index (-1: gone)
};

std::vector<FieldMove> field_moves(const ir::Schema& o, const ir::Schema& n) {
  std::vector<FieldMove> fields(o.fields.size());
  for (std::size_t i = 0; i < o.fields.size(); ++i) {
    const auto& of = o.fields[i];
    const int j = n.field_index(of.name);
    if (j < 0 || n.fields[static_cast<std::size_t>(j)].type.kind != of.type.kind) continue;
    fields[i].to = j;
    if (of.type.kind == TypeKind::Enum || of.type.kind == TypeKind::Set) {
      fields[i].values = name_map(of.values, n.fields[static_cast<std::size_t>(j)].values);
    }
  }
  return fields;
}

}  // namespace

Engine::TakeOver Engine::take_over(const Engine& old_engine) {
  Impl& m = *impl_;
  const Impl& o = *old_engine.impl_;
  if (!m.started) m.start_at(o.now, true);
  // Broadcasts the old version has sent (up to its last one) are not sent again, and
  // `start when` conditions that read the date are next evaluated when the old version's would be.
  if (o.next_broadcast > 0) {
    const std::int64_t sent_until = o.flows[static_cast<std::size_t>(o.plan.broadcast_order[o.next_broadcast - 1])].at;
    while (m.next_broadcast < m.plan.broadcast_order.size() &&
           m.flows[static_cast<std::size_t>(m.plan.broadcast_order[m.next_broadcast])].at <= sent_until) {
      ++m.next_broadcast;
    }
  }
  if (o.next_tick > 0) m.next_tick = o.next_tick;
  TakeOver sum;
  const FriendStore& os = *o.store;
  FriendStore& s = *m.store;
  const ir::Schema& osc = o.plan.schema;
  const ir::Schema& nsc = m.plan.schema;
  const auto tags = name_map(osc.tags, nsc.tags);
  const auto audiences = name_map(osc.audiences, nsc.audiences);
  const auto visited = name_map(osc.visit_patterns, nsc.visit_patterns);
  const auto scores = name_map(osc.scores, nsc.scores);
  const auto links = name_map(osc.links, nsc.links);
  const auto messages = name_map(osc.messages, nsc.messages);
  const auto fields = field_moves(osc, nsc);
  // Scenarios and broadcasts by name; where a friend waiting at each old step lands, as `okuri diff` says.
  std::vector<int> old_flow(m.flows.size(), -1);
  for (std::size_t f = 0; f < m.flows.size(); ++f) {
    for (std::size_t g = 0; g < o.flows.size(); ++g) {
      if (o.flows[g].name == m.flows[f].name && o.flows[g].broadcast == m.flows[f].broadcast)
        old_flow[f] = static_cast<int>(g);
    }
  }
  std::map<std::string, std::map<std::string, Landing>> landings;
  for (auto& d : diff_programs(o.program, m.program)) {
    for (auto& l : d.landings) landings[d.name].emplace(l.from, std::move(l));
  }
  std::vector<bool> kept_flow(o.flows.size(), false);
  for (const int g : old_flow) {
    if (g >= 0) kept_flow[static_cast<std::size_t>(g)] = true;
  }
  const std::string cause = "the project was updated";
  auto text = [&](std::int32_t id) { return id < 0 ? kUnknownText : s.texts.intern(os.texts.get(id)); };
  for (std::uint32_t r = 0; r < os.size(); ++r) {
    const std::uint32_t row = m.ensure_friend(os.id_of(r));
    m.touch(row);
    ++sum.friends;
    for (const auto& c : stdlib::friend_columns()) {
      switch (c.id) {
        case stdlib::FriendColumnId::Id:
          break;
        case stdlib::FriendColumnId::Gender:
          s.gender[row] = os.gender[r];
          break;
        case stdlib::FriendColumnId::Age:
          s.set_age(row, os.age[r]);
          break;
        case stdlib::FriendColumnId::Region:
          s.region[row] = os.region[r];
          break;
        case stdlib::FriendColumnId::FriendSince:
          s.friend_since[row] = os.friend_since[r];
          break;
        case stdlib::FriendColumnId::Source:
          s.source[row] = text(os.source[r]);
          break;
        case stdlib::FriendColumnId::DisplayName:
          s.display_name[row] = text(os.display_name[r]);
          break;
        case stdlib::FriendColumnId::Language:
          s.language[row] = text(os.language[r]);
          break;
        case stdlib::FriendColumnId::Blocked:
          s.blocked.set(row, os.blocked.get(r));
          break;
        case stdlib::FriendColumnId::Score:
          s.set_score(row, os.score[r]);
          break;
        case stdlib::FriendColumnId::Tags:
          for (std::size_t i = 0; i < tags.size(); ++i) {
            if (tags[i] >= 0) s.tags[static_cast<std::size_t>(tags[i])].set(row, os.tags[i].get(r));
          }
          break;
        case stdlib::FriendColumnId::Audiences:
          for (std::size_t i = 0; i < audiences.size(); ++i) {
            if (audiences[i] >= 0) s.audiences[static_cast<std::size_t>(audiences[i])].set(row, os.audiences[i].get(r));
          }
          break;
      }
    }
    for (std::size_t i = 0; i < visited.size(); ++i) {
      if (visited[i] >= 0) s.visited[static_cast<std::size_t>(visited[i])].set(row, os.visited[i].get(r));
    }
    for (std::size_t i = 0; i < scores.size(); ++i) {
      if (scores[i] >= 0) s.named_scores[static_cast<std::size_t>(scores[i])][row] = os.named_scores[i][r];
    }
    for (std::size_t i = 0; i < links.size(); ++i) {
      if (links[i] < 0) continue;
      auto& l = s.links[static_cast<std::size_t>(links[i])];
      l.clicks[row] = os.links[i].clicks[r];
      l.last[row] = os.links[i].last[r];
    }
    for (std::size_t i = 0; i < messages.size(); ++i) {
      if (messages[i] < 0) continue;
      auto& h = s.messages[static_cast<std::size_t>(messages[i])];
      h.sent[row] = os.messages[i].sent[r];
      h.opened[row] = os.messages[i].opened[r];
      h.last_opened[row] = os.messages[i].last_opened[r];
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const auto& fm = fields[i];
      if (fm.to < 0 || !os.fields[i].known.get(r)) continue;
      auto& col = s.fields[static_cast<std::size_t>(fm.to)];
      std::int64_t v = os.fields[i].values[r];
      bool known = true;
      switch (osc.fields[i].type.kind) {
        case TypeKind::Text:
          v = s.texts.intern(os.texts.get(static_cast<std::int32_t>(v)));
          break;
        case TypeKind::Enum:
          known =
              v >= 0 && static_cast<std::size_t>(v) < fm.values.size() && fm.values[static_cast<std::size_t>(v)] >= 0;
          if (known) v = fm.values[static_cast<std::size_t>(v)];
          break;
        case TypeKind::Set: {
          std::int64_t mask = 0;
          for (std::size_t b = 0; b < fm.values.size() && b < 64; ++b) {
            if (((static_cast<std::uint64_t>(v) >> b) & 1) != 0 && fm.values[b] >= 0)
              mask |= std::int64_t{1} << fm.values[b];
          }
          v = mask;
          break;
        }
        default:
          break;
      }
      col.known.set(row, known);
      col.values[row] = known ? v : 0;
    }
    m.schedule.next_free[row] = o.schedule.next_free[r];
    m.schedule.push_day[row] = o.schedule.push_day[r];
    m.schedule.push_count[row] = o.schedule.push_count[r];
    m.rule_seq[row] = o.rule_seq[r];
    // Friends inside a scenario that the new version no longer has leave it.
    for (std::size_t g = 0; g < o.flows.size(); ++g) {
      if (!kept_flow[g] && o.inst[r * o.flows.size() + g].status == kInside) ++sum.exited;
    }
    Ctx ctx;
    for (std::size_t f = 0; f < m.flows.size(); ++f) {
      if (old_flow[f] < 0) continue;  // new: as if never entered
      const std::size_t g = static_cast<std::size_t>(old_flow[f]);
      const plan::Flow& ofl = o.flows[g];
      const plan::Flow& nfl = m.flows[f];
      Instance i = o.inst[r * o.flows.size() + g];
      i.timer = kNoTimer;
      i.arm = kNoArm;  // the arms are numbered per version (A/B figures start again)
      // A goal in force stays in force where its step still exists.
      if (i.goal_armed) {
        if (auto j = nfl.find(ofl.nodes[i.goal_node].id)) {
          i.goal_node = *j;
        } else {
          i.goal_armed = false;
          i.goal_node = 0;
        }
      } else {
        i.goal_node = 0;
      }
      const std::uint8_t status = i.status;
      const std::string from = status == kInside ? ofl.nodes[i.node].id : std::string();
      if (status != kInside) i.node = 0;
      if (status == kInside) i.status = kDone;  // placed below
      m.in(row, f) = i;
      if (status != kInside) continue;
      const auto fi = static_cast<std::int32_t>(f);
      const Landing* land = nullptr;
      if (auto a = landings.find(nfl.name); a != landings.end()) {
        if (auto b = a->second.find(from); b != a->second.end()) land = &b->second;
      }
      Landing fallback{from, Landing::Exit, "", "nothing after this step survives"};
      if (land == nullptr) {
        // Not a wait of the old version (a friend is only ever held at waits): the same step if it is still there.
        if (nfl.find(from)) fallback = Landing{from, Landing::Same, from, "continues at the same step"};
        land = &fallback;
      }
      switch (land->kind) {
        case Landing::Restart:
          ++sum.restarted;
          m.begin(row, f, fmt::format("{}: `on_update restart`", cause));
          m.run(row, f, 0, ctx);
          break;
        case Landing::Exit: {
          ++sum.exited;
          Instance& ni = m.in(row, f);
          ni.status = kInside;
          ni.node = 0;
          m.leave(row, f, fmt::format("{}: {}", cause, land->note));
          break;
        }
        case Landing::Same:
        case Landing::Next: {
          const std::uint32_t to = *nfl.find(land->to);
          Instance& ni = m.in(row, f);
          ni.status = kInside;
          ni.node = to;
          if (land->kind == Landing::Same && nfl.nodes[to].kind == StepKind::Wait) {
            ++sum.waiting;
            if (i.wait_unknown) {
              ni.wait_unknown = true;
              m.resume_wait(row, f, ctx, nullptr);
            } else {
              ni.timer = m.wheel.add(static_cast<std::uint32_t>(std::max(i.wake, m.now)),
                                     static_cast<std::uint32_t>(row * m.flows.size() + f));
            }
            if (m.tracing(row)) m.note(row, TraceKind::Wait, fi, land->to, fmt::format("{}: {}", cause, land->note));
          } else {
            ++sum.moved;
            if (m.tracing(row)) m.note(row, TraceKind::Enter, fi, land->to, fmt::format("{}: {}", cause, land->note));
            m.run(row, f, to, ctx);
          }
          break;
        }
      }
    }
    m.process_raised(row, ctx);  // what the landings raised (a tag a restarted step adds)
  }
  return sum;
}

}  // namespace okuri::rt
