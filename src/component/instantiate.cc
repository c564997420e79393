// Instantiation and linking (layer 2, docs/components.md "Running a component"): a component's
// definitions are walked in binary order, each filling its index space at run time. Core modules
// are loaded on the engine given (interp, aot, auto) and instantiated with their imports resolved
// from other core instances' exports, inline export bags, lowered component functions and the
// resource built-ins: each import becomes a HostFunc of the engine's own table, so both engines
// link them identically. Component-level functions are lifted core functions or the host's
// (HostRegistry); nested components are instantiated with their arguments as imports.
#include <algorithm>
#include <atomic>

#include "component/runtime.h"

namespace wasmcap::component {
namespace {

std::atomic<uint64_t> g_core_module_loads{0};  // core_module_loads_for_tests()

Error link_error(std::string msg) { return Error{ErrorCode::kLinkError, "component: " + std::move(msg)}; }

std::vector<component::ValType> param_types(const TypeDef& ft) {
  std::vector<component::ValType> out;
  for (const Field& f : ft.fields) out.push_back(f.type);
  return out;
}
std::vector<component::ValType> result_types(const TypeDef& ft) {
  std::vector<component::ValType> out;
  if (ft.has_a) out.push_back(ft.a);
  return out;
}

HostCallResult to_host_result(const Error& e) { return HostCallResult::fail(e); }

// Checks and lowers the values a component function is called with or returns.
Result<void> check_vals(const Decoded& d, const std::vector<Val>& vals, const std::vector<component::ValType>& types,
                        const std::string& what) {
  if (vals.size() != types.size()) {
    return make_error(ErrorCode::kInvalidArgument, what + ": " + std::to_string(vals.size()) + " values given, " +
                                                       std::to_string(types.size()) + " expected");
  }
  for (size_t i = 0; i < vals.size(); ++i) WASMCAP_TRY(check_val(d, vals[i], types[i], what + " #" + std::to_string(i)));
  return {};
}

struct Builder {
  Shared& sh;
  InstanceState& st;
  const Component& c;
  const std::map<std::string, Item, std::less<>>* args;  // a nested instantiation's arguments

  const Decoded& d() const { return *sh.decoded; }

  // The item at index i of a space. The decoder checked i against the static space, which the
  // walk fills in step; an index past the run-time space (never expected) is an empty item, so
  // the use fails as a link error instead of reading out of bounds.
  Item& at(Sort s, uint32_t i) {
    std::vector<Item>& space = st.space[static_cast<size_t>(s)];
    if (i < space.size()) return space[i];
    static thread_local Item empty;
    empty = Item::of(s);
    return empty;
  }
  // The static entry the next item of sort s will be.
  const SpaceEntry& next_static(Sort s) const {
    static const SpaceEntry none{};
    const size_t n = st.space[static_cast<size_t>(s)].size();
    return n < c.space(s).size() ? c.space(s)[n] : none;
  }
  void push(Item it) { st.space[static_cast<size_t>(it.sort)].push_back(std::move(it)); }

  // ---- core ----

  Result<std::shared_ptr<CoreFunc>> export_func(CoreInst* ci, const std::string& name) {
    auto cached = ci->func_cache.find(name);
    if (cached != ci->func_cache.end()) return cached->second;
    const ExportDesc* e = ci->module->info().find_export(name);
    if (e == nullptr || e->kind != ExternKind::kFunc) {
      return tl::unexpected(link_error(ci->what + " exports no function " + quote_untrusted(name)));
    }
    auto f = std::make_shared<CoreFunc>();
    f->sig = e->sig;
    f->what = "function " + quote_untrusted(name) + " of " + ci->what;
    wasmcap::Instance* inst = ci->instance.get();
    const size_t nparams = e->sig.params.size(), nresults = e->sig.results.size();
    f->call = [inst, name, nparams, nresults](HostContext& ctx, const Value* a, Value* results) {
      std::vector<Value> argv(a, a + nparams);
      const uint64_t before = inst->fuel_consumed();
      auto r = inst->call(name, argv);
      ctx.charge_fuel(inst->fuel_consumed() - before);
      if (!r) return to_host_result(r.error());
      if (r->exited) return HostCallResult::exit(r->exit_code);
      for (size_t i = 0; i < nresults && i < r->results.size(); ++i) results[i] = r->results[i];
      return HostCallResult::ok();
    };
    ci->func_cache.emplace(name, f);
    return f;
  }

