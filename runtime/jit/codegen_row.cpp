// The scalar code of the code generator (codegen.hpp): the per-friend `row`
// function (its `and`/`or` branch) and the `lane` of the predicates that have
// no vector form, with the loop that scans them 64 friends a block.
#include "runtime/jit/codegen.hpp"

#include <string>
#include <vector>

namespace okuri::jit::detail {

using namespace llvm;

Codegen::Codegen(LLVMContext& c, Module& m, const ir::Schema& s) : C(c), M(m), B(c), schema_(s), L(s) {
  i1 = Type::getInt1Ty(C);
  i8 = Type::getInt8Ty(C);
  i16 = Type::getInt16Ty(C);
  i32 = Type::getInt32Ty(C);
  i64 = Type::getInt64Ty(C);
  ptr = PointerType::get(C, 0);
  auto decl = [&](const char* name, Type* ret, std::vector<Type*> args) {
    auto* f = Function::Create(FunctionType::get(ret, args, false), Function::ExternalLinkage, name, M);
    f->setDoesNotThrow();
    return f;
  };
  f_contains_ = decl("okuri_std_contains", i32, {ptr, i64, ptr, i64});
  f_starts_ = decl("okuri_std_starts_with", i32, {ptr, i64, ptr, i64});
  f_texteq_ = decl("okuri_std_text_eq", i32, {ptr, i64, ptr, i64});
  f_month_ = decl("okuri_std_month", i64, {i64});
  f_day_ = decl("okuri_std_day", i64, {i64});
  f_weekday_ = decl("okuri_std_weekday", i64, {i64});
  f_local_days_ = decl("okuri_std_local_days", i64, {i64, ptr});
  f_local_minute_ = decl("okuri_std_local_minute", i64, {i64, ptr});
  for (Function* f : {f_month_, f_day_, f_weekday_}) f->setDoesNotAccessMemory();
  empty_ = B.CreateGlobalString("", "okuri.empty", 0, &M);
}

void Codegen::generate(const ir::Predicate& p, const std::string& name, const std::string& cpu,
                       const std::string& features, bool separate_row_lane) {
  cpu_ = cpu;
  features_ = features;
  // 64 lanes where masks of 64 lanes are registers (AVX-512 BW), else chunks of 32.
  lanes_ = features.find("+avx512bw") != std::string::npos ? 64 : 32;
  const bool vec = vector_form(p);
  Function* lane_scan = vec ? nullptr : lane(p, name + "_lane_scan", false, cpu, features);
  // row(cols, env, row, event) -> i8. Tier 1 compiles as little as it can: for a predicate
  // scanned by the lane loop, the row form calls the scan lane unless it reads the event;
  // otherwise the row function is the short-circuiting lane itself (no call).
  auto* rowf =
      Function::Create(FunctionType::get(i8, {ptr, ptr, i64, ptr}, false), Function::ExternalLinkage, name + "_row", M);
  attrs(rowf, cpu, features);
  if (vec || separate_row_lane || p.uses_event()) {
    short_circuit_ = true;
    lane_code(p, rowf, p.uses_event());
    short_circuit_ = false;
  } else {
    B.SetInsertPoint(BasicBlock::Create(C, "entry", rowf));
    auto* r = B.CreateCall(lane_scan, {rowf->getArg(0), rowf->getArg(1), rowf->getArg(2), rowf->getArg(3)});
    B.CreateRet(B.CreateZExt(r, i8));
  }
  if (vec) {
    vector_scan(p, name, rowf);
    return;
  }
  // scan(cols, env, nrows, out): full blocks of 64, then the tail.
  {
    auto* f = Function::Create(FunctionType::get(Type::getVoidTy(C), {ptr, ptr, i64, ptr}, false),
                               Function::ExternalLinkage, name + "_scan", M);
    attrs(f, cpu, features);
    Value* cols = f->getArg(0);
    Value* env = f->getArg(1);
    Value* nrows = f->getArg(2);
    Value* out = f->getArg(3);
    // The columns, the environment and the output never overlap: lets LICM hoist the column pointers.
    for (unsigned a : {0u, 1u, 3u}) f->getArg(a)->addAttr(Attribute::NoAlias);
    f->getArg(0)->addAttr(Attribute::ReadOnly);
    f->getArg(1)->addAttr(Attribute::ReadOnly);
    auto* entry = BasicBlock::Create(C, "entry", f);
    auto* block_head = BasicBlock::Create(C, "block", f);
    auto* lane_head = BasicBlock::Create(C, "lane", f);
    auto* block_end = BasicBlock::Create(C, "block.end", f);
    auto* done = BasicBlock::Create(C, "done", f);
    B.SetInsertPoint(entry);
    Value* nblocks = B.CreateLShr(B.CreateAdd(nrows, B.getInt64(63)), 6);
    Value* any = B.CreateICmpUGT(nblocks, B.getInt64(0));
    B.CreateCondBr(any, block_head, done);
    B.SetInsertPoint(block_head);
    PHINode* blk = B.CreatePHI(i64, 2, "b");
    blk->addIncoming(B.getInt64(0), entry);
    Value* base = B.CreateShl(blk, 6);
    Value* left = B.CreateSub(nrows, base);
    Value* lanes = B.CreateSelect(B.CreateICmpULT(left, B.getInt64(64)), left, B.getInt64(64));
    B.CreateBr(lane_head);
    B.SetInsertPoint(lane_head);
    PHINode* i = B.CreatePHI(i64, 2, "i");
    PHINode* mask = B.CreatePHI(i64, 2, "mask");
    i->addIncoming(B.getInt64(0), block_head);
    mask->addIncoming(B.getInt64(0), block_head);
    Value* r =
        B.CreateCall(lane_scan, {cols, env, B.CreateAdd(base, i), ConstantPointerNull::get(PointerType::get(C, 0))});
    Value* bit = B.CreateShl(B.CreateZExt(r, i64), i);
    Value* next_mask = B.CreateOr(mask, bit);
    Value* next_i = B.CreateAdd(i, B.getInt64(1));
    i->addIncoming(next_i, lane_head);
    mask->addIncoming(next_mask, lane_head);
    B.CreateCondBr(B.CreateICmpULT(next_i, lanes), lane_head, block_end);
    B.SetInsertPoint(block_end);
    B.CreateStore(next_mask, B.CreateGEP(i64, out, blk));
    Value* next_blk = B.CreateAdd(blk, B.getInt64(1));
    blk->addIncoming(next_blk, block_end);
    B.CreateCondBr(B.CreateICmpULT(next_blk, nblocks), block_head, done);
    B.SetInsertPoint(done);
    B.CreateRetVoid();
  }
}

void Codegen::attrs(Function* f, const std::string& cpu, const std::string& features) {
  f->addFnAttr("target-cpu", cpu);
  f->addFnAttr("target-features", features);
  f->addFnAttr(Attribute::NoUnwind);
}

Value* Codegen::bit(std::uint32_t k) {
  Value* w = B.CreateLoad(i64, B.CreateGEP(i64, slot(k), B.CreateLShr(row_, 6)));
  return B.CreateTrunc(B.CreateLShr(w, B.CreateAnd(row_, 63)), i1);
}

Value* Codegen::env_field(int i) {
  Type* t = i == 2 ? static_cast<Type*>(ptr) : i64;
  return B.CreateLoad(t, B.CreateGEP(i64, env_, B.getInt64(static_cast<std::uint64_t>(i))));
}

V Codegen::text_from_id(Value* id32, Value* known) {
  Value* idx = B.CreateSelect(known, B.CreateSExt(id32, i64), B.getInt64(0));
  Value* p = B.CreateLoad(ptr, B.CreateGEP(ptr, slot(rt::SlotLayout::kTextPtrs), idx));
  Value* n = B.CreateLoad(i64, B.CreateGEP(i64, slot(rt::SlotLayout::kTextLens), idx));
  // With an empty pool nothing is known, so idx 0 is never read; keep the pointers valid anyway.
  return V{nullptr, known, B.CreateSelect(known, p, empty_), B.CreateSelect(known, n, B.getInt64(0))};
}

Function* Codegen::lane(const ir::Predicate& p, const std::string& name, bool with_event, const std::string& cpu,
                        const std::string& features) {
  auto* f = Function::Create(FunctionType::get(i1, {ptr, ptr, i64, ptr}, false), Function::InternalLinkage, name, M);
  attrs(f, cpu, features);
  f->addFnAttr(Attribute::AlwaysInline);
  lane_code(p, f, with_event);
  return f;
}

void Codegen::lane_code(const ir::Predicate& p, Function* f, bool with_event) {
  B.SetInsertPoint(BasicBlock::Create(C, "entry", f));
  cols_ = f->getArg(0);
  env_ = f->getArg(1);
  row_ = f->getArg(2);
  event_ = with_event ? f->getArg(3) : nullptr;
  std::vector<V> vals(p.nodes.size());
  Value* r = nullptr;
  if (with_event || short_circuit_) {
    // Per-event code: `and`/`or` skip their right side, so a friend who fails
    // the first clause costs one column read.
    r = gen(p, p.root(), vals).v;
  } else {
    // Scan code: straight-line and branch-free, which the vectorizer widens.
    for (std::size_t i = 0; i < p.nodes.size(); ++i) vals[i] = node(p, i, vals);
    r = vals[p.root()].v;
  }
  B.CreateRet(f->getReturnType() == i1 ? r : B.CreateZExt(r, f->getReturnType()));
}

V Codegen::gen(const ir::Predicate& p, std::uint32_t idx, std::vector<V>& vals) {
  const ir::Node& n = p.nodes[idx];
  if (n.op == ir::Op::And || n.op == ir::Op::Or) {
    const V l = gen(p, n.kids[0], vals);
    Function* f = B.GetInsertBlock()->getParent();
    BasicBlock* lhs_end = B.GetInsertBlock();
    auto* rhs_bb = BasicBlock::Create(C, n.op == ir::Op::And ? "and.rhs" : "or.rhs", f);
    auto* merge = BasicBlock::Create(C, "merge", f);
    if (n.op == ir::Op::And) {
      B.CreateCondBr(l.v, rhs_bb, merge);
    } else {
      B.CreateCondBr(l.v, merge, rhs_bb);
    }
    B.SetInsertPoint(rhs_bb);
    const V r = gen(p, n.kids[1], vals);
    BasicBlock* rhs_end = B.GetInsertBlock();
    B.CreateBr(merge);
    B.SetInsertPoint(merge);
    PHINode* phi = B.CreatePHI(i1, 2);
    phi->addIncoming(B.getInt1(n.op == ir::Op::Or), lhs_end);
    phi->addIncoming(r.v, rhs_end);
    vals[idx] = boolean(phi);
    return vals[idx];
  }
  for (int k = 0; k < n.nkids; ++k) vals[n.kids[k]] = gen(p, n.kids[k], vals);
  vals[idx] = node(p, idx, vals);
  return vals[idx];
}

V Codegen::node(const ir::Predicate& p, std::size_t idx, const std::vector<V>& vals) {
  using ir::Op;
  const ir::Node& n = p.nodes[idx];
  const V* k0 = n.nkids > 0 ? &vals[n.kids[0]] : nullptr;
  const V* k1 = n.nkids > 1 ? &vals[n.kids[1]] : nullptr;
  const V* k2 = n.nkids > 2 ? &vals[n.kids[2]] : nullptr;
  switch (n.op) {
    case Op::ConstBool:
      return boolean(B.getInt1(n.b != 0));
    case Op::ConstInt:
      return known_int(B.getInt64(static_cast<std::uint64_t>(n.b)), B.getTrue());
    case Op::ConstText: {
      Value* g = B.CreateGlobalString(n.text, "okuri.text", 0, &M);
      return V{nullptr, B.getTrue(), g, B.getInt64(n.text.size())};
    }
    case Op::Attr:
      return attr(static_cast<ir::Attr>(n.a));
    case Op::Field: {
      if (n.a < 0) return known_int(B.getInt64(0), B.getFalse());
      Value* known = bit(L.field_known(n.a));
      Value* v = elem(i64, L.field_values(n.a));
      if (n.type == ir::VType::Bool) return boolean(B.CreateAnd(known, B.CreateICmpNE(v, B.getInt64(0))));
      if (n.type == ir::VType::Text) return text_from_id(B.CreateTrunc(v, i32), known);
      return known_int(v, known);
    }
    case Op::NamedScore:
      if (n.a < 0) return known_int(B.getInt64(0), B.getTrue());
      return known_int(elem(i64, L.named_score(n.a)), B.getTrue());
    case Op::Tagged:
      return boolean(n.a < 0 ? B.getFalse() : bit(L.tag(n.a)));
    case Op::InAudience:
      return boolean(n.a < 0 ? B.getFalse() : bit(L.audience(n.a)));
    case Op::Visited:
      return boolean(n.a < 0 || static_cast<std::size_t>(n.a) >= schema_.visit_patterns.size() ? B.getFalse()
                                                                                               : bit(L.visit(n.a)));
    case Op::Clicked:
    case Op::Opened: {
      if (n.a < 0) return boolean(B.getFalse());
      const bool click = n.op == Op::Clicked;
      Value* count = elem(i32, click ? L.link_clicks(n.a) : L.msg_opened(n.a));
      Value* yes = B.CreateICmpUGT(count, B.getInt32(0));
      if (n.b != 0) {
        Value* last = elem(i64, click ? L.link_last(n.a) : L.msg_last_opened(n.a));
        Value* since = B.CreateSub(env_field(0), B.getInt64(static_cast<std::uint64_t>(n.b)));
        yes = B.CreateAnd(yes, B.CreateICmpSGE(last, since));
      }
      return boolean(yes);
    }
    case Op::Clicks:
      if (n.a < 0) return known_int(B.getInt64(0), B.getTrue());
      return known_int(B.CreateZExt(elem(i32, L.link_clicks(n.a)), i64), B.getTrue());
    case Op::Sent:
      if (n.a < 0) return boolean(B.getFalse());
      return boolean(B.CreateICmpUGT(elem(i32, L.msg_sent(n.a)), B.getInt32(0)));
    case Op::EventField: {
      if (event_ == nullptr || n.a < 0) {
        if (n.type == ir::VType::Bool) return boolean(B.getFalse());
        return V{B.getInt64(0), B.getFalse(), empty_, B.getInt64(0)};
      }
      auto field = [&](int k) {
        return B.CreateLoad(ptr, B.CreateGEP(ptr, event_, B.getInt64(static_cast<std::uint64_t>(k))));
      };
      const auto a = B.getInt64(static_cast<std::uint64_t>(n.a));
      Value* v = B.CreateLoad(i64, B.CreateGEP(i64, field(0), a));
      Value* known = B.CreateICmpNE(B.CreateLoad(i8, B.CreateGEP(i8, field(1), a)), B.getInt8(0));
      if (n.type == ir::VType::Bool) return boolean(B.CreateAnd(known, B.CreateICmpNE(v, B.getInt64(0))));
      Value* tp = B.CreateLoad(ptr, B.CreateGEP(ptr, field(2), a));
      Value* tl = B.CreateLoad(i64, B.CreateGEP(i64, field(3), a));
      return V{v, known, tp, tl};
    }
    case Op::Known:
      if (p.nodes[n.kids[0]].type == ir::VType::Bool) return boolean(B.getTrue());
      return boolean(k0->known);
    case Op::LocalDays:
      return known_int(B.CreateCall(f_local_days_, {guard(*k0), env_field(2)}), k0->known);
    case Op::Month:
      return known_int(B.CreateCall(f_month_, {guard(*k0)}), k0->known);
    case Op::Day:
      return known_int(B.CreateCall(f_day_, {guard(*k0)}), k0->known);
    case Op::Weekday:
      return known_int(B.CreateCall(f_weekday_, {guard(*k0)}), k0->known);
    case Op::HourOfTime:
      return known_int(B.CreateSDiv(k0->v, B.getInt64(60)), k0->known);
    case Op::HourOfDateTime:
      return known_int(B.CreateSDiv(B.CreateCall(f_local_minute_, {guard(*k0), env_field(2)}), B.getInt64(60)),
                       k0->known);
    case Op::Contains:
    case Op::StartsWith:
    case Op::TextEq: {
      Function* fn = n.op == Op::Contains ? f_contains_ : n.op == Op::StartsWith ? f_starts_ : f_texteq_;
      Value* both = B.CreateAnd(k0->known, k1->known);
      Value* r = B.CreateICmpNE(B.CreateCall(fn, {k0->ptr, k0->len, k1->ptr, k1->len}), B.getInt32(0));
      if (n.op == Op::TextEq && n.a != 0) r = B.CreateNot(r);
      return boolean(B.CreateAnd(both, r));
    }
    case Op::Has: {
      if (n.b < 0 || n.b >= 64) return boolean(B.getFalse());
      Value* b = B.CreateTrunc(B.CreateLShr(k0->v, B.getInt64(static_cast<std::uint64_t>(n.b))), i1);
      return boolean(B.CreateAnd(k0->known, b));
    }
    case Op::Cmp: {
      Value* r = nullptr;
      switch (static_cast<ir::CmpOp>(n.a)) {
        case ir::CmpOp::Eq:
          r = B.CreateICmpEQ(k0->v, k1->v);
          break;
        case ir::CmpOp::Ne:
          r = B.CreateICmpNE(k0->v, k1->v);
          break;
        case ir::CmpOp::Lt:
          r = B.CreateICmpSLT(k0->v, k1->v);
          break;
        case ir::CmpOp::Le:
          r = B.CreateICmpSLE(k0->v, k1->v);
          break;
        case ir::CmpOp::Gt:
          r = B.CreateICmpSGT(k0->v, k1->v);
          break;
        case ir::CmpOp::Ge:
          r = B.CreateICmpSGE(k0->v, k1->v);
          break;
      }
      return boolean(B.CreateAnd(B.CreateAnd(k0->known, k1->known), r));
    }
    case Op::InRange: {
      Value* in = B.CreateAnd(B.CreateICmpSLE(k1->v, k0->v), B.CreateICmpSLE(k0->v, k2->v));
      if (n.a != 0) in = B.CreateNot(in);
      return boolean(B.CreateAnd(B.CreateAnd(k0->known, B.CreateAnd(k1->known, k2->known)), in));
    }
    case Op::InSet: {
      Value* in = B.getFalse();
      if (n.mask != 0) {
        Value* ok = B.CreateICmpULT(k0->v, B.getInt64(64));
        Value* sh = B.CreateSelect(ok, k0->v, B.getInt64(0));
        Value* b = B.CreateTrunc(B.CreateLShr(B.getInt64(n.mask), sh), i1);
        in = B.CreateAnd(ok, b);
      } else {
        for (auto x : n.ints) in = B.CreateOr(in, B.CreateICmpEQ(k0->v, B.getInt64(static_cast<std::uint64_t>(x))));
      }
      if (n.a != 0) in = B.CreateNot(in);
      return boolean(B.CreateAnd(k0->known, in));
    }
    case Op::And:
      return boolean(B.CreateAnd(k0->v, k1->v));
    case Op::Or:
      return boolean(B.CreateOr(k0->v, k1->v));
    case Op::Not:
      return boolean(B.CreateNot(k0->v));
    case Op::Add:
      return known_int(B.CreateAdd(k0->v, k1->v), B.CreateAnd(k0->known, k1->known));
    case Op::Sub:
      return known_int(B.CreateSub(k0->v, k1->v), B.CreateAnd(k0->known, k1->known));
    case Op::Neg:
      return known_int(B.CreateSub(B.getInt64(0), k0->v), k0->known);
    case Op::Scale: {
      Value* d = B.getInt64(static_cast<std::uint64_t>(n.b));
      Value* q = B.CreateSDiv(k0->v, d);
      Value* r = B.CreateSRem(k0->v, d);
      Value* adj = B.CreateAnd(B.CreateICmpNE(r, B.getInt64(0)),
                               B.CreateICmpNE(B.CreateICmpSLT(k0->v, B.getInt64(0)), B.getInt1(n.b < 0)));
      return known_int(B.CreateSub(q, B.CreateZExt(adj, i64)), k0->known);
    }
    case Op::Mul:
      return known_int(B.CreateMul(k0->v, B.getInt64(static_cast<std::uint64_t>(n.b))), k0->known);
  }
  return boolean(B.getFalse());
}

V Codegen::attr(ir::Attr a) {
  switch (a) {
    case ir::Attr::Gender:
    case ir::Attr::Region: {
      Value* g = B.CreateZExt(elem(i8, a == ir::Attr::Gender ? rt::SlotLayout::kGender : rt::SlotLayout::kRegion), i64);
      return known_int(B.CreateSub(g, B.getInt64(1)), B.CreateICmpNE(g, B.getInt64(0)));
    }
    case ir::Attr::Age: {
      Value* v = B.CreateSExt(elem(i16, rt::SlotLayout::kAge), i64);
      return known_int(v, B.CreateICmpNE(v, B.getInt64(static_cast<std::uint64_t>(std::int64_t{rt::kUnknownAge}))));
    }
    case ir::Attr::FriendDays: {
      Value* s = B.CreateSExt(elem(i32, rt::SlotLayout::kFriendSince), i64);
      Value* known = B.CreateICmpNE(s, B.getInt64(static_cast<std::uint64_t>(std::int64_t{rt::kUnknownDays})));
      return known_int(B.CreateSub(env_field(1), s), known);
    }
    case ir::Attr::Source:
    case ir::Attr::DisplayName:
    case ir::Attr::Language: {
      const auto k = a == ir::Attr::Source        ? rt::SlotLayout::kSource
                     : a == ir::Attr::DisplayName ? rt::SlotLayout::kDisplayName
                                                  : rt::SlotLayout::kLanguage;
      Value* id = elem(i32, k);
      return text_from_id(id, B.CreateICmpSGE(id, B.getInt32(0)));
    }
    case ir::Attr::Blocked:
      return boolean(bit(rt::SlotLayout::kBlocked));
    case ir::Attr::Score:
      return known_int(elem(i64, rt::SlotLayout::kScore), B.getTrue());
    case ir::Attr::Today:
      return known_int(env_field(1), B.getTrue());
    case ir::Attr::Now:
      return known_int(env_field(0), B.getTrue());
  }
  return boolean(B.getFalse());
}

}  // namespace okuri::jit::detail
