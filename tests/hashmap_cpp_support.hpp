// What the C++ hash_map tests share (test_hashmap_cpp*.cpp): keys and values per index
// with the bytes that must survive the veneer, the 20 (K, V) pairs as GoogleTest types,
// and small expectations. The typed suites are split over three translation units so
// that they compile in parallel and in bounded memory.
#pragma once

#include "support/proc.hpp"

#include <shmds/hashmap.hpp>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <optional>
#include <string>
#include <string_view>
#include <sys/mman.h>
#include <unistd.h>
#include <utility>
#include <vector>
#include <gtest/gtest.h>

namespace shmds::test::hashmap_cpp {

// Keys and values for index i, distinct per i. Bytes hold what must survive the veneer:
// the empty string (i == 0), NUL and 0xFF bytes, and lengths past the inline limits
// (keys over 16 bytes, values over 32 live in the arena).
template <class T>
T item(int i) {
    if constexpr (std::is_same_v<T, std::string>) {
        if (i == 0) return std::string();
        std::string s(std::size_t(i % 3), '\0');
        s += "\xff" + std::to_string(i);
        if (i % 4 == 3) s += std::string(40, char('a' + i % 26));
        return s;
    } else if constexpr (std::is_same_v<T, double>) {
        return i % 2 ? -1.5 * i : 0.25 * i;
    } else {
        return T(i % 2 ? -i * 3 : i * 3);
    }
}

inline bool fd_is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

// Run f, expecting shmds::error with `code`; returns its what() for further checks.
template <class F>
std::string expect_error(int code, F &&f) {
    try {
        f();
    } catch (const shmds::error &e) {
        EXPECT_EQ(code, e.value()) << e.what();
        return e.what();
    } catch (const std::exception &e) {
        ADD_FAILURE() << "expected shmds::error " << shmds_errname(code) << ", got " << e.what();
        return {};
    }
    ADD_FAILURE() << "expected shmds::error " << shmds_errname(code) << ", nothing was thrown";
    return {};
}

template <class K, class V>
struct kv {
    using key = K;
    using value = V;
};

template <class T>
std::string type_name() {
    if constexpr (std::is_same_v<T, std::string>)
        return "String";
    else if constexpr (std::is_same_v<T, double>)
        return "Double";
    else
        return "Int" + std::to_string(sizeof(T) * 8);
}

struct PairNames {
    template <class P>
    static std::string GetName(int) {
        return type_name<typename P::key>() + "To" + type_name<typename P::value>();
    }
};

template <class P>
class HashMapCpp : public ::testing::Test {
protected:
    using K = typename P::key;
    using V = typename P::value;
    using Map = shmds::hash_map<K, V>;
    static K k(int i) { return item<K>(i); }
    static V v(int i) { return item<V>(i); }
};

#define SHMDS_PAIRS_(K) \
    kv<K, std::int16_t>, kv<K, std::int32_t>, kv<K, std::int64_t>, kv<K, double>, kv<K, std::string>
using Pairs = ::testing::Types<SHMDS_PAIRS_(std::int16_t), SHMDS_PAIRS_(std::int32_t),
                               SHMDS_PAIRS_(std::int64_t), SHMDS_PAIRS_(std::string)>;
#undef SHMDS_PAIRS_


// An arena roomy enough for every test's bytes (0 for an integer-only map).
template <class K, class V>
std::uint64_t bytes_arena() {
    return std::is_same_v<K, std::string> || std::is_same_v<V, std::string> ? 1 << 20 : 0;
}

// The shmds_type_t a C caller would name for T.
template <class T>
int c_type() {
    if constexpr (std::is_same_v<T, std::string>) return SHMDS_TYPE_BYTES;
    if constexpr (std::is_same_v<T, double>) return SHMDS_TYPE_F64;
    if constexpr (sizeof(T) == 2) return SHMDS_TYPE_INT16;
    if constexpr (sizeof(T) == 4) return SHMDS_TYPE_INT32;
    return SHMDS_TYPE_INT64;
}

}  // namespace shmds::test::hashmap_cpp

// Every member of every (K, V) pair for one key type compiles, used by a test or not.
// Each translation unit instantiates its own key types, so each class is instantiated once.
#define SHMDS_EVERY_VALUE_OF_KEY(K)                  \
    template class shmds::hash_map<K, std::int16_t>; \
    template class shmds::hash_map<K, std::int32_t>; \
    template class shmds::hash_map<K, std::int64_t>; \
    template class shmds::hash_map<K, double>;       \
    template class shmds::hash_map<K, std::string>;
