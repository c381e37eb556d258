#include "core/keyed_hash.hpp"

#include <ctime>
#include <sys/random.h>
#include <unistd.h>

namespace shmds::core {

void draw_hash_seed(std::uint64_t (&seed)[2]) noexcept {
    // getrandom cannot fail for 16 bytes once the pool is ready.
    if (getrandom(seed, sizeof seed, 0) == ssize_t(sizeof seed)) return;
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    seed[0] = std::uint64_t(ts.tv_nsec) * 0x9e3779b97f4a7c15ull ^ std::uint64_t(getpid());
    seed[1] = std::uint64_t(ts.tv_sec) * 0xc2b2ae3d27d4eb4full ^
              reinterpret_cast<std::uintptr_t>(&ts);
}

}  // namespace shmds::core
