// The LLVM engine: compiles the code that Codegen (codegen.hpp) generates for a
// group of predicates with LLJIT, one LLJIT per tier, and keeps the compiled
// objects in a cache on disk.
#include "runtime/jit/jit.hpp"

#include <llvm/ADT/StringRef.h>
#include <llvm/Config/llvm-config.h>
#include <llvm/ExecutionEngine/ObjectCache.h>
#include <llvm/ExecutionEngine/Orc/CompileUtils.h>
#include <llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/SubtargetFeature.h>
#include <llvm/Transforms/IPO/AlwaysInliner.h>
#include <llvm/Transforms/InstCombine/InstCombine.h>
#include <llvm/Transforms/Scalar/EarlyCSE.h>
#include <llvm/Transforms/Scalar/LICM.h>
#include <llvm/Transforms/Scalar/SimplifyCFG.h>
#include <llvm/Transforms/Utils/LCSSA.h>
#include <llvm/Transforms/Utils/LoopSimplify.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <stdexcept>

#include "runtime/jit/codegen.hpp"
#include "stdlib/functions.hpp"

namespace okuri::jit {

namespace fs = std::filesystem;
using namespace llvm;

bool Jit::available() { return true; }

namespace {
// Part of the object cache's key: bump it when the generated code changes shape, so that
// objects cached by an older generator are not loaded (2: the vector scan).
constexpr int kCodegenVersion = 3;
}  // namespace

std::string default_cache_dir() {
  if (const char* d = std::getenv("OKURI_CACHE_DIR"); d != nullptr && *d != 0) return d;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x != nullptr && *x != 0) return std::string(x) + "/okuri/jit";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != 0) return std::string(h) + "/.cache/okuri/jit";
  return ".okuri-cache/jit";
}

namespace {

[[noreturn]] void fail(const std::string& what, Error e) {
  std::string msg;
  raw_string_ostream os(msg);
  os << e;
  throw std::runtime_error("JIT: " + what + ": " + os.str());
}

template <typename T>
T check(Expected<T> v, const std::string& what) {
  if (!v) fail(what, v.takeError());
  return std::move(*v);
}

std::uint64_t fnv(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Writes each compiled object to the cache folder under its module's name.
class DiskCache : public ObjectCache {
 public:
  explicit DiskCache(std::string dir) : dir_(std::move(dir)) {}
  void notifyObjectCompiled(const Module* m, MemoryBufferRef obj) override {
    if (dir_.empty()) return;
    std::error_code ec;
    fs::create_directories(dir_, ec);
    const std::string path = dir_ + "/" + m->getModuleIdentifier() + ".o";
    const std::string tmp = path + ".tmp";
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(obj.getBufferStart(), static_cast<std::streamsize>(obj.getBufferSize()));
    out.close();
    if (out) fs::rename(tmp, path, ec);
    if (ec || !out) fs::remove(tmp, ec);
  }
  std::unique_ptr<MemoryBuffer> getObject(const Module*) override { return nullptr; }  // looked up before compiling

 private:
  std::string dir_;
};

void optimize(Module& m, TargetMachine* tm) {
  LoopAnalysisManager lam;
  FunctionAnalysisManager fam;
  CGSCCAnalysisManager cgam;
  ModuleAnalysisManager mam;
  PassBuilder pb(tm);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  // A light cleanup: inline the lanes into scan and row, fold and share what
  // the generator repeated, and hoist the column pointers out of the lane loops
  // of predicates without a vector form. The scan of every other predicate is
  // already vector code, so no loop vectorizer.
  ModulePassManager mpm;
  mpm.addPass(AlwaysInlinerPass());
  FunctionPassManager fpm;
  fpm.addPass(EarlyCSEPass(true));
  fpm.addPass(InstCombinePass());
  fpm.addPass(SimplifyCFGPass());
  fpm.addPass(LoopSimplifyPass());
  fpm.addPass(LCSSAPass());
  fpm.addPass(createFunctionToLoopPassAdaptor(LICMPass(LICMOptions()), /*UseMemorySSA=*/true));
  mpm.addPass(createModuleToFunctionPassAdaptor(std::move(fpm)));
  mpm.run(m, mam);
}

}  // namespace

struct Jit::Impl {
  std::string cache_dir;
  std::string cpu;
  std::string features;
  std::string triple;
  std::unique_ptr<DiskCache> cache;
  std::unique_ptr<orc::LLJIT> jits[2];
  std::map<std::string, orc::ResourceTrackerSP> groups;
  std::mutex mu;

