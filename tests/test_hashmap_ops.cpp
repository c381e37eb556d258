// The hash map's verbs beyond single-key CRUD, through the public C API: cas_take,
// max/min, batches, reserve, clear, freeze and the read-only open, cursors (removal,
// grow, shrink and clear while iterating), the max_probe stat under chosen keys, and an
// oracle run of these verbs against std::unordered_map. Cross-process races and the
// crash matrix are in test_hashmap_procs.cpp.
#include "hashmap_helpers.hpp"

#include "core/header.hpp"
#include "hashmap/layout.hpp"  // where a shard's sequence word lives, for the damage test

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>
#include <vector>

using namespace shmds::test;
using namespace shmds::test::hm;

namespace {

constexpr int I16 = SHMDS_TYPE_INT16, I64 = SHMDS_TYPE_INT64, F64 = SHMDS_TYPE_F64,
              BYTES = SHMDS_TYPE_BYTES;

struct CursorCloser {
    void operator()(shmds_hashmap_cursor_t *c) const noexcept { shmds_hashmap_cursor_destroy(c); }
};
using CursorPtr = std::unique_ptr<shmds_hashmap_cursor_t, CursorCloser>;

CursorPtr make_cursor(shmds_hashmap_t *m) {
    shmds_hashmap_cursor_t *c = nullptr;
    EXPECT_EQ(0, shmds_hashmap_cursor_create(m, &c)) << shmds_last_error();
    return CursorPtr(c);
}

bool last_error_says(const char *word) {
    return std::string(shmds_last_error()).find(word) != std::string::npos;
}

// ------------------------------------------------------------------ cas_take

TEST(HashMapCasTake, RemovesOnlyTheExpectedValueInEveryShape) {
    MapPtr ii = make_map(I64, I64, 16);
    ASSERT_EQ(0, shmds_hashmap_put_ii(ii.get(), 1, 10));
    EXPECT_EQ(-ECANCELED, shmds_hashmap_cas_take_ii(ii.get(), 1, 11));
    EXPECT_EQ(10, get_ii(ii.get(), 1));
    EXPECT_EQ(0, shmds_hashmap_cas_take_ii(ii.get(), 1, 10));
    EXPECT_EQ(std::nullopt, get_ii(ii.get(), 1));
    EXPECT_EQ(-ENOENT, shmds_hashmap_cas_take_ii(ii.get(), 1, 10));

    MapPtr bb = make_map(BYTES, BYTES, 16);
    const std::string k("k\0ey", 4), v(std::string("v\0\xff", 3) + std::string(50, 'a'));
    ASSERT_EQ(0, put_bb(bb.get(), k, v));  // the value lives in the arena
    const std::string shorter = v.substr(0, v.size() - 1);
    EXPECT_EQ(-ECANCELED, shmds_hashmap_cas_take_bb(bb.get(), k.data(), k.size(), shorter.data(),
                                                    shorter.size()));
    std::string other = v;
    other.back() = 'b';
    EXPECT_EQ(-ECANCELED,
              shmds_hashmap_cas_take_bb(bb.get(), k.data(), k.size(), other.data(), other.size()));
    EXPECT_EQ(0, shmds_hashmap_cas_take_bb(bb.get(), k.data(), k.size(), v.data(), v.size()));
    EXPECT_EQ(std::nullopt, get_bb(bb.get(), k));
    EXPECT_EQ(0u, stats(bb.get()).arena_used);

    MapPtr ib = make_map(I64, BYTES, 16);
    ASSERT_EQ(0, shmds_hashmap_put_ib(ib.get(), 5, "", 0));
    EXPECT_EQ(-ECANCELED, shmds_hashmap_cas_take_ib(ib.get(), 5, "x", 1));
    EXPECT_EQ(0, shmds_hashmap_cas_take_ib(ib.get(), 5, nullptr, 0));  // empty matches empty
    MapPtr bi = make_map(BYTES, I64, 16);
    ASSERT_EQ(0, shmds_hashmap_put_bi(bi.get(), "a", 1, 7));
    EXPECT_EQ(-ECANCELED, shmds_hashmap_cas_take_bi(bi.get(), "a", 1, 8));
    EXPECT_EQ(0, shmds_hashmap_cas_take_bi(bi.get(), "a", 1, 7));
    MapPtr iF = make_map(I64, F64, 16);
    ASSERT_EQ(0, shmds_hashmap_put_if(iF.get(), 1, 0.0));
    EXPECT_EQ(-ECANCELED, shmds_hashmap_cas_take_if(iF.get(), 1, -0.0));  // bitwise
    EXPECT_EQ(0, shmds_hashmap_cas_take_if(iF.get(), 1, 0.0));
    MapPtr bF = make_map(BYTES, F64, 16);
    ASSERT_EQ(0, shmds_hashmap_put_bf(bF.get(), "f", 1, 2.5));
    EXPECT_EQ(0, shmds_hashmap_cas_take_bf(bF.get(), "f", 1, 2.5));
    EXPECT_EQ(0u, stats(bF.get()).size);

    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_cas_take_bb(ii.get(), "a", 1, "b", 1));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_cas_take_if(ii.get(), 1, 1.0));
    EXPECT_EQ(-EINVAL, shmds_hashmap_cas_take_ii(nullptr, 1, 1));
}

// ------------------------------------------------------------------- max/min

