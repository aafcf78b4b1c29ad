// The lane evaluator: it evaluates the IR over a block of up to 64
// consecutive friends (lanes), node by node in post-order, keeping for each
// node 64 values and a mask of the lanes where the value is known. The row
// form is this code with one lane: it is the meaning. The scan runs the
// column-at-a-time evaluator of interpreter_scan.cpp over full batches of
// friends and this one over the rest; tests/unit/interpreter_scan_test.cpp
// checks the scan against the row form.
// For a Bool node the mask *is* the value: booleans are never unknown.
#include "runtime/interpreter.hpp"

#include "runtime/interpreter_scan.hpp"

#include <bit>
#include <string_view>

namespace okuri::rt {
namespace {

using ir::Op;

// Integer arithmetic wraps (two's complement), as in the generated code.
std::int64_t wrap_add(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}
std::int64_t wrap_neg(std::int64_t a) { return static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(a)); }
std::int64_t wrap_mul(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) * static_cast<std::uint64_t>(b));
}

struct Vals {
  std::int64_t v[64];
  std::string_view t[64];
  std::uint64_t known;  // Bool: the value
};

class Lanes {
 public:
  Lanes(const ir::Predicate& p, const FriendStore& s, const EvalEnv& env, const EventValues* ev)
      : p_(p), s_(s), env_(env), ev_(ev) {
    static thread_local std::vector<Vals> buffer;
    if (buffer.size() < p.nodes.size()) buffer.resize(p.nodes.size());
    vals_ = buffer.data();
  }

