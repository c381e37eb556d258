// Shared-memory layout of a reqrep segment:
//
//   [SegmentHeader 256 B][ReqControl][request ring][response slots]
//
// Requests travel through a bounded ring of fixed-size entries {id, len, payload}
// under one robust mutex; every change commits with a single store of head or tail,
// so a holder killed anywhere leaves the old state or the new one. Replies do not
// travel through a queue: each request owns a response slot (64-byte control header
// and resp_size bytes of payload) named by the request id, gen << 32 | slot index.
//
// Everything is computed from (variant, req_capacity, resp_slots, req_size, resp_size)
// alone, when created and when opened, so a peer cannot make us trust an offset.
#pragma once

#include "core/header.hpp"
#include "core/platform.hpp"
#include "core/robust_mutex.hpp"
#include "core/waitpoint.hpp"

#include <atomic>
#include <cstdint>

namespace shmds::reqrep {

using core::kCacheLine;

enum class Variant : std::uint32_t { int64 = 1, bytes = 2 };

const char *variant_name(std::uint32_t v) noexcept;

inline constexpr std::uint64_t kMaxRequests = std::uint64_t{1} << 24;
// Slot indexes are the low 32 bits of an id; keep them far below that.
inline constexpr std::uint64_t kMaxSlots = std::uint64_t{1} << 20;
inline constexpr std::uint64_t kDefaultSize = 256;
inline constexpr std::uint64_t kMaxSize = std::uint64_t{1} << 24;
inline constexpr std::uint64_t kMaxSegment = std::uint64_t{1} << 40;

enum GeometryIndex { kGeomRequests = 0, kGeomSlots = 1, kGeomReqSize = 2, kGeomRespSize = 3 };

// Response slot states, in the low bits of ResponseSlot::ctl (the generation is above).
enum SlotState : std::uint32_t { kFree = 0, kAcquired = 1, kWriting = 2, kReady = 3 };

struct RequestHeader {
    std::uint64_t id;
    std::uint32_t len;
    std::uint32_t reserved_;
};
static_assert(sizeof(RequestHeader) == 16);

struct ResponseSlot {
    std::atomic<std::uint64_t> ctl;     // generation << 32 | SlotState
    std::atomic<std::uint64_t> owner;   // OwnerToken of the client holding the slot
    std::atomic<std::uint64_t> writer;  // OwnerToken of the server replying
    std::atomic<std::uint32_t> futex;   // bumped when the state changes to READY
    std::atomic<std::uint32_t> waiters; // clients asleep on futex
    std::atomic<std::uint32_t> len;     // reply length, valid in READY
    std::atomic<std::uint32_t> replier_cpu;  // CPU tag of the last replier (core::note_cpu)
    std::uint32_t reserved_[6];
};
static_assert(sizeof(ResponseSlot) == kCacheLine);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

struct ReqControl {
    core::RobustMutex mutex;
    // Written only under the mutex; each operation commits with one store.
    alignas(kCacheLine) std::atomic<std::uint64_t> head;  // next request to receive
    std::atomic<std::uint64_t> tail;                      // next free entry
    alignas(kCacheLine) std::atomic<std::uint64_t> slot_hint;  // where acquire scans start
    std::atomic<std::uint64_t> releases;  // bumped by every slot release (wait predicate)
    core::WaitPoint requests;    // servers asleep: no request queued
    core::WaitPoint ring_space;  // clients asleep: request ring full
    core::WaitPoint slots_free;  // clients asleep: every response slot taken
    alignas(kCacheLine) std::atomic<std::uint64_t> sent;
    std::atomic<std::uint64_t> received;
    std::atomic<std::uint64_t> replied;
    std::atomic<std::uint64_t> collected;
    std::atomic<std::uint64_t> cancelled;
    std::atomic<std::uint64_t> reclaimed;   // slots of dead clients taken back
    std::atomic<std::uint64_t> send_full;   // sends refused: ring full or no slot
    std::atomic<std::uint64_t> reply_refused;  // replies to cancelled or stale ids
};
static_assert(sizeof(ReqControl) % kCacheLine == 0);

struct Geometry {
    Variant variant;
    std::uint64_t requests;      // ring entries; a power of two
    std::uint64_t slots;         // response slots
    std::uint64_t req_size;      // largest request payload
    std::uint64_t resp_size;     // largest reply payload
    std::uint64_t req_stride;    // bytes per ring entry
    std::uint64_t resp_stride;   // bytes per response slot
    std::uint64_t control_off;
    std::uint64_t ring_off;
    std::uint64_t slots_off;
    std::uint64_t total;
};

int compute_geometry(Variant v, std::uint64_t requests, std::uint64_t slots,
                     std::uint64_t req_size, std::uint64_t resp_size, Geometry &out);

std::uint64_t layout_hash(Variant v) noexcept;

}  // namespace shmds::reqrep