TEST(HashMapMinMax, MonotonicCountersInsertWhenMissing) {
    MapPtr m = make_map(I64, I64, 16);
    std::int64_t out = 0;
    EXPECT_EQ(1, shmds_hashmap_max_i(m.get(), 1, 5, &out));  // inserted
    EXPECT_EQ(5, out);
    EXPECT_EQ(0, shmds_hashmap_max_i(m.get(), 1, 3, &out));  // 5 already larger
    EXPECT_EQ(5, out);
    EXPECT_EQ(0, shmds_hashmap_max_i(m.get(), 1, 5, &out));  // equal: unchanged
    EXPECT_EQ(1, shmds_hashmap_max_i(m.get(), 1, 9, &out));
    EXPECT_EQ(9, out);
    EXPECT_EQ(9, get_ii(m.get(), 1));
    EXPECT_EQ(1, shmds_hashmap_min_i(m.get(), 2, -4, &out));
    EXPECT_EQ(-4, out);
    EXPECT_EQ(0, shmds_hashmap_min_i(m.get(), 2, 0, &out));
    EXPECT_EQ(-4, out);
    EXPECT_EQ(1, shmds_hashmap_min_i(m.get(), 2, INT64_MIN, &out));
    EXPECT_EQ(INT64_MIN, get_ii(m.get(), 2));

    MapPtr bi = make_map(BYTES, I16, 16);
    EXPECT_EQ(1, shmds_hashmap_max_b(bi.get(), "k", 1, 100, &out));
    EXPECT_EQ(-ERANGE, shmds_hashmap_max_b(bi.get(), "k", 1, 40000, &out));  // beyond int16
    EXPECT_EQ(1, shmds_hashmap_min_b(bi.get(), "k", 1, -32768, &out));
    EXPECT_EQ(-32768, out);

    MapPtr bb = make_map(BYTES, BYTES, 16);
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_max_b(bb.get(), "k", 1, 1, &out));
    MapPtr iF = make_map(I64, F64, 16);
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_min_i(iF.get(), 1, 1, &out));
    EXPECT_EQ(-EINVAL, shmds_hashmap_max_i(m.get(), 1, 1, nullptr));

    MapPtr full = make_map(I64, I64, 1);
    ASSERT_EQ(0, shmds_hashmap_put_ii(full.get(), 1, 1));
    EXPECT_EQ(-ENOSPC, shmds_hashmap_max_i(full.get(), 2, 1, &out));
}

// ------------------------------------------------------------------- batches

