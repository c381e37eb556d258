// A 16-byte compare-and-swap that is always a single inline instruction sequence
// (cmpxchg16b on x86-64, an exclusive pair loop on AArch64). Never libatomic: its
// fallback for 16-byte atomics takes a process-private lock, which is no lock at all
// between processes (the reference's lesson 3).
#pragma once

#include <cstdint>

namespace shmds::core {

struct alignas(16) Pair64 {
    std::uint64_t lo;
    std::uint64_t hi;
};

#if !defined(__x86_64__) && !defined(__aarch64__)
#error "libshmds needs a native 16-byte CAS (x86-64 with cmpxchg16b, or AArch64)"
#endif

// If *addr == expected, store desired and return true; otherwise load *addr into
// expected and return false. Sequentially consistent either way.
inline bool cas16(Pair64 *addr, Pair64 &expected, Pair64 desired) noexcept {
    __extension__ typedef unsigned __int128 u128;
    u128 exp = (u128(expected.hi) << 64) | expected.lo;
    u128 des = (u128(desired.hi) << 64) | desired.lo;
    // The legacy __sync builtins are expanded inline for 16 bytes (with -mcx16 on
    // x86-64); the __atomic ones would call into libatomic.
    u128 old = __sync_val_compare_and_swap(reinterpret_cast<u128 *>(addr), exp, des);
    if (old == exp) return true;
    expected.lo = std::uint64_t(old);
    expected.hi = std::uint64_t(old >> 64);
    return false;
}

// Whether an 8-byte atomic read-modify-write of one half of a Pair64 is atomic with
// respect to cas16 of the whole, as it is with the native instructions (both are locked
// operations on the same aligned 16 bytes). Not under ThreadSanitizer, which emulates
// 16-byte atomics under a lock of its own that 8-byte atomics do not take; code that
// mixes the two widths takes the 16-byte path there.
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kHalfCasMixesWithCas16 = false;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kHalfCasMixesWithCas16 = false;
#else
inline constexpr bool kHalfCasMixesWithCas16 = true;
#endif
#else
inline constexpr bool kHalfCasMixesWithCas16 = true;
#endif

}  // namespace shmds::core
