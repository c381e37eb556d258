// The library's keyed hash (moved here from the HashMap so the Cache uses the same one):
// a multiply-fold hash (wyhash-style) whose secret is the 128-bit seed a segment draws at
// creation, so keys chosen without knowing the seed cannot be made to collide. Integer
// keys (8 bytes) take a two-fold fast path.
//
// Callers choose which bits mean what; both users take their partition (shard, page)
// from the top bits and their in-table position from the low bits, so the two are
// independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shmds::core {

struct HashSeed {
    std::uint64_t k0, k1;
};

namespace hash_detail {
inline std::uint64_t fold(std::uint64_t a, std::uint64_t b) noexcept {
    __extension__ typedef unsigned __int128 u128;
    const u128 p = u128(a) * b;
    return std::uint64_t(p) ^ std::uint64_t(p >> 64);
}
inline std::uint64_t load64(const unsigned char *p) noexcept {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
}
constexpr std::uint64_t kP0 = 0xa0761d6478bd642full;
constexpr std::uint64_t kP1 = 0xe7037ed1a0b428dbull;
constexpr std::uint64_t kP2 = 0x8ebc6af09c88c6e3ull;
}  // namespace hash_detail

// An integer key as stored (8 bytes).
inline std::uint64_t hash_u64(std::uint64_t key, const HashSeed &s) noexcept {
    using namespace hash_detail;
    return fold(fold(key ^ s.k0 ^ kP0, s.k1 ^ kP1) ^ 8, kP2 ^ s.k0);
}

inline std::uint64_t hash_bytes(const void *data, std::size_t len, const HashSeed &s) noexcept {
    using namespace hash_detail;
    const auto *p = static_cast<const unsigned char *>(data);
    std::uint64_t h = s.k0 ^ fold(std::uint64_t(len) ^ kP0, s.k1 ^ kP1);
    std::size_t i = 0;
    for (; i + 16 <= len; i += 16)
        h = fold(load64(p + i) ^ s.k1 ^ kP1, load64(p + i + 8) ^ h ^ kP0);
    if (i < len) {
        unsigned char tail[16] = {};
        std::memcpy(tail, p + i, len - i);
        h = fold(load64(tail) ^ s.k1 ^ kP1, load64(tail + 8) ^ h ^ kP2);
    }
    return fold(h ^ s.k0 ^ len, kP2 ^ s.k1);
}

// A new segment's secret: 16 bytes of getrandom, or (if that ever fails) clock and PID,
// so every segment still gets its own seed.
void draw_hash_seed(std::uint64_t (&seed)[2]) noexcept;

}  // namespace shmds::core