  // The item a core instance exports as `name` (of sort s).
  Result<Item> core_export(const std::shared_ptr<CoreInst>& ci, const std::string& name, Sort s) {
    if (!ci) return tl::unexpected(link_error("a core export of no core instance"));
    if (!ci->instance) {
      auto it = ci->inline_exports.find(name);
      if (it == ci->inline_exports.end() || it->second.sort != s) {
        return tl::unexpected(link_error(ci->what + " exports no " + sort_name(s) + " " + quote_untrusted(name)));
      }
      return it->second;
    }
    Item item;
    item.sort = s;
    if (s == Sort::kCoreFunc) {
      WASMCAP_TRY_ASSIGN(item.core_func, export_func(ci.get(), name));
      return item;
    }
    const ExportDesc* e = ci->module->info().find_export(name);
    static const std::pair<Sort, ExternKind> kinds[] = {{Sort::kCoreMemory, ExternKind::kMemory},
                                                        {Sort::kCoreTable, ExternKind::kTable},
                                                        {Sort::kCoreGlobal, ExternKind::kGlobal},
                                                        {Sort::kCoreTag, ExternKind::kTag}};
    bool ok = false;
    for (auto& [sort, kind] : kinds) ok |= sort == s && e != nullptr && e->kind == kind;
    if (!ok) return tl::unexpected(link_error(ci->what + " exports no " + sort_name(s) + " " + quote_untrusted(name)));
    item.core_inst = ci;
    item.core_name = name;
    return item;
  }

  Result<std::shared_ptr<const Module>> load(const CoreModule* m) {
    auto it = sh.modules.find(m);
    if (it != sh.modules.end()) return it->second;
    if (sh.options.loaded) {
      std::lock_guard<std::mutex> lock(sh.options.loaded->mu);
      auto c = sh.options.loaded->modules.find(m);
      if (c != sh.options.loaded->modules.end()) {
        sh.modules.emplace(m, c->second);
        return c->second;
      }
    }
    // A view of the component's bytes, kept alive by its keeper: engines keep views, not copies.
    ModuleBytes bytes(sh.bytes + m->bytes.offset, m->bytes.size);
    bytes.with_keeper(sh.keeper);
    if (sh.file) {
      // The range's own key for the records (never a path to open): the component file's
      // identity (device, inode, times; its size in the name) with the range in its name, so a
      // changed file matches no record.
      ModuleFileIdentity range = *sh.file;
      range.path += "#core-module@" + std::to_string(m->bytes.offset) + "+" + std::to_string(m->bytes.size) +
                    "-of-" + std::to_string(sh.file->size);
      range.size = m->bytes.size;
      bytes.with_file(range);
    }
    g_core_module_loads.fetch_add(1, std::memory_order_relaxed);
    auto loaded = sh.engine->load(bytes);
    if (!loaded) {
      Error e = loaded.error();
      e.message = "component: core module at byte " + std::to_string(m->bytes.offset) + ": " + e.message;
      return tl::unexpected(std::move(e));
    }
    sh.modules.emplace(m, *loaded);
    if (sh.options.loaded) {
      // Loaded outside the lock: two first runs may both load it; the first kept wins.
      std::lock_guard<std::mutex> lock(sh.options.loaded->mu);
      sh.options.loaded->modules.emplace(m, *loaded);
    }
    return *loaded;
  }

