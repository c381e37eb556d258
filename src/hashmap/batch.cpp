// Batch verbs: keys grouped by shard, one lock acquisition per shard for writes (each
// key still commits its own change and closes the write window, so readers get in
// between keys and a writer killed mid-batch leaves exactly the keys before it done).
// Not atomic across keys; each key has its own result. The handle's lock timeout bounds
// a whole write batch: once it has run out, a shard whose lock is held is not waited for.
#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "hashmap/hashmap.hpp"
#include "hashmap/txn.hpp"

#include <cerrno>
#include <memory>
#include <new>

namespace shmds::hashmap {

// The items' order grouped by shard (a counting sort), with each key's hash.
int HashMap::group_by_shard(BatchItem *items, std::size_t n, Grouping &g) noexcept {
    g.hash.reset(new (std::nothrow) std::uint64_t[n]);
    g.order.reset(new (std::nothrow) std::uint32_t[n]);
    g.start.reset(new (std::nothrow) std::uint32_t[geom_.shards + 1]());
    if (!g.hash || !g.order || !g.start)
        return core::fail(-ENOMEM, "out of memory grouping {} hash map keys by shard", n);
    std::unique_ptr<std::uint32_t[]> shard(new (std::nothrow) std::uint32_t[n]);
    if (!shard) return core::fail(-ENOMEM, "out of memory grouping {} hash map keys", n);
    for (std::size_t i = 0; i < n; ++i) {
        if (items[i].result != 0) continue;  // the adapter refused this key already
        shard[i] = std::uint32_t(locate(items[i].key, &g.hash[i]));
        ++g.start[shard[i] + 1];
    }
    for (std::uint64_t s = 0; s < geom_.shards; ++s) g.start[s + 1] += g.start[s];
    std::unique_ptr<std::uint32_t[]> fill(new (std::nothrow) std::uint32_t[geom_.shards]);
    if (!fill) return core::fail(-ENOMEM, "out of memory grouping hash map keys");
    for (std::uint64_t s = 0; s < geom_.shards; ++s) fill[s] = g.start[s];
    for (std::size_t i = 0; i < n; ++i)
        if (items[i].result == 0) g.order[fill[shard[i]]++] = std::uint32_t(i);
    return 0;
}

template <typename Step>
int HashMap::write_batch(BatchItem *items, std::size_t n, Step &&step) noexcept {
    if (read_only_) return refuse_read_only();
    Grouping g;
    if (int r = group_by_shard(items, n, g)) return r;
    const core::Deadline deadline = core::Deadline::from_timeout(lock_timeout());
    int done = 0;
    for (std::uint64_t s = 0; s < geom_.shards; ++s) {
        if (g.start[s] == g.start[s + 1]) continue;
        Shard &shard = shards_[s];
        WriteTxn t(shard, deadline);
        const int w = t.writable();
        for (std::uint32_t j = g.start[s]; j < g.start[s + 1]; ++j) {
            BatchItem &it = items[g.order[j]];
            if (w) {
                it.result = w;
                continue;
            }
            const int r = step(shard, t, g.hash[g.order[j]], it);
            it.result = r < 0 ? r : 0;
            if (r >= 0) ++done;
            t.rollback();  // after a commit: only closes the write window
            SHMDS_FAILPOINT("hashmap.batch.key_done");
        }
    }
    return done;
}

int HashMap::put_batch(BatchItem *items, std::size_t n) noexcept {
    return write_batch(items, n, [](Shard &s, WriteTxn &t, std::uint64_t h, BatchItem &it) {
        return s.write_locked(t, h, it.key, it.val, WriteMode::put, nullptr);
    });
}

int HashMap::remove_batch(BatchItem *items, std::size_t n) noexcept {
    return write_batch(items, n, [](Shard &s, WriteTxn &t, std::uint64_t h, BatchItem &it) {
        return s.remove_locked(t, h, it.key, nullptr);
    });
}

// Reads take no lock at all (design §3); grouping by shard only keeps them local. A
// key whose read timed out on the shard's lock (its writer stayed mid-change for the
// whole lock timeout) fails the shard's remaining keys the same way without waiting
// again, so a stuck shard costs the batch one timeout, not one per key.
int HashMap::get_batch(BatchItem *items, std::size_t n) noexcept {
    Grouping g;
    if (int r = group_by_shard(items, n, g)) return r;
    int found = 0;
    for (std::uint64_t s = 0; s < geom_.shards; ++s) {
        bool stuck = false;
        for (std::uint32_t j = g.start[s]; j < g.start[s + 1]; ++j) {
            BatchItem &it = items[g.order[j]];
            it.result = stuck ? -ETIMEDOUT : shards_[s].get(g.hash[g.order[j]], it.key, it.out);
            stuck = it.result == -ETIMEDOUT;
            if (it.result == 0) ++found;
        }
    }
    return found;
}

}  // namespace shmds::hashmap
