// Damage the type word of a robust pthread mutex inside a segment, as a hostile or
// broken peer can: the structures must then refuse the lock with SHMDS_ECORRUPT
// (core/robust_mutex.cpp) instead of calling it busy or using it anyway.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <pthread.h>
#include <unistd.h>

namespace shmds::test {

// Whether this C library's mutex layout is known here (glibc's); tests skip otherwise.
inline constexpr bool kKnowsMutexLayout =
#if defined(__GLIBC__)
    true;
#else
    false;
#endif

// A type word that robust_pthread_init() never writes.
inline constexpr int kDamagedMutexKind = 0x7f;

// Overwrite the type word of the mutex at `mutex_offset` of the segment behind `fd`.
inline void damage_mutex_kind(int fd, std::uint64_t mutex_offset) {
#if defined(__GLIBC__)
    const int kind = kDamagedMutexKind;
    const off_t at = off_t(mutex_offset + offsetof(pthread_mutex_t, __data.__kind));
    ASSERT_EQ(ssize_t(sizeof kind), pwrite(fd, &kind, sizeof kind, at));
#else
    (void)fd;
    (void)mutex_offset;
    FAIL() << "the pthread mutex layout of this C library is unknown";
#endif
}

}  // namespace shmds::test