  Result<void> core_instance(uint32_t index) {
    const CoreInstance& def = c.core_instances[index];
    auto ci = std::make_shared<CoreInst>();
    const uint32_t number = static_cast<uint32_t>(st.space[static_cast<size_t>(Sort::kCoreInstance)].size());
    ci->what = "core instance " + std::to_string(number);
    if (!def.instantiate) {
      for (const InstantiateArg& a : def.exports) ci->inline_exports[a.name] = at(a.sort, a.index);
      push(Item::of_core_inst(ci));
      return {};
    }
    if (++sh.core_instances > sh.options.max_core_instances) {
      return make_error(ErrorCode::kModuleUnsupported,
                        "component: more than " + std::to_string(sh.options.max_core_instances) +
                            " core instances (InstantiateOptions::max_core_instances)");
    }
    const Item& mod = at(Sort::kCoreModule, def.module);
    if (mod.module == nullptr) return tl::unexpected(link_error(ci->what + " instantiates no core module"));
    WASMCAP_TRY_ASSIGN(ci->module, load(mod.module));
    ci->imports = std::make_unique<HostFuncTable>();
    for (const ImportDesc& imp : ci->module->info().imports) {
      const std::string what = quote_untrusted(imp.module) + " " + quote_untrusted(imp.name);
      auto arg = std::find_if(def.args.begin(), def.args.end(), [&](const InstantiateArg& a) { return a.name == imp.module; });
      if (arg == def.args.end()) {
        return tl::unexpected(link_error(ci->what + ": import " + what + " has no argument named " +
                                         quote_untrusted(imp.module)));
      }
      const std::shared_ptr<CoreInst>& from = at(Sort::kCoreInstance, arg->index).core_inst;
      if (imp.kind == ExternKind::kMemory || imp.kind == ExternKind::kTable || imp.kind == ExternKind::kGlobal) {
        // The exporter's own storage, not a copy (SharedExtern): the engine checks its type and
        // limits when it links the import.
        const Sort s = imp.kind == ExternKind::kMemory  ? Sort::kCoreMemory
                       : imp.kind == ExternKind::kTable ? Sort::kCoreTable
                                                        : Sort::kCoreGlobal;
        Item item{};
        WASMCAP_TRY_ASSIGN(item, core_export(from, imp.name, s));
        if (!item.core_inst || !item.core_inst->instance) {
          return tl::unexpected(link_error(ci->what + ": import " + what + " names no core instance's export"));
        }
        auto ext = item.core_inst->instance->export_extern(item.core_name);
        if (!ext) {
          Error e = ext.error();
          e.message = "component: " + ci->what + " imports " + what + ": " + e.message;
          return tl::unexpected(std::move(e));
        }
        ci->imports->add_extern(imp.module, imp.name, std::move(*ext));
        continue;
      }
      if (imp.kind != ExternKind::kFunc) {
        return make_error(ErrorCode::kModuleUnsupported,
                          "component: " + ci->what + " imports the " + std::string(extern_kind_name(imp.kind)) +
                              " " + what + " from another core instance: tags are not shared between core instances");
      }
      Item item{};
      WASMCAP_TRY_ASSIGN(item, core_export(from, imp.name, Sort::kCoreFunc));
      std::shared_ptr<CoreFunc> f = item.core_func;
      ci->imports->add(HostFunc{imp.module, imp.name, f->sig,
                                [f](HostContext& ctx, const Value* a, Value* r) { return f->call(ctx, a, r); }});
    }
    auto inst = sh.engine->instantiate(ci->module, *ci->imports, sh.limits);
    if (!inst) {
      Error e = inst.error();
      e.message = "component: " + ci->what + ": " + e.message;
      return tl::unexpected(std::move(e));
    }
    ci->instance = std::move(*inst);
    push(Item::of_core_inst(ci));
    return {};
  }

  // ---- component functions ----

  Result<CoreInst*> memory_option(const CanonOptions& o) {
    if (o.memory == kNone) return nullptr;
    const Item& m = at(Sort::kCoreMemory, o.memory);
    if (!m.core_inst || !m.core_inst->instance) return tl::unexpected(link_error("a canon memory option names no memory"));
    if (m.core_inst->module->info().memories.size() != 1) {
      return make_error(ErrorCode::kModuleUnsupported,
                        "component: the canon memory option names a memory of a module with " +
                            std::to_string(m.core_inst->module->info().memories.size()) +
                            " memories (only one is supported)");
    }
    return m.core_inst.get();
  }

  Result<std::shared_ptr<CoreFunc>> func_option(uint32_t index, const FuncSig& want, const char* what) {
    if (index == kNone) return std::shared_ptr<CoreFunc>();
    std::shared_ptr<CoreFunc> f = at(Sort::kCoreFunc, index).core_func;
    if (!f) return tl::unexpected(link_error(std::string(what) + " names no core function"));
    if (f->sig != want) {
      return tl::unexpected(link_error(std::string(what) + " has type " + f->sig.to_string() + ", the Canonical ABI needs " +
                                       want.to_string()));
    }
    return f;
  }

