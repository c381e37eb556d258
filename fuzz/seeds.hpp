// Valid segments of every structure and variant, some fresh and some with state (items
// queued, a ring lapped, requests in flight, a lock held by a thread that has exited,
// a barrier broken), so that mutation starts from something that opens.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shmds_fuzz {

struct Seed {
    std::string name;
    std::vector<std::uint8_t> image;  // empty when the segment could not be made
    int opens;                        // how many of the target's opens accept it untouched
};

std::vector<Seed> make_seeds();

}  // namespace shmds_fuzz
