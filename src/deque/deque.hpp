// The deque: the slot deque (slot_deque.hpp) used at both ends. Its type is
// StructureType::deque, so a stack's segment opened as a deque is SHMDS_ETYPE.
#pragma once

#include "deque/slot_deque.hpp"

#include <memory>

namespace shmds::deque {

class Deque final : public SlotDeque {
public:
    static int create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Deque> &out);
    // wanted_type: an element type, or 0 for whatever the segment holds.
    static int open(const shmds_options_t *opts, std::uint32_t wanted_type,
                    std::unique_ptr<Deque> &out);

private:
    friend struct core::EngineFactory;
    Deque() noexcept;
};

}  // namespace shmds::deque
