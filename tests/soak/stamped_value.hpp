// Self-checking values for the key-value workloads (hashmap, cache): each names its
// writer, key slot and generation and carries a checksum, so a reader tells a torn or
// foreign value from the one its writer stored, and learns the generation it holds.
#pragma once

#include "soak.hpp"

#include <cstdint>
#include <cstring>
#include <string>

namespace soak {

struct StampedValues {
    const char *structure;                        // names the workload in violations
    std::string (*key)(unsigned w, unsigned slot);  // the key a value is stored under
    std::uint64_t length_step, length_spread;     // payload length: gen * step % spread

    // [w u32][slot u32][gen u64][sum u64][payload]: the payload's length and bytes follow
    // from gen, and sum covers everything else.
    std::string make(unsigned w, unsigned slot, std::uint64_t gen) const {
        std::string v(24 + (gen * length_step) % length_spread, '\0');
        const std::uint32_t w32 = w, s32 = slot;
        std::memcpy(&v[0], &w32, 4);
        std::memcpy(&v[4], &s32, 4);
        std::memcpy(&v[8], &gen, 8);
        for (std::size_t i = 24; i < v.size(); ++i) v[i] = char(gen * 131 + i * 7 + w);
        std::uint64_t sum = 0;
        for (std::size_t i = 0; i < v.size(); ++i)
            if (i < 16 || i >= 24) sum = sum * 1099511628211ull + std::uint8_t(v[i]);
        std::memcpy(&v[16], &sum, 8);
        return v;
    }

    // The generation a value holds, or false with a violation if it is not the value
    // make() writes for that key.
    bool check(const std::string &v, unsigned w, unsigned slot, std::uint64_t *gen) const {
        if (v.size() < 24) {
            violation("{}: value of key {} is {} bytes, shorter than its header", structure,
                      key(w, slot), v.size());
            return false;
        }
        std::memcpy(gen, &v[8], 8);
        if (make(w, slot, *gen) != v) {
            violation("{}: torn or foreign value under key {} (claims generation {}, {} bytes)",
                      structure, key(w, slot), *gen, v.size());
            return false;
        }
        return true;
    }

    // The generation a respawned worker's next write of (w, slot) takes: after the one
    // it acknowledged, or after a later one its dead incarnation committed without
    // acknowledging. read(&value) returns 0 when the key holds a value.
    template <class Read>
    std::uint64_t next_generation(unsigned w, unsigned slot, std::uint64_t acked,
                                  Read &&read) const {
        std::uint64_t gen = acked;
        std::string cur;
        if (read(&cur) == 0) {
            std::uint64_t g = 0;
            if (check(cur, w, slot, &g) && g > gen) gen = g;
        }
        return gen + 1;
    }
};

}  // namespace soak
