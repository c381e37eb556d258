// The two message shapes every queue workload moves: an 8-byte integer and a 64-byte
// record. Both carry a sequence number, so consumers check order and completeness
// (a benchmark that moves garbage fast proves nothing).
#pragma once

#include "harness.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

namespace shmds::bench {

struct Msg64 {
    std::uint64_t seq;
    unsigned char payload[56];
};
static_assert(sizeof(Msg64) == 64);

// Sequence numbers start at 1 (atomic_queue reserves 0 as its empty marker); this one
// tells the receiver to stop.
inline constexpr std::uint64_t kStop = ~std::uint64_t{0} - 1;

inline void stamp(std::uint64_t &m, std::uint64_t seq) noexcept { m = seq; }
inline void stamp(Msg64 &m, std::uint64_t seq) noexcept { m.seq = seq; }
inline std::uint64_t seq_of(const std::uint64_t &m) noexcept { return m; }
inline std::uint64_t seq_of(const Msg64 &m) noexcept { return m.seq; }

// A message with a payload that is not all zeroes, so no transport gets an easy copy.
template <typename M>
M make_message() {
    M m{};
    if constexpr (sizeof(M) > sizeof(std::uint64_t)) {
        for (std::size_t i = 0; i < sizeof m.payload; ++i) m.payload[i] = (unsigned char)(i * 37 + 11);
    }
    return m;
}

// The consumer's check: strictly consecutive sequence numbers until kStop.
class SeqCheck {
public:
    // false once the stop marker arrives; throws Failure on a gap or a reordering.
    bool take(std::uint64_t seq) {
        if (seq == kStop) return false;
        if (seq != expected_)
            throw Failure("message " + std::to_string(seq) + " arrived where " +
                          std::to_string(expected_) + " was due");
        ++expected_;
        return true;
    }
    std::uint64_t received() const noexcept { return expected_ - 1; }

private:
    std::uint64_t expected_ = 1;
};

}  // namespace shmds::bench