TEST(HashMapBatch, IntegerBatchesOverShardsWithPerKeyResults) {
    MapPtr m = make_map(I16, I64, 1000, 4);
    std::vector<std::int64_t> keys, values;
    for (int i = 0; i < 200; ++i) {
        keys.push_back(i * 7);
        values.push_back(i * 1000);
    }
    keys[5] = 40000;  // out of int16: only this key fails
    std::vector<int> res(keys.size(), 99);
    EXPECT_EQ(199, shmds_hashmap_put_batch_ii(m.get(), keys.data(), values.data(), keys.size(),
                                              res.data()));
    for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(i == 5 ? -ERANGE : 0, res[i]) << i;
    EXPECT_EQ(199u, stats(m.get()).size);
    for (std::size_t i = 0; i < keys.size(); ++i)
        if (i != 5) {
            EXPECT_EQ(values[i], get_ii(m.get(), keys[i]));
        }

    std::vector<std::int64_t> ask = {0, 7, 3, 14, 40000}, got(ask.size(), -1);
    std::vector<int> found(ask.size(), 99);
    EXPECT_EQ(3, shmds_hashmap_get_batch_ii(m.get(), ask.data(), ask.size(), got.data(), found.data()));
    EXPECT_EQ((std::vector<int>{0, 0, -ENOENT, 0, -ERANGE}), found);
    EXPECT_EQ(0, got[0]);
    EXPECT_EQ(1000, got[1]);
    EXPECT_EQ(-1, got[2]) << "a missing key's output is untouched";
    EXPECT_EQ(2000, got[3]);

    EXPECT_EQ(3, shmds_hashmap_remove_batch_i(m.get(), ask.data(), 4, found.data()));
    EXPECT_EQ((std::vector<int>{0, 0, -ENOENT, 0, -ERANGE}), found) << "only 4 keys asked";
    found.assign(ask.size(), 99);
    EXPECT_EQ(0, shmds_hashmap_remove_batch_i(m.get(), ask.data(), 3, nullptr));  // results optional
    EXPECT_EQ(0, shmds_hashmap_get_batch_ii(m.get(), ask.data(), 3, got.data(), found.data()));
    EXPECT_EQ(196u, stats(m.get()).size);

    // Whole-call errors: nothing done.
    EXPECT_EQ(0, shmds_hashmap_put_batch_ii(m.get(), nullptr, nullptr, 0, nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_put_batch_ii(m.get(), nullptr, values.data(), 3, nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_get_batch_ii(m.get(), ask.data(), 3, got.data(), nullptr));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_put_batch_if(m.get(), keys.data(), nullptr, 0, nullptr));
    EXPECT_EQ(SHMDS_EVARIANT,
              shmds_hashmap_remove_batch_b(m.get(), nullptr, nullptr, 0, nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_put_batch_ii(nullptr, keys.data(), values.data(), 1, nullptr));

    // A full map: the keys that fit go in, the others say -ENOSPC.
    MapPtr small = make_map(I64, I64, 3);
    std::vector<std::int64_t> five = {1, 2, 3, 4, 5};
    std::vector<int> r5(5);
    EXPECT_EQ(3, shmds_hashmap_put_batch_ii(small.get(), five.data(), five.data(), 5, r5.data()));
    EXPECT_EQ((std::vector<int>{0, 0, 0, -ENOSPC, -ENOSPC}), r5);
}

TEST(HashMapBatch, BytesAndF64ShapesWithSmallBuffers) {
    MapPtr m = make_map(BYTES, BYTES, 100, 2, 1 << 16);
    std::vector<std::string> ks, vs;
    for (int i = 0; i < 30; ++i) {
        ks.push_back(std::string("key\0", 4) + std::to_string(i) + std::string(i, 'k'));
        vs.push_back(std::string(i * 3, char(0xff - i)));
    }
    std::vector<const void *> kp, vp;
    std::vector<std::size_t> kl, vl;
    for (int i = 0; i < 30; ++i) {
        kp.push_back(ks[i].data());
        kl.push_back(ks[i].size());
        vp.push_back(vs[i].data());
        vl.push_back(vs[i].size());
    }
    EXPECT_EQ(30, shmds_hashmap_put_batch_bb(m.get(), kp.data(), kl.data(), vp.data(), vl.data(),
                                             30, nullptr));
    for (int i = 0; i < 30; ++i) EXPECT_EQ(vs[i], get_bb(m.get(), ks[i]));

    std::vector<std::string> bufs(30, std::string(40, '\0'));
    std::vector<void *> bp;
    std::vector<std::size_t> sizes, lens(30);
    for (auto &b : bufs) {
        bp.push_back(b.data());
        sizes.push_back(b.size());
    }
    std::vector<int> res(30);
    // Values longer than 40 bytes (i >= 14) do not fit: -ENOBUFS with the length needed.
    EXPECT_EQ(14, shmds_hashmap_get_batch_bb(m.get(), kp.data(), kl.data(), 30, bp.data(),
                                             sizes.data(), lens.data(), res.data()));
    for (int i = 0; i < 30; ++i) {
        EXPECT_EQ(vs[i].size(), lens[i]);
        if (vs[i].size() <= 40) {
            EXPECT_EQ(0, res[i]);
            EXPECT_EQ(vs[i], bufs[i].substr(0, lens[i]));
        } else {
            EXPECT_EQ(-ENOBUFS, res[i]);
        }
    }
    EXPECT_EQ(30, shmds_hashmap_remove_batch_b(m.get(), kp.data(), kl.data(), 30, res.data()));
    EXPECT_EQ(0u, stats(m.get()).arena_used);

    MapPtr ib = make_map(I64, BYTES, 10);
    const std::int64_t ik[2] = {1, 2};
    const void *iv[2] = {"one", "two!"};
    const std::size_t ivl[2] = {3, 4};
    EXPECT_EQ(2, shmds_hashmap_put_batch_ib(ib.get(), ik, iv, ivl, 2, nullptr));
    char b0[8], b1[8];
    void *ibp[2] = {b0, b1};
    const std::size_t ibs[2] = {8, 8};
    std::size_t ibl[2];
    int ir[2];
    EXPECT_EQ(2, shmds_hashmap_get_batch_ib(ib.get(), ik, 2, ibp, ibs, ibl, ir));
    EXPECT_EQ("two!", std::string(b1, ibl[1]));

    MapPtr bi = make_map(BYTES, I64, 10);
    const void *bk[2] = {"x", "yy"};
    const std::size_t bkl[2] = {1, 2};
    const std::int64_t bv[2] = {-1, 1};
    std::int64_t bo[2];
    EXPECT_EQ(2, shmds_hashmap_put_batch_bi(bi.get(), bk, bkl, bv, 2, nullptr));
    EXPECT_EQ(2, shmds_hashmap_get_batch_bi(bi.get(), bk, bkl, 2, bo, ir));
    EXPECT_EQ(-1, bo[0]);

    MapPtr iF = make_map(I64, F64, 10);
    const double fv[2] = {0.5, -2.25};
    double fo[2];
    EXPECT_EQ(2, shmds_hashmap_put_batch_if(iF.get(), ik, fv, 2, nullptr));
    EXPECT_EQ(2, shmds_hashmap_get_batch_if(iF.get(), ik, 2, fo, ir));
    EXPECT_EQ(-2.25, fo[1]);
    MapPtr bF = make_map(BYTES, F64, 10);
    EXPECT_EQ(2, shmds_hashmap_put_batch_bf(bF.get(), bk, bkl, fv, 2, nullptr));
    EXPECT_EQ(2, shmds_hashmap_get_batch_bf(bF.get(), bk, bkl, 2, fo, ir));
    EXPECT_EQ(0.5, fo[0]);
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_get_batch_bi(bF.get(), bk, bkl, 2, bo, ir));
}

// ------------------------------------------------------------ reserve, clear

TEST(HashMapReserve, GrowsAheadSoInsertsNeverRebuild) {
    MapPtr m = make_map(I64, I64, 100000, 2);
    const std::uint64_t before = stats(m.get()).table_slots;
    ASSERT_EQ(0, shmds_hashmap_reserve(m.get(), 5000)) << shmds_last_error();
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_GT(s.table_slots, before);
    EXPECT_GE(s.table_slots * 3, 5000u * 4);
    ASSERT_EQ(0, shmds_hashmap_reserve(m.get(), 10));  // smaller: nothing to do
    EXPECT_EQ(s.table_slots, stats(m.get()).table_slots);
    // Keys spread over 2 shards unevenly; 4800 stays within each shard's share.
    for (int i = 0; i < 4800; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i));
    EXPECT_EQ(s.resizes, stats(m.get()).resizes) << "reserved inserts rebuilt a table";
    EXPECT_EQ(-ENOSPC, shmds_hashmap_reserve(m.get(), 100001));
    EXPECT_EQ(-EINVAL, shmds_hashmap_reserve(nullptr, 1));
}

