// The key sets, values and key sequence every key-value subject runs (hashmap_bench.cpp):
// one definition, so libshmds and each peer see exactly the same keys in the same order
// and check the same values.
//
//   IntShape     int64 keys, int64 values
//   BytesShape   16-byte keys, 32-byte values (the "bytes" rows)
//
// Key i (0 <= i < n) is a bijective mix of i, so keys are distinct and spread like real
// ids (not 0..n-1, which an identity hash would place perfectly). A value carries a tag
// of its key and a generation, so a reader can tell a value of the wrong key or a torn
// copy from a good one: a subject that returns either fails the case.
#pragma once

#include <cstdint>
#include <cstring>

namespace shmds::bench::kv {

// The splitmix64 finaliser: a bijection on 64-bit words.
inline std::uint64_t mix64(std::uint64_t x) noexcept {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// The key sequence: xorshift64*, scaled to [0, n) with a multiply (no division).
class KeyStream {
public:
    explicit KeyStream(std::uint64_t seed) noexcept : x_(seed | 1) {}
    std::uint64_t next() noexcept {
        x_ ^= x_ >> 12;
        x_ ^= x_ << 25;
        x_ ^= x_ >> 27;
        return x_ * 0x2545f4914f6cdd1dull;
    }
    std::uint64_t below(std::uint64_t n) noexcept {
        __extension__ typedef unsigned __int128 u128;
        return std::uint64_t((u128(next()) * n) >> 64);
    }

private:
    std::uint64_t x_;
};

// Seeds of the measuring processes: the first is the one-process workloads' seed too,
// so every subject of a workload replays the same sequence.
inline constexpr std::uint64_t kSeeds[2] = {0x853c49e6748fea9bull, 0xda3e39cb94b95bdbull};

inline std::uint64_t tag_of(std::uint64_t i) noexcept { return mix64(i ^ 0x5bd1e9955bd1e995ull); }

struct IntShape {
    static constexpr const char *kName = "int64";
    using Key = std::int64_t;
    using Value = std::int64_t;
    static Key key(std::uint64_t i) noexcept { return Key(mix64(i)); }
    // High half: the key's tag; low half: the generation.
    static Value value(std::uint64_t i, std::uint32_t gen) noexcept {
        return Value(tag_of(i) << 32 | gen);
    }
    static bool valid(std::uint64_t i, const Value &v) noexcept {
        return std::uint64_t(v) >> 32 == (tag_of(i) & 0xffffffffu);
    }
};

struct BytesShape {
    static constexpr const char *kName = "bytes16";
    static constexpr std::size_t kKeyLen = 16, kValueLen = 32;
    struct Key {
        unsigned char b[kKeyLen];
    };
    struct Value {
        unsigned char b[kValueLen];
    };
    static Key key(std::uint64_t i) noexcept {
        const std::uint64_t w[2] = {mix64(i), mix64(i + 0x632be59bd9b4e019ull)};
        Key k;
        std::memcpy(k.b, w, sizeof w);
        return k;
    }
    // Words: tag, generation, ~tag, tag ^ generation.
    static Value value(std::uint64_t i, std::uint32_t gen) noexcept {
        const std::uint64_t t = tag_of(i);
        const std::uint64_t w[4] = {t, gen, ~t, t ^ gen};
        Value v;
        std::memcpy(v.b, w, sizeof w);
        return v;
    }
    static bool valid(std::uint64_t i, const Value &v) noexcept {
        std::uint64_t w[4];
        std::memcpy(w, v.b, sizeof w);
        return w[0] == tag_of(i) && w[2] == ~w[0] && w[3] == (w[0] ^ w[1]);
    }
};

}  // namespace shmds::bench::kv
