// The map's keyed hash (design §2) is the library's one keyed hash, core/keyed_hash.hpp
// (moved there so the Cache shares it); the names stay reachable as hashmap:: ones.
//
// Which bits are used for what (the reference reused one set for shard and slot):
// shard = the top bits, home slot = the low bits, tag = bits 32..38.
#pragma once

#include "core/keyed_hash.hpp"

#include <cstdint>

namespace shmds::hashmap {

using core::HashSeed;
using core::hash_bytes;
using core::hash_u64;

inline std::uint8_t tag_of(std::uint64_t h) noexcept {
    return std::uint8_t(0x80 | ((h >> 32) & 0x7f));
}

}  // namespace shmds::hashmap