TEST(HashMapClear, EmptiesEveryShardAndReturnsTheArena) {
    MapPtr m = make_map(BYTES, BYTES, 1000, 4, 1 << 18);
    for (int i = 0; i < 500; ++i)
        ASSERT_EQ(0, put_bb(m.get(), "k" + std::to_string(i) + std::string(20, 'x'), std::string(60, 'v')));
    ASSERT_GT(stats(m.get()).arena_used, 0u);
    std::uint64_t removed = 0;
    ASSERT_EQ(0, shmds_hashmap_clear(m.get(), &removed));
    EXPECT_EQ(500u, removed);
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_EQ(0u, s.size);
    EXPECT_EQ(0u, s.arena_used);
    EXPECT_EQ(0u, s.tombstones);
    EXPECT_EQ(4u * 16, s.table_slots);
    EXPECT_EQ(std::nullopt, get_bb(m.get(), "k1" + std::string(20, 'x')));
    // The map is whole again: the same keys go back in, the whole arena is usable.
    for (int i = 0; i < 500; ++i)
        ASSERT_EQ(0, put_bb(m.get(), "k" + std::to_string(i) + std::string(20, 'x'), std::to_string(i)));
    EXPECT_EQ("7", get_bb(m.get(), "k7" + std::string(20, 'x')));
    EXPECT_EQ(0, shmds_hashmap_clear(m.get(), nullptr));
    EXPECT_EQ(0, shmds_hashmap_clear(m.get(), &removed));  // already empty
    EXPECT_EQ(0u, removed);
}

// ----------------------------------------------------------- freeze, read-only

TEST(HashMapFreeze, EveryWriteIsRefusedWithASentenceAndReadsGoOn) {
    MapPtr m = make_map(I64, I64, 100);
    for (int i = 0; i < 10; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i * 2));
    EXPECT_EQ(0u, stats(m.get()).frozen);
    ASSERT_EQ(0, shmds_hashmap_freeze(m.get()));
    ASSERT_EQ(0, shmds_hashmap_freeze(m.get()));  // idempotent
    std::int64_t v;
    EXPECT_EQ(-EROFS, shmds_hashmap_put_ii(m.get(), 1, 1));
    EXPECT_TRUE(last_error_says("frozen")) << shmds_last_error();
    EXPECT_EQ(-EROFS, shmds_hashmap_add_ii(m.get(), 50, 1));
    EXPECT_EQ(-EROFS, shmds_hashmap_remove_i(m.get(), 1));
    EXPECT_EQ(-EROFS, shmds_hashmap_take_ii(m.get(), 1, &v));
    EXPECT_EQ(-EROFS, shmds_hashmap_incr_i(m.get(), 1, &v));
    EXPECT_EQ(-EROFS, shmds_hashmap_cas_ii(m.get(), 1, 2, 3));
    EXPECT_EQ(-EROFS, shmds_hashmap_cas_take_ii(m.get(), 1, 2));
    EXPECT_EQ(-EROFS, shmds_hashmap_max_i(m.get(), 1, 100, &v));
    EXPECT_EQ(-EROFS, shmds_hashmap_get_or_set_ii(m.get(), 77, 1, &v));
    EXPECT_EQ(-EROFS, shmds_hashmap_reserve(m.get(), 50));
    EXPECT_EQ(-EROFS, shmds_hashmap_clear(m.get(), nullptr));
    const std::int64_t k[2] = {1, 60};
    int res[2];
    EXPECT_EQ(0, shmds_hashmap_put_batch_ii(m.get(), k, k, 2, res));
    EXPECT_EQ(-EROFS, res[0]);
    EXPECT_EQ(-EROFS, res[1]);
    for (int i = 0; i < 10; ++i) EXPECT_EQ(i * 2, get_ii(m.get(), i));
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_EQ(1u, s.frozen);
    EXPECT_EQ(10u, s.size);
}

