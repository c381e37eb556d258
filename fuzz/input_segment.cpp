#include "input_segment.hpp"

#include "core/stamp_lock.hpp"

#include <cstdio>
#include <cstdlib>
#include <sys/mman.h>
#include <unistd.h>

namespace shmds_fuzz {

namespace {

// One memfd reused for every input: creating one per input would dominate the run.
int input_fd() {
    static const int fd = memfd_create("shmds-fuzz-open", MFD_CLOEXEC);
    if (fd < 0) std::abort();
    return fd;
}

void load(int fd, const std::uint8_t *data, std::size_t size) {
    if (ftruncate(fd, 0) != 0) std::abort();
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, data + done, size - done, off_t(done));
        if (n <= 0) std::abort();
        done += std::size_t(n);
    }
}

template <typename T>
bool read_at(std::size_t size, std::uint64_t offset, T &out) {
    if (offset > size || size - offset < sizeof out) return false;
    return pread(input_fd(), &out, sizeof out, off_t(offset)) == ssize_t(sizeof out);
}

}  // namespace

InputSegment::InputSegment(const std::uint8_t *data, std::size_t size) noexcept
    : data_(data), size_(size) {}

shmds_options_t InputSegment::options() noexcept {
    if (dirty_) {
        load(input_fd(), data_, size_);
        dirty_ = false;
    }
    shmds_options_t opts = SHMDS_OPTIONS_INIT;
    opts.backing = SHMDS_BACKING_FD;
    opts.fd = input_fd();
    // The input memfd is rewritten for every input, so it cannot be sealed; nothing else
    // holds it, so nothing can shrink it under the mapping.
    opts.flags = SHMDS_ACCEPT_UNSEALED;
    return opts;
}

bool InputSegment::read_u32(std::uint64_t offset, std::uint32_t &out) const noexcept {
    return read_at(size_, offset, out);
}

bool InputSegment::read_u64(std::uint64_t offset, std::uint64_t &out) const noexcept {
    return read_at(size_, offset, out);
}

bool InputSegment::robust_lock_free(std::uint64_t offset) const noexcept {
    std::uint64_t word = 1;
    return read_u64(offset, word) && (word & ~shmds::core::kStampLockWaiters) == 0;
}

void expect_code(int rc, std::initializer_list<int> allowed, const char *call) {
    if (rc == SHMDS_ECORRUPT) return;
    for (int ok : allowed)
        if (rc == ok) return;
    std::fprintf(stderr, "fuzz_open: %s returned %d (%s), which it does not document: %s\n",
                 call, rc, shmds_errname(rc), shmds_last_error());
    std::abort();
}

}  // namespace shmds_fuzz
