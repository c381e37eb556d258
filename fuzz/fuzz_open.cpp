// libFuzzer target (DESIGN.md §7): arbitrary bytes presented as an existing segment to
// shmds_queue_open. Shared memory is untrusted input, so no input may crash, read or
// write outside the mapping, or trip a sanitizer; a segment that opens must survive
// the ordinary operations of every variant.
//
// Built with libFuzzer by fuzz/meson.build (clang), and without it as
// tests' fuzz_open_replay (replay_main.cpp), so every build exercises it.
#include "fuzz_open.hpp"

#include "core/header.hpp"
#include "queue/layout.hpp"

#include <shmds/shmds.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

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

// The bytes variant's lock is a process-shared pthread mutex inside the segment. A
// non-zero lock word is what a live holder looks like, and waiting for a live holder is
// the documented behaviour of the calls that take the lock without a timeout (stats,
// peek, clear), not a bug. Those calls run only when the lock is free, so the fuzzer
// spends its time on memory safety instead of reporting that wait as a hang.
bool bytes_lock_free(int fd) {
#if defined(__GLIBC__)
    int word = 1;
    const off_t at = off_t(sizeof(shmds::core::SegmentHeader) +
                           offsetof(shmds::queue::BytesControl, mutex) +
                           offsetof(pthread_mutex_t, __data.__lock));
    return pread(fd, &word, sizeof word, at) == sizeof word && word == 0;
#else
    (void)fd;
    return false;  // the lock word's place is glibc's layout; do not guess
#endif
}

void exercise_int(shmds_queue_t *q) {
    const std::uint64_t cap = shmds_queue_capacity(q);
    std::int64_t v = 0;
    (void)shmds_queue_peek_int(q, &v);
    for (std::uint64_t i = 0; i <= cap; ++i)
        if (shmds_queue_pop_int(q, &v, SHMDS_NOWAIT) != 0) break;
    (void)shmds_queue_push_int(q, 7, SHMDS_NOWAIT);
    std::int64_t batch[4] = {1, 2, 3, 4};
    std::size_t n = 0;
    (void)shmds_queue_push_multi_int(q, batch, 4, &n, SHMDS_NOWAIT);
    (void)shmds_queue_pop_multi_int(q, batch, 4, &n, SHMDS_NOWAIT);
    (void)shmds_queue_drain_int(q, batch, 4, &n);
    (void)shmds_queue_is_full(q);
    uint64_t removed = 0;
    (void)shmds_queue_clear(q, &removed);
}

void exercise_bytes(shmds_queue_t *q, int fd) {
    char buf[256];
    std::size_t len = 0;
    // Non-blocking calls first: they also take over a lock whose holder "died".
    (void)shmds_queue_pop_bytes(q, buf, sizeof buf, &len, SHMDS_NOWAIT);
    (void)shmds_queue_pop_back_bytes(q, buf, sizeof buf, &len, SHMDS_NOWAIT);
    (void)shmds_queue_push_bytes(q, "fuzz", 4, SHMDS_NOWAIT);
    (void)shmds_queue_push_front_bytes(q, "front", 5, SHMDS_NOWAIT);
    std::size_t lens[4], got = 0;
    (void)shmds_queue_pop_multi_bytes(q, buf, sizeof buf, lens, 4, &got, SHMDS_NOWAIT);
    (void)shmds_queue_drain_bytes(q, buf, 8, lens, 4, &got);
    if (!bytes_lock_free(fd)) return;
    shmds_queue_stats_t st{};
    st.struct_size = sizeof st;
    (void)shmds_queue_stats(q, &st);
    (void)shmds_queue_peek_bytes(q, buf, sizeof buf, &len);
    (void)shmds_queue_peek_bytes(q, buf, 0, &len);
    uint64_t removed = 0;
    (void)shmds_queue_clear(q, &removed);
}

void exercise(shmds_queue_t *q, int fd) {
    (void)shmds_queue_size(q);
    (void)shmds_queue_is_empty(q);
    if (shmds_queue_variant(q) == SHMDS_QUEUE_BYTES) {
        exercise_bytes(q, fd);
    } else {
        shmds_queue_stats_t st{};
        st.struct_size = sizeof st;
        (void)shmds_queue_stats(q, &st);
        exercise_int(q);
    }
}

}  // namespace

int shmds_fuzz_open_one(const std::uint8_t *data, std::size_t size) {
    const int fd = input_fd();
    int opened = 0;
    for (int variant = SHMDS_QUEUE_ANY; variant <= SHMDS_QUEUE_BYTES; ++variant) {
        load(fd, data, size);  // every attempt sees the input as given
        shmds_options_t opts = SHMDS_OPTIONS_INIT;
        opts.backing = SHMDS_BACKING_FD;
        opts.fd = fd;
        shmds_queue_t *q = nullptr;
        if (shmds_queue_open(&opts, variant, &q) != 0) continue;
        ++opened;
        exercise(q, fd);
        shmds_queue_close(q);
    }
    return opened;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
    shmds_fuzz_open_one(data, size);
    return 0;
}