  Result<void> lift(const Canon& canon) {
    const TypeDef& ft = d().types[canon.type];
    std::shared_ptr<CoreFunc> core = at(Sort::kCoreFunc, canon.func).core_func;
    const FuncSig sig = core_signature(d(), ft, true);
    if (!core || core->sig != sig) {
      return tl::unexpected(link_error("canon lift of " + (core ? core->what : std::string("?")) + ": its type " +
                                       (core ? core->sig.to_string() : "") + " is not the lifted type's " + sig.to_string()));
    }
    using VT = wasmcap::ValType;
    CoreInst* memory{};
    WASMCAP_TRY_ASSIGN(memory, memory_option(canon.options));
    std::shared_ptr<CoreFunc> realloc{};
    WASMCAP_TRY_ASSIGN(realloc, func_option(canon.options.realloc, FuncSig{{VT::kI32, VT::kI32, VT::kI32, VT::kI32}, {VT::kI32}}, "realloc"));
    std::shared_ptr<CoreFunc> post{};
    WASMCAP_TRY_ASSIGN(post, func_option(canon.options.post_return, FuncSig{sig.results, {}}, "post-return"));
    auto f = std::make_shared<Func>();
    f->type = canon.type;
    f->what = "lifted " + core->what;
    InstanceState* inst = &st;
    const CanonOptions* opts = &canon.options;
    f->call = [inst, opts, memory, realloc, post, core, &ft](std::vector<Val>& args,
                                                             HostContext* caller) -> Result<CallResult> {
      const Decoded& d = *inst->shared->decoded;
      const auto params = param_types(ft), results = result_types(ft);
      WASMCAP_TRY(check_vals(d, args, params, "arguments"));
      // Fuel: called through another core instance's lowered import, this call's guest code
      // (realloc, the function, post-return) is charged to that import's call, so the engine adds
      // it to the calling instance; called by the host, it is an entry, added to the run's total
      // (Shared::fuel_used) however it ends.
      HostContext own;
      own.limits = &inst->shared->limits;
      HostContext& ctx = caller != nullptr ? *caller : own;
      struct Entry {
        Shared* sh;
        const HostContext* own;
        bool top;
        ~Entry() {
          if (top) sh->add_fuel(own->fuel_charged);
        }
      } entry{inst->shared, &own, caller == nullptr};
      CallScope scope;
      Cx cx{inst, opts, memory, realloc, &scope};
      cx.charge = &ctx;
      auto flat = lower_values(cx, params, args, kMaxFlatParams, nullptr);
      if (!flat) {
        (void)end_scope(scope, false);
        return tl::unexpected(flat.error());
      }
      Value out[1];
      HostCallResult r = core->call(ctx, flat->data(), out);
      CallResult result;
      if (r.status == HostStatus::kExit) {
        (void)end_scope(scope, false);
        result.exited = true;
        result.exit_code = r.exit_code;
        return result;
      }
      if (r.status != HostStatus::kOk) {
        (void)end_scope(scope, false);
        return tl::unexpected(host_result_error(r));
      }
      cx.host_bytes = 0;
      auto vals = lift_values(cx, results, out, core->sig.results.size(), kMaxFlatResults);
      if (!vals) {
        (void)end_scope(scope, false);
        return tl::unexpected(vals.error());
      }
      if (post) {
        HostCallResult pr = post->call(ctx, out, nullptr);
        if (pr.status == HostStatus::kExit) {
          result.exited = true;
          result.exit_code = pr.exit_code;
        } else if (pr.status != HostStatus::kOk) {
          (void)end_scope(scope, false);
          return tl::unexpected(host_result_error(pr));
        }
      }
      WASMCAP_TRY(end_scope(scope, true));
      result.results = std::move(*vals);
      return result;
    };
    push(Item::of_func(f));
    return {};
  }

  Result<void> lower(const Canon& canon) {
    std::shared_ptr<Func> callee = at(Sort::kFunc, canon.func).func;
    if (!callee) return tl::unexpected(link_error("canon lower names no function"));
    const TypeDef& ft = d().types[callee->type];
    CoreInst* memory{};
    WASMCAP_TRY_ASSIGN(memory, memory_option(canon.options));
    using VT = wasmcap::ValType;
    std::shared_ptr<CoreFunc> realloc{};
    WASMCAP_TRY_ASSIGN(realloc, func_option(canon.options.realloc, FuncSig{{VT::kI32, VT::kI32, VT::kI32, VT::kI32}, {VT::kI32}}, "realloc"));
    auto f = std::make_shared<CoreFunc>();
    f->sig = core_signature(d(), ft, false);
    f->what = "lowered " + callee->what;
    InstanceState* inst = &st;
    const CanonOptions* opts = &canon.options;
    const bool spilled_results = flatten(d(), result_types(ft), kMaxFlatResults).size() > kMaxFlatResults;
    const size_t nflat = f->sig.params.size() - (spilled_results ? 1 : 0);
    f->call = [inst, opts, memory, realloc, callee, &ft, spilled_results, nflat](HostContext& ctx, const Value* a,
                                                                                 Value* results) {
      const Decoded& d = *inst->shared->decoded;
      CallScope scope;
      Cx cx{inst, opts, memory, realloc, &scope};
      cx.charge = &ctx;
      auto fail = [&](const Error& e) {
        (void)end_scope(scope, false);
        return HostCallResult::fail(e);
      };
      auto args = lift_values(cx, param_types(ft), a, nflat, kMaxFlatParams);
      if (!args) return fail(args.error());
      // The host's work moving the values is metered like any host call's (kFuelBytesPerUnit).
      ctx.charge_fuel(fuel_for_bytes(cx.host_bytes));
      auto r = callee->call(*args, &ctx);
      if (!r) return fail(r.error());
      if (r->exited) {
        (void)end_scope(scope, false);
        return HostCallResult::exit(r->exit_code);
      }
      auto flat = lower_values(cx, result_types(ft), r->results, kMaxFlatResults, spilled_results ? &a[nflat] : nullptr);
      if (!flat) return fail(flat.error());
      for (size_t i = 0; i < flat->size(); ++i) results[i] = (*flat)[i];
      (void)end_scope(scope, false);
      (void)d;
      return HostCallResult::ok();
    };
    push(Item::of_core_func(f));
    return {};
  }

