// One function per structure family: present the input to its open functions (every
// variant it has, and "any"), and put each handle that opens through a short sequence of
// ordinary operations. Only non-blocking calls, timeouts of at most a millisecond, and
// calls documented to wait for nothing but a lock that is free (see InputSegment::
// robust_lock_free), so a hostile lock word cannot turn the run into a hang: a call that
// still blocks for long is a finding.
#pragma once

#include "input_segment.hpp"

#include <cstdint>

namespace shmds_fuzz {

// The only timeout the harness uses besides SHMDS_NOWAIT.
inline constexpr std::int64_t kShortTimeoutNs = 1'000'000;

void fuzz_queue(InputSegment &in);
void fuzz_pubsub(InputSegment &in);
void fuzz_reqrep(InputSegment &in);
void fuzz_hashmap(InputSegment &in);
void fuzz_cache(InputSegment &in);
void fuzz_stack(InputSegment &in);
void fuzz_deque(InputSegment &in);
void fuzz_ringbuffer(InputSegment &in);
void fuzz_buffer(InputSegment &in);
void fuzz_log(InputSegment &in);
void fuzz_bitset(InputSegment &in);
void fuzz_heap(InputSegment &in);
void fuzz_graph(InputSegment &in);
void fuzz_pool(InputSegment &in);
// The sync primitives (exercise_sync.cpp).
void fuzz_mutex(InputSegment &in);
void fuzz_semaphore(InputSegment &in);
void fuzz_barrier(InputSegment &in);
void fuzz_rwlock(InputSegment &in);
void fuzz_condvar(InputSegment &in);
void fuzz_once(InputSegment &in);

}  // namespace shmds_fuzz