  // Evaluates lanes [0, n) for rows base … base+n-1; returns the root's mask.
  std::uint64_t run(std::size_t base, unsigned n) {
    base_ = base;
    n_ = n;
    all_ = n == 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << n) - 1);
    for (std::uint32_t i = 0; i < p_.nodes.size(); ++i) eval(i);
    return vals_[p_.root()].known & all_;
  }
  const Vals& root() const { return vals_[p_.root()]; }

 private:
  const ir::Predicate& p_;
  const FriendStore& s_;
  const EvalEnv& env_;
  const EventValues* ev_;
  Vals* vals_;
  std::size_t base_ = 0;
  unsigned n_ = 0;
  std::uint64_t all_ = 0;

  std::uint64_t bits(const Bitmap& b) const {
    // The lanes' bits of a bitmap; base_ is a multiple of 64 in scans, 0-offset otherwise.
    if ((base_ & 63) == 0) return b.words[base_ >> 6] & all_;
    std::uint64_t m = 0;
    for (unsigned i = 0; i < n_; ++i) m |= static_cast<std::uint64_t>(b.get(base_ + i)) << i;
    return m;
  }

  template <typename F>
  void each(Vals& out, F f) {
    for (unsigned i = 0; i < n_; ++i) f(i, base_ + i);
    (void)out;
  }

  void eval(std::uint32_t idx) {
    const ir::Node& nd = p_.nodes[idx];
    Vals& o = vals_[idx];
    const Vals* k0 = nd.nkids > 0 ? &vals_[nd.kids[0]] : nullptr;
    const Vals* k1 = nd.nkids > 1 ? &vals_[nd.kids[1]] : nullptr;
    const Vals* k2 = nd.nkids > 2 ? &vals_[nd.kids[2]] : nullptr;
    o.known = 0;
    switch (nd.op) {
      case Op::ConstBool:
        o.known = nd.b != 0 ? all_ : 0;
        break;
      case Op::ConstInt:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = nd.b;
        o.known = all_;
        break;
      case Op::ConstText:
        for (unsigned i = 0; i < n_; ++i) o.t[i] = nd.text;
        o.known = all_;
        break;
      case Op::Attr:
        attr(static_cast<ir::Attr>(nd.a), o);
        break;
      case Op::Field: {
        if (nd.a < 0) break;
        const auto& col = s_.fields[static_cast<std::size_t>(nd.a)];
        const std::uint64_t known = bits(col.known);
        if (nd.type == ir::VType::Bool) {
          for (unsigned i = 0; i < n_; ++i) {
            if (((known >> i) & 1) != 0 && col.values[base_ + i] != 0) o.known |= std::uint64_t{1} << i;
          }
        } else if (nd.type == ir::VType::Text) {
          for (unsigned i = 0; i < n_; ++i) {
            if (((known >> i) & 1) != 0) o.t[i] = s_.texts.get(static_cast<std::int32_t>(col.values[base_ + i]));
          }
          o.known = known;
        } else {
          for (unsigned i = 0; i < n_; ++i) o.v[i] = col.values[base_ + i];
          o.known = known;
        }
        break;
      }
      case Op::NamedScore:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = nd.a < 0 ? 0 : s_.named_scores[static_cast<std::size_t>(nd.a)][base_ + i];
        o.known = all_;
        break;
      case Op::Tagged:
        o.known = nd.a < 0 ? 0 : bits(s_.tags[static_cast<std::size_t>(nd.a)]);
        break;
      case Op::InAudience:
        o.known = nd.a < 0 ? 0 : bits(s_.audiences[static_cast<std::size_t>(nd.a)]);
        break;
      case Op::Visited:
        o.known = nd.a < 0 || static_cast<std::size_t>(nd.a) >= s_.visited.size() ? 0 : bits(s_.visited[static_cast<std::size_t>(nd.a)]);
        break;
      case Op::Clicked:
      case Op::Opened: {
        if (nd.a < 0) break;
        const bool click = nd.op == Op::Clicked;
        const auto& count = click ? s_.links[static_cast<std::size_t>(nd.a)].clicks : s_.messages[static_cast<std::size_t>(nd.a)].opened;
        const auto& last = click ? s_.links[static_cast<std::size_t>(nd.a)].last : s_.messages[static_cast<std::size_t>(nd.a)].last_opened;
        for (unsigned i = 0; i < n_; ++i) {
          const bool yes = count[base_ + i] > 0 && (nd.b == 0 || last[base_ + i] >= env_.now - nd.b);
          o.known |= static_cast<std::uint64_t>(yes) << i;
        }
        break;
      }
      case Op::Clicks:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = nd.a < 0 ? 0 : s_.links[static_cast<std::size_t>(nd.a)].clicks[base_ + i];
        o.known = all_;
        break;
      case Op::Sent:
        for (unsigned i = 0; i < n_; ++i) {
          o.known |= static_cast<std::uint64_t>(nd.a >= 0 && s_.messages[static_cast<std::size_t>(nd.a)].sent[base_ + i] > 0) << i;
        }
        break;
      case Op::EventField: {
        if (ev_ == nullptr || nd.a < 0 || static_cast<std::size_t>(nd.a) >= ev_->size()) break;
        const EventValue& e = (*ev_)[static_cast<std::size_t>(nd.a)];
        if (!e.known) break;
        if (nd.type == ir::VType::Bool) {
          o.known = e.i != 0 ? all_ : 0;
        } else {
          for (unsigned i = 0; i < n_; ++i) {
            o.v[i] = e.i;
            o.t[i] = e.text;
          }
          o.known = all_;
        }
        break;
      }
      case Op::Known:
        o.known = p_.nodes[nd.kids[0]].type == ir::VType::Bool ? all_ : k0->known;
        break;
      case Op::LocalDays:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = okuri_std_local_days((((k0->known >> i) & 1) != 0 ? k0->v[i] : 0), env_.zone);
        o.known = k0->known;
        break;
      case Op::Month:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = okuri_std_month((((k0->known >> i) & 1) != 0 ? k0->v[i] : 0));
        o.known = k0->known;
        break;
      case Op::Day:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = okuri_std_day((((k0->known >> i) & 1) != 0 ? k0->v[i] : 0));
        o.known = k0->known;
        break;
      case Op::Weekday:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = okuri_std_weekday((((k0->known >> i) & 1) != 0 ? k0->v[i] : 0));
        o.known = k0->known;
        break;
      case Op::HourOfTime:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = k0->v[i] / 60;
        o.known = k0->known;
        break;
      case Op::HourOfDateTime:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = okuri_std_local_minute((((k0->known >> i) & 1) != 0 ? k0->v[i] : 0), env_.zone) / 60;
        o.known = k0->known;
        break;
      case Op::Contains:
      case Op::StartsWith:
      case Op::TextEq: {
        const std::uint64_t both = k0->known & k1->known;
        for (unsigned i = 0; i < n_; ++i) {
          if (((both >> i) & 1) == 0) continue;
          const auto& a = k0->t[i];
          const auto& b = k1->t[i];
          int r = 0;
          if (nd.op == Op::Contains) {
            r = okuri_std_contains(a.data(), a.size(), b.data(), b.size());
          } else if (nd.op == Op::StartsWith) {
            r = okuri_std_starts_with(a.data(), a.size(), b.data(), b.size());
          } else {
            r = okuri_std_text_eq(a.data(), a.size(), b.data(), b.size()) ^ (nd.a != 0 ? 1 : 0);
          }
          o.known |= static_cast<std::uint64_t>(r != 0) << i;
        }
        break;
      }
      case Op::Has:
        for (unsigned i = 0; i < n_; ++i) {
          const bool yes = ((k0->known >> i) & 1) != 0 && nd.b >= 0 && nd.b < 64 && ((k0->v[i] >> nd.b) & 1) != 0;
          o.known |= static_cast<std::uint64_t>(yes) << i;
        }
        break;
      case Op::Cmp: {
        const std::uint64_t both = k0->known & k1->known;
        for (unsigned i = 0; i < n_; ++i) {
          const std::int64_t a = k0->v[i];
          const std::int64_t b = k1->v[i];
          bool r = false;
          switch (static_cast<ir::CmpOp>(nd.a)) {
            case ir::CmpOp::Eq:
              r = a == b;
              break;
            case ir::CmpOp::Ne:
              r = a != b;
              break;
            case ir::CmpOp::Lt:
              r = a < b;
              break;
            case ir::CmpOp::Le:
              r = a <= b;
              break;
            case ir::CmpOp::Gt:
              r = a > b;
              break;
            case ir::CmpOp::Ge:
              r = a >= b;
              break;
          }
          o.known |= static_cast<std::uint64_t>(r) << i;
        }
        o.known &= both;
        break;
      }
      case Op::InRange: {
        const std::uint64_t all = k0->known & k1->known & k2->known;
        for (unsigned i = 0; i < n_; ++i) {
          const bool in = k1->v[i] <= k0->v[i] && k0->v[i] <= k2->v[i];
          o.known |= static_cast<std::uint64_t>(nd.a != 0 ? !in : in) << i;
        }
        o.known &= all;
        break;
      }
      case Op::InSet:
        for (unsigned i = 0; i < n_; ++i) {
          bool in = false;
          if (nd.mask != 0) {
            in = k0->v[i] >= 0 && k0->v[i] < 64 && ((nd.mask >> k0->v[i]) & 1) != 0;
          } else {
            for (auto x : nd.ints) in = in || x == k0->v[i];
          }
          o.known |= static_cast<std::uint64_t>(nd.a != 0 ? !in : in) << i;
        }
        o.known &= k0->known;
        break;
      case Op::And:
        o.known = k0->known & k1->known;
        break;
      case Op::Or:
        o.known = k0->known | k1->known;
        break;
      case Op::Not:
        o.known = ~k0->known & all_;
        break;
      case Op::Add:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = wrap_add(k0->v[i], k1->v[i]);
        o.known = k0->known & k1->known;
        break;
      case Op::Sub:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = wrap_add(k0->v[i], wrap_neg(k1->v[i]));
        o.known = k0->known & k1->known;
        break;
      case Op::Neg:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = wrap_neg(k0->v[i]);
        o.known = k0->known;
        break;
      case Op::Scale:
        for (unsigned i = 0; i < n_; ++i) {
          const std::int64_t a = k0->v[i];
          o.v[i] = a / nd.b - ((a % nd.b != 0) && ((a < 0) != (nd.b < 0)));
        }
        o.known = k0->known;
        break;
      case Op::Mul:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = wrap_mul(k0->v[i], nd.b);
        o.known = k0->known;
        break;
    }
  }

  void attr(ir::Attr a, Vals& o) {
    switch (a) {
      case ir::Attr::Gender:
      case ir::Attr::Region: {
        const auto& col = a == ir::Attr::Gender ? s_.gender : s_.region;
        for (unsigned i = 0; i < n_; ++i) {
          const std::uint8_t g = col[base_ + i];
          o.v[i] = static_cast<std::int64_t>(g) - 1;
          o.known |= static_cast<std::uint64_t>(g != 0) << i;
        }
        break;
      }
      case ir::Attr::Age:
        for (unsigned i = 0; i < n_; ++i) {
          const std::int16_t v = s_.age[base_ + i];
          o.v[i] = v;
          o.known |= static_cast<std::uint64_t>(v != kUnknownAge) << i;
        }
        break;
      case ir::Attr::FriendDays:
        for (unsigned i = 0; i < n_; ++i) {
          const std::int32_t v = s_.friend_since[base_ + i];
          o.v[i] = env_.today - v;
          o.known |= static_cast<std::uint64_t>(v != kUnknownDays) << i;
        }
        break;
      case ir::Attr::Source:
      case ir::Attr::DisplayName:
      case ir::Attr::Language: {
        const auto& col = a == ir::Attr::Source ? s_.source : a == ir::Attr::DisplayName ? s_.display_name : s_.language;
        for (unsigned i = 0; i < n_; ++i) {
          const std::int32_t id = col[base_ + i];
          if (id >= 0) {
            o.t[i] = s_.texts.get(id);
            o.known |= std::uint64_t{1} << i;
          }
        }
        break;
      }
      case ir::Attr::Blocked:
        o.known = bits(s_.blocked);
        break;
      case ir::Attr::Score:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = s_.score[base_ + i];
        o.known = all_;
        break;
      case ir::Attr::Today:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = env_.today;
        o.known = all_;
        break;
      case ir::Attr::Now:
        for (unsigned i = 0; i < n_; ++i) o.v[i] = env_.now;
        o.known = all_;
        break;
    }
  }
};

}  // namespace