  Result<void> canon(uint32_t index) {
    const Canon& canon = c.canons[index];
    switch (canon.kind) {
      case CanonKind::kLift: return lift(canon);
      case CanonKind::kLower: return lower(canon);
      default: {
        const ResourceType* rt{};
        WASMCAP_TRY_ASSIGN(rt, runtime_resource(st, canon.type));
        push(Item::of_core_func(resource_builtin(st, canon.kind, rt)));
        return {};
      }
    }
  }

  // ---- imports ----

  Result<std::shared_ptr<Func>> host_func(const std::string& iface, const std::string& name, uint32_t type) {
    const HostFn* fn = sh.host->find_function(iface, name);
    if (fn == nullptr) {
      return tl::unexpected(link_error("import " + (iface.empty() ? std::string() : quote_untrusted(iface) + " ") +
                                       "function " + quote_untrusted(name) + ": the host provides no such function"));
    }
    auto f = std::make_shared<Func>();
    f->type = type;
    f->what = "host function " + quote_untrusted(iface.empty() ? name : iface + "#" + name);
    const Decoded* dd = &d();
    const ExecLimits* limits = &sh.limits;
    f->call = [fn, iface, name, type, dd, limits, what = f->what](std::vector<Val>& args,
                                                                  HostContext* ctx) -> Result<CallResult> {
      std::vector<Val> results;
      HostCallInfo info{iface, name, limits, ctx};
      HostCallResult r = (*fn)(info, args, results);
      CallResult out;
      if (r.status == HostStatus::kExit) {
        out.exited = true;
        out.exit_code = r.exit_code;
        return out;
      }
      if (r.status != HostStatus::kOk) return tl::unexpected(host_result_error(r));
      auto checked = check_vals(*dd, results, result_types(dd->types[type]), what + " returned");
      if (!checked) return make_error(ErrorCode::kTrapHost, checked.error().message);
      out.results = std::move(results);
      return out;
    };
    return f;
  }

  Result<Item> host_import(const Import& im) {
    Item item;
    item.sort = im.desc.sort;
    item.type = im.desc.type;
    switch (im.desc.sort) {
      case Sort::kFunc: {
        WASMCAP_TRY_ASSIGN(item.func, host_func("", im.name, im.desc.type));
        return item;
      }
      case Sort::kType: {
        if (!im.desc.sub_resource) return item;
        item.resource = sh.host->find_resource("", im.name);
        if (item.resource == nullptr) {
          return tl::unexpected(link_error("import resource " + quote_untrusted(im.name) + ": the host provides none"));
        }
        return item;
      }
      case Sort::kInstance: {
        item.instance = std::make_shared<CompInst>();
        for (const Decl& e : d().types[im.desc.type].exports) {
          Item x;
          x.sort = e.desc.sort;
          x.type = e.desc.type;
          if (e.desc.sort == Sort::kFunc) {
            WASMCAP_TRY_ASSIGN(x.func, host_func(im.name, e.name, e.desc.type));
          } else if (e.desc.sort == Sort::kType) {
            if (e.desc.sub_resource) {
              x.resource = sh.host->find_resource(im.name, e.name);
              if (x.resource == nullptr) {
                return tl::unexpected(link_error("import " + quote_untrusted(im.name) + " resource " +
                                                 quote_untrusted(e.name) + ": the host provides none"));
              }
            }
          } else {
            return make_error(ErrorCode::kModuleUnsupported,
                              "component: import " + quote_untrusted(im.name) + " exports a " + sort_name(e.desc.sort) +
                                  " " + quote_untrusted(e.name) + ": the host supplies only functions and resources");
          }
          item.instance->exports[e.name] = std::move(x);
        }
        return item;
      }
      default:
        return make_error(ErrorCode::kModuleUnsupported, "component: import " + quote_untrusted(im.name) + " is a " +
                                                             sort_name(im.desc.sort) +
                                                             ": the host supplies only functions, instances and resources");
    }
  }

