// Byte strings held in shared 64-bit words (entry areas, arena blocks). Readers copy
// them while a writer may be changing them (the seqlock validates afterwards), so
// every access is a relaxed atomic word access: a torn copy is detected, never UB.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shmds::hashmap {

using Word = std::atomic<std::uint64_t>;

inline void load_bytes(const Word *src, void *dst, std::size_t n) noexcept {
    auto *d = static_cast<unsigned char *>(dst);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const std::uint64_t w = src[i / 8].load(std::memory_order_relaxed);
        std::memcpy(d + i, &w, 8);
    }
    if (i < n) {
        const std::uint64_t w = src[i / 8].load(std::memory_order_relaxed);
        std::memcpy(d + i, &w, n - i);
    }
}

// The word at index `k` of a byte string of length n, zero-padded past its end.
inline std::uint64_t word_of(const void *src, std::size_t n, std::size_t k) noexcept {
    std::uint64_t w = 0;
    const std::size_t at = k * 8;
    if (at < n) std::memcpy(&w, static_cast<const unsigned char *>(src) + at, n - at < 8 ? n - at : 8);
    return w;
}

inline void store_bytes(Word *dst, const void *src, std::size_t n) noexcept {
    for (std::size_t k = 0; k * 8 < n; ++k) dst[k].store(word_of(src, n, k), std::memory_order_relaxed);
}

inline bool equal_bytes(const Word *a, const void *b, std::size_t n) noexcept {
    const auto *p = static_cast<const unsigned char *>(b);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const std::uint64_t w = a[i / 8].load(std::memory_order_relaxed);
        if (std::memcmp(&w, p + i, 8) != 0) return false;
    }
    if (i < n) {
        const std::uint64_t w = a[i / 8].load(std::memory_order_relaxed);
        if (std::memcmp(&w, p + i, n - i) != 0) return false;
    }
    return true;
}

}  // namespace shmds::hashmap
