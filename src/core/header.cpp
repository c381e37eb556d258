#include "core/header.hpp"


namespace shmds::core {

const char *structure_name(std::uint32_t type) noexcept {
    switch (StructureType(type)) {
        case StructureType::queue: return "queue";
        case StructureType::pubsub: return "pubsub";
        case StructureType::reqrep: return "reqrep";
        case StructureType::mutex: return "mutex";
        case StructureType::semaphore: return "semaphore";
        case StructureType::barrier: return "barrier";
        case StructureType::rwlock: return "rwlock";
        case StructureType::condvar: return "condvar";
        case StructureType::once: return "once";
        case StructureType::hashmap: return "hashmap";
        case StructureType::cache: return "cache";
        case StructureType::stack: return "stack";
        case StructureType::deque: return "deque";
        case StructureType::ringbuffer: return "ringbuffer";
        case StructureType::log: return "log";
        case StructureType::bitset: return "bitset";
        case StructureType::buffer: return "buffer";
        case StructureType::heap: return "heap";
        case StructureType::graph: return "graph";
        case StructureType::pool: return "pool";
    }
    return "unknown structure";
}

LayoutHash::LayoutHash() noexcept : h_(0xcbf29ce484222325ull) {
    // What every segment depends on, whatever the structure.
    const std::uint16_t endian_probe = 0x0102;
    add({sizeof(SegmentHeader), offsetof(SegmentHeader, geometry),
         offsetof(SegmentHeader, recoveries), kCacheLine, sizeof(void *),
         *reinterpret_cast<const std::uint8_t *>(&endian_probe),
         kLayoutVersion});
}

LayoutHash &LayoutHash::add(std::uint64_t v) noexcept {
    for (int i = 0; i < 8; ++i) {
        h_ ^= (v >> (8 * i)) & 0xff;
        h_ *= 0x100000001b3ull;
    }
    return *this;
}

std::uint64_t header_shape_check(const SegmentHeader &h) noexcept {
    LayoutHash check;
    check.add({h.type, h.variant, h.elem_size, h.elem_align, h.layout_hash, h.total_size});
    for (std::uint64_t word : h.geometry) check.add(word);
    return check.value();
}

}  // namespace shmds::core