  orc::LLJIT& jit(Tier tier) {
    auto& j = jits[tier == Tier::Baseline ? 0 : 1];
    if (j) return *j;
    auto jtmb = check(orc::JITTargetMachineBuilder::detectHost(), "detect host");
    jtmb.setCPU(cpu);
    jtmb.getFeatures() = SubtargetFeatures(features);
    // Both tiers select instructions without optimisation: the scan is vector code already and
    // tier 2 has cleaned the IR up; CodeGenOpt Less took three times as long and scanned no faster.
    jtmb.setCodeGenOptLevel(CodeGenOptLevel::None);
    DiskCache* c = cache.get();
    orc::LLJITBuilder builder;
    builder.setJITTargetMachineBuilder(jtmb);
    builder.setCompileFunctionCreator(
        [c](orc::JITTargetMachineBuilder b) -> Expected<std::unique_ptr<orc::IRCompileLayer::IRCompiler>> {
          auto tm = b.createTargetMachine();
          if (!tm) return tm.takeError();
          return std::make_unique<orc::TMOwningSimpleCompiler>(std::move(*tm), c);
        });
    j = check(builder.create(), "create LLJIT");
    auto& jd = j->getMainJITDylib();
    orc::MangleAndInterner mangle(j->getExecutionSession(), j->getDataLayout());
    orc::SymbolMap syms;
    auto add = [&](const char* name, void* fn) {
      syms[mangle(name)] = orc::ExecutorSymbolDef(orc::ExecutorAddr::fromPtr(fn), JITSymbolFlags::Exported);
    };
    add("okuri_std_contains", reinterpret_cast<void*>(&okuri_std_contains));
    add("okuri_std_starts_with", reinterpret_cast<void*>(&okuri_std_starts_with));
    add("okuri_std_text_eq", reinterpret_cast<void*>(&okuri_std_text_eq));
    add("okuri_std_month", reinterpret_cast<void*>(&okuri_std_month));
    add("okuri_std_day", reinterpret_cast<void*>(&okuri_std_day));
    add("okuri_std_weekday", reinterpret_cast<void*>(&okuri_std_weekday));
    add("okuri_std_local_days", reinterpret_cast<void*>(&okuri_std_local_days));
    add("okuri_std_local_minute", reinterpret_cast<void*>(&okuri_std_local_minute));
    if (auto e = jd.define(orc::absoluteSymbols(std::move(syms)))) fail("define stdlib", std::move(e));
    return *j;
  }
};

Jit::Jit(JitOptions options) : impl_(std::make_unique<Impl>()) {
  static std::once_flag init;
  std::call_once(init, [] {
    InitializeNativeTarget();
    InitializeNativeTargetAsmPrinter();
  });
  impl_->cache_dir = options.cache_dir;
  impl_->cache = std::make_unique<DiskCache>(options.cache_dir);
  impl_->cpu = sys::getHostCPUName().str();
  SubtargetFeatures f;
  for (const auto& [name, on] : sys::getHostCPUFeatures()) f.AddFeature(name, on);
  impl_->features = f.getString();
  impl_->triple = sys::getProcessTriple();
}

Jit::~Jit() = default;

std::string Jit::target() const { return impl_->triple + " cpu=" + impl_->cpu + " " + impl_->features; }

CompiledGroup Jit::compile(const std::string& group, const std::vector<ir::Predicate>& preds, const ir::Schema& schema,
                           Tier tier) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  const auto t0 = std::chrono::steady_clock::now();
  // Cache key: the IR, the layout it binds to, the stdlib ABI, the target and LLVM's version.
  std::string key_text = std::to_string(stdlib::kAbiVersion) + "|" + std::to_string(kCodegenVersion) + "|" +
                         LLVM_VERSION_STRING + "|" + target() + "|" + std::to_string(static_cast<int>(tier)) + "|";
  const rt::SlotLayout layout(schema);
  key_text += layout.key() + "|";
  for (const auto& p : preds) key_text += ir::print(p);
  char key[40];
  std::snprintf(key, sizeof key, "okuri_%016llx", static_cast<unsigned long long>(fnv(key_text)));
  orc::LLJIT& j = impl_->jit(tier);
  remove(group);
  auto rt_tracker = j.getMainJITDylib().createResourceTracker();
  CompiledGroup out;
  const std::string cached = impl_->cache_dir.empty() ? std::string() : impl_->cache_dir + "/" + key + ".o";
  std::error_code ec;
  if (!cached.empty() && fs::exists(cached, ec)) {
    auto buf = MemoryBuffer::getFile(cached);
    if (buf) {
      if (auto e = j.addObjectFile(rt_tracker, std::move(*buf))) fail("load cached object", std::move(e));
      out.from_cache = true;
    }
  }
  if (!out.from_cache) {
    auto ctx = std::make_unique<LLVMContext>();
    auto mod = std::make_unique<Module>(key, *ctx);
    mod->setDataLayout(j.getDataLayout());
    mod->setTargetTriple(impl_->triple);
    detail::Codegen cg(*ctx, *mod, schema);
    cg.prepare(preds);
    for (std::size_t i = 0; i < preds.size(); ++i) {
      cg.generate(preds[i], std::string(key) + "_" + std::to_string(i), impl_->cpu, impl_->features,
                  tier == Tier::Optimized);
    }
    std::string err;
    raw_string_ostream es(err);
    if (verifyModule(*mod, &es)) throw std::runtime_error("JIT: generated code does not verify: " + es.str());
    if (tier == Tier::Optimized) {
      auto jtmb = check(orc::JITTargetMachineBuilder::detectHost(), "detect host");
      jtmb.setCPU(impl_->cpu);
      jtmb.getFeatures() = SubtargetFeatures(impl_->features);
      auto tm = check(jtmb.createTargetMachine(), "target machine");
      optimize(*mod, tm.get());
    }
    if (const char* dump = std::getenv("OKURI_JIT_DUMP_IR"); dump != nullptr && *dump != 0) {
      std::error_code dec;
      raw_fd_ostream os(std::string(dump) + "/" + key + ".ll", dec);
      if (!dec) mod->print(os, nullptr);
    }
    if (auto e = j.addIRModule(rt_tracker, orc::ThreadSafeModule(std::move(mod), std::move(ctx))))
      fail("add module", std::move(e));
  }
  for (std::size_t i = 0; i < preds.size(); ++i) {
    const std::string base = std::string(key) + "_" + std::to_string(i);
    out.scan.push_back(check(j.lookup(base + "_scan"), "look up " + base).toPtr<rt::ScanFn>());
    out.row.push_back(check(j.lookup(base + "_row"), "look up " + base).toPtr<rt::RowFn>());
  }
  impl_->groups[group] = rt_tracker;
  out.compile_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

void Jit::remove(const std::string& group) {
  auto it = impl_->groups.find(group);
  if (it == impl_->groups.end()) return;
  if (auto e = it->second->remove()) fail("remove " + group, std::move(e));
  impl_->groups.erase(it);
}

}  // namespace okuri::jit
