// libFuzzer target (DESIGN.md §7): arbitrary bytes presented as an existing segment to
// the open functions of every structure (queue, pubsub, reqrep, the six sync
// primitives, the hash map and the cache), with every variant. Shared memory is untrusted input, so no input may
// crash, hang, read or write outside the mapping, or trip a sanitizer, and a segment
// that opens must survive the ordinary operations of its structure (exercise_*.cpp),
// each returning a code its documentation lists.
//
// Built with libFuzzer by fuzz/meson.build (clang), and without it as
// tests' fuzz_open_replay (replay_main.cpp), so every build exercises it.
#include "fuzz_open.hpp"

#include "exercise.hpp"
#include "input_segment.hpp"

#include "core/header.hpp"

#include <cstddef>
#include <cstdint>

namespace {

using shmds::core::StructureType;

struct Family {
    StructureType type;
    void (*fuzz)(shmds_fuzz::InputSegment &);
};

constexpr Family kFamilies[] = {
    {StructureType::queue, shmds_fuzz::fuzz_queue},
    {StructureType::pubsub, shmds_fuzz::fuzz_pubsub},
    {StructureType::reqrep, shmds_fuzz::fuzz_reqrep},
    {StructureType::mutex, shmds_fuzz::fuzz_mutex},
    {StructureType::semaphore, shmds_fuzz::fuzz_semaphore},
    {StructureType::barrier, shmds_fuzz::fuzz_barrier},
    {StructureType::rwlock, shmds_fuzz::fuzz_rwlock},
    {StructureType::condvar, shmds_fuzz::fuzz_condvar},
    {StructureType::once, shmds_fuzz::fuzz_once},
    {StructureType::hashmap, shmds_fuzz::fuzz_hashmap},
    {StructureType::cache, shmds_fuzz::fuzz_cache},
    {StructureType::stack, shmds_fuzz::fuzz_stack},
    {StructureType::deque, shmds_fuzz::fuzz_deque},
    {StructureType::ringbuffer, shmds_fuzz::fuzz_ringbuffer},
    {StructureType::buffer, shmds_fuzz::fuzz_buffer},
    {StructureType::log, shmds_fuzz::fuzz_log},
    {StructureType::bitset, shmds_fuzz::fuzz_bitset},
    {StructureType::heap, shmds_fuzz::fuzz_heap},
    {StructureType::graph, shmds_fuzz::fuzz_graph},
    {StructureType::pool, shmds_fuzz::fuzz_pool},
};
constexpr std::size_t kFamilyCount = sizeof kFamilies / sizeof *kFamilies;

// The header's structure type picks whose opens see the input. Every open refuses a
// foreign type in the segment validation they share, before the structure's own code
// runs, and trying every family on every input cost more than operating on the
// segments that open. A type no structure has (or an input too short to hold one)
// still reaches one family, chosen by its value, so every open meets garbage too.
const Family &family_for(const std::uint8_t *data, std::size_t size) {
    constexpr std::size_t at = offsetof(shmds::core::SegmentHeader, type);
    std::uint32_t type = 0;
    for (std::size_t i = 0; i < sizeof type && at + i < size; ++i)
        type |= std::uint32_t(data[at + i]) << (8 * i);
    for (const Family &f : kFamilies)
        if (std::uint32_t(f.type) == type) return f;
    return kFamilies[type % kFamilyCount];
}

}  // namespace

int shmds_fuzz_open_one(const std::uint8_t *data, std::size_t size) {
    shmds_fuzz::InputSegment in(data, size);
    family_for(data, size).fuzz(in);
    return in.opened_count();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    shmds_fuzz_open_one(data, size);
    return 0;
}