TEST(HashMapFreeze, AFrozenFileOpensReadOnlyMappedWithoutWrite) {
    TempPath path("hm-frozen");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    MapPtr m = make_map(BYTES, I64, 100, 2, 0, &o);
    for (int i = 0; i < 50; ++i)
        ASSERT_EQ(0, shmds_hashmap_put_bi(m.get(), std::to_string(i).data(), std::to_string(i).size(), i));

    shmds_hashmap_t *ro = nullptr;
    EXPECT_EQ(-EPERM, shmds_hashmap_open_read_only(&o, BYTES, I64, &ro)) << "not frozen yet";
    EXPECT_TRUE(last_error_says("frozen")) << shmds_last_error();
    ASSERT_EQ(0, shmds_hashmap_freeze(m.get()));
    m.reset();
    ASSERT_EQ(0, chmod(path.c_str(), 0400)) << "read permission alone must be enough";

    EXPECT_EQ(SHMDS_ETYPE, shmds_hashmap_open_read_only(&o, I64, I64, &ro));
    ASSERT_EQ(0, shmds_hashmap_open_read_only(&o, BYTES, I64, &ro)) << shmds_last_error();
    MapPtr r(ro);
    // The mapping is read-only: /proc/self/maps shows it without write permission.
    std::ifstream maps("/proc/self/maps");
    std::string line, perms;
    while (std::getline(maps, line))
        if (line.find(path.str()) != std::string::npos) perms = line.substr(line.find(' ') + 1, 4);
    EXPECT_EQ("r--s", perms);

    std::int64_t v = -1;
    EXPECT_EQ(0, shmds_hashmap_get_bi(r.get(), "42", 2, &v));
    EXPECT_EQ(42, v);
    EXPECT_EQ(-ENOENT, shmds_hashmap_get_bi(r.get(), "x", 1, &v));
    EXPECT_EQ(-EROFS, shmds_hashmap_put_bi(r.get(), "1", 1, 5));
    EXPECT_EQ(-EROFS, shmds_hashmap_incr_b(r.get(), "1", 1, &v));
    EXPECT_EQ(-EROFS, shmds_hashmap_remove_b(r.get(), "1", 1));
    EXPECT_EQ(-EROFS, shmds_hashmap_clear(r.get(), nullptr));
    EXPECT_EQ(-EROFS, shmds_hashmap_reserve(r.get(), 10));
    EXPECT_EQ(0, shmds_hashmap_freeze(r.get()));
    const void *bk[1] = {"1"};
    const std::size_t bl[1] = {1};
    const std::int64_t bv[1] = {1};
    EXPECT_EQ(-EROFS, shmds_hashmap_put_batch_bi(r.get(), bk, bl, bv, 1, nullptr));
    const shmds_hashmap_stats_t s = stats(r.get());
    EXPECT_EQ(50u, s.size);
    EXPECT_EQ(1u, s.frozen);
    EXPECT_GE(s.max_probe, 1u);
    CursorPtr c = make_cursor(r.get());
    std::set<std::int64_t> seen;
    char kb[8];
    std::size_t kl;
    while (shmds_hashmap_cursor_next_bi(c.get(), kb, sizeof kb, &kl, &v) == 1) seen.insert(v);
    EXPECT_EQ(50u, seen.size());
    c.reset();
    r.reset();
    ASSERT_EQ(0, chmod(path.c_str(), 0600));
}

TEST(HashMapFreeze, AReadOnlyHandleNeverStoresEvenIntoADamagedShard) {
    // A peer leaves shard 0's sequence word odd in a frozen file: a writable handle
    // would go through the lock and repair it; a read-only mapping must not store at
    // all (it would fault), so its reads end with SHMDS_ECORRUPT instead.
    TempPath path("hm-frozen-odd");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    MapPtr m = make_map(I64, I64, 100, 1, 0, &o);
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 1));
    ASSERT_EQ(0, shmds_hashmap_freeze(m.get()));
    m.reset();
    {
        const int fd = ::open(path.c_str(), O_RDWR);
        ASSERT_GE(fd, 0);
        struct stat st;
        ASSERT_EQ(0, fstat(fd, &st));
        void *p = mmap(nullptr, std::size_t(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        ASSERT_NE(MAP_FAILED, p);
        auto *ctl = reinterpret_cast<shmds::hashmap::ShardControl *>(
            static_cast<std::uint8_t *>(p) + sizeof(shmds::core::SegmentHeader) +
            sizeof(shmds::hashmap::MapControl));
        ctl->seq.fetch_add(1);
        munmap(p, std::size_t(st.st_size));
        ::close(fd);
    }
    shmds_hashmap_t *ro = nullptr;
    ASSERT_EQ(0, shmds_hashmap_open_read_only(&o, I64, I64, &ro)) << shmds_last_error();
    MapPtr r(ro);
    std::int64_t v;
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_hashmap_get_ii(r.get(), 1, &v));
    CursorPtr c = make_cursor(r.get());
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_hashmap_cursor_next_ii(c.get(), &v, &v));
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_hashmap_cursor_seek_i(c.get(), 1));
    c.reset();
    EXPECT_EQ(1u, stats(r.get()).size);  // stats never lock
}

// ------------------------------------------------------------------- cursors

std::vector<std::int64_t> walk_keys(shmds_hashmap_cursor_t *c, int *last = nullptr) {
    std::vector<std::int64_t> keys;
    std::int64_t k;
    int r;
    while ((r = shmds_hashmap_cursor_next_ii(c, &k, nullptr)) == 1) keys.push_back(k);
    if (last) *last = r;
    return keys;
}

TEST(HashMapCursor, VisitsEveryEntryOnceAndSeeksAndResets) {
    MapPtr m = make_map(I64, I64, 5000, 4);
    for (int i = 0; i < 3000; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, -i));
    CursorPtr c = make_cursor(m.get());
    std::map<std::int64_t, int> seen;
    std::int64_t k, v;
    int r;
    while ((r = shmds_hashmap_cursor_next_ii(c.get(), &k, &v)) == 1) {
        EXPECT_EQ(-k, v);
        ++seen[k];
    }
    EXPECT_EQ(0, r);
    EXPECT_EQ(0, shmds_hashmap_cursor_next_ii(c.get(), &k, &v)) << "the end stays the end";
    ASSERT_EQ(3000u, seen.size());
    for (const auto &[key, n] : seen) ASSERT_EQ(1, n) << key;

    // Values only, after a reset.
    ASSERT_EQ(0, shmds_hashmap_cursor_reset(c.get()));
    std::int64_t sum = 0;
    while (shmds_hashmap_cursor_next_ii(c.get(), nullptr, &v) == 1) sum += v;
    EXPECT_EQ(-std::int64_t(2999) * 3000 / 2, sum);

    // Two cursors are independent; seek puts the key first and continues from it.
    ASSERT_EQ(0, shmds_hashmap_cursor_reset(c.get()));
    std::vector<std::int64_t> order = walk_keys(c.get());
    CursorPtr d = make_cursor(m.get());
    ASSERT_EQ(0, shmds_hashmap_cursor_seek_i(d.get(), order[1234]));
    std::vector<std::int64_t> rest = walk_keys(d.get());
    EXPECT_EQ(std::vector<std::int64_t>(order.begin() + 1234, order.end()), rest);
    EXPECT_EQ(-ENOENT, shmds_hashmap_cursor_seek_i(d.get(), 999999));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_cursor_seek_b(d.get(), "k", 1));
    EXPECT_EQ(SHMDS_EVARIANT, shmds_hashmap_cursor_next_if(d.get(), &k, nullptr));
    EXPECT_EQ(-EINVAL, shmds_hashmap_cursor_next_ii(nullptr, &k, &v));

    // An empty map ends at once.
    MapPtr e = make_map(I64, I64, 10);
    CursorPtr ec = make_cursor(e.get());
    EXPECT_EQ(0, shmds_hashmap_cursor_next_ii(ec.get(), &k, &v));
}

