// The in-memory key-value subjects of hashmap_bench.cpp, each run as its users run it:
//
//   ShmdsKv    the libshmds hash map through its C API (lock-free gets)
//   BoostKv    boost::unordered_map in managed_shared_memory; readers take an
//              interprocess_sharable_mutex shared, writers exclusive (Boost's own
//              recipe for a shared map)
//   AbslKv     absl::flat_hash_map in one process, no lock: the ceiling, not a peer
//              that could share anything
//
// The out-of-process stores (LMDB, Redis) are in kv_stores.hpp. Every subject has:
//
//   Subject(n)                     created and filled with keys 0..n-1, generation 0
//   note()                         a line for the table
//   attach() / detach()            per-process setup in each measuring child
//   get(key, value&) -> bool       copy the value out; false if absent
//   put(key, value)                overwrite (the mixed workload)
//   incr(key) -> new value         IntShape only (the counter workload)
//   sum(n)                         sum of the values of keys 0..n-1, after a run
#pragma once

#include "harness.hpp"
#include "kv_shapes.hpp"

#include <shmds/hashmap.h>

#include <boost/functional/hash.hpp>
#include <boost/interprocess/allocators/allocator.hpp>
#include <boost/interprocess/containers/string.hpp>
#include <boost/interprocess/managed_shared_memory.hpp>
#include <boost/interprocess/sync/interprocess_sharable_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>
#include <boost/interprocess/sync/sharable_lock.hpp>
#include <boost/unordered_map.hpp>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <unistd.h>

#if SHMDS_BENCH_HAVE_ABSL
#include <absl/container/flat_hash_map.h>
#include <absl/strings/string_view.h>
#endif

namespace shmds::bench::kv {

inline void check_shmds(int rc, const char *call) {
    if (__builtin_expect(rc != 0, 0))
        throw Failure(std::string(call) + ": " + shmds_errname(rc) + ": " + shmds_last_error());
}

// Sum of the values of keys 0..n-1 through get(): what a counter run is checked with.
template <typename S>
std::uint64_t sum_by_get(S &s, std::uint64_t n) {
    std::uint64_t total = 0;
    for (std::uint64_t i = 0; i < n; ++i) {
        std::int64_t v = 0;
        if (!s.get(IntShape::key(i), v)) throw Failure("a counter's key is missing after the run");
        total += std::uint64_t(v);
    }
    return total;
}

// ---------------------------------------------------------------- libshmds

template <typename Shape>
class ShmdsKv {
public:
    using Key = typename Shape::Key;
    using Value = typename Shape::Value;
    static constexpr bool kInt = std::is_same_v<Shape, IntShape>;
    // 16 shards (16 locks and seqlocks) for the two-process rows. Each shard holds at
    // most max_entries / 16, so the map gets 25% headroom for an uneven spread, as
    // hashmap.h advises.
    static constexpr std::uint64_t kShards = 16;

    explicit ShmdsKv(std::uint64_t n) {
        const int vt = kInt ? SHMDS_TYPE_INT64 : SHMDS_TYPE_BYTES;
        shmds_hashmap_config_t cfg =
            SHMDS_HASHMAP_CONFIG_INIT(kInt ? SHMDS_TYPE_INT64 : SHMDS_TYPE_BYTES, vt, n + n / 4);
        cfg.shards = kShards;
        check_shmds(shmds_hashmap_create(nullptr, &cfg, &m_), "shmds_hashmap_create");
        for (std::uint64_t i = 0; i < n; ++i) put(Shape::key(i), Shape::value(i, 0));
    }
    ~ShmdsKv() { shmds_hashmap_close(m_); }
    ShmdsKv(const ShmdsKv &) = delete;
    ShmdsKv &operator=(const ShmdsKv &) = delete;

    std::string note() const { return "16 shards, lock-free gets"; }
    void attach() {}
    void detach() {}

    bool get(const Key &k, Value &v) {
        int r;
        if constexpr (kInt) {
            r = shmds_hashmap_get_ii(m_, k, &v);
        } else {
            std::size_t len = 0;
            r = shmds_hashmap_get_bb(m_, k.b, sizeof k.b, v.b, sizeof v.b, &len);
            if (r == 0 && len != sizeof v.b) throw Failure("shmds_hashmap_get_bb: wrong length");
        }
        if (r == -ENOENT) return false;
        check_shmds(r, "shmds_hashmap_get");
        return true;
    }
    void put(const Key &k, const Value &v) {
        if constexpr (kInt)
            check_shmds(shmds_hashmap_put_ii(m_, k, v), "shmds_hashmap_put_ii");
        else
            check_shmds(shmds_hashmap_put_bb(m_, k.b, sizeof k.b, v.b, sizeof v.b),
                        "shmds_hashmap_put_bb");
    }
    std::int64_t incr(const Key &k) {
        std::int64_t now;
        check_shmds(shmds_hashmap_incr_i(m_, k, &now), "shmds_hashmap_incr_i");
        return now;
    }
    std::uint64_t sum(std::uint64_t n) { return sum_by_get(*this, n); }

private:
    shmds_hashmap_t *m_ = nullptr;
};

// ---------------------------------------------------------------- Boost

namespace bip = boost::interprocess;

// A managed_shared_memory segment whose name is removed as soon as it is mapped: the
// mapping lives on in this process and its fork() children, and nothing is left in
// /dev/shm if the bench dies.
class BoostSegment {
public:
    explicit BoostSegment(std::size_t bytes) {
        static std::atomic<int> serial{0};
        const std::string name = "shmds-bench-kv-" + std::to_string(getpid()) + "-" +
                                 std::to_string(serial.fetch_add(1));
        bip::shared_memory_object::remove(name.c_str());
        seg_ = bip::managed_shared_memory(bip::create_only, name.c_str(), bytes);
        bip::shared_memory_object::remove(name.c_str());
    }
    bip::managed_shared_memory &get() { return seg_; }

private:
    bip::managed_shared_memory seg_;
};

template <typename Shape>
class BoostKv {
public:
    using Key = typename Shape::Key;
    using Value = typename Shape::Value;
    static constexpr bool kInt = std::is_same_v<Shape, IntShape>;
    using Manager = bip::managed_shared_memory::segment_manager;
    template <typename T>
    using Alloc = bip::allocator<T, Manager>;
    using String = bip::basic_string<char, std::char_traits<char>, Alloc<char>>;
    using K = std::conditional_t<kInt, std::int64_t, String>;
    using V = std::conditional_t<kInt, std::int64_t, String>;
    using Map = boost::unordered_map<K, V, boost::hash<K>, std::equal_to<K>,
                                     Alloc<std::pair<const K, V>>>;

