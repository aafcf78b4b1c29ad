// Record and replay for incremental checks (compiler/incremental.cpp): what
// the first pass declared (the check interface), whose check each effect
// belongs to while bodies are checked (the owner stack), and the second pass
// run with unchanged declarations' records replayed instead of checked.
// The rest of the checker knows of this only through begin_owner/end_owner
// around a segment checked at first use, and plain_use.
#include <algorithm>
#include <array>
#include <set>

#include "compiler/checker.hpp"

namespace okuri::detail {

CheckInterface Checker::interface() const {
  CheckInterface out;
  out.symbols.reserve(p_.symbols.size());
  for (const auto& s : p_.symbols) out.symbols.push_back({s.kind, s.name, s.scope, s.type, s.message_count});
  for (const auto& e : custom_events_) out.events.emplace_back(e.name, e.fields);
  for (std::size_t i = TypeTable::kLineOs + 1; i < p_.types.enum_count(); ++i) {
    const auto& e = p_.types.enum_def(static_cast<std::uint32_t>(i));
    out.enums.emplace_back(e.name, e.values);
  }
  out.account = p_.account;
  return out;
}

// interface() == o, without building it.
bool Checker::same_interface(const CheckInterface& o) const {
  if (o.symbols.size() != p_.symbols.size() || o.events.size() != custom_events_.size() || !(o.account == p_.account)) {
    return false;
  }
  for (std::size_t i = 0; i < o.symbols.size(); ++i) {
    const auto& a = o.symbols[i];
    const auto& b = p_.symbols[i];
    if (a.kind != b.kind || !(a.type == b.type) || a.message_count != b.message_count || a.name != b.name ||
        a.scope != b.scope) {
      return false;
    }
  }
  for (std::size_t i = 0; i < o.events.size(); ++i) {
    if (o.events[i].first != custom_events_[i].name || o.events[i].second != custom_events_[i].fields) return false;
  }
  const std::size_t first_user_enum = TypeTable::kLineOs + 1;
  if (o.enums.size() + first_user_enum != p_.types.enum_count()) return false;
  for (std::size_t i = 0; i < o.enums.size(); ++i) {
    const auto& e = p_.types.enum_def(static_cast<std::uint32_t>(first_user_enum + i));
    if (o.enums[i].first != e.name || o.enums[i].second != e.values) return false;
  }
  return true;
}

std::uint32_t Checker::flat_index(const ast::Decl* d) const {
  for (const auto& f : file_decls_) {
    if (d >= f.first && d < f.first + f.count)
      return static_cast<std::uint32_t>(f.flat + static_cast<std::size_t>(d - f.first));
  }
  return 0;
}

// Gives what was reported since the last change of owner to the current owner.
void Checker::flush_owner() {
  if (ic_ != nullptr && !owners_.empty()) {
    DeclCheck& r = *ic_->records[owners_.back()];
    const Span own = decls_[owners_.back()]->span;
    auto inside = [&](Span x) { return x.file == own.file && x.begin >= own.begin && x.end <= own.end; };
    const auto& all = p_.diags.all();
    for (std::size_t i = diags_mark_; i < all.size(); ++i) {
      r.self_contained = r.self_contained && inside(all[i].span) && (!all[i].fix || inside(all[i].fix->span));
      for (const auto& n : all[i].notes) r.self_contained = r.self_contained && (!n.span || inside(*n.span));
    }
    for (std::size_t i = refs_mark_; i < p_.references.size(); ++i) {
      r.self_contained = r.self_contained && inside(p_.references[i].span);
    }
    r.diags.insert(r.diags.end(), all.begin() + static_cast<std::ptrdiff_t>(diags_mark_), all.end());
    r.refs.insert(r.refs.end(), p_.references.begin() + static_cast<std::ptrdiff_t>(refs_mark_), p_.references.end());
    r.plain_uses.insert(r.plain_uses.end(), plain_uses_.begin(), plain_uses_.end());
    for (auto& s : started_log_) r.started.push_back(std::move(s));
  }
  diags_mark_ = p_.diags.all().size();
  refs_mark_ = p_.references.size();
  plain_uses_.clear();
  started_log_.clear();
}

void Checker::begin_owner(std::uint32_t k) {
  flush_owner();
  owners_.push_back(k);
}

void Checker::end_owner() {
  flush_owner();
  owners_.pop_back();
}

void Checker::plain_use(std::uint32_t sym) {
  p_.symbols[sym].uses++;
  if (ic_ != nullptr) plain_uses_.push_back(sym);
}

// Whether segment `target` is reachable from `e` through the segments it names.
bool Checker::segment_reaches(const ast::Expr& e, std::string_view target, std::set<std::string_view>& seen) const {
  return std::visit(
      [&](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, ast::NameRef>) {
          if (v.name == target) return true;
          auto s = lookup(SymbolKind::Segment, v.name);
          if (!s || !seen.insert(p_.symbols[*s].name).second) return false;
          const auto& seg = std::get<ast::SegmentDecl>(p_.symbols[*s].decl->v);
          return seg.expr && segment_reaches(*seg.expr, target, seen);
        } else if constexpr (std::is_same_v<T, ast::Call>) {
          for (const auto& a : v.args) {
            if (a && segment_reaches(*a, target, seen)) return true;
          }
          return false;
        } else if constexpr (std::is_same_v<T, ast::Not> || std::is_same_v<T, ast::Neg>) {
          return v.operand && segment_reaches(*v.operand, target, seen);
        } else if constexpr (std::is_same_v<T, ast::Binary>) {
          return (v.lhs && segment_reaches(*v.lhs, target, seen)) || (v.rhs && segment_reaches(*v.rhs, target, seen));
        } else if constexpr (std::is_same_v<T, ast::SetLit>) {
          for (const auto& a : v.items) {
            if (a && segment_reaches(*a, target, seen)) return true;
          }
          return false;
        } else if constexpr (std::is_same_v<T, ast::RangeLit>) {
          return (v.lo && segment_reaches(*v.lo, target, seen)) || (v.hi && segment_reaches(*v.hi, target, seen));
        } else if constexpr (std::is_same_v<T, ast::Paren>) {
          return v.inner && segment_reaches(*v.inner, target, seen);
        } else {
          return false;
        }
      },
      e.v);
}