TEST(HashMapCursor, BytesEntriesSmallBuffersAndBatches) {
    MapPtr m = make_map(BYTES, BYTES, 200, 2, 1 << 16);
    std::map<std::string, std::string> model;
    for (int i = 0; i < 100; ++i) {
        const std::string k = std::string("\0k", 2) + std::to_string(i) + std::string(i % 30, 'q');
        const std::string v = std::string(i, char(i));
        ASSERT_EQ(0, put_bb(m.get(), k, v));
        model[k] = v;
    }
    CursorPtr c = make_cursor(m.get());
    char kb[64], vb[8];
    std::size_t kl = 0, vl = 0;
    // A value that does not fit: -ENOBUFS with its length; the cursor stays on it.
    int r;
    std::map<std::string, std::string> seen;
    std::vector<char> big;
    while ((r = shmds_hashmap_cursor_next_bb(c.get(), kb, sizeof kb, &kl, vb, sizeof vb, &vl)) != 0) {
        if (r == -ENOBUFS) {
            big.resize(vl);
            ASSERT_EQ(1, shmds_hashmap_cursor_next_bb(c.get(), kb, sizeof kb, &kl, big.data(),
                                                      big.size(), &vl));
            seen[std::string(kb, kl)] = std::string(big.data(), vl);
            continue;
        }
        ASSERT_EQ(1, r) << shmds_last_error();
        seen[std::string(kb, kl)] = std::string(vb, vl);
    }
    EXPECT_EQ(model, seen);

    // Batches: packed keys and values with their lengths.
    ASSERT_EQ(0, shmds_hashmap_cursor_reset(c.get()));
    std::vector<char> keys(700), values(1500);
    std::vector<std::size_t> klens(16), vlens(16);
    seen.clear();
    int calls = 0;
    for (;;) {
        const int n = shmds_hashmap_cursor_next_batch(c.get(), keys.data(), keys.size(), klens.data(),
                                                      values.data(), values.size(), vlens.data(), 16);
        ASSERT_GE(n, 0) << shmds_last_error();
        if (n == 0) break;
        ++calls;
        std::size_t ko = 0, vo = 0;
        for (int i = 0; i < n; ++i) {
            seen[std::string(&keys[ko], klens[i])] = std::string(&values[vo], vlens[i]);
            ko += klens[i];
            vo += vlens[i];
        }
    }
    EXPECT_EQ(model, seen);
    EXPECT_GE(calls, 100 / 16);
    // Keys only, into a buffer too small for even one key.
    ASSERT_EQ(0, shmds_hashmap_cursor_reset(c.get()));
    EXPECT_EQ(-ENOBUFS, shmds_hashmap_cursor_next_batch(c.get(), keys.data(), 1, klens.data(),
                                                        nullptr, 0, nullptr, 4));
    EXPECT_GT(klens[0], 1u);
    EXPECT_EQ(-EINVAL, shmds_hashmap_cursor_next_batch(c.get(), nullptr, 5, klens.data(), nullptr,
                                                       0, nullptr, 4));
}

TEST(HashMapCursor, IntegerBatchesFillArrays) {
    MapPtr m = make_map(I64, F64, 1000);
    for (int i = 0; i < 500; ++i) ASSERT_EQ(0, shmds_hashmap_put_if(m.get(), i, i * 0.5));
    CursorPtr c = make_cursor(m.get());
    std::int64_t keys[64];
    double values[64];
    std::size_t kl[64], vl[64];
    std::set<std::int64_t> seen;
    int n;
    while ((n = shmds_hashmap_cursor_next_batch(c.get(), keys, sizeof keys, kl, values,
                                                sizeof values, vl, 64)) > 0)
        for (int i = 0; i < n; ++i) {
            EXPECT_EQ(8u, kl[i]);
            EXPECT_EQ(keys[i] * 0.5, values[i]);
            seen.insert(keys[i]);
        }
    EXPECT_EQ(0, n);
    EXPECT_EQ(500u, seen.size());
}

TEST(HashMapCursor, RemovalWhileIteratingNeverSkipsOrRepeats) {
    // 3000 entries in a 4096-slot table; removing 1500 of them leaves it above a
    // quarter full, so no shrink: the walk must finish without -ESTALE.
    MapPtr m = make_map(I64, I64, 3000);
    for (int i = 0; i < 3000; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i));
    const std::uint64_t resizes = stats(m.get()).resizes;
    CursorPtr c = make_cursor(m.get());
    std::map<std::int64_t, int> seen;
    std::set<std::int64_t> removed_ahead;
    std::int64_t k, v;
    int r;
    while ((r = shmds_hashmap_cursor_next_ii(c.get(), &k, &v)) == 1) {
        ++seen[k];
        EXPECT_EQ(0u, removed_ahead.count(k)) << "a key removed before the cursor got to it";
        if (k % 4 == 0) {
            ASSERT_EQ(0, shmds_hashmap_remove_i(m.get(), k));  // the current one
        }
        // and a key elsewhere: odd keys above 2000, removed once
        if (k % 4 == 1 && k < 1000 && shmds_hashmap_remove_i(m.get(), k + 2000) == 0)
            removed_ahead.insert(k + 2000);
    }
    ASSERT_EQ(0, r) << shmds_last_error();
    EXPECT_EQ(resizes, stats(m.get()).resizes);
    for (const auto &[key, n] : seen) ASSERT_EQ(1, n) << key;
    for (int i = 0; i < 3000; ++i)
        if (!removed_ahead.count(i)) {
            EXPECT_EQ(1u, seen.count(i)) << "skipped " << i;
        }
}

