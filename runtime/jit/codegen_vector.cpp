// The vector scan of the code generator (codegen.hpp): masks, the shapes of
// shared subtrees and their outlined functions, the vector form of every node,
// and the `_scan` loop over blocks of 64 friends.
#include "runtime/jit/codegen.hpp"

#include <algorithm>
#include <bit>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace okuri::jit::detail {

using namespace llvm;

Value* Codegen::splat_int(unsigned w, std::int64_t c) {
  return splat(ConstantInt::get(Type::getIntNTy(C, w), static_cast<std::uint64_t>(c), /*isSigned=*/true));
}

Value* Codegen::as_vec(const Mask& m) {
  if (m.kind == Mask::Vec) return m.v;
  if (m.kind == Mask::Word) return B.CreateBitCast(m.v, vt(i1));
  return splat(B.getInt1(m.c));
}

Value* Codegen::as_word(const Mask& m) {
  if (m.kind == Mask::Word) return m.v;
  if (m.kind == Mask::Vec) return B.CreateBitCast(m.v, wordty());
  return m.c ? Constant::getAllOnesValue(wordty()) : Constant::getNullValue(wordty());
}

Codegen::Mask Codegen::mand(const Mask& a, const Mask& b) {
  if (a.kind == Mask::Const) return a.c ? b : a;
  if (b.kind == Mask::Const) return b.c ? a : b;
  if (a.kind == Mask::Vec && b.kind == Mask::Vec) return mvec(B.CreateAnd(as_vec(a), as_vec(b)));
  return mword(B.CreateAnd(as_word(a), as_word(b)));
}

Codegen::Mask Codegen::mor(const Mask& a, const Mask& b) {
  if (a.kind == Mask::Const) return a.c ? a : b;
  if (b.kind == Mask::Const) return b.c ? b : a;
  if (a.kind == Mask::Vec && b.kind == Mask::Vec) return mvec(B.CreateOr(as_vec(a), as_vec(b)));
  return mword(B.CreateOr(as_word(a), as_word(b)));
}

Codegen::Mask Codegen::mnot(const Mask& a) {
  if (a.kind == Mask::Const) return mconst(!a.c);
  if (a.kind == Mask::Vec) return mvec(B.CreateNot(a.v));
  return mword(B.CreateNot(a.v));
}

Value* Codegen::wide(const VI& x) {
  if (x.v == nullptr) return splat_int(64, x.c);
  if (x.w == 64) return x.v;
  return x.sext ? B.CreateSExt(x.v, vt(i64)) : B.CreateZExt(x.v, vt(i64));
}

Value* Codegen::vslot(std::uint32_t k) {
  auto it = vslots_.find(k);
  if (it != vslots_.end()) return it->second;
  Value* v = B.CreateLoad(ptr, B.CreateGEP(ptr, vcols_, B.getInt64(k)));
  vslots_[k] = v;
  return v;
}

Value* Codegen::vload_at(Type* t, Value* col) {
  return B.CreateAlignedLoad(vt(t), B.CreateGEP(t, col, vcbase_), Align(t->getIntegerBitWidth() / 8));
}

Codegen::Mask Codegen::chunk_bits(Value* w) {
  if (lanes_ == 64) return mword(w);
  return mword(B.CreateTrunc(B.CreateLShr(w, B.getInt64(static_cast<std::uint64_t>(chunk_) * lanes_)), wordty()));
}

Value* Codegen::vload(Type* t, std::uint32_t k) {
  auto it = vloads_.find(k);
  if (it != vloads_.end()) return it->second;
  Value* v = vload_at(t, vslot(k));
  vloads_[k] = v;
  return v;
}

Codegen::Mask Codegen::vbits(std::uint32_t k) {
  Value* w = nullptr;
  if (auto it = vwords_.find(k); it != vwords_.end()) {
    w = it->second;
  } else {
    w = vword_at(vslot(k));
    vwords_[k] = w;
  }
  return chunk_bits(w);
}

char Codegen::width_class(std::int64_t c) {
  if (fits(c, rt::kNarrowMin, rt::kNarrowMax)) return 'b';  // also fits the scan columns of age and score
  if (fits(c, -32768, 32767)) return 's';
  if (fits(c, 0, 0xffffffffll)) return 'u';
  return 'w';
}

