// Resources (layer 3, CanonicalABI.md "Resource State", "canon resource.new/drop/rep"): each
// component instance's handle table, own and borrow handles crossing calls, the borrow rules
// (a borrow given to a callee is dropped before it returns; a lent handle cannot be dropped or
// moved while lent), destructors. Every handle index a guest passes is checked: a missing, freed,
// mistyped or still-lent handle is a trap naming which.
#include "component/runtime.h"

namespace wasmcap::component {

Result<uint32_t> HandleTable::add(const Handle& h) {
  if (!free_.empty()) {
    uint32_t i = free_.back();
    free_.pop_back();
    slots_[i] = h;
    used_[i] = true;
    return i;
  }
  if (slots_.size() - 1 >= max_ || slots_.size() - 1 >= kMaxHandleTableSpec) {
    return tl::unexpected(abi_trap("the handle table is full (" + std::to_string(slots_.size() - 1) +
                                   " handles, InstantiateOptions::max_handles)"));
  }
  slots_.push_back(h);
  used_.push_back(true);
  return static_cast<uint32_t>(slots_.size() - 1);
}

Result<Handle*> HandleTable::get(uint32_t i, const char* what) {
  if (i == 0 || i >= slots_.size() || !used_[i]) {
    return tl::unexpected(abi_trap(std::string(what) + ": handle " + std::to_string(i) + " is not a live handle"));
  }
  return &slots_[i];
}

Result<Handle> HandleTable::remove(uint32_t i, const char* what) {
  Handle* h{};
  WASMCAP_TRY_ASSIGN(h, get(i, what));
  Handle out = *h;
  *h = Handle{};
  used_[i] = false;
  free_.push_back(i);
  return out;
}

void HandleTable::forget_scope(const CallScope* scope) {
  for (uint32_t i = 1; i < slots_.size(); ++i) {
    if (used_[i] && slots_[i].scope == scope) {
      slots_[i] = Handle{};
      used_[i] = false;
      free_.push_back(i);
    }
  }
}

Result<const ResourceType*> runtime_resource(InstanceState& inst, uint32_t resource_type) {
  for (InstanceState* s = &inst; s != nullptr; s = s->parent) {
    auto it = s->resources.find(resource_type);
    if (it != s->resources.end()) return it->second;
  }
  return tl::unexpected(abi_trap("a resource type has no run-time type in this instance"));
}

namespace {

std::string rt_name(const ResourceType* rt) { return rt == nullptr ? "?" : quote_untrusted(rt->name); }

Result<void> same_type(const ResourceType* have, const ResourceType* want, const char* what) {
  if (have != want) {
    return tl::unexpected(abi_trap(std::string(what) + ": a handle of resource " + rt_name(have) +
                                   " where " + rt_name(want) + " is expected"));
  }
  return {};
}

// Runs the destructor of an own handle's resource.
// CALLER: the context of the guest call dropping it (resource.drop), or null from the host.
HostCallResult destroy(const ResourceType* rt, uint32_t rep, HostContext* caller) {
  if (rt->guest_dtor) return rt->guest_dtor(rep, caller);
  if (rt->host_dtor) rt->host_dtor(rep);
  return HostCallResult::ok();
}

}  // namespace

Result<uint32_t> lower_own(Cx& cx, const Val& v, uint32_t resource_type) {
  const ResourceType* rt{};
  WASMCAP_TRY_ASSIGN(rt, runtime_resource(*cx.inst, resource_type));
  WASMCAP_TRY(same_type(v.resource, rt, "own"));
  return cx.inst->handles.add(Handle{rt, static_cast<uint32_t>(v.bits), true, 0, nullptr});
}

Result<uint32_t> lower_borrow(Cx& cx, const Val& v, uint32_t resource_type) {
  const ResourceType* rt{};
  WASMCAP_TRY_ASSIGN(rt, runtime_resource(*cx.inst, resource_type));
  WASMCAP_TRY(same_type(v.resource, rt, "borrow"));
  // The implementation's own instance gets the representation itself (it can only resource.rep
  // a handle anyway).
  if (rt->impl == cx.inst) return static_cast<uint32_t>(v.bits);
  if (cx.scope == nullptr) return tl::unexpected(abi_trap("a borrow outside a call"));
  uint32_t h{};
  WASMCAP_TRY_ASSIGN(h, cx.inst->handles.add(Handle{rt, static_cast<uint32_t>(v.bits), false, 0, cx.scope}));
  ++cx.scope->borrows;
  cx.scope->borrow_inst = cx.inst;
  return h;
}

namespace {

// The live handle `handle` of this instance, of the resource type the function's type names (what:
// "own" or "borrow", for the trap's message).
Result<Handle*> typed_handle(Cx& cx, uint32_t handle, uint32_t resource_type, const char* what) {
  const ResourceType* rt{};
  WASMCAP_TRY_ASSIGN(rt, runtime_resource(*cx.inst, resource_type));
  Handle* h{};
  WASMCAP_TRY_ASSIGN(h, cx.inst->handles.get(handle, what));
  WASMCAP_TRY(same_type(h->rt, rt, what));
  return h;
}

}  // namespace

Result<Val> lift_own(Cx& cx, uint32_t handle, uint32_t resource_type) {
  Handle* h{};
  WASMCAP_TRY_ASSIGN(h, typed_handle(cx, handle, resource_type, "own"));
  const ResourceType* rt = h->rt;
  if (!h->own) return tl::unexpected(abi_trap("own: handle " + std::to_string(handle) + " is a borrow"));
  if (h->lends != 0) {
    return tl::unexpected(abi_trap("own: handle " + std::to_string(handle) + " is lent to a call in progress"));
  }
  Handle gone{};
  WASMCAP_TRY_ASSIGN(gone, cx.inst->handles.remove(handle, "own"));
  return Val::own(rt, gone.rep);
}

Result<Val> lift_borrow(Cx& cx, uint32_t handle, uint32_t resource_type) {
  Handle* h{};
  WASMCAP_TRY_ASSIGN(h, typed_handle(cx, handle, resource_type, "borrow"));
  if (cx.scope == nullptr) return tl::unexpected(abi_trap("a borrow outside a call"));
  ++h->lends;
  cx.scope->lenders.emplace_back(cx.inst, handle);
  return Val::borrow(h->rt, h->rep);
}

Result<void> end_scope(CallScope& scope, bool callee_side) {
  for (auto& [inst, handle] : scope.lenders) {
    auto h = inst->handles.get(handle, "borrow");
    if (h && (*h)->lends > 0) --(*h)->lends;
  }
  scope.lenders.clear();
  if (callee_side && scope.borrows != 0) {
    if (scope.borrow_inst != nullptr) scope.borrow_inst->handles.forget_scope(&scope);
    return tl::unexpected(abi_trap(std::to_string(scope.borrows) +
                                   " borrowed handle(s) not dropped before the call returned"));
  }
  return {};
}

std::shared_ptr<CoreFunc> resource_builtin(InstanceState& inst, CanonKind kind, const ResourceType* rt) {
  auto f = std::make_shared<CoreFunc>();
  InstanceState* in = &inst;
  switch (kind) {
    case CanonKind::kResourceNew:
      f->sig = FuncSig{{wasmcap::ValType::kI32}, {wasmcap::ValType::kI32}};
      f->what = "resource.new " + rt_name(rt);
      f->call = [in, rt](HostContext&, const Value* args, Value* results) {
        auto h = in->handles.add(Handle{rt, args[0].i32, true, 0, nullptr});
        if (!h) return HostCallResult::fail(h.error());
        results[0] = Value::I32(*h);
        return HostCallResult::ok();
      };
      break;
    case CanonKind::kResourceRep:
      f->sig = FuncSig{{wasmcap::ValType::kI32}, {wasmcap::ValType::kI32}};
      f->what = "resource.rep " + rt_name(rt);
      f->call = [in, rt](HostContext&, const Value* args, Value* results) {
        auto h = in->handles.get(args[0].i32, "resource.rep");
        if (!h) return HostCallResult::fail(h.error());
        auto same = same_type((*h)->rt, rt, "resource.rep");
        if (!same) return HostCallResult::fail(same.error());
        results[0] = Value::I32((*h)->rep);
        return HostCallResult::ok();
      };
      break;
    default:
      f->sig = FuncSig{{wasmcap::ValType::kI32}, {}};
      f->what = "resource.drop " + rt_name(rt);
      f->call = [in, rt](HostContext& ctx, const Value* args, Value*) {
        const uint32_t i = args[0].i32;
        auto h = in->handles.get(i, "resource.drop");
        if (!h) return HostCallResult::fail(h.error());
        auto same = same_type((*h)->rt, rt, "resource.drop");
        if (!same) return HostCallResult::fail(same.error());
        if ((*h)->lends != 0) {
          return HostCallResult::fail(
              abi_trap("resource.drop: handle " + std::to_string(i) + " is lent to a call in progress"));
        }
        Handle gone = *in->handles.remove(i, "resource.drop");
        if (!gone.own) {
          if (gone.scope != nullptr && gone.scope->borrows > 0) --gone.scope->borrows;
          return HostCallResult::ok();
        }
        return destroy(gone.rt, gone.rep, &ctx);
      };
      break;
  }
  return f;
}

Result<void> ComponentInstance::drop(const Val& own) {
  if (own.kind != ValKind::kOwn || own.resource == nullptr) {
    return make_error(ErrorCode::kInvalidArgument, "drop takes an own handle");
  }
  HostCallResult r = destroy(own.resource, static_cast<uint32_t>(own.bits), nullptr);
  if (r.status == HostStatus::kOk || r.status == HostStatus::kExit) return {};
  return tl::unexpected(host_result_error(r));
}

}  // namespace wasmcap::component