  // Binds the static resource types an imported item brings to their run-time types.
  void bind_resources(const ExternDesc& desc, const Item& item) {
    if (desc.sort == Sort::kType && item.resource != nullptr) st.resources[desc.type] = item.resource;
    if (desc.sort == Sort::kInstance && item.instance && desc.type != kNone) {
      for (const Decl& e : d().types[desc.type].exports) {
        auto it = item.instance->exports.find(e.name);
        if (it != item.instance->exports.end() && e.desc.sort == Sort::kType && it->second.resource != nullptr) {
          st.resources[e.desc.type] = it->second.resource;
        }
      }
    }
  }

  Result<void> import(uint32_t index) {
    const Import& im = c.imports[index];
    Item item;
    if (args == nullptr) {
      WASMCAP_TRY_ASSIGN(item, host_import(im));
    } else {
      auto it = args->find(im.name);
      if (it == args->end() || it->second.sort != im.desc.sort) {
        return tl::unexpected(link_error("nested component import " + quote_untrusted(im.name) + " has no argument"));
      }
      item = it->second;
    }
    bind_resources(im.desc, item);
    push(std::move(item));
    return {};
  }

  // ---- the rest ----

  Result<void> instance(uint32_t index);

  Result<void> alias(uint32_t index) {
    const Alias& a = c.aliases[index];
    Item item;
    switch (a.kind) {
      case AliasKind::kExport: {
        const std::shared_ptr<CompInst>& in = at(Sort::kInstance, a.instance).instance;
        auto it = in ? in->exports.find(a.name) : decltype(in->exports.end()){};
        if (!in || it == in->exports.end() || it->second.sort != a.sort) {
          return tl::unexpected(link_error("instance " + std::to_string(a.instance) + " has no " + sort_name(a.sort) +
                                           " export " + quote_untrusted(a.name)));
        }
        item = it->second;
        if (a.sort == Sort::kType && item.resource != nullptr) st.resources[next_static(a.sort).type] = item.resource;
        break;
      }
      case AliasKind::kCoreExport: {
        WASMCAP_TRY_ASSIGN(item, core_export(at(Sort::kCoreInstance, a.instance).core_inst, a.name, a.sort));
        break;
      }
      case AliasKind::kOuter: {
        InstanceState* target = &st;
        for (uint32_t i = 0; i < a.outer_count && target != nullptr; ++i) target = target->parent;
        if (target == nullptr || a.outer_index >= target->space[static_cast<size_t>(a.sort)].size()) {
          return tl::unexpected(link_error("an outer alias names nothing at run time"));
        }
        item = target->space[static_cast<size_t>(a.sort)][a.outer_index];
        break;
      }
    }
    item.sort = a.sort;
    push(std::move(item));
    return {};
  }

  Result<void> type(uint32_t id) {
    Item item;
    item.sort = Sort::kType;
    item.type = id;
    const TypeDef& t = d().types[id];
    if (t.kind == TypeKind::kResource && t.resource_local) {
      auto rt = std::make_unique<ResourceType>();
      rt->name = "resource " + std::to_string(id);
      rt->impl = &st;
      if (t.resource_dtor != kNone) {
        std::shared_ptr<CoreFunc> dtor = at(Sort::kCoreFunc, t.resource_dtor).core_func;
        if (!dtor || dtor->sig != FuncSig{{wasmcap::ValType::kI32}, {}}) {
          return tl::unexpected(link_error("a resource destructor is not a core function (param i32)"));
        }
        // From resource.drop, the dropping call's context (its fuel then counts where the
        // engine counts that call's); from the host (ComponentInstance::drop), an entry.
        rt->guest_dtor = [dtor, shared = &sh](uint32_t rep, HostContext* caller) {
          HostContext own;
          own.limits = &shared->limits;
          Value a = Value::I32(rep);
          HostCallResult r = dtor->call(caller != nullptr ? *caller : own, &a, nullptr);
          if (caller == nullptr) shared->add_fuel(own.fuel_charged);
          return r;
        };
      }
      item.resource = rt.get();
      st.resources[id] = rt.get();
      sh.resources.push_back(std::move(rt));
    }
    push(std::move(item));
    return {};
  }

  Result<void> start(uint32_t index) {
    const Start& s = c.starts[index];
    if (!s.args.empty()) {
      return make_error(ErrorCode::kModuleUnsupported, "component: a start function with arguments (values are not supported)");
    }
    std::shared_ptr<Func> f = at(Sort::kFunc, s.func).func;
    if (!f) return tl::unexpected(link_error("the start function names no function"));
    std::vector<Val> none;
    CallResult r{};
    WASMCAP_TRY_ASSIGN(r, f->call(none, nullptr));
    if (r.exited) return make_error(ErrorCode::kTrapOther, "component: the start function exited");
    for (uint32_t i = 0; i < s.results; ++i) push(Item::of(Sort::kValue));
    return {};
  }

