// Small platform facts shared by every engine: cache-line size, the spin hint, and
// branch hints. Kept tiny on purpose; anything with behaviour lives in its own file.
#pragma once

#include <cstddef>
#include <cstdint>

namespace shmds::core {

// Hot shared fields get a line each so producers and consumers do not false-share.
inline constexpr std::size_t kCacheLine = 64;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#else
    asm volatile("" ::: "memory");
#endif
}

// Pauses between two looks at a word on a line another CPU is writing: 8, doubling up
// to max_pauses (64 unless told). Each look pulls the line away from the writer, whose
// next store to it then waits for it to come back; looking less often the longer the
// wait lasts lets a writer running call after call keep its line (stamp_lock.hpp,
// waitpoint.hpp).
class PollBackoff {
public:
    explicit PollBackoff(int max_pauses = 64) noexcept : max_pauses_(max_pauses) {}
    void pause() noexcept {
        for (int k = 0; k < pauses_; ++k) cpu_relax();
        if (pauses_ < max_pauses_) pauses_ *= 2;
    }

private:
    int max_pauses_;
    int pauses_ = 8;
};

// Ask for a shared line in exclusive state ahead of a read that a write to the same
// line follows, so the line crosses CPUs once. PREFETCHW (0F 0D /1) executes as a NOP
// on x86 CPUs without it, so no -march is needed; elsewhere, the compiler's hint.
inline void prefetch_for_write(const void *p) noexcept {
#if defined(__x86_64__)
    asm volatile("prefetchw %0" ::"m"(*static_cast<const char *>(p)));
#else
    __builtin_prefetch(p, 1);
#endif
}

// prefetch_for_write on every line of [p, p + len): the lines a locked section is
// about to fill. Its unlock (a locked instruction) waits until each of the section's
// stores owns its line, so a line first asked for by the store itself is a miss inside
// the lock. Callers keep the range inside their mapping.
inline void prefetch_lines_for_write(const void *p, std::size_t len) noexcept {
    const std::uintptr_t end = std::uintptr_t(p) + len;
    for (std::uintptr_t at = std::uintptr_t(p) & ~std::uintptr_t(kCacheLine - 1); at < end;
         at += kCacheLine)
        prefetch_for_write(reinterpret_cast<const void *>(at));
}

inline constexpr bool is_pow2(std::uint64_t x) noexcept { return x && !(x & (x - 1)); }

inline constexpr std::uint64_t round_up_pow2(std::uint64_t x) noexcept {
    if (x <= 1) return 1;
    return std::uint64_t{1} << (64 - __builtin_clzll(x - 1));
}

inline constexpr std::uint64_t align_up(std::uint64_t x, std::uint64_t a) noexcept {
    return (x + a - 1) & ~(a - 1);
}

}  // namespace shmds::core

#define SHMDS_LIKELY(x) __builtin_expect(!!(x), 1)
#define SHMDS_UNLIKELY(x) __builtin_expect(!!(x), 0)
// For the rare paths of a fast-path function: kept out of line, so the fast path needs
// no stack frame and reaches them by a tail call.
#define SHMDS_COLD __attribute__((noinline, cold))