void Codegen::node_params(const ir::Node& n, std::vector<std::int64_t>& out) const {
  using ir::Op;
  switch (n.op) {
    case Op::ConstInt:
      out.push_back(n.b);
      break;
    case Op::Field:
      if (n.a >= 0) {
        out.push_back(L.field_known(n.a));
        out.push_back(L.field_values(n.a));
      }
      break;
    case Op::NamedScore:
      if (n.a >= 0) out.push_back(L.named_score(n.a));
      break;
    case Op::Tagged:
      if (n.a >= 0) out.push_back(L.tag(n.a));
      break;
    case Op::InAudience:
      if (n.a >= 0) out.push_back(L.audience(n.a));
      break;
    case Op::Visited:
      if (n.a >= 0 && static_cast<std::size_t>(n.a) < schema_.visit_patterns.size()) out.push_back(L.visit(n.a));
      break;
    case Op::Clicked:
    case Op::Opened:
      if (n.a >= 0) {
        const bool click = n.op == Op::Clicked;
        out.push_back(click ? L.link_clicks(n.a) : L.msg_opened(n.a));
        if (n.b != 0) {
          out.push_back(click ? L.link_last(n.a) : L.msg_last_opened(n.a));
          out.push_back(n.b);
        }
      }
      break;
    case Op::Clicks:
      if (n.a >= 0) out.push_back(L.link_clicks(n.a));
      break;
    case Op::Sent:
      if (n.a >= 0) out.push_back(L.msg_sent(n.a));
      break;
    case Op::Has:
      if (n.b >= 0 && n.b < 64) out.push_back(static_cast<std::int64_t>(std::uint64_t{1} << n.b));
      break;
    case Op::InSet:
      if (n.mask != 0 && std::popcount(n.mask) > 8) {
        out.push_back(static_cast<std::int64_t>(n.mask));
      } else if (n.mask != 0) {
        for (int b = 0; b < 64; ++b) {
          if (((n.mask >> b) & 1) != 0) out.push_back(b);
        }
      } else {
        for (auto x : n.ints) out.push_back(x);
      }
      break;
    default:
      break;
  }
}

std::string Codegen::node_key(const ir::Node& n) const {
  using ir::Op;
  std::string k = std::to_string(static_cast<int>(n.op)) + "." + std::to_string(static_cast<int>(n.type)) + "." +
                  std::to_string(n.nkids);
  switch (n.op) {
    case Op::ConstInt:
      k += width_class(n.b);
      break;
    case Op::Attr:
    case Op::Cmp:
      k += "a" + std::to_string(n.a);
      break;
    case Op::InRange:
      k += "a" + std::to_string(n.a);
      break;
    case Op::Field:
    case Op::NamedScore:
    case Op::Tagged:
    case Op::InAudience:
    case Op::Clicks:
    case Op::Sent:
      k += n.a < 0 ? "x" : "";
      break;
    case Op::Visited:
      k += n.a < 0 || static_cast<std::size_t>(n.a) >= schema_.visit_patterns.size() ? "x" : "";
      break;
    case Op::Clicked:
    case Op::Opened:
      k += n.a < 0 ? "x" : (n.b != 0 ? "w" : "");
      break;
    case Op::Has:
      k += n.b >= 0 && n.b < 64 ? "" : "x";
      break;
    case Op::InSet:
      k += "a" + std::to_string(n.a);
      if (n.mask != 0 && std::popcount(n.mask) > 8) {
        k += "m";
      } else if (n.mask != 0) {
        k += "b" + std::to_string(std::popcount(n.mask));
      } else {
        k += "i";
        for (auto x : n.ints) k += width_class(x);
      }
      break;
    case Op::Scale:
    case Op::Mul:
      k += "b" + std::to_string(n.b);
      break;
    default:
      break;
  }
  return k + ";";
}

Codegen::Shapes Codegen::shapes_of(const ir::Predicate& p) const {
  Shapes s;
  const std::size_t n = p.nodes.size();
  s.key.resize(n);
  s.size.assign(n, 1);
  s.parents.assign(n, 0);
  for (std::size_t i = 0; i < n; ++i) {
    const ir::Node& nd = p.nodes[i];
    std::string k;
    for (int j = 0; j < nd.nkids; ++j) {
      k += s.key[nd.kids[j]];
      s.size[i] += s.size[nd.kids[j]];
      ++s.parents[nd.kids[j]];
    }
    // Only subtrees of up to 256 nodes get a key (and may be shared), so that the keys of a
    // long chain of `or` stay small.
    if (s.size[i] <= 256) s.key[i] = k + node_key(nd);
  }
  return s;
}

bool Codegen::eligible(const ir::Predicate& p, const Shapes& s, std::uint32_t i) const {
  if (p.nodes[i].type != ir::VType::Bool || s.size[i] < kMinShared || s.key[i].empty()) return false;
  auto it = shape_count_.find(s.key[i]);
  return it != shape_count_.end() && it->second >= 2;
}

