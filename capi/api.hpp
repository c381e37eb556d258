// What every capi/*.cpp file needs: argument checks that fail with a sentence, and the
// exception firewall (no C++ exception ever crosses the C ABI).
#pragma once

#include "core/deadline.hpp"
#include "core/error.hpp"
#include "core/platform.hpp"

#include <shmds/common.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <new>
#include <tuple>
#include <type_traits>

namespace shmds::capi {

// A verb's arguments parked in memory for its checked fallback, for a fast path that
// tries the common case inline and hands everything else to a noinline checked
// function. Left to itself the compiler keeps those arguments in callee-saved
// registers, pushed on entry and popped on every return; after a bulk copy those pops
// are loads that the copy's in-flight stores replay (Buffer::try_read). Parked, only
// what the fast path itself keeps across its calls is saved, and call() reads the
// arguments back on the slow path: the empty asm makes the compiler treat the memory
// as changed, so it cannot keep register copies of them across the fast path.
template <typename... Args>
class Parked {
public:
    explicit Parked(Args... args) noexcept : args_(args...) { spill(); }
    template <typename Fn>
    decltype(auto) call(Fn fn) noexcept {
        spill();
        return std::apply(fn, args_);
    }

private:
    void spill() noexcept { asm volatile("" : : "r"(&args_) : "memory"); }
    std::tuple<Args...> args_;
};

SHMDS_COLD inline int bad_timeout(std::int64_t timeout_ns) noexcept {
    return core::fail(-EINVAL, "timeout_ns {} is invalid: use SHMDS_NOWAIT (0), "
                               "SHMDS_FOREVER (-1) or a positive number of nanoseconds",
                      timeout_ns);
}

// Validate a caller's timeout_ns: 0, or -EINVAL with a sentence.
inline int check_timeout(std::int64_t timeout_ns) noexcept {
    if (SHMDS_UNLIKELY(timeout_ns < -1)) return bad_timeout(timeout_ns);
    return 0;
}

// Validate a caller's timeout_ns and turn it into a deadline (a clock read for a finite
// timeout: verbs with a fast path that never waits validate with check_timeout() and
// make the deadline only when they must wait).
inline int make_deadline(std::int64_t timeout_ns, core::Deadline &out) noexcept {
    if (int r = check_timeout(timeout_ns)) return r;
    out = core::Deadline::from_timeout(timeout_ns);
    return 0;
}

SHMDS_COLD inline int null_arg(const char *function, const char *argument) noexcept {
    return core::fail(-EINVAL, "{}: {} is NULL", function, argument);
}

// ---- versioned structs (DESIGN.md §2) ----------------------------------------------
// A versioned struct starts with `size_t struct_size`, the size the caller compiled
// against. A later release may append fields, so the library must never touch a byte
// past the caller's struct_size (an older caller's struct is shorter than ours) and
// must not read fields the caller does not know (they are not there: default them).
// Every copy across the ABI goes through these helpers, so that rule lives here once.

// The size of the first released version: every field up to and including `last`.
#define SHMDS_V1_SIZE(type, last) (offsetof(type, last) + sizeof(((type *)nullptr)->last))

template <typename T>
constexpr void check_versioned() noexcept {
    static_assert(std::is_trivially_copyable_v<T>, "versioned structs are plain C structs");
    static_assert(offsetof(T, struct_size) == 0, "struct_size must be the first field");
}

inline int struct_too_small(const char *fn, const char *arg, std::size_t got,
                            std::size_t v1_size) noexcept {
    return core::fail(-EINVAL,
                      "{}: {}->struct_size is {}, smaller than the first version of the "
                      "struct ({} bytes); set it to sizeof the struct (its _INIT macro or "
                      "_init() function does)",
                      fn, arg, got, v1_size);
}

// Copy `ours` out to the caller's `out`, writing min(out->struct_size, sizeof ours)
// bytes and keeping out->struct_size as the caller set it. A caller whose struct is
// longer than ours gets its extra fields zeroed (we have nothing to put there).
// -EINVAL with a sentence if out is NULL or out->struct_size is below v1_size; then
// nothing is written.
template <typename T>
int copy_versioned(const char *fn, const char *arg, T *out, const T &ours,
                   std::size_t v1_size) noexcept {
    check_versioned<T>();
    if (SHMDS_UNLIKELY(!out)) return core::fail(-EINVAL, "{}: {} is NULL", fn, arg);
    const std::size_t theirs = out->struct_size;
    if (SHMDS_UNLIKELY(theirs < v1_size)) return struct_too_small(fn, arg, theirs, v1_size);
    auto *dst = reinterpret_cast<unsigned char *>(out);
    const auto *src = reinterpret_cast<const unsigned char *>(&ours);
    constexpr std::size_t head = sizeof(std::size_t);  // struct_size itself stays theirs
    const std::size_t n = std::min(theirs, sizeof(T));
    std::memcpy(dst + head, src + head, n - head);
    if (theirs > n) std::memset(dst + n, 0, theirs - n);
    return 0;
}

// The body of every exported *_init(out, struct_size, ...): the same bytes its _INIT
// macro gives, written per copy_versioned for a struct of struct_size bytes, whose
// struct_size field is set to that size.
template <typename T>
int init_versioned(const char *fn, T *out, std::size_t struct_size, const T &defaults,
                   std::size_t v1_size) noexcept {
    check_versioned<T>();
    if (SHMDS_UNLIKELY(!out)) return core::fail(-EINVAL, "{}: out is NULL", fn);
    if (SHMDS_UNLIKELY(struct_size < v1_size))
        return core::fail(-EINVAL,
                          "{}: struct_size {} is smaller than the first version of the struct "
                          "({} bytes); pass sizeof the struct",
                          fn, struct_size, v1_size);
    out->struct_size = struct_size;
    return copy_versioned(fn, "out", out, defaults, v1_size);
}

// Read the caller's `in` into `ours`, which holds the defaults on entry: only the
// first min(in->struct_size, sizeof ours) bytes are read, so fields the caller's
// version lacks keep their defaults. ours.struct_size becomes sizeof ours, so what is
// handed on is a complete struct of this version. -EINVAL with a sentence if
// in is NULL or in->struct_size is below v1_size.
template <typename T>
int read_versioned(const char *fn, const char *arg, const T *in, T &ours,
                   std::size_t v1_size) noexcept {
    check_versioned<T>();
    if (SHMDS_UNLIKELY(!in)) return core::fail(-EINVAL, "{}: {} is NULL", fn, arg);
    const std::size_t theirs = in->struct_size;
    if (SHMDS_UNLIKELY(theirs < v1_size)) return struct_too_small(fn, arg, theirs, v1_size);
    constexpr std::size_t head = sizeof(std::size_t);
    const std::size_t n = std::min(theirs, sizeof(T));
    std::memcpy(reinterpret_cast<unsigned char *>(&ours) + head,
                reinterpret_cast<const unsigned char *>(in) + head, n - head);
    ours.struct_size = sizeof(T);
    return 0;
}

// The caller's shmds_options_t, read per read_versioned into a complete struct of this
// version: what the engines see never depends on the caller's header. NULL stays NULL
// (anonymous, all defaults).
class OptionsIn {
public:
    int read(const char *fn, const shmds_options_t *in) noexcept {
        if (!in) return 0;
        if (int r = read_versioned(fn, "opts", in, copy_, SHMDS_V1_SIZE(shmds_options_t, mode)))
            return r;
        given_ = &copy_;
        return 0;
    }
    const shmds_options_t *get() const noexcept { return given_; }

private:
    shmds_options_t copy_ = SHMDS_OPTIONS_INIT;
    const shmds_options_t *given_ = nullptr;
};

// The variant of a new typed ring (queue, pubsub): the element types the rings store
// (common.h's shmds_type_t). `prefix` names the structure's constants in the sentence.
inline int check_ring_variant(const char *fn, int variant, const char *prefix) noexcept {
    if (variant >= SHMDS_TYPE_INT16 && variant <= SHMDS_TYPE_BYTES) return 0;
    return core::fail(-EINVAL, "{}: variant {} is not one of {}_INT16, _INT32, _INT64, _BYTES",
                      fn, variant, prefix);
}

// Run f() and map any escaping exception to an error code.
template <typename F>
int guarded(const char *function, F &&f) noexcept {
    try {
        return f();
    } catch (const std::bad_alloc &) {
        return core::fail_static(-ENOMEM, "out of memory");
    } catch (...) {
        (void)function;
        return core::fail_static(-EINVAL, "internal error: unexpected exception");
    }
}

}  // namespace shmds::capi
