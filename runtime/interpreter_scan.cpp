// The interpreter's scan, column at a time, as in vectorized query engines: the
// nodes of a predicate are evaluated one after the other over a batch of
// kScanBatch friends, each into a small array — 64-bit values for integers,
// string views for text, and one word per 64 friends for the known mask (for a
// bool the mask *is* the value, as in the row form). The inner loops are plain
// loops of a fixed length over contiguous arrays, which GCC vectorises at -O2.
//
// A comparison, range or small set test of a column against constants reads the
// column in its own width and never materialises the column (`fused` below):
// the constants are first turned into a range (or members) of the column's raw
// values, clamped to the column's type. Bitmaps (tags, audiences, visits,
// blocked, field known masks) are copied a word at a time; `and`/`or`/`not` work
// on words. Text operations and calls into the stdlib go row by row inside the
// batch, with the same calls as the row form.
//
// Three-valued logic as in the row form: every value carries its known mask; a
// comparison, `in`, `not in` or `has` is and-ed with its operands' known masks,
// so an unknown operand gives false (and `not` of that gives true). The values
// in lanes that are not known are never read for a result.
#include "runtime/interpreter_scan.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <string_view>
#include <vector>

namespace okuri::rt::detail {
namespace {

using ir::Op;
using u8 = std::uint8_t;
using u64 = std::uint64_t;
using i64 = std::int64_t;

constexpr std::size_t B = kScanBatch;
constexpr std::size_t W = B / 64;
constexpr std::size_t C = 64;  // rows a kernel call handles: one word of the masks
static_assert(B % 64 == 0 && W <= 32);

constexpr i64 kMin = std::numeric_limits<i64>::min();
constexpr i64 kMax = std::numeric_limits<i64>::max();

i64 wrap_add(i64 a, i64 b) { return static_cast<i64>(static_cast<u64>(a) + static_cast<u64>(b)); }
i64 wrap_neg(i64 a) { return static_cast<i64>(0 - static_cast<u64>(a)); }
i64 wrap_mul(i64 a, i64 b) { return static_cast<i64>(static_cast<u64>(a) * static_cast<u64>(b)); }

// 64 bytes, each 0 or 1, into one word (byte j → bit j): eight bytes at a time by
// one multiplication that gathers their low bits into the top byte.
u64 pack(const u8* __restrict b) {
  u64 m = 0;
  for (unsigned g = 0; g < 8; ++g) {
    u64 x;
    std::memcpy(&x, b + g * 8, 8);
    m |= ((x * 0x0102040810204080ull) >> 56) << (g * 8);
  }
  return m;
}

bool bit_of(u64 k, std::size_t j) { return ((k >> j) & 1) != 0; }

// The column a comparison can read directly.
enum class Col : u8 { None, Age, Gender, Region, Score, Clicks, NamedScore, Field };

struct Fused {
  Col col = Col::None;
  std::int32_t index = 0;      // clicks: link; named score: score; field: field
  bool set = false;            // members rather than a range
  i64 lo = 1, hi = 0;          // value range (empty when lo > hi)
  bool neg = false;
  std::vector<i64> members;    // value domain
  bool narrow = false;         // age, score: reads the scan column (every finite bound and member fits it)
  // In the column's raw domain (raw = value + offset), clamped to its type; set by finish().
  i64 raw_lo = 1, raw_hi = 0;
  std::vector<i64> raw;
};

Col column_of(const ir::Node& n) {
  switch (n.op) {
    case Op::Attr:
      switch (static_cast<ir::Attr>(n.a)) {
        case ir::Attr::Age:
          return Col::Age;
        case ir::Attr::Gender:
          return Col::Gender;
        case ir::Attr::Region:
          return Col::Region;
        case ir::Attr::Score:
          return Col::Score;
        default:
          return Col::None;
      }
    case Op::Clicks:
      return n.a < 0 ? Col::None : Col::Clicks;
    case Op::NamedScore:
      return n.a < 0 ? Col::None : Col::NamedScore;
    case Op::Field:
      return n.a >= 0 && (n.type == ir::VType::Int || n.type == ir::VType::Set) ? Col::Field : Col::None;
    default:
      return Col::None;
  }
}

// `x op c` as a range of x (empty: lo > hi), possibly negated.
void cmp_range(ir::CmpOp op, i64 c, Fused& f) {
  switch (op) {
    case ir::CmpOp::Eq:
      f.lo = f.hi = c;
      break;
    case ir::CmpOp::Ne:
      f.lo = f.hi = c;
      f.neg = true;
      break;
    case ir::CmpOp::Lt:
      if (c == kMin) {
        f.lo = 1, f.hi = 0;
      } else {
        f.lo = kMin, f.hi = c - 1;
      }
      break;
    case ir::CmpOp::Le:
      f.lo = kMin, f.hi = c;
      break;
    case ir::CmpOp::Gt:
      if (c == kMax) {
        f.lo = 1, f.hi = 0;
      } else {
        f.lo = c + 1, f.hi = kMax;
      }
      break;
    case ir::CmpOp::Ge:
      f.lo = c, f.hi = kMax;
      break;
  }
}

ir::CmpOp mirror(ir::CmpOp op) {
  switch (op) {
    case ir::CmpOp::Lt:
      return ir::CmpOp::Gt;
    case ir::CmpOp::Le:
      return ir::CmpOp::Ge;
    case ir::CmpOp::Gt:
      return ir::CmpOp::Lt;
    case ir::CmpOp::Ge:
      return ir::CmpOp::Le;
    default:
      return op;
  }
}

// The value range [lo, hi] clamped to [tmin, tmax]; false when empty.
bool clamp(i64& lo, i64& hi, i64 tmin, i64 tmax) {
  if (lo > hi || hi < tmin || lo > tmax) return false;
  lo = std::max(lo, tmin);
  hi = std::min(hi, tmax);
  return true;
}

// r[j] = ((lo <= x[j] <= hi) xor neg) and known(x[j]).
template <typename T, typename Known>
void range_bytes(const T* __restrict x, T lo, T hi, u8 neg, Known known, u8* __restrict r) {
  for (std::size_t j = 0; j < C; ++j) {
    const T v = x[j];
    r[j] = static_cast<u8>((static_cast<u8>((v >= lo) & (v <= hi)) ^ neg) & known(v));
  }
}

// r[j] = (x[j] in members xor neg) and known(x[j]); members in the column's raw domain.
template <typename T, typename Known>
void set_bytes(const T* __restrict x, const std::vector<i64>& members, u8 neg, Known known, u8* __restrict r) {
  std::memset(r, 0, C);
  for (const i64 m64 : members) {
    const T m = static_cast<T>(m64);
    for (std::size_t j = 0; j < C; ++j) r[j] = static_cast<u8>(r[j] | static_cast<u8>(x[j] == m));
  }
  for (std::size_t j = 0; j < C; ++j) r[j] = static_cast<u8>((r[j] ^ neg) & known(x[j]));
}

// Turns the value range or members into the raw domain of a column of type T.
template <typename T>
void finish(Fused& f, i64 offset) {
  const i64 tmin = static_cast<i64>(std::numeric_limits<T>::min()) - offset;
  const i64 tmax = static_cast<i64>(std::numeric_limits<T>::max()) - offset;
  for (const i64 v : f.members) {
    if (v >= tmin && v <= tmax) f.raw.push_back(v + offset);
  }
  i64 lo = f.lo, hi = f.hi;
  if (clamp(lo, hi, tmin, tmax)) {
    f.raw_lo = lo + offset;
    f.raw_hi = hi + offset;
  } else {
    f.raw_lo = 1;
    f.raw_hi = 0;
  }
}

template <typename T, typename Known>
u64 fused_word(const T* x, const Fused& f, Known known, u8* r) {
  const u8 neg = f.neg ? 1 : 0;
  if (f.set) {
    set_bytes<T>(x, f.raw, neg, known, r);
  } else {
    range_bytes<T>(x, static_cast<T>(f.raw_lo), static_cast<T>(f.raw_hi), neg, known, r);
  }
  return pack(r);
}

struct Slot {
  i64* v = nullptr;
  std::string_view* t = nullptr;
  u64 k[W] = {};
};

// A gate: the words of a batch where the right side of an `and` (`or`) is needed
// are those where its left side is not all false (all true).
struct Gate {
  std::uint32_t node;
  bool is_and;
};

class Batch {
 public:
  Batch(const ir::Predicate& p, const FriendStore& s, const EvalEnv& env) : p_(p), s_(s), env_(env) {
    const std::size_t n = p.nodes.size();
    fused_.resize(n);
    need_.assign(n, false);
    for (std::size_t i = 0; i < n; ++i) plan_fused(static_cast<std::uint32_t>(i));
    need_[p.root()] = true;
    for (std::size_t i = n; i-- > 0;) {
      if (!need_[i] || fused_[i].col != Col::None) continue;
      const ir::Node& nd = p.nodes[i];
      for (unsigned k = 0; k < nd.nkids; ++k) need_[nd.kids[k]] = true;
    }
    plan_gates();
    slots_.resize(n);
    std::size_t nv = 0, nt = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!need_[i] || fused_[i].col != Col::None) continue;
      const auto t = p.nodes[i].type;
      if (t != ir::VType::Bool) ++nv;
      if (t == ir::VType::Text) ++nt;
    }
    values_.assign(nv * B, 0);
    texts_.assign(nt * B, std::string_view{});
    nv = nt = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (!need_[i] || fused_[i].col != Col::None) continue;
      const auto t = p.nodes[i].type;
      if (t != ir::VType::Bool) slots_[i].v = values_.data() + B * nv++;
      if (t == ir::VType::Text) slots_[i].t = texts_.data() + B * nt++;
    }
  }

  // Evaluates the batch starting at row `base` (a multiple of B) into W words.
  void run(std::size_t base, u64* out) {
    constexpr std::uint32_t all = W == 32 ? ~std::uint32_t{0} : (std::uint32_t{1} << W) - 1;
    for (std::uint32_t i = 0; i < p_.nodes.size(); ++i) {
      if (!need_[i]) continue;
      std::uint32_t act = all;
      for (const Gate& g : gates_[i]) {
        const u64* k = slots_[g.node].k;
        std::uint32_t m = 0;
        for (std::size_t w = 0; w < W; ++w) m |= static_cast<std::uint32_t>(g.is_and ? k[w] != 0 : k[w] != ~u64{0}) << w;
        act &= m;
      }
      if (eval_words(i, base)) continue;
      const bool fused = fused_[i].col != Col::None;
      while (act != 0) {
        const auto w = static_cast<std::size_t>(std::countr_zero(act));
        act &= act - 1;
        w_ = w;
        base_ = base + w * C;
        if (fused) {
          eval_fused(i);
        } else {
          eval(i);
        }
      }
    }
    std::memcpy(out, slots_[p_.root()].k, sizeof(u64) * W);
  }

 private:
  const ir::Predicate& p_;
  const FriendStore& s_;
  const EvalEnv& env_;
  std::vector<Fused> fused_;
  std::vector<bool> need_;
  std::vector<std::vector<Gate>> gates_;
  std::vector<Slot> slots_;
  std::vector<i64> values_;
  std::vector<std::string_view> texts_;
  std::size_t base_ = 0;  // first row of the word being evaluated
  std::size_t w_ = 0;     // its index in the batch
  alignas(64) u8 bytes_[C] = {};

  static bool is_const(const ir::Node& n) { return n.op == Op::ConstInt; }

  // Selection: the right side of an `and` need not be evaluated for a word where
  // its left side is all false (of an `or`: all true), as the result is then the
  // left side whatever the right side holds. Only for a right side whose nodes
  // are used by nothing else and come after the left side in evaluation order;
  // the words skipped hold stale values no result reads.
  void plan_gates() {
    const std::size_t n = p_.nodes.size();
    std::vector<std::uint32_t> uses(n, 0), first(n, 0);
    for (std::uint32_t i = 0; i < n; ++i) {
      const ir::Node& nd = p_.nodes[i];
      first[i] = i;
      for (unsigned k = 0; k < nd.nkids; ++k) {
        ++uses[nd.kids[k]];
        first[i] = std::min(first[i], first[nd.kids[k]]);
      }
    }
    gates_.assign(n, {});
    for (std::size_t i = n; i-- > 0;) {
      if (!need_[i] || fused_[i].col != Col::None) continue;
      const ir::Node& nd = p_.nodes[i];
      for (unsigned k = 0; k < nd.nkids; ++k) {
        const std::uint32_t kid = nd.kids[k];
        if (uses[kid] != 1) continue;  // shared: evaluated for every word
        gates_[kid] = gates_[i];
        if ((nd.op == Op::And || nd.op == Op::Or) && k == 1 && nd.kids[0] < first[kid]) {
          gates_[kid].push_back(Gate{nd.kids[0], nd.op == Op::And});
        }
      }
    }
  }

  void plan_fused(std::uint32_t i) {
    const ir::Node& nd = p_.nodes[i];
    Fused f;
    if (nd.op == Op::Cmp && nd.nkids == 2) {
      const ir::Node& l = p_.nodes[nd.kids[0]];
      const ir::Node& r = p_.nodes[nd.kids[1]];
      const auto op = static_cast<ir::CmpOp>(nd.a);
      if (column_of(l) != Col::None && is_const(r)) {
        f.col = column_of(l);
        f.index = l.a;
        cmp_range(op, r.b, f);
      } else if (column_of(r) != Col::None && is_const(l)) {
        f.col = column_of(r);
        f.index = r.a;
        cmp_range(mirror(op), l.b, f);
      }
    } else if (nd.op == Op::InRange && nd.nkids == 3) {
      const ir::Node& x = p_.nodes[nd.kids[0]];
      if (column_of(x) != Col::None && is_const(p_.nodes[nd.kids[1]]) && is_const(p_.nodes[nd.kids[2]])) {
        f.col = column_of(x);
        f.index = x.a;
        f.lo = p_.nodes[nd.kids[1]].b;
        f.hi = p_.nodes[nd.kids[2]].b;
        f.neg = nd.a != 0;
      }
    } else if (nd.op == Op::InSet && nd.nkids == 1) {
      const ir::Node& x = p_.nodes[nd.kids[0]];
      std::vector<i64> members;
      if (nd.mask != 0) {
        for (int b = 0; b < 64; ++b) {
          if (((nd.mask >> b) & 1) != 0) members.push_back(b);
        }
      } else {
        members = nd.ints;
      }
      if (column_of(x) != Col::None && members.size() <= 8) {
        f.col = column_of(x);
        f.index = x.a;
        f.set = true;
        f.members = std::move(members);
        f.neg = nd.a != 0;
      }
    }
    if (f.col == Col::Age || f.col == Col::Score) {
      // Saturation keeps the answer for bounds and members inside -126 … 126 (see narrow_value).
      auto fits = [](i64 v) { return v >= kNarrowMin && v <= kNarrowMax; };
      bool ok = true;
      if (f.set) {
        for (const i64 m : f.members) ok = ok && fits(m);
      } else if (f.lo <= f.hi) {
        ok = (f.lo == kMin || fits(f.lo)) && (f.hi == kMax || fits(f.hi));
      }
      if (ok) {
        f.narrow = true;
        finish<std::int8_t>(f, 0);
        fused_[i] = std::move(f);
        return;
      }
    }
    switch (f.col) {
      case Col::Age:
        finish<std::int16_t>(f, 0);
        break;
      case Col::Gender:
      case Col::Region:
        finish<std::uint8_t>(f, 1);
        break;
      case Col::Clicks:
        finish<std::uint32_t>(f, 0);
        break;
      case Col::Score:
      case Col::NamedScore:
      case Col::Field:
        finish<std::int64_t>(f, 0);
        break;
      case Col::None:
        break;
    }
    fused_[i] = std::move(f);
  }

  void eval_fused(std::uint32_t i) {
    const Fused& f = fused_[i];
    u64& out = slots_[i].k[w_];
    u8* r = bytes_;
    const auto all = [](auto) { return u8{1}; };
    switch (f.col) {
      case Col::Age:
        if (f.narrow) {
          out = fused_word<std::int8_t>(s_.age8.data() + base_, f,
                                        [](std::int8_t v) { return static_cast<u8>(v != kNarrowUnknown); }, r);
          break;
        }
        out = fused_word<std::int16_t>(s_.age.data() + base_, f, [](std::int16_t v) { return static_cast<u8>(v != kUnknownAge); }, r);
        break;
      case Col::Gender:
      case Col::Region:
        out = fused_word<std::uint8_t>((f.col == Col::Gender ? s_.gender : s_.region).data() + base_, f,
                                       [](std::uint8_t v) { return static_cast<u8>(v != 0); }, r);
        break;
      case Col::Score:
        out = f.narrow ? fused_word<std::int8_t>(s_.score8.data() + base_, f, all, r)
                       : fused_word<std::int64_t>(s_.score.data() + base_, f, all, r);
        break;
      case Col::Clicks:
        out = fused_word<std::uint32_t>(s_.links[static_cast<std::size_t>(f.index)].clicks.data() + base_, f, all, r);
        break;
      case Col::NamedScore:
        out = fused_word<std::int64_t>(s_.named_scores[static_cast<std::size_t>(f.index)].data() + base_, f, all, r);
        break;
      case Col::Field: {
        const auto& col = s_.fields[static_cast<std::size_t>(f.index)];
        out = fused_word<std::int64_t>(col.values.data() + base_, f, all, r) & col.known.words[base_ / 64];
        break;
      }
      case Col::None:
        break;
    }
  }

  u64 word(const Bitmap& b) const { return b.words[base_ / 64]; }

  // Nodes that are words already (bitmaps, and/or/not) go over the whole batch in one
  // loop: on words outside the node's selection they compute values no result reads.
  bool eval_words(std::uint32_t idx, std::size_t base) {
    const ir::Node& nd = p_.nodes[idx];
    u64* __restrict o = slots_[idx].k;
    const u64* a = nd.nkids > 0 ? slots_[nd.kids[0]].k : nullptr;
    const u64* b = nd.nkids > 1 ? slots_[nd.kids[1]].k : nullptr;
    const Bitmap* bm = nullptr;
    switch (nd.op) {
      case Op::And:
        for (std::size_t w = 0; w < W; ++w) o[w] = a[w] & b[w];
        return true;
      case Op::Or:
        for (std::size_t w = 0; w < W; ++w) o[w] = a[w] | b[w];
        return true;
      case Op::Not:
        for (std::size_t w = 0; w < W; ++w) o[w] = ~a[w];
        return true;
      case Op::Tagged:
        if (nd.a >= 0) bm = &s_.tags[static_cast<std::size_t>(nd.a)];
        break;
      case Op::InAudience:
        if (nd.a >= 0) bm = &s_.audiences[static_cast<std::size_t>(nd.a)];
        break;
      case Op::Visited:
        if (nd.a >= 0 && static_cast<std::size_t>(nd.a) < s_.visited.size()) bm = &s_.visited[static_cast<std::size_t>(nd.a)];
        break;
      default:
        return false;
    }
    if (bm == nullptr) {
      for (std::size_t w = 0; w < W; ++w) o[w] = 0;
    } else {
      std::memcpy(o, bm->words.data() + base / 64, sizeof(u64) * W);
    }
    return true;
  }

  template <typename F>
  u64 cmp_word(const i64* __restrict a, const i64* __restrict b, F f) {
    u8* __restrict r = bytes_;
    for (std::size_t j = 0; j < C; ++j) r[j] = static_cast<u8>(f(a[j], b[j]));
    return pack(r);
  }

  // Evaluates node `idx` for the word w_ (rows base_ … base_ + 63).
  void eval(std::uint32_t idx) {
    const ir::Node& nd = p_.nodes[idx];
    Slot& so = slots_[idx];
    const std::size_t w = w_;
    const std::size_t off = w * C;
    u64& ok = so.k[w];
    struct Kid {
      const i64* v = nullptr;
      const std::string_view* t = nullptr;
      u64 k = 0;
    } k0, k1, k2;
    auto kid = [&](unsigned i) {
      Kid c;
      const Slot& sl = slots_[nd.kids[i]];
      c.v = sl.v != nullptr ? sl.v + off : nullptr;
      c.t = sl.t != nullptr ? sl.t + off : nullptr;
      c.k = sl.k[w];
      return c;
    };
    if (nd.nkids > 0) k0 = kid(0);
    if (nd.nkids > 1) k1 = kid(1);
    if (nd.nkids > 2) k2 = kid(2);
    u8* __restrict r = bytes_;
    i64* __restrict v = so.v != nullptr ? so.v + off : nullptr;
    std::string_view* t = so.t != nullptr ? so.t + off : nullptr;
    const std::size_t base = base_;
    switch (nd.op) {
      case Op::ConstBool:
        ok = nd.b != 0 ? ~u64{0} : 0;
        break;
      case Op::ConstInt:
        for (std::size_t j = 0; j < C; ++j) v[j] = nd.b;
        ok = ~u64{0};
        break;
      case Op::ConstText:
        for (std::size_t j = 0; j < C; ++j) t[j] = nd.text;
        ok = ~u64{0};
        break;
      case Op::Attr:
        ok = attr(static_cast<ir::Attr>(nd.a), v, t);
        break;
      case Op::Field: {
        if (nd.a < 0) {
          ok = 0;
          break;
        }
        const auto& col = s_.fields[static_cast<std::size_t>(nd.a)];
        const i64* __restrict x = col.values.data() + base;
        const u64 known = word(col.known);
        if (nd.type == ir::VType::Bool) {
          for (std::size_t j = 0; j < C; ++j) r[j] = static_cast<u8>(x[j] != 0);
          ok = pack(r) & known;
        } else if (nd.type == ir::VType::Text) {
          for (std::size_t j = 0; j < C; ++j) {
            t[j] = bit_of(known, j) ? s_.texts.get(static_cast<std::int32_t>(x[j])) : std::string_view{};
          }
          ok = known;
        } else {
          for (std::size_t j = 0; j < C; ++j) v[j] = x[j];
          ok = known;
        }
        break;
      }
      case Op::NamedScore:
        if (nd.a < 0) {
          for (std::size_t j = 0; j < C; ++j) v[j] = 0;
        } else {
          const i64* __restrict x = s_.named_scores[static_cast<std::size_t>(nd.a)].data() + base;
          for (std::size_t j = 0; j < C; ++j) v[j] = x[j];
        }
        ok = ~u64{0};
        break;
      case Op::Tagged:
        ok = nd.a < 0 ? 0 : word(s_.tags[static_cast<std::size_t>(nd.a)]);
        break;
      case Op::InAudience:
        ok = nd.a < 0 ? 0 : word(s_.audiences[static_cast<std::size_t>(nd.a)]);
        break;
      case Op::Visited:
        ok = nd.a < 0 || static_cast<std::size_t>(nd.a) >= s_.visited.size() ? 0 : word(s_.visited[static_cast<std::size_t>(nd.a)]);
        break;
      case Op::Clicked:
      case Op::Opened: {
        if (nd.a < 0) {
          ok = 0;
          break;
        }
        const bool click = nd.op == Op::Clicked;
        const auto& count = click ? s_.links[static_cast<std::size_t>(nd.a)].clicks : s_.messages[static_cast<std::size_t>(nd.a)].opened;
        const auto& last = click ? s_.links[static_cast<std::size_t>(nd.a)].last : s_.messages[static_cast<std::size_t>(nd.a)].last_opened;
        const std::uint32_t* __restrict c = count.data() + base;
        const i64* __restrict l = last.data() + base;
        if (nd.b == 0) {
          for (std::size_t j = 0; j < C; ++j) r[j] = static_cast<u8>(c[j] > 0);
        } else {
          const i64 since = env_.now - nd.b;
          for (std::size_t j = 0; j < C; ++j) r[j] = static_cast<u8>((c[j] > 0) & (l[j] >= since));
        }
        ok = pack(r);
        break;
      }
      case Op::Clicks:
        if (nd.a < 0) {
          for (std::size_t j = 0; j < C; ++j) v[j] = 0;
        } else {
          const std::uint32_t* __restrict x = s_.links[static_cast<std::size_t>(nd.a)].clicks.data() + base;
          for (std::size_t j = 0; j < C; ++j) v[j] = x[j];
        }
        ok = ~u64{0};
        break;
      case Op::Sent:
        if (nd.a < 0) {
          ok = 0;
        } else {
          const std::uint32_t* __restrict x = s_.messages[static_cast<std::size_t>(nd.a)].sent.data() + base;
          for (std::size_t j = 0; j < C; ++j) r[j] = static_cast<u8>(x[j] > 0);
          ok = pack(r);
        }
        break;
      case Op::EventField:
        // A scan has no event: every event field is unknown (a bool one is false).
        ok = 0;
        break;
      case Op::Known:
        ok = p_.nodes[nd.kids[0]].type == ir::VType::Bool ? ~u64{0} : k0.k;
        break;
      case Op::LocalDays:
        for (std::size_t j = 0; j < C; ++j) v[j] = okuri_std_local_days(bit_of(k0.k, j) ? k0.v[j] : 0, env_.zone);
        ok = k0.k;
        break;
      case Op::Month:
        for (std::size_t j = 0; j < C; ++j) v[j] = okuri_std_month(bit_of(k0.k, j) ? k0.v[j] : 0);
        ok = k0.k;
        break;
      case Op::Day:
        for (std::size_t j = 0; j < C; ++j) v[j] = okuri_std_day(bit_of(k0.k, j) ? k0.v[j] : 0);
        ok = k0.k;
        break;
      case Op::Weekday:
        for (std::size_t j = 0; j < C; ++j) v[j] = okuri_std_weekday(bit_of(k0.k, j) ? k0.v[j] : 0);
        ok = k0.k;
        break;
      case Op::HourOfTime: {
        const i64* __restrict x = k0.v;
        for (std::size_t j = 0; j < C; ++j) v[j] = x[j] / 60;
        ok = k0.k;
        break;
      }
      case Op::HourOfDateTime:
        for (std::size_t j = 0; j < C; ++j) v[j] = okuri_std_local_minute(bit_of(k0.k, j) ? k0.v[j] : 0, env_.zone) / 60;
        ok = k0.k;
        break;
      case Op::Contains:
      case Op::StartsWith:
      case Op::TextEq: {
        const u64 both = k0.k & k1.k;
        for (std::size_t j = 0; j < C; ++j) {
          int res = 0;
          if (bit_of(both, j)) {
            const auto& a = k0.t[j];
            const auto& b = k1.t[j];
            if (nd.op == Op::Contains) {
              res = okuri_std_contains(a.data(), a.size(), b.data(), b.size());
            } else if (nd.op == Op::StartsWith) {
              res = okuri_std_starts_with(a.data(), a.size(), b.data(), b.size());
            } else {
              res = okuri_std_text_eq(a.data(), a.size(), b.data(), b.size()) ^ (nd.a != 0 ? 1 : 0);
            }
          }
          r[j] = static_cast<u8>(res != 0);
        }
        ok = pack(r);
        break;
      }
      case Op::Has: {
        if (nd.b < 0 || nd.b >= 64) {
          ok = 0;
          break;
        }
        const i64* __restrict x = k0.v;
        const auto sh = static_cast<unsigned>(nd.b);
        for (std::size_t j = 0; j < C; ++j) r[j] = static_cast<u8>((static_cast<u64>(x[j]) >> sh) & 1);
        ok = pack(r) & k0.k;
        break;
      }
      case Op::Cmp: {
        const i64* a = k0.v;
        const i64* b = k1.v;
        u64 m = 0;
        switch (static_cast<ir::CmpOp>(nd.a)) {
          case ir::CmpOp::Eq:
            m = cmp_word(a, b, [](i64 x, i64 y) { return x == y; });
            break;
          case ir::CmpOp::Ne:
            m = cmp_word(a, b, [](i64 x, i64 y) { return x != y; });
            break;
          case ir::CmpOp::Lt:
            m = cmp_word(a, b, [](i64 x, i64 y) { return x < y; });
            break;
          case ir::CmpOp::Le:
            m = cmp_word(a, b, [](i64 x, i64 y) { return x <= y; });
            break;
          case ir::CmpOp::Gt:
            m = cmp_word(a, b, [](i64 x, i64 y) { return x > y; });
            break;
          case ir::CmpOp::Ge:
            m = cmp_word(a, b, [](i64 x, i64 y) { return x >= y; });
            break;
        }
        ok = m & k0.k & k1.k;
        break;
      }
      case Op::InRange: {
        const i64* __restrict x = k0.v;
        const i64* __restrict lo = k1.v;
        const i64* __restrict hi = k2.v;
        const u8 neg = nd.a != 0 ? 1 : 0;
        for (std::size_t j = 0; j < C; ++j) r[j] = static_cast<u8>(static_cast<u8>((lo[j] <= x[j]) & (x[j] <= hi[j])) ^ neg);
        ok = pack(r) & k0.k & k1.k & k2.k;
        break;
      }
      case Op::InSet: {
        const i64* __restrict x = k0.v;
        for (std::size_t j = 0; j < C; ++j) {
          bool in = false;
          if (nd.mask != 0) {
            in = x[j] >= 0 && x[j] < 64 && ((nd.mask >> x[j]) & 1) != 0;
          } else {
            for (auto m : nd.ints) in = in || m == x[j];
          }
          r[j] = static_cast<u8>(nd.a != 0 ? !in : in);
        }
        ok = pack(r) & k0.k;
        break;
      }
      case Op::And:
        ok = k0.k & k1.k;
        break;
      case Op::Or:
        ok = k0.k | k1.k;
        break;
      case Op::Not:
        ok = ~k0.k;
        break;
      case Op::Add: {
        const i64* __restrict a = k0.v;
        const i64* __restrict b = k1.v;
        for (std::size_t j = 0; j < C; ++j) v[j] = wrap_add(a[j], b[j]);
        ok = k0.k & k1.k;
        break;
      }
      case Op::Sub: {
        const i64* __restrict a = k0.v;
        const i64* __restrict b = k1.v;
        for (std::size_t j = 0; j < C; ++j) v[j] = wrap_add(a[j], wrap_neg(b[j]));
        ok = k0.k & k1.k;
        break;
      }
      case Op::Neg: {
        const i64* __restrict a = k0.v;
        for (std::size_t j = 0; j < C; ++j) v[j] = wrap_neg(a[j]);
        ok = k0.k;
        break;
      }
      case Op::Scale: {
        const i64* __restrict x = k0.v;
        const i64 d = nd.b;
        for (std::size_t j = 0; j < C; ++j) {
          const i64 a = x[j];
          v[j] = a / d - ((a % d != 0) && ((a < 0) != (d < 0)));
        }
        ok = k0.k;
        break;
      }
      case Op::Mul: {
        const i64* __restrict a = k0.v;
        for (std::size_t j = 0; j < C; ++j) v[j] = wrap_mul(a[j], nd.b);
        ok = k0.k;
        break;
      }
    }
  }

  // An attribute's values for the word's rows into v (or t); returns its known mask.
  u64 attr(ir::Attr a, i64* __restrict v, std::string_view* t) {
    u8* __restrict r = bytes_;
    const std::size_t base = base_;
    switch (a) {
      case ir::Attr::Gender:
      case ir::Attr::Region: {
        const std::uint8_t* __restrict x = (a == ir::Attr::Gender ? s_.gender : s_.region).data() + base;
        for (std::size_t j = 0; j < C; ++j) {
          v[j] = static_cast<i64>(x[j]) - 1;
          r[j] = static_cast<u8>(x[j] != 0);
        }
        return pack(r);
      }
      case ir::Attr::Age: {
        const std::int16_t* __restrict x = s_.age.data() + base;
        for (std::size_t j = 0; j < C; ++j) {
          v[j] = x[j];
          r[j] = static_cast<u8>(x[j] != kUnknownAge);
        }
        return pack(r);
      }
      case ir::Attr::FriendDays: {
        const std::int32_t* __restrict x = s_.friend_since.data() + base;
        const i64 today = env_.today;
        for (std::size_t j = 0; j < C; ++j) {
          v[j] = today - x[j];
          r[j] = static_cast<u8>(x[j] != kUnknownDays);
        }
        return pack(r);
      }
      case ir::Attr::Source:
      case ir::Attr::DisplayName:
      case ir::Attr::Language: {
        const auto& col = a == ir::Attr::Source ? s_.source : a == ir::Attr::DisplayName ? s_.display_name : s_.language;
        for (std::size_t j = 0; j < C; ++j) {
          const std::int32_t id = col[base + j];
          r[j] = static_cast<u8>(id >= 0);
          t[j] = id >= 0 ? s_.texts.get(id) : std::string_view{};
        }
        return pack(r);
      }
      case ir::Attr::Blocked:
        return word(s_.blocked);
      case ir::Attr::Score: {
        const i64* __restrict x = s_.score.data() + base;
        for (std::size_t j = 0; j < C; ++j) v[j] = x[j];
        return ~u64{0};
      }
      case ir::Attr::Today:
        for (std::size_t j = 0; j < C; ++j) v[j] = env_.today;
        return ~u64{0};
      case ir::Attr::Now:
        for (std::size_t j = 0; j < C; ++j) v[j] = env_.now;
        return ~u64{0};
    }
    return 0;
  }
};

}  // namespace

void scan_batches(const ir::Predicate& p, const FriendStore& s, const EvalEnv& env, std::size_t batches, std::uint64_t* out) {
  if (batches == 0 || p.nodes.empty()) return;
  Batch b(p, s, env);
  for (std::size_t k = 0; k < batches; ++k) b.run(k * B, out + k * W);
}

}  // namespace okuri::rt::detail