void Checker::run_incremental(IncrementalCheck& ic) {
  ic_ = &ic;
  std::vector<const ast::Decl*>& decls = decls_;
  for (const auto& f : p_.ast.files) {
    if (!f.decls.empty()) file_decls_.push_back(FileDecls{f.decls.data(), f.decls.size(), decls.size()});
    for (const auto& d : f.decls) decls.push_back(&d);
  }
  // Records for every declaration (a caller's list of another length is not used).
  std::vector<DeclCheck> own_records;
  if (ic.records.size() != decls.size()) {
    own_records.resize(decls.size());
    ic.records.clear();
    for (auto& r : own_records) ic.records.push_back(&r);
    ic.replay.assign(decls.size(), false);
  }
  // The tables at the size they had last time, so that they do not grow step by step.
  if (ic.have_interface) {
    p_.symbols.reserve(ic.interface.symbols.size());
    std::array<std::size_t, static_cast<std::size_t>(SymbolKind::Test) + 1> per_kind{};
    for (const auto& s : ic.interface.symbols) ++per_kind[static_cast<std::size_t>(s.kind)];
    for (std::size_t k = 0; k < per_kind.size(); ++k) by_name_[k].reserve(per_kind[k]);
  }
  collect_all();
  const bool same = ic.have_interface && same_interface(ic.interface);
  bool reuse = same && !ic.segment_cycle && !segment_duplicates_ && ic.replay.size() == decls.size() &&
               std::find(ic.replay.begin(), ic.replay.end(), true) != ic.replay.end();
  // A segment checked again must not close a cycle that the replayed ones would hide.
  for (std::size_t k = 0; reuse && k < decls.size(); ++k) {
    const auto* seg = std::get_if<ast::SegmentDecl>(&decls[k]->v);
    if (ic.replay[k] || seg == nullptr || !seg->expr) continue;
    std::set<std::string_view> seen;
    if (segment_reaches(*seg->expr, seg->name.text, seen)) reuse = false;
  }
  ic.same_interface = same;
  if (!same) ic.interface = interface();
  ic.have_interface = true;
  if (!reuse) {
    std::fill(p_.expr_types.begin(), p_.expr_types.end(), Type{});
    p_.expr_symbols.assign(p_.ast.node_count + 1, Program::kNoSymbol);
  }
  ic.replayed = 0;
  ic.checked = 0;
  std::vector<bool> live(decls.size(), true);
  for (std::size_t k = 0; k < decls.size(); ++k) {
    if (!reuse || !ic.replay[k] || ic.records[k] == nullptr || !ic.records[k]->self_contained) continue;
    live[k] = false;
    ++ic.replayed;
    const DeclCheck& r = *ic.records[k];
    for (const auto& ref : r.refs) p_.symbols[ref.symbol].uses++;
    for (const auto u : r.plain_uses) p_.symbols[u].uses++;
    for (const auto& s : r.started) started_scenarios_.insert(s);
    for (const auto& d : r.diags) p_.diags.all().push_back(d);
    if (const auto* seg = std::get_if<ast::SegmentDecl>(&decls[k]->v)) {
      auto i = lookup(SymbolKind::Segment, seg->name.text);
      if (i && p_.symbols[*i].decl == decls[k]) segment_state_[*i] = 2;
    }
  }
  for (std::size_t k = 0; k < decls.size(); ++k) {
    if (live[k]) *ic.records[k] = DeclCheck{};
  }
  diags_mark_ = p_.diags.all().size();
  refs_mark_ = p_.references.size();
  for (std::size_t k = 0; k < decls.size(); ++k) {
    if (!live[k]) continue;
    ++ic.checked;
    begin_owner(static_cast<std::uint32_t>(k));
    check_decl(*decls[k]);
    end_owner();
  }
  check_never_started();
  report_unused();
  p_.references.clear();
  for (std::size_t k = 0; k < decls.size(); ++k) {
    auto& refs = ic.records[k]->refs;
    if (live[k]) std::sort(refs.begin(), refs.end(), reference_order);
    p_.references.insert(p_.references.end(), refs.begin(), refs.end());
  }
  ic.segment_cycle = segment_cycle_;
  ic.segment_duplicates = segment_duplicates_;
  if (!own_records.empty()) ic.records.clear();
  ic_ = nullptr;
}

}  // namespace okuri::detail