void Codegen::prepare(const std::vector<ir::Predicate>& preds) {
  for (const auto& p : preds) {
    if (!vector_form(p)) continue;
    const Shapes s = shapes_of(p);
    for (std::size_t i = 0; i < p.nodes.size(); ++i) {
      if (p.nodes[i].type == ir::VType::Bool && s.size[i] >= kMinShared && !s.key[i].empty()) ++shape_count_[s.key[i]];
    }
  }
}

std::vector<char> Codegen::outlined(const ir::Predicate& p, const Shapes& s, std::vector<char>& covered) const {
  std::vector<char> out(p.nodes.size(), 0);
  covered.assign(p.nodes.size(), 0);
  auto tree = [&](auto&& self, std::uint32_t i) -> bool {
    for (int j = 0; j < p.nodes[i].nkids; ++j) {
      const auto k = p.nodes[i].kids[j];
      if (s.parents[k] != 1 || !self(self, k)) return false;
    }
    return true;
  };
  auto cover = [&](auto&& self, std::uint32_t i) -> void {
    for (int j = 0; j < p.nodes[i].nkids; ++j) {
      covered[p.nodes[i].kids[j]] = 1;
      self(self, p.nodes[i].kids[j]);
    }
  };
  auto walk = [&](auto&& self, std::uint32_t i) -> void {
    if (eligible(p, s, i) && tree(tree, i)) {
      out[i] = 1;
      cover(cover, i);
      return;
    }
    for (int j = 0; j < p.nodes[i].nkids; ++j) self(self, p.nodes[i].kids[j]);
  };
  walk(walk, p.root());
  return out;
}

void Codegen::collect_params(const ir::Predicate& p, std::uint32_t i, std::vector<std::int64_t>& out) const {
  for (int j = 0; j < p.nodes[i].nkids; ++j) collect_params(p, p.nodes[i].kids[j], out);
  node_params(p.nodes[i], out);
}

Codegen::VN Codegen::vtree(const ir::Predicate& p, std::uint32_t i, std::vector<VN>& vals) {
  for (int j = 0; j < p.nodes[i].nkids; ++j) vals[p.nodes[i].kids[j]] = vtree(p, p.nodes[i].kids[j], vals);
  return vnode(p, i, vals);
}

Codegen::VI Codegen::pconst(std::int64_t c) {
  if (vparams_ == nullptr) return vconst(c, mconst(true));
  Value* x = param();
  switch (width_class(c)) {
    case 'b':
      return VI{splat(B.CreateTrunc(x, i8)), 8, true, 0, mconst(true)};
    case 's':
      return VI{splat(B.CreateTrunc(x, i16)), 16, true, 0, mconst(true)};
    case 'u':
      return VI{splat(B.CreateTrunc(x, i32)), 32, false, 0, mconst(true)};
    default:
      return VI{splat(x), 64, true, 0, mconst(true)};
  }
}

Function* Codegen::shape_fn(const ir::Predicate& p, std::uint32_t root, const std::string& key) {
  if (auto it = shapes_.find(key); it != shapes_.end()) return it->second;
  auto* f = Function::Create(FunctionType::get(i64, {ptr, ptr, i64, ptr}, false), Function::InternalLinkage,
                             "okuri.shape." + std::to_string(shapes_.size()), M);
  shapes_[key] = f;
  vector_fn_attrs(f);
  f->getArg(3)->addAttr(Attribute::NoAlias);
  f->getArg(3)->addAttr(Attribute::ReadOnly);
  // Save the caller's state, generate, restore.
  IRBuilderBase::InsertPointGuard guard(B);
  auto saved = std::make_tuple(vcols_, venv_, vbase_, vcbase_, vnow_, vtoday_, vparams_, pnext_, chunk_);
  auto saved_maps = std::make_tuple(vslots_, vwords_, vloads_, vleaves_, calls_);
  B.SetInsertPoint(BasicBlock::Create(C, "entry", f));
  begin_vector_code(f->getArg(0), f->getArg(1), f->getArg(2));
  vparams_ = f->getArg(3);
  Value* result = nullptr;
  for (chunk_ = 0; chunk_ < 64 / lanes_; ++chunk_) {
    begin_chunk();
    pnext_ = 0;
    std::vector<VN> vals(p.nodes.size());
    result = end_chunk(vtree(p, root, vals).b, result);
  }
  B.CreateRet(result);
  std::tie(vcols_, venv_, vbase_, vcbase_, vnow_, vtoday_, vparams_, pnext_, chunk_) = saved;
  std::tie(vslots_, vwords_, vloads_, vleaves_, calls_) = saved_maps;
  return f;
}

void Codegen::vector_fn_attrs(Function* f) {
  attrs(f, cpu_, features_);
  if (lanes_ == 64) f->addFnAttr("min-legal-vector-width", "512");
  for (unsigned a : {0u, 1u}) {
    f->getArg(a)->addAttr(Attribute::NoAlias);
    f->getArg(a)->addAttr(Attribute::ReadOnly);
  }
}