bool eval_row(const ir::Predicate& p, const FriendStore& s, std::uint32_t row, const EvalEnv& env, const EventValues* event) {
  Lanes l(p, s, env, event);
  return l.run(row, 1) != 0;
}

Value eval_value(const ir::Predicate& p, const FriendStore& s, std::uint32_t row, const EvalEnv& env,
                 const EventValues* event) {
  Lanes l(p, s, env, event);
  const bool bit = l.run(row, 1) != 0;
  Value out;
  const Vals& r = l.root();
  switch (p.nodes[p.root()].type) {
    case ir::VType::Bool:
      out.known = true;
      out.i = bit ? 1 : 0;
      break;
    case ir::VType::Text:
      out.known = bit;
      if (bit) out.text = std::string(r.t[0]);
      break;
    default:
      out.known = bit;
      if (bit) out.i = r.v[0];
      break;
  }
  return out;
}

void scan(const ir::Predicate& p, const FriendStore& s, const EvalEnv& env, std::vector<std::uint64_t>& out) {
  const std::size_t n = s.size();
  out.assign((n + 63) / 64, 0);
  // Full batches column at a time (interpreter_scan.cpp); the rest 64 friends at a time.
  const std::size_t batches = n / detail::kScanBatch;
  detail::scan_batches(p, s, env, batches, out.data());
  Lanes l(p, s, env, nullptr);
  for (std::size_t k = batches * (detail::kScanBatch / 64); k < out.size(); ++k) {
    const auto lanes = static_cast<unsigned>(std::min<std::size_t>(64, n - k * 64));
    out[k] = l.run(k * 64, lanes);
  }
}

std::size_t count_bits(const std::vector<std::uint64_t>& mask) {
  std::size_t c = 0;
  for (auto w : mask) c += static_cast<std::size_t>(std::popcount(w));
  return c;
}

}  // namespace okuri::rt
