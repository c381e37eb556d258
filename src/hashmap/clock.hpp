// The map's clock for TTLs (design §7) is the library's expiry clock: wall-clock
// milliseconds, replaceable per handle (shmds_hashmap_set_clock) so tests step time.
#pragma once

#include "core/ms_clock.hpp"

namespace shmds::hashmap {

using Clock = core::MsClock;

}  // namespace shmds::hashmap