  Result<void> export_(uint32_t index) {
    const Export& ex = c.exports[index];
    Item item = at(ex.sort, ex.index);
    if (ex.sort == Sort::kType && item.resource != nullptr) {
      st.resources[ex.desc.type] = item.resource;
      if (item.resource->impl == &st) {
        for (auto& rt : sh.resources) {
          if (rt.get() == item.resource && rt->name.rfind("resource ", 0) == 0) rt->name = ex.name;
        }
      }
    }
    st.exports->exports[ex.name] = item;
    push(std::move(item));
    return {};
  }

  Result<void> run() {
    for (const Definition& def : c.order) {
      switch (def.kind) {
        case DefKind::kCoreModule: {
          Item m;
          m.sort = Sort::kCoreModule;
          m.module = &c.modules[def.index];
          push(std::move(m));
          break;
        }
        case DefKind::kCoreInstance: WASMCAP_TRY(core_instance(def.index)); break;
        case DefKind::kCoreType: push(Item::of(Sort::kCoreType)); break;
        case DefKind::kComponent: {
          Item comp;
          comp.sort = Sort::kComponent;
          comp.component = &c.components[def.index];
          comp.closure = &st;
          push(std::move(comp));
          break;
        }
        case DefKind::kInstance: WASMCAP_TRY(instance(def.index)); break;
        case DefKind::kAlias: WASMCAP_TRY(alias(def.index)); break;
        case DefKind::kType: WASMCAP_TRY(type(def.index)); break;
        case DefKind::kCanon: WASMCAP_TRY(canon(def.index)); break;
        case DefKind::kStart: WASMCAP_TRY(start(def.index)); break;
        case DefKind::kImport: WASMCAP_TRY(import(def.index)); break;
        case DefKind::kExport: WASMCAP_TRY(export_(def.index)); break;
      }
    }
    return {};
  }
};

uint32_t count_instances(const InstanceState& s) {
  uint32_t n = 1;
  for (const auto& c : s.children) n += count_instances(*c);
  return n;
}

Result<void> Builder::instance(uint32_t index) {
  const Instance& def = c.instances[index];
  Item item;
  item.sort = Sort::kInstance;
  if (!def.instantiate) {
    item.instance = std::make_shared<CompInst>();
    for (const InstantiateArg& a : def.exports) {
      Item x = at(a.sort, a.index);
      x.sort = a.sort;
      item.instance->exports[a.name] = std::move(x);
    }
    push(std::move(item));
    return {};
  }
  InstanceState* root = &st;
  while (root->parent != nullptr) root = root->parent;
  if (count_instances(*root) >= sh.options.max_component_instances) {
    return make_error(ErrorCode::kModuleUnsupported,
                      "component: more than " + std::to_string(sh.options.max_component_instances) +
                          " component instances (InstantiateOptions::max_component_instances)");
  }
  const Item& comp = at(Sort::kComponent, def.component);
  if (comp.component == nullptr) return tl::unexpected(link_error("an instantiation of no component"));
  std::map<std::string, Item, std::less<>> child_args;
  for (const InstantiateArg& a : def.args) {
    Item x = at(a.sort, a.index);
    x.sort = a.sort;
    child_args[a.name] = std::move(x);
  }
  auto child = std::make_unique<InstanceState>(sh.options.max_handles);
  child->shared = &sh;
  child->def = comp.component;
  child->parent = comp.closure;
  Builder b{sh, *child, *comp.component, &child_args};
  WASMCAP_TRY(b.run());
  item.instance = child->exports;
  st.children.push_back(std::move(child));
  push(std::move(item));
  return {};
}

}  // namespace

ComponentInstance::~ComponentInstance() = default;

Result<std::unique_ptr<ComponentInstance>> ComponentInstance::instantiate(Engine& engine, const uint8_t* bytes,
                                                                          size_t size, const HostRegistry& host,
                                                                          const ExecLimits& limits,
                                                                          InstantiateOptions options) {
  auto copy = std::make_shared<const std::vector<uint8_t>>(bytes, bytes + size);
  Decoded d;
  WASMCAP_TRY_ASSIGN(d, decode(copy->data(), copy->size()));
  ModuleBytes kept(copy->data(), copy->size());
  kept.with_keeper(copy);
  return instantiate(engine, kept, std::make_shared<const Decoded>(std::move(d)), host, limits, options);
}

Result<std::unique_ptr<ComponentInstance>> ComponentInstance::instantiate(Engine& engine, const ModuleBytes& bytes,
                                                                          std::shared_ptr<const Decoded> decoded,
                                                                          const HostRegistry& host,
                                                                          const ExecLimits& limits,
                                                                          InstantiateOptions options) {
  std::unique_ptr<ComponentInstance> out(new ComponentInstance());
  out->shared_ = std::make_unique<Shared>();
  Shared& sh = *out->shared_;
  sh.engine = &engine;
  sh.host = &host;
  sh.limits = limits;
  sh.options = options;
  if (bytes.keeper()) {
    sh.bytes = bytes.data();
    sh.keeper = bytes.keeper();
  } else {  // bytes only the caller keeps: one copy the instance holds
    auto copy = std::make_shared<const std::vector<uint8_t>>(bytes.data(), bytes.data() + bytes.size());
    sh.bytes = copy->data();
    sh.keeper = std::move(copy);
  }
  if (bytes.file() != nullptr) sh.file = *bytes.file();
  sh.decoded = std::move(decoded);
  ComponentInstance* self = out.get();
  return self->build(std::move(out));
}

Result<std::unique_ptr<ComponentInstance>> ComponentInstance::build(std::unique_ptr<ComponentInstance> self) {
  Shared& sh = *shared_;
  root_ = std::make_unique<InstanceState>(sh.options.max_handles);
  root_->shared = &sh;
  root_->def = &sh.decoded->root;
  Builder b{sh, *root_, sh.decoded->root, nullptr};
  WASMCAP_TRY(b.run());
  return self;
}

namespace {
const Item* find_export(const InstanceState& root, std::string_view name, Sort sort) {
  const ExportPath p = split_export_path(name);
  const auto& top = root.exports->exports;
  if (!p.in_instance) {
    auto it = top.find(p.func);
    return it != top.end() && it->second.sort == sort ? &it->second : nullptr;
  }
  auto it = top.find(p.instance);
  if (it == top.end() || it->second.sort != Sort::kInstance || !it->second.instance) return nullptr;
  auto jt = it->second.instance->exports.find(p.func);
  return jt != it->second.instance->exports.end() && jt->second.sort == sort ? &jt->second : nullptr;
}
}  // namespace

Result<CallResult> ComponentInstance::call(std::string_view name, std::vector<Val> args) {
  if (trapped_) {
    return make_error(ErrorCode::kTrapOther,
                      "component: the instance trapped in an earlier call; instantiate the component again");
  }
  const Item* item = find_export(*root_, name, Sort::kFunc);
  if (item == nullptr || !item->func) {
    return make_error(ErrorCode::kNoEntryPoint, "component: no exported function " + quote_untrusted(name));
  }
  const TypeDef& ft = shared_->decoded->types[item->func->type];
  // Arguments are checked before any code runs: a refused call is not a trap.
  WASMCAP_TRY(check_vals(*shared_->decoded, args, param_types(ft), "arguments"));
  // A host function calling back into the instance whose call it serves would re-enter it: the
  // spec's component instances may not be re-entered (CanonicalABI.md, may_enter). (Its core
  // instances may: a lowered import's realloc called back into the instance calling it.)
  if (calling_) {
    return make_error(ErrorCode::kInvalidArgument,
                      "component: re-entrant call into a component instance (from a host function)");
  }
  calling_ = true;
  auto r = item->func->call(args, nullptr);
  calling_ = false;
  if (r && shared_->limits.fuel != 0 && shared_->fuel_used > shared_->limits.fuel) {
    r = make_error(ErrorCode::kFuelExhausted, "fuel exhausted after " + std::to_string(shared_->fuel_used) +
                                                  " units across the component's core instances; raise --fuel");
  }
  // Anything else that fails happened while guest code ran: the instance's state is unknown.
  if (!r) trapped_ = true;
  return r;
}

uint64_t ComponentInstance::fuel_consumed() const { return shared_->fuel_used; }

std::vector<std::string> ComponentInstance::exported_functions() const {
  std::vector<std::string> out;
  for (const auto& [name, item] : root_->exports->exports) {
    if (item.sort == Sort::kFunc) out.push_back(name);
    if (item.sort == Sort::kInstance && item.instance) {
      for (const auto& [n, x] : item.instance->exports) {
        if (x.sort == Sort::kFunc) out.push_back(name + "#" + n);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

const ResourceType* ComponentInstance::exported_resource(std::string_view name) const {
  const Item* item = find_export(*root_, name, Sort::kType);
  return item == nullptr ? nullptr : item->resource;
}

const Decoded& ComponentInstance::decoded() const { return *shared_->decoded; }

size_t ComponentInstance::live_handles() const { return root_->handles.live(); }

uint64_t core_module_loads_for_tests() { return g_core_module_loads.load(std::memory_order_relaxed); }

}  // namespace wasmcap::component