void Codegen::begin_vector_code(Value* cols, Value* env, Value* base) {
  vcols_ = cols;
  venv_ = env;
  vbase_ = base;
  vparams_ = nullptr;
  vslots_.clear();
  vwords_.clear();
  calls_.clear();
  vnow_ = B.CreateLoad(i64, B.CreateGEP(i64, venv_, B.getInt64(0)));
  vtoday_ = B.CreateLoad(i64, B.CreateGEP(i64, venv_, B.getInt64(1)));
}

void Codegen::begin_chunk() {
  vloads_.clear();
  vleaves_.clear();
  vcbase_ = chunk_ == 0 ? vbase_ : B.CreateAdd(vbase_, B.getInt64(static_cast<std::uint64_t>(chunk_) * lanes_));
}

Value* Codegen::end_chunk(const Mask& root, Value* acc) {
  Value* w = as_word(root);
  if (lanes_ < 64) w = B.CreateShl(B.CreateZExt(w, i64), static_cast<std::uint64_t>(chunk_) * lanes_);
  return acc == nullptr ? w : B.CreateOr(acc, w);
}

ir::CmpOp Codegen::swapped(ir::CmpOp op) {
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

CmpInst::Predicate Codegen::pred_of(ir::CmpOp op, bool is_signed) {
  switch (op) {
    case ir::CmpOp::Eq:
      return CmpInst::ICMP_EQ;
    case ir::CmpOp::Ne:
      return CmpInst::ICMP_NE;
    case ir::CmpOp::Lt:
      return is_signed ? CmpInst::ICMP_SLT : CmpInst::ICMP_ULT;
    case ir::CmpOp::Le:
      return is_signed ? CmpInst::ICMP_SLE : CmpInst::ICMP_ULE;
    case ir::CmpOp::Gt:
      return is_signed ? CmpInst::ICMP_SGT : CmpInst::ICMP_UGT;
    case ir::CmpOp::Ge:
      return is_signed ? CmpInst::ICMP_SGE : CmpInst::ICMP_UGE;
  }
  return CmpInst::ICMP_EQ;
}

bool Codegen::fold_cmp(ir::CmpOp op, std::int64_t a, std::int64_t b) {
  switch (op) {
    case ir::CmpOp::Eq:
      return a == b;
    case ir::CmpOp::Ne:
      return a != b;
    case ir::CmpOp::Lt:
      return a < b;
    case ir::CmpOp::Le:
      return a <= b;
    case ir::CmpOp::Gt:
      return a > b;
    case ir::CmpOp::Ge:
      return a >= b;
  }
  return false;
}

Codegen::Mask Codegen::vcmp(ir::CmpOp op, VI a, VI b) {
  if (a.v == nullptr && b.v == nullptr) return mconst(fold_cmp(op, a.c, b.c));
  if (a.v == nullptr) {
    std::swap(a, b);
    op = swapped(op);
  }
  if (b.v == nullptr && a.w < 64) {
    // Compare in the column's width; a constant outside its range decides alone.
    const std::int64_t lo = a.sext ? -(std::int64_t{1} << (a.w - 1)) : 0;
    const std::int64_t hi = a.sext ? (std::int64_t{1} << (a.w - 1)) - 1 : (std::int64_t{1} << a.w) - 1;
    if (b.c < lo || b.c > hi) {
      const bool above = b.c > hi;
      switch (op) {
        case ir::CmpOp::Eq:
          return mconst(false);
        case ir::CmpOp::Ne:
          return mconst(true);
        case ir::CmpOp::Lt:
        case ir::CmpOp::Le:
          return mconst(above);
        case ir::CmpOp::Gt:
        case ir::CmpOp::Ge:
          return mconst(!above);
      }
    }
    return mvec(B.CreateICmp(pred_of(op, a.sext), a.v, splat_int(a.w, b.c)));
  }
  if (b.v != nullptr && a.w == b.w && a.sext == b.sext) return mvec(B.CreateICmp(pred_of(op, a.sext), a.v, b.v));
  if (b.v != nullptr && a.sext == b.sext && a.w < 64 && b.w < 64) {
    // Both narrow, of one signedness: compare in the wider of the two widths.
    const unsigned w = std::max(a.w, b.w);
    auto ext = [&](const VI& x) {
      return x.w == w ? x.v
                      : (x.sext ? B.CreateSExt(x.v, vt(Type::getIntNTy(C, w)))
                                : B.CreateZExt(x.v, vt(Type::getIntNTy(C, w))));
    };
    return mvec(B.CreateICmp(pred_of(op, a.sext), ext(a), ext(b)));
  }
  return mvec(B.CreateICmp(pred_of(op, true), wide(a), wide(b)));
}

bool Codegen::vectorizable(const ir::Predicate& p) const {
  using ir::Op;
  if (p.nodes.empty() || p.nodes[p.root()].type != ir::VType::Bool) return false;
  for (const auto& n : p.nodes) {
    if (n.type == ir::VType::Text) return false;
    switch (n.op) {
      case Op::ConstText:
      case Op::LocalDays:
      case Op::Month:
      case Op::Day:
      case Op::Weekday:
      case Op::HourOfDateTime:
      case Op::Contains:
      case Op::StartsWith:
      case Op::TextEq:
        return false;
      case Op::Attr: {
        const auto a = static_cast<ir::Attr>(n.a);
        if (a == ir::Attr::Source || a == ir::Attr::DisplayName || a == ir::Attr::Language) return false;
        break;
      }
      case Op::Scale:
        if (n.b == 0 || n.b == -1) return false;
        break;
      default:
        break;
    }
  }
  return true;
}

Codegen::VN Codegen::vnode(const ir::Predicate& p, std::size_t idx, const std::vector<VN>& vals) {
  using ir::Op;
  const ir::Node& n = p.nodes[idx];
  const VN* k0 = n.nkids > 0 ? &vals[n.kids[0]] : nullptr;
  const VN* k1 = n.nkids > 1 ? &vals[n.kids[1]] : nullptr;
  const VN* k2 = n.nkids > 2 ? &vals[n.kids[2]] : nullptr;
  VN out;
  const bool leaf = n.nkids == 0 && n.op != Op::ConstBool && n.op != Op::ConstInt && vparams_ == nullptr;
  const bool narrow = n.op == Op::Attr && idx < narrow_.size() && narrow_[idx] != 0;
  const auto key = std::make_tuple(static_cast<int>(n.op) * 4 + static_cast<int>(n.type), n.a, narrow ? -1 : n.b);
  if (leaf) {
    if (auto it = vleaves_.find(key); it != vleaves_.end()) return it->second;
  }
  switch (n.op) {
    case Op::ConstBool:
      out.b = mconst(n.b != 0);
      break;
    case Op::ConstInt:
      out.i = pconst(n.b);
      break;
    case Op::Attr:
      out = vattr(static_cast<ir::Attr>(n.a), narrow);
      break;
    case Op::Field: {
      if (n.a < 0) {
        out.b = mconst(false);
        out.i = vconst(0, mconst(false));
        break;
      }
      const Mask known = pbits(L.field_known(n.a));
      Value* v = pload(i64, L.field_values(n.a));
      if (n.type == ir::VType::Bool) {
        out.b = mand(known, mvec(B.CreateICmpNE(v, splat_int(64, 0))));
      } else {
        out.i = wide_int(v, known);
      }
      break;
    }
    case Op::NamedScore:
      out.i = n.a < 0 ? vconst(0, mconst(true)) : wide_int(pload(i64, L.named_score(n.a)), mconst(true));
      break;
    case Op::Tagged:
      out.b = n.a < 0 ? mconst(false) : pbits(L.tag(n.a));
      break;
    case Op::InAudience:
      out.b = n.a < 0 ? mconst(false) : pbits(L.audience(n.a));
      break;
    case Op::Visited:
      out.b = n.a < 0 || static_cast<std::size_t>(n.a) >= schema_.visit_patterns.size() ? mconst(false)
                                                                                        : pbits(L.visit(n.a));
      break;
    case Op::Clicked:
    case Op::Opened: {
      if (n.a < 0) {
        out.b = mconst(false);
        break;
      }
      const bool click = n.op == Op::Clicked;
      Value* count = pload(i32, click ? L.link_clicks(n.a) : L.msg_opened(n.a));
      Value* yes = B.CreateICmpUGT(count, splat_int(32, 0));
      if (n.b != 0) {
        Value* last = pload(i64, click ? L.link_last(n.a) : L.msg_last_opened(n.a));
        Value* since = B.CreateSub(vnow_, pscalar(n.b));
        yes = B.CreateAnd(yes, B.CreateICmpSGE(last, splat(since)));
      }
      out.b = mvec(yes);
      break;
    }
    case Op::Clicks:
      out.i = n.a < 0 ? vconst(0, mconst(true)) : VI{pload(i32, L.link_clicks(n.a)), 32, false, 0, mconst(true)};
      break;
    case Op::Sent:
      out.b = n.a < 0 ? mconst(false) : mvec(B.CreateICmpUGT(pload(i32, L.msg_sent(n.a)), splat_int(32, 0)));
      break;
    case Op::EventField:  // a scan has no event: unknown
      out.b = mconst(false);
      out.i = vconst(0, mconst(false));
      break;
    case Op::Known:
      out.b = p.nodes[n.kids[0]].type == ir::VType::Bool ? mconst(true) : k0->i.known;
      break;
    case Op::HourOfTime:
      out.i = k0->i.v == nullptr ? vconst(k0->i.c / 60, k0->i.known)
                                 : wide_int(B.CreateSDiv(wide(k0->i), splat_int(64, 60)), k0->i.known);
      break;
    case Op::Has: {
      if (n.b < 0 || n.b >= 64) {
        out.b = mconst(false);
        break;
      }
      const std::int64_t bitv = static_cast<std::int64_t>(std::uint64_t{1} << n.b);
      Value* b = B.CreateICmpNE(B.CreateAnd(wide(k0->i), splat(pscalar(bitv))), splat_int(64, 0));
      out.b = mand(k0->i.known, mvec(b));
      break;
    }
    case Op::Cmp:
      out.b = mand(mand(k0->i.known, k1->i.known), vcmp(static_cast<ir::CmpOp>(n.a), k0->i, k1->i));
      break;
    case Op::InRange: {
      Mask in = mand(vcmp(ir::CmpOp::Le, k1->i, k0->i), vcmp(ir::CmpOp::Le, k0->i, k2->i));
      if (n.a != 0) in = mnot(in);
      out.b = mand(mand(k0->i.known, mand(k1->i.known, k2->i.known)), in);
      break;
    }
    case Op::InSet: {
      Mask in = mconst(false);
      if (n.mask != 0 && std::popcount(n.mask) > 8) {
        Value* x = wide(k0->i);
        Value* ok = B.CreateICmpULT(x, splat_int(64, 64));
        Value* sh = B.CreateSelect(ok, x, splat_int(64, 0));
        Value* bit = B.CreateAnd(B.CreateLShr(splat(pscalar(static_cast<std::int64_t>(n.mask))), sh), splat_int(64, 1));
        in = mvec(B.CreateAnd(ok, B.CreateICmpNE(bit, splat_int(64, 0))));
      } else if (n.mask != 0) {
        for (int b = 0; b < 64; ++b) {
          if (((n.mask >> b) & 1) != 0) in = mor(in, vcmp(ir::CmpOp::Eq, k0->i, pconst(b)));
        }
      } else {
        for (auto x : n.ints) in = mor(in, vcmp(ir::CmpOp::Eq, k0->i, pconst(x)));
      }
      if (n.a != 0) in = mnot(in);
      out.b = mand(k0->i.known, in);
      break;
    }
    case Op::And:
      out.b = mand(k0->b, k1->b);
      break;
    case Op::Or:
      out.b = mor(k0->b, k1->b);
      break;
    case Op::Not:
      out.b = mnot(k0->b);
      break;
    case Op::Add:
    case Op::Sub: {
      const Mask known = mand(k0->i.known, k1->i.known);
      const bool add = n.op == Op::Add;
      if (k0->i.v == nullptr && k1->i.v == nullptr) {
        const auto a = static_cast<std::uint64_t>(k0->i.c), b = static_cast<std::uint64_t>(k1->i.c);
        out.i = vconst(static_cast<std::int64_t>(add ? a + b : a - b), known);
      } else {
        out.i = wide_int(add ? B.CreateAdd(wide(k0->i), wide(k1->i)) : B.CreateSub(wide(k0->i), wide(k1->i)), known);
      }
      break;
    }
    case Op::Neg:
      out.i = k0->i.v == nullptr
                  ? vconst(static_cast<std::int64_t>(0 - static_cast<std::uint64_t>(k0->i.c)), k0->i.known)
                  : wide_int(B.CreateSub(splat_int(64, 0), wide(k0->i)), k0->i.known);
      break;
    case Op::Scale: {
      const std::int64_t d = n.b;
      if (k0->i.v == nullptr) {
        const std::int64_t a = k0->i.c;
        out.i = vconst(a / d - ((a % d != 0) && ((a < 0) != (d < 0))), k0->i.known);
        break;
      }
      Value* x = wide(k0->i);
      Value* q = B.CreateSDiv(x, splat_int(64, d));
      Value* r = B.CreateSRem(x, splat_int(64, d));
      Value* neg = B.CreateICmpSLT(x, splat_int(64, 0));
      if (d < 0) neg = B.CreateNot(neg);
      Value* adj = B.CreateAnd(B.CreateICmpNE(r, splat_int(64, 0)), neg);
      out.i = wide_int(B.CreateSub(q, B.CreateZExt(adj, vt(i64))), k0->i.known);
      break;
    }
    case Op::Mul:
      out.i =
          k0->i.v == nullptr
              ? vconst(static_cast<std::int64_t>(static_cast<std::uint64_t>(k0->i.c) * static_cast<std::uint64_t>(n.b)),
                       k0->i.known)
              : wide_int(B.CreateMul(wide(k0->i), splat_int(64, n.b)), k0->i.known);
      break;
    default:  // not vectorizable(): never reached
      out.b = mconst(false);
      out.i = vconst(0, mconst(false));
      break;
  }
  if (leaf) vleaves_[key] = out;
  return out;
}

Codegen::VN Codegen::vattr(ir::Attr a, bool narrow) {
  VN out;
  if (narrow && a == ir::Attr::Age) {
    Value* v = vload(i8, rt::SlotLayout::kAge8);
    out.i = VI{v, 8, true, 0, mvec(B.CreateICmpNE(v, splat_int(8, rt::kNarrowUnknown)))};
    return out;
  }
  if (narrow && a == ir::Attr::Score) {
    out.i = VI{vload(i8, rt::SlotLayout::kScore8), 8, true, 0, mconst(true)};
    return out;
  }
  switch (a) {
    case ir::Attr::Gender:
    case ir::Attr::Region: {
      Value* g = vload(i8, a == ir::Attr::Gender ? rt::SlotLayout::kGender : rt::SlotLayout::kRegion);
      // g - 1 fits in i16 (-1 … 254).
      out.i = VI{B.CreateSub(B.CreateZExt(g, vt(i16)), splat_int(16, 1)), 16, true, 0,
                 mvec(B.CreateICmpNE(g, splat_int(8, 0)))};
      break;
    }
    case ir::Attr::Age: {
      Value* v = vload(i16, rt::SlotLayout::kAge);
      out.i = VI{v, 16, true, 0, mvec(B.CreateICmpNE(v, splat_int(16, rt::kUnknownAge)))};
      break;
    }
    case ir::Attr::FriendDays: {
      Value* s = vload(i32, rt::SlotLayout::kFriendSince);
      out.i = wide_int(B.CreateSub(splat(vtoday_), B.CreateSExt(s, vt(i64))),
                       mvec(B.CreateICmpNE(s, splat_int(32, rt::kUnknownDays))));
      break;
    }
    case ir::Attr::Blocked:
      out.b = vbits(rt::SlotLayout::kBlocked);
      break;
    case ir::Attr::Score:
      out.i = wide_int(vload(i64, rt::SlotLayout::kScore), mconst(true));
      break;
    case ir::Attr::Today:
      out.i = wide_int(splat(vtoday_), mconst(true));
      break;
    case ir::Attr::Now:
      out.i = wide_int(splat(vnow_), mconst(true));
      break;
    default:  // text: not vectorizable()
      out.i = vconst(0, mconst(false));
      break;
  }
  return out;
}

Codegen::Mask Codegen::call_shape(const ir::Predicate& p, std::uint32_t i, const std::string& key) {
  if (auto it = calls_.find(i); it != calls_.end()) return chunk_bits(it->second);
  Function* f = shape_fn(p, i, key);
  std::vector<std::int64_t> params;
  collect_params(p, i, params);
  Value* arg = ConstantPointerNull::get(PointerType::get(C, 0));
  if (!params.empty()) {
    std::vector<std::uint64_t> raw(params.begin(), params.end());
    auto* init = ConstantDataArray::get(C, ArrayRef<std::uint64_t>(raw));
    arg = new GlobalVariable(M, init->getType(), true, GlobalValue::PrivateLinkage, init, "okuri.params");
  }
  Value* w = B.CreateCall(f, {vcols_, venv_, vbase_, arg});
  calls_[i] = w;
  return chunk_bits(w);
}

void Codegen::plan_narrow(const ir::Predicate& p) {
  using ir::Op;
  const std::size_t n = p.nodes.size();
  narrow_.assign(n, 0);
  std::vector<std::uint32_t> parents(n, 0);
  for (const auto& nd : p.nodes) {
    for (int j = 0; j < nd.nkids; ++j) ++parents[nd.kids[j]];
  }
  auto narrowable = [&](std::uint32_t k) {
    const auto& x = p.nodes[k];
    return x.op == Op::Attr &&
           (static_cast<ir::Attr>(x.a) == ir::Attr::Age || static_cast<ir::Attr>(x.a) == ir::Attr::Score) &&
           parents[k] == 1;
  };
  auto small = [&](std::uint32_t k) { return p.nodes[k].op == Op::ConstInt && width_class(p.nodes[k].b) == 'b'; };
  for (const auto& nd : p.nodes) {
    if (nd.op == Op::Cmp && nd.nkids == 2) {
      if (narrowable(nd.kids[0]) && small(nd.kids[1])) narrow_[nd.kids[0]] = 1;
      if (narrowable(nd.kids[1]) && small(nd.kids[0])) narrow_[nd.kids[1]] = 1;
    } else if (nd.op == Op::InRange && nd.nkids == 3) {
      if (narrowable(nd.kids[0]) && small(nd.kids[1]) && small(nd.kids[2])) narrow_[nd.kids[0]] = 1;
    } else if (nd.op == Op::InSet && nd.nkids == 1 && nd.mask == 0 && !nd.ints.empty()) {
      bool all = true;
      for (auto x : nd.ints) all = all && width_class(x) == 'b';
      if (all && narrowable(nd.kids[0])) narrow_[nd.kids[0]] = 1;
    }
  }
}

void Codegen::vector_scan(const ir::Predicate& p, const std::string& name, Function* rowf) {
  plan_narrow(p);
  const Shapes shapes = shapes_of(p);
  std::vector<char> covered;
  const std::vector<char> calls = outlined(p, shapes, covered);
  auto* f = Function::Create(FunctionType::get(Type::getVoidTy(C), {ptr, ptr, i64, ptr}, false),
                             Function::ExternalLinkage, name + "_scan", M);
  vector_fn_attrs(f);
  f->getArg(3)->addAttr(Attribute::NoAlias);
  Value* cols = f->getArg(0);
  Value* env = f->getArg(1);
  Value* nrows = f->getArg(2);
  Value* out = f->getArg(3);
  auto* entry = BasicBlock::Create(C, "entry", f);
  auto* loop = BasicBlock::Create(C, "block", f);
  auto* tail_check = BasicBlock::Create(C, "tail.check", f);
  auto* tail = BasicBlock::Create(C, "tail", f);
  auto* tail_end = BasicBlock::Create(C, "tail.end", f);
  auto* done = BasicBlock::Create(C, "done", f);
  B.SetInsertPoint(entry);
  Value* nfull = B.CreateLShr(nrows, 6);
  B.CreateCondBr(B.CreateICmpUGT(nfull, B.getInt64(0)), loop, tail_check);

  // One iteration per full block of 64 friends: the predicate as vector code.
  B.SetInsertPoint(loop);
  PHINode* blk = B.CreatePHI(i64, 2, "b");
  blk->addIncoming(B.getInt64(0), entry);
  begin_vector_code(cols, env, B.CreateShl(blk, 6));
  Value* result = nullptr;
  for (chunk_ = 0; chunk_ < 64 / lanes_; ++chunk_) {
    begin_chunk();
    std::vector<VN> vals(p.nodes.size());
    for (std::uint32_t i = 0; i < p.nodes.size(); ++i) {
      if (covered[i] != 0) continue;
      if (calls[i] != 0) {
        vals[i].b = call_shape(p, i, shapes.key[i]);
      } else {
        vals[i] = vnode(p, i, vals);
      }
    }
    result = end_chunk(vals[p.root()].b, result);
  }
  B.CreateStore(result, B.CreateGEP(i64, out, blk));
  Value* next = B.CreateAdd(blk, B.getInt64(1));
  blk->addIncoming(next, B.GetInsertBlock());
  B.CreateCondBr(B.CreateICmpULT(next, nfull), loop, tail_check);

  // The tail (fewer than 64 friends) goes friend by friend through the row function, so that no
  // column is read past its end.
  B.SetInsertPoint(tail_check);
  Value* tbase = B.CreateAnd(nrows, B.getInt64(~std::uint64_t{63}));
  B.CreateCondBr(B.CreateICmpULT(tbase, nrows), tail, done);
  B.SetInsertPoint(tail);
  PHINode* i = B.CreatePHI(i64, 2, "i");
  PHINode* mask = B.CreatePHI(i64, 2, "mask");
  i->addIncoming(B.getInt64(0), tail_check);
  mask->addIncoming(B.getInt64(0), tail_check);
  Value* r = B.CreateCall(rowf, {cols, env, B.CreateAdd(tbase, i), ConstantPointerNull::get(PointerType::get(C, 0))});
  Value* next_mask = B.CreateOr(mask, B.CreateShl(B.CreateZExt(r, i64), i));
  Value* next_i = B.CreateAdd(i, B.getInt64(1));
  i->addIncoming(next_i, tail);
  mask->addIncoming(next_mask, tail);
  B.CreateCondBr(B.CreateICmpULT(B.CreateAdd(tbase, next_i), nrows), tail, tail_end);
  B.SetInsertPoint(tail_end);
  B.CreateStore(next_mask, B.CreateGEP(i64, out, nfull));
  B.CreateBr(done);

  B.SetInsertPoint(done);
  B.CreateRetVoid();
}

}  // namespace okuri::jit::detail