    explicit BoostKv(std::uint64_t n) : seg_(kInt ? 32u << 20 : 96u << 20) {
        auto &s = seg_.get();
        lock_ = s.construct<bip::interprocess_sharable_mutex>(bip::anonymous_instance)();
        map_ = s.construct<Map>(bip::anonymous_instance)(n, boost::hash<K>(), std::equal_to<K>(),
                                                         s.get_allocator<std::pair<const K, V>>());
        for (std::uint64_t i = 0; i < n; ++i) {
            const Value v = Shape::value(i, 0);
            if constexpr (kInt)
                map_->emplace(Shape::key(i), v);
            else
                map_->emplace(key_string(Shape::key(i)), String(reinterpret_cast<const char *>(v.b),
                                                                sizeof v.b, alloc()));
        }
    }

    std::string note() const { return "unordered_map, interprocess_sharable_mutex"; }
    void attach() {}
    void detach() {}

    bool get(const Key &k, Value &v) {
        bip::sharable_lock<bip::interprocess_sharable_mutex> hold(*lock_);
        const auto it = map_->find(lookup_key(k));
        if (it == map_->end()) return false;
        if constexpr (kInt) {
            v = it->second;
        } else {
            if (it->second.size() != sizeof v.b) throw Failure("boost map: a value of another length");
            std::memcpy(v.b, it->second.data(), sizeof v.b);
        }
        return true;
    }
    void put(const Key &k, const Value &v) {
        bip::scoped_lock<bip::interprocess_sharable_mutex> hold(*lock_);
        const auto it = map_->find(lookup_key(k));
        if constexpr (kInt) {
            if (it != map_->end()) it->second = v;
            else map_->emplace(k, v);
        } else {
            const char *p = reinterpret_cast<const char *>(v.b);
            if (it != map_->end()) it->second.assign(p, p + sizeof v.b);
            else map_->emplace(key_string(k), String(p, sizeof v.b, alloc()));
        }
    }
    std::int64_t incr(const Key &k) {
        bip::scoped_lock<bip::interprocess_sharable_mutex> hold(*lock_);
        return ++(*map_)[k];
    }
    std::uint64_t sum(std::uint64_t n) { return sum_by_get(*this, n); }

private:
    Alloc<char> alloc() { return seg_.get().get_allocator<char>(); }
    String key_string(const Key &k) {
        return String(reinterpret_cast<const char *>(k.b), sizeof k.b, alloc());
    }
    // A lookup key as a Boost user writes one: for bytes, a temporary String (16 bytes
    // fit its inline buffer, so building it allocates nothing in the segment).
    auto lookup_key(const Key &k) {
        if constexpr (kInt) return k;
        else return key_string(k);
    }

    BoostSegment seg_;
    bip::interprocess_sharable_mutex *lock_;
    Map *map_;
};

// ---------------------------------------------------------------- absl

#if SHMDS_BENCH_HAVE_ABSL
template <typename Shape>
class AbslKv {
public:
    using Key = typename Shape::Key;
    using Value = typename Shape::Value;
    static constexpr bool kInt = std::is_same_v<Shape, IntShape>;

    explicit AbslKv(std::uint64_t n) {
        map_.reserve(n);
        for (std::uint64_t i = 0; i < n; ++i) {
            const Key k = Shape::key(i);
            const Value v = Shape::value(i, 0);
            if constexpr (kInt)
                map_.emplace(k, v);
            else
                map_.emplace(std::string(reinterpret_cast<const char *>(k.b), sizeof k.b),
                             std::string(reinterpret_cast<const char *>(v.b), sizeof v.b));
        }
    }
    std::string note() const { return "flat_hash_map, one process, no lock: the ceiling"; }
    void attach() {}
    void detach() {}

    bool get(const Key &k, Value &v) {
        if constexpr (kInt) {
            const auto it = map_.find(k);
            if (it == map_.end()) return false;
            v = it->second;
        } else {
            // Heterogeneous lookup: no std::string built per get.
            const auto it = map_.find(absl::string_view(reinterpret_cast<const char *>(k.b), sizeof k.b));
            if (it == map_.end()) return false;
            if (it->second.size() != sizeof v.b) throw Failure("absl map: a value of another length");
            std::memcpy(v.b, it->second.data(), sizeof v.b);
        }
        return true;
    }

private:
    using Map = std::conditional_t<kInt, absl::flat_hash_map<std::int64_t, std::int64_t>,
                                   absl::flat_hash_map<std::string, std::string>>;
    Map map_;
};
#endif

}  // namespace shmds::bench::kv
