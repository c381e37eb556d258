// The verbs the deque and the stack share (capi/deque.cpp, capi/stack.cpp): argument
// checks and the turn into the slot-deque engine. The stack passes End::back.
#pragma once

#include "deque/slot_deque.hpp"
#include "lifecycle.hpp"

namespace shmds::capi::seq {

using deque::End;
using deque::Form;
using deque::Items;
using deque::Out;
using deque::SlotDeque;

SHMDS_COLD inline int wrong_form(const SlotDeque *e, const char *fn) noexcept {
    return core::fail(SHMDS_EVARIANT, "{}: the {} holds {} elements; use its _{} verbs", fn,
                      e->names().noun, core::elem_type_name(std::uint32_t(e->elem_type())),
                      e->form() == Form::bytes ? "bytes"
                      : e->form() == Form::floats ? "f64"
                                                   : "int or _uint");
}

inline int need(const SlotDeque *e, Form f, const char *fn) noexcept {
    if (SHMDS_UNLIKELY(e->form() != f)) return wrong_form(e, fn);
    return 0;
}

// One item of a form, as Items/Out. The _int and _uint verbs share Form::ints: any
// integer deque takes both, the element type only decides the range (-ERANGE).
inline Items ints_in(const std::int64_t *v) noexcept { return Items{Form::ints, v}; }
inline Items uints_in(const std::uint64_t *v) noexcept {
    Items items{Form::ints};
    items.uints = v;
    return items;
}
inline Out uints_out(std::uint64_t *v) noexcept {
    Out out{Form::ints};
    out.uints = v;
    return out;
}
inline Items floats_in(const double *v) noexcept { return Items{Form::floats, nullptr, v}; }
inline Items bytes_in(const void *const *datas, const std::size_t *lens) noexcept {
    return Items{Form::bytes, nullptr, nullptr, datas, lens};
}

inline int push(SlotDeque *e, End end, const Items &items, std::size_t n, std::size_t *pushed,
                std::int64_t timeout_ns, const char *fn) noexcept {
    if (int r = need(e, items.form, fn)) return r;
    *pushed = 0;
    if (n == 0) return 0;
    if (items.form == Form::bytes)
        for (std::size_t i = 0; i < n; ++i)
            if (!items.datas[i] && items.lens[i])
                return core::fail(-EINVAL, "{}: datas[{}] is NULL", fn, i);
    if (int r = e->check_items(items, n)) return r;
    core::Deadline dl;
    if (int r = make_deadline(timeout_ns, dl)) return r;
    return e->push(end, items, n, pushed, dl);
}

inline int push_one(SlotDeque *e, End end, const Items &items, std::int64_t timeout_ns,
                    const char *fn) noexcept {
    std::size_t pushed = 0;
    return push(e, end, items, 1, &pushed, timeout_ns, fn);
}

inline int pop(SlotDeque *e, End end, const Out &out, std::size_t max, std::size_t *got,
               std::int64_t timeout_ns, bool drain, const char *fn) noexcept {
    if (int r = need(e, out.form, fn)) return r;
    *got = 0;
    if (max == 0) return 0;
    core::Deadline dl = core::Deadline::from_timeout(0);
    if (!drain)
        if (int r = make_deadline(timeout_ns, dl)) return r;
    return e->pop(end, out, max, got, dl, drain);
}

inline int peek(SlotDeque *e, End end, const Out &out, const char *fn) noexcept {
    if (int r = need(e, out.form, fn)) return r;
    return e->peek(end, out);
}

// The bytes forms' buffer rule: buf may be NULL only when buf_size is 0.
inline int check_buf(const void *buf, std::size_t buf_size, const char *fn) noexcept {
    if (!buf && buf_size) return null_arg(fn, "buf");
    return 0;
}

inline int clear(SlotDeque *e, std::uint64_t *removed) noexcept {
    const std::int64_t n = e->clear();
    if (n < 0) return int(n);
    if (removed) *removed = std::uint64_t(n);
    return 0;
}

// Fill a public stats struct (deque and stack share the field names).
template <typename PublicStats>
int stats(SlotDeque *e, PublicStats *out, std::size_t v1_size, const char *fn) noexcept {
    CAPI_REQUIRE(out, fn, "stats");
    deque::Stats s;
    if (int r = e->stats(s)) return r;
    PublicStats ours{};
    ours.size = s.size;
    ours.capacity = s.capacity;
    ours.max_len = s.max_len;
    ours.push_ok = s.push_ok;
    ours.pop_ok = s.pop_ok;
    ours.push_full = s.push_full;
    ours.pop_empty = s.pop_empty;
    ours.cleared = s.cleared;
    ours.recoveries = s.recoveries;
    ours.push_waiters = s.push_waiters;
    ours.pop_waiters = s.pop_waiters;
    ours.segment_bytes = s.segment_bytes;
    return copy_versioned(fn, "stats", out, ours, v1_size);
}

// The element type of a new deque or stack: any shmds_type_t.
inline int check_type(const char *fn, int type) noexcept {
    if (type >= SHMDS_TYPE_INT16 && type <= SHMDS_TYPE_F64) return 0;
    return core::fail(-EINVAL, "{}: type {} is not a shmds_type_t", fn, type);
}

}  // namespace shmds::capi::seq
