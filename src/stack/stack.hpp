// The stack: the slot deque (deque/slot_deque.hpp) used at its back end only, whose
// back is the top. Its own StructureType, so a deque's segment opened as a stack (or the
// reverse) is SHMDS_ETYPE; its own failpoint names; the algorithm is the deque's.
#pragma once

#include "deque/slot_deque.hpp"

#include <memory>

namespace shmds::stack {

using deque::Config;
using deque::End;

// The end a stack works at.
inline constexpr End kTop = End::back;

class Stack final : public deque::SlotDeque {
public:
    static int create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Stack> &out);
    // wanted_type: an element type, or 0 for whatever the segment holds.
    static int open(const shmds_options_t *opts, std::uint32_t wanted_type,
                    std::unique_ptr<Stack> &out);

private:
    friend struct core::EngineFactory;
    Stack() noexcept;
};

}  // namespace shmds::stack
