// Shared-memory layout of a pool segment:
//
//   [SegmentHeader 256 B][PoolControl][owners: capacity x u64][data: capacity x stride]
//
// owners[i] is slot i's whole allocation state: 0 = free, otherwise the OwnerToken of
// the process that allocated it (PID + start time, core/owner.hpp). One CAS 0 -> token
// takes a slot AND records its owner, so there is no instant at which a slot is taken
// but has no owner to check (the reference's bitmap-then-owner leak).
//
// The data area is a plain C array: slot i starts at data + i * stride, so a user may
// qsort() it or hand it to numpy. Integer and float slots are stored at their type's
// width (naturally aligned: the data area starts on a cache line and every stride is a
// multiple of the width), which is all that atomics on them need. A bytes slot is a u32
// length followed by max_len bytes (stride rounded up to 4); a raw slot is exactly
// elem_size bytes, not rounded.
//
// Everything here is computed from (variant, capacity, elem_size) alone, both when a
// segment is created and when one is opened, so a peer cannot make us trust an offset.
#pragma once

#include "core/elem_type.hpp"
#include "core/header.hpp"
#include "core/owner.hpp"
#include "core/platform.hpp"
#include "core/waitpoint.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace shmds::pool {

using core::kCacheLine;
using core::ElemType;

// The raw variant: slots of a caller-chosen size with no element type. Not a
// shmds_type_t (those stop at 11); stored in the header's variant field.
inline constexpr std::uint32_t kRawVariant = 100;

inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 30;
inline constexpr std::uint64_t kMaxElemSize = std::uint64_t{1} << 20;  // raw size, bytes max_len
inline constexpr std::uint64_t kMaxDataBytes = std::uint64_t{1} << 40;

// Header geometry words.
enum GeometryIndex { kGeomCapacity = 0, kGeomSize = 1 };

using OwnerWord = std::atomic<core::OwnerToken>;

struct PoolControl {
    // alloc sleepers; free, free_n, reset and reclaims wake them.
    alignas(kCacheLine) core::WaitPoint freed;
};
static_assert(sizeof(PoolControl) % kCacheLine == 0);
static_assert(std::atomic<core::OwnerToken>::is_always_lock_free);

enum class Form : std::uint8_t { signed_int, unsigned_int, floating, bytes, raw };

struct Geometry {
    std::uint32_t variant;  // an ElemType or kRawVariant
    Form form;
    std::uint64_t capacity;
    std::uint64_t size;    // raw: elem_size; bytes: max_len; numbers: the type's width
    std::uint64_t stride;  // bytes per slot in the data area
    std::uint64_t control_off;
    std::uint64_t owners_off;
    std::uint64_t data_off;
    std::uint64_t total;
};

// Whether `variant` names a pool variant (every shmds_type_t, or kRawVariant).
bool supported_variant(std::uint32_t variant) noexcept;

// The full layout; 0 or a fail() code naming what is out of range. `size` is the raw
// slot size or the bytes max_len, and must be 0 for the other variants.
int compute_geometry(std::uint32_t variant, std::uint64_t capacity, std::uint64_t size,
                     Geometry &out);

std::uint64_t layout_hash(std::uint32_t variant) noexcept;

// "raw", or the element type's name.
const char *variant_name(std::uint32_t variant) noexcept;

}  // namespace shmds::pool
