// The fuzz input as a segment: one memfd holding the input's bytes, handed to every
// open as SHMDS_BACKING_FD. A structure that opens is then operated on, which writes
// to the memfd, so the bytes are loaded again before the next open: every attempt sees
// the input as given.
#pragma once

#include <shmds/common.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace shmds_fuzz {

class InputSegment {
public:
    InputSegment(const std::uint8_t *data, std::size_t size) noexcept;

    // Options for the next open attempt; the memfd holds exactly the input's bytes.
    shmds_options_t options() noexcept;
    // Record that an open succeeded: the operations that follow may write.
    void opened() noexcept {
        ++opened_;
        dirty_ = true;
    }
    int opened_count() const noexcept { return opened_; }
    std::size_t size() const noexcept { return size_; }

    // A word of the segment as it is now (not as the input gave it); false when the
    // segment is too short to hold it.
    bool read_u32(std::uint64_t offset, std::uint32_t &out) const noexcept;
    bool read_u64(std::uint64_t offset, std::uint64_t &out) const noexcept;

    // Whether the internal lock (core/robust_mutex.hpp) at `offset` is free. Calls that
    // take such a lock without a timeout (the queue's stats, peek and clear, the
    // semaphore's release and drain, the barrier's reset) wait for a holder as
    // documented; a lock word that names a live thread which will never unlock is what a
    // live holder looks like, so the harness makes those calls only when the lock is free
    // and spends its time on memory safety.
    bool robust_lock_free(std::uint64_t offset) const noexcept;

private:
    const std::uint8_t *data_;
    std::size_t size_;
    bool dirty_ = true;
    int opened_ = 0;
};

// A call returned a code its documentation does not list (SHMDS_ECORRUPT is always
// allowed: it is what damaged memory is promised to give). Prints the call, the code
// and the error sentence, then aborts, so the fuzzer keeps the input.
void expect_code(int rc, std::initializer_list<int> allowed, const char *call);

}  // namespace shmds_fuzz