TEST(HashMapCursor, RemovingEverythingThroughTheSameHandleKeepsTheCursorValid) {
    // Removing all 3000 entries would shrink the table several times; while the
    // handle has a cursor it does not, so the walk sees every entry once.
    MapPtr m = make_map(I64, I64, 4000, 2);
    for (int i = 0; i < 3000; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i));
    const shmds_hashmap_stats_t before = stats(m.get());
    CursorPtr c = make_cursor(m.get());
    std::set<std::int64_t> seen;
    std::int64_t k, v;
    int r;
    while ((r = shmds_hashmap_cursor_next_ii(c.get(), &k, &v)) == 1) {
        ASSERT_TRUE(seen.insert(k).second) << "repeated " << k;
        ASSERT_EQ(0, shmds_hashmap_take_ii(m.get(), k, &v));
    }
    ASSERT_EQ(0, r) << shmds_last_error();
    EXPECT_EQ(3000u, seen.size());
    EXPECT_EQ(before.resizes, stats(m.get()).resizes);
    EXPECT_EQ(0u, stats(m.get()).size);
    // Once the cursor is gone, the next remove shrinks the emptied table.
    c.reset();
    ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), 1, 1));
    ASSERT_EQ(0, shmds_hashmap_remove_i(m.get(), 1));
    EXPECT_LT(stats(m.get()).table_slots, before.table_slots);
}

TEST(HashMapCursor, GrowShrinkAndClearUnderACursorReportEstale) {
    TempPath path("hm-cursor-stale");
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    MapPtr m = make_map(I64, I64, 100000, 1, 0, &o);
    shmds_hashmap_t *second = nullptr;
    ASSERT_EQ(0, shmds_hashmap_open(&o, I64, I64, &second));
    MapPtr other(second);
    for (int i = 0; i < 100; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i));
    std::int64_t k, v;
    auto walk_until_stale = [&](auto &&change) {
        CursorPtr c = make_cursor(m.get());
        std::set<std::int64_t> seen;
        int r, steps = 0;
        while ((r = shmds_hashmap_cursor_next_ii(c.get(), &k, &v)) == 1) {
            EXPECT_TRUE(seen.insert(k).second) << "repeated " << k;
            if (++steps == 10) change();
        }
        EXPECT_EQ(-ESTALE, r);
        EXPECT_EQ(-ESTALE, shmds_hashmap_cursor_next_ii(c.get(), &k, &v)) << "stays stale";
        EXPECT_TRUE(last_error_says("reset")) << shmds_last_error();
        ASSERT_EQ(0, shmds_hashmap_cursor_reset(c.get()));
        const std::size_t n = walk_keys(c.get()).size();
        EXPECT_EQ(stats(m.get()).size, n) << "a reset walks the new table";
    };
    // grow: inserts during the walk
    walk_until_stale([&] {
        for (int i = 1000; i < 2000; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i));
    });
    // shrink: removals during the walk, through another handle (the cursor's own
    // handle defers its shrinks while the cursor exists)
    walk_until_stale([&] {
        for (int i = 1000; i < 2000; ++i) ASSERT_EQ(0, shmds_hashmap_remove_i(other.get(), i));
    });
    // clear
    walk_until_stale([&] { ASSERT_EQ(0, shmds_hashmap_clear(m.get(), nullptr)); });

    // reserve before a walk that inserts: no rebuild, no -ESTALE.
    for (int i = 0; i < 100; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i));
    ASSERT_EQ(0, shmds_hashmap_reserve(m.get(), 5000));
    CursorPtr c = make_cursor(m.get());
    int r, steps = 0;
    while ((r = shmds_hashmap_cursor_next_ii(c.get(), &k, &v)) == 1) {
        if (++steps != 10) continue;
        for (int i = 1000; i < 4000; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i, i));
    }
    EXPECT_EQ(0, r) << shmds_last_error();
}

// ------------------------------------------------------------------ max_probe

TEST(HashMapStats, MaxProbeStaysSmallForKeysThatCollideUnseeded) {
    // Keys i << 20 all have the same low bits: an unseeded (identity-like) hash would
    // put all 10000 in one home slot, a probe sequence of 10000. The keyed hash keeps
    // linear probing's usual few dozen.
    MapPtr m = make_map(I64, I64, 12000);
    EXPECT_EQ(0u, stats(m.get()).max_probe);
    for (std::int64_t i = 0; i < 10000; ++i) ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), i << 20, i));
    const shmds_hashmap_stats_t s = stats(m.get());
    EXPECT_GE(s.max_probe, 1u);
    EXPECT_LT(s.max_probe, 200u) << "table of " << s.table_slots;

    // 64-byte keys differing only in 8 middle bytes.
    MapPtr b = make_map(BYTES, I64, 12000, 1, 12000 * 128);
    for (std::uint64_t i = 0; i < 10000; ++i) {
        std::string k(64, 'x');
        std::memcpy(&k[24], &i, sizeof i);
        ASSERT_EQ(0, shmds_hashmap_put_bi(b.get(), k.data(), k.size(), 1));
    }
    EXPECT_LT(stats(b.get()).max_probe, 200u);

    // One key: found at its home slot.
    MapPtr one = make_map(I64, I64, 10);
    ASSERT_EQ(0, shmds_hashmap_put_ii(one.get(), 5, 5));
    EXPECT_EQ(1u, stats(one.get()).max_probe);
}

