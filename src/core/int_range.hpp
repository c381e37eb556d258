// The one range check behind every integer variant: values cross the C ABI as int64_t
// and must fit the variant's storage width (DESIGN.md §2), else -ERANGE with a sentence.
#pragma once

#include "core/error.hpp"

#include <cerrno>
#include <cstdint>

namespace shmds::core {

// 0, or -ERANGE when v does not fit a signed integer of `bits` bits (16, 32 or 64).
// `what` names the structure and variant for the sentence, e.g. "an int16 pubsub".
inline int check_int_range(std::int64_t v, int bits, const char *what) noexcept {
    if (bits >= 64) return 0;
    const std::int64_t hi = (std::int64_t{1} << (bits - 1)) - 1;
    const std::int64_t lo = -hi - 1;
    if (v < lo || v > hi) return fail(-ERANGE, "value {} does not fit {} ({}..{})", v, what, lo, hi);
    return 0;
}

}  // namespace shmds::core