// -------------------------------------------------------------------- oracle

TEST(HashMapOpsOracle, NewVerbsMatchUnorderedMap) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    MapPtr m = make_map(I64, I64, 400, 4);
    std::unordered_map<std::int64_t, std::int64_t> model;
    auto room = [&](std::int64_t k) { return model.count(k) != 0 || model.size() < 400; };
    for (int step = 0; step < 30000; ++step) {
        const std::int64_t k = std::int64_t(rng() % 300);
        const std::int64_t v = std::int64_t(rng() % 100) - 50;
        const bool present = model.count(k) != 0;
        std::int64_t out = 0;
        switch (rng() % 9) {
            case 0: {
                const std::int64_t expected = present && rng() % 2 ? model[k] : v;
                const int rc = shmds_hashmap_cas_take_ii(m.get(), k, expected);
                if (!present) ASSERT_EQ(-ENOENT, rc);
                else if (model[k] == expected) { ASSERT_EQ(0, rc); model.erase(k); }
                else ASSERT_EQ(-ECANCELED, rc);
                break;
            }
            case 1:
            case 2: {
                const bool is_max = rng() % 2;
                const int rc = is_max ? shmds_hashmap_max_i(m.get(), k, v, &out)
                                      : shmds_hashmap_min_i(m.get(), k, v, &out);
                if (!room(k)) { ASSERT_EQ(-ENOSPC, rc); break; }
                const std::int64_t want = !present ? v : is_max ? std::max(model[k], v) : std::min(model[k], v);
                ASSERT_EQ(!present || want != model[k] ? 1 : 0, rc) << "seed " << seed;
                ASSERT_EQ(want, out);
                model[k] = want;
                break;
            }
            case 3: {
                std::vector<std::int64_t> ks(rng() % 20), vs;
                for (auto &x : ks) { x = std::int64_t(rng() % 300); vs.push_back(std::int64_t(rng() % 1000)); }
                std::vector<int> res(ks.size());
                const int n = shmds_hashmap_put_batch_ii(m.get(), ks.data(), vs.data(), ks.size(), res.data());
                int ok = 0;
                for (std::size_t i = 0; i < ks.size(); ++i) {
                    if (res[i] == 0) { model[ks[i]] = vs[i]; ++ok; }
                    else ASSERT_EQ(-ENOSPC, res[i]);
                }
                ASSERT_EQ(ok, n);
                break;
            }
            case 4: {
                std::vector<std::int64_t> ks(rng() % 20);
                for (auto &x : ks) x = std::int64_t(rng() % 300);
                std::vector<std::int64_t> got(ks.size());
                std::vector<int> res(ks.size());
                int want = 0;
                for (auto x : ks) want += model.count(x) != 0;
                ASSERT_EQ(want, shmds_hashmap_get_batch_ii(m.get(), ks.data(), ks.size(), got.data(), res.data()));
                for (std::size_t i = 0; i < ks.size(); ++i) {
                    if (model.count(ks[i])) { ASSERT_EQ(0, res[i]); ASSERT_EQ(model[ks[i]], got[i]); }
                    else ASSERT_EQ(-ENOENT, res[i]);
                }
                break;
            }
            case 5: {
                std::vector<std::int64_t> ks(rng() % 20);
                for (auto &x : ks) x = std::int64_t(rng() % 300);
                std::vector<int> res(ks.size());
                int want = 0;
                std::vector<int> expect;
                for (auto x : ks) {
                    const bool here = model.erase(x) != 0;
                    expect.push_back(here ? 0 : -ENOENT);
                    want += here;
                }
                ASSERT_EQ(want, shmds_hashmap_remove_batch_i(m.get(), ks.data(), ks.size(), res.data()));
                ASSERT_EQ(expect, res);
                break;
            }
            case 6:
                if (rng() % 50 == 0) {
                    std::uint64_t removed = 0;
                    ASSERT_EQ(0, shmds_hashmap_clear(m.get(), &removed));
                    ASSERT_EQ(model.size(), removed);
                    model.clear();
                } else if (rng() % 10 == 0) {
                    ASSERT_EQ(0, shmds_hashmap_reserve(m.get(), rng() % 400));
                }
                break;
            case 7:
                if (room(k)) { ASSERT_EQ(0, shmds_hashmap_put_ii(m.get(), k, v)); model[k] = v; }
                break;
            default:
                ASSERT_EQ(present ? std::optional<std::int64_t>(model[k]) : std::nullopt, get_ii(m.get(), k));
        }
        if (step % 3000 == 0) {
            ASSERT_EQ(model.size(), stats(m.get()).size) << "seed " << seed;
            CursorPtr c = make_cursor(m.get());
            std::int64_t ck, cv;
            std::size_t n = 0;
            while (shmds_hashmap_cursor_next_ii(c.get(), &ck, &cv) == 1) {
                ASSERT_EQ(model.at(ck), cv);
                ++n;
            }
            ASSERT_EQ(model.size(), n);
        }
    }
}

}  // namespace
