// The bit set through its public C API in one process: every verb, every return code
// bitset.h documents, sizes around the word boundary, the tail bits of the last word
// (never set, ignored even when a peer sets them), freeze, the read-only open, eventfd,
// and threads of one process racing on one handle. Cross-process behaviour and crashes
// live in test_bitset_procs.cpp, the model check in test_bitset_oracle.cpp.
#include "bitset_helpers.hpp"

#include <shmds/shmds.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace shmds::test;

namespace {

const std::uint64_t kSizes[] = {1, 2, 63, 64, 65, 127, 128, 129, 1000};

bool has(const char *needle) { return std::strstr(shmds_last_error(), needle) != nullptr; }

std::string str_of(shmds_bitset_t *b) {
    std::string s(shmds_bitset_size(b) + 1, '?');
    EXPECT_EQ(0, shmds_bitset_to_string(b, s.data(), s.size(), nullptr));
    EXPECT_EQ('\0', s.back());
    s.pop_back();
    return s;
}

}  // namespace

// ------------------------------------------------------------------- lifecycle

TEST(BitsetCreate, SizeIsExactlyWhatWasAskedAndEveryBitStartsClear) {
    for (std::uint64_t n : kSizes) {
        auto b = make_bitset(n);
        EXPECT_EQ(n, shmds_bitset_size(b.get()));
        EXPECT_EQ(0u, shmds_bitset_count(b.get()));
        EXPECT_EQ(1, shmds_bitset_none(b.get()));
        const shmds_bitset_stats_t s = bitset_stats(b.get());
        EXPECT_EQ(n, s.nbits);
        EXPECT_EQ(0u, s.count);
        EXPECT_EQ(0u, s.recoveries);
        EXPECT_EQ(0u, s.frozen);
        EXPECT_EQ(0u, s.read_only);
        EXPECT_GE(s.segment_bytes, 256 + (n + 63) / 64 * 8);
    }
}

TEST(BitsetCreate, SizeLimitsAndNullArguments) {
    shmds_bitset_t *b = nullptr;
    shmds_bitset_config_t cfg = SHMDS_BITSET_CONFIG_INIT(0);
    EXPECT_EQ(-EINVAL, shmds_bitset_create(nullptr, &cfg, &b));
    EXPECT_TRUE(has("at least 1")) << shmds_last_error();
    cfg.nbits = (1ull << 36) + 1;
    EXPECT_EQ(-EINVAL, shmds_bitset_create(nullptr, &cfg, &b));
    EXPECT_TRUE(has("maximum")) << shmds_last_error();
    EXPECT_EQ(nullptr, b);
    cfg.nbits = 8;
    EXPECT_EQ(-EINVAL, shmds_bitset_create(nullptr, nullptr, &b));
    EXPECT_EQ(-EINVAL, shmds_bitset_create(nullptr, &cfg, nullptr));
    cfg.struct_size = 4;
    EXPECT_EQ(-EINVAL, shmds_bitset_create(nullptr, &cfg, &b));
    EXPECT_EQ(-EINVAL, shmds_bitset_open(nullptr, nullptr));
    EXPECT_EQ(-EINVAL, shmds_bitset_open_read_only(nullptr, nullptr));
}

TEST(BitsetCreate, ConfigInitMatchesTheMacro) {
    shmds_bitset_config_t a = SHMDS_BITSET_CONFIG_INIT(77), b{};
    ASSERT_EQ(0, shmds_bitset_config_init(&b, sizeof b, 77));
    EXPECT_EQ(a.struct_size, b.struct_size);
    EXPECT_EQ(a.nbits, b.nbits);
    EXPECT_EQ(-EINVAL, shmds_bitset_config_init(nullptr, sizeof b, 1));
    EXPECT_EQ(-EINVAL, shmds_bitset_config_init(&b, 4, 1));
}

TEST(BitsetOpen, SharesStateByPathAndRefusesOtherStructures) {
    TempPath p("bitset");
    shmds_options_t o = bitset_path_options(p);
    auto a = make_bitset(100, &o);
    ASSERT_EQ(0, shmds_bitset_set(a.get(), 42));
    shmds_bitset_t *raw = nullptr;
    ASSERT_EQ(0, shmds_bitset_open(&o, &raw)) << shmds_last_error();
    BitsetPtr b(raw);
    EXPECT_EQ(100u, shmds_bitset_size(b.get()));
    EXPECT_EQ(1, shmds_bitset_test(b.get(), 42));
    ASSERT_EQ(0, shmds_bitset_set(b.get(), 7));
    EXPECT_EQ(1, shmds_bitset_test(a.get(), 7));
    // A second create attaches: the existing size wins.
    auto c = make_bitset(5, &o);
    EXPECT_EQ(100u, shmds_bitset_size(c.get()));
    EXPECT_EQ(2u, shmds_bitset_count(c.get()));
    EXPECT_GE(shmds_bitset_fd(a.get()), 0);
    EXPECT_EQ(0, shmds_bitset_sync(a.get()));

    TempPath q("bitset-rb");
    shmds_options_t oq = bitset_path_options(q);
    shmds_ringbuffer_config_t rc = SHMDS_RINGBUFFER_CONFIG_INIT(SHMDS_TYPE_INT64, 4);
    shmds_ringbuffer_t *r = nullptr;
    ASSERT_EQ(0, shmds_ringbuffer_create(&oq, &rc, &r));
    shmds_ringbuffer_close(r);
    EXPECT_EQ(SHMDS_ETYPE, shmds_bitset_open(&oq, &raw));
    EXPECT_EQ(SHMDS_ETYPE, shmds_bitset_open_read_only(&oq, &raw));
    TempPath none("bitset-none");
    shmds_options_t on = bitset_path_options(none);
    EXPECT_EQ(-ENOENT, shmds_bitset_open(&on, &raw));
    EXPECT_EQ(-ENOENT, shmds_bitset_open_read_only(&on, &raw));
}

TEST(BitsetOpen, AnonymousHasNoFdAndNullHandlesAreRefused) {
    auto b = make_bitset(10);
    EXPECT_EQ(-ENOENT, shmds_bitset_fd(b.get()));
    EXPECT_EQ(0, shmds_bitset_sync(b.get()));
    shmds_bitset_t *n = nullptr;
    std::uint64_t bit;
    std::size_t cnt;
    char buf[4];
    EXPECT_EQ(-EINVAL, shmds_bitset_fd(n));
    EXPECT_EQ(-EINVAL, shmds_bitset_sync(n));
    EXPECT_EQ(0u, shmds_bitset_size(n));
    EXPECT_EQ(0u, shmds_bitset_count(n));
    EXPECT_EQ(-EINVAL, shmds_bitset_set(n, 0));
    EXPECT_EQ(-EINVAL, shmds_bitset_clear(n, 0));
    EXPECT_EQ(-EINVAL, shmds_bitset_toggle(n, 0));
    EXPECT_EQ(-EINVAL, shmds_bitset_test(n, 0));
    EXPECT_EQ(-EINVAL, shmds_bitset_any(n));
    EXPECT_EQ(-EINVAL, shmds_bitset_none(n));
    EXPECT_EQ(-EINVAL, shmds_bitset_first_set(n, 0, &bit));
    EXPECT_EQ(-EINVAL, shmds_bitset_first_clear(n, 0, &bit));
    EXPECT_EQ(-EINVAL, shmds_bitset_first_set(b.get(), 0, nullptr));
    EXPECT_EQ(-EINVAL, shmds_bitset_first_clear(b.get(), 0, nullptr));
    EXPECT_EQ(-EINVAL, shmds_bitset_set_bits(n, 0, &bit, 1, &cnt));
    EXPECT_EQ(-EINVAL, shmds_bitset_set_bits(b.get(), 0, &bit, 1, nullptr));
    EXPECT_EQ(-EINVAL, shmds_bitset_set_bits(b.get(), 0, nullptr, 1, &cnt));
    EXPECT_EQ(-EINVAL, shmds_bitset_to_string(n, buf, 4, nullptr));
    EXPECT_EQ(-EINVAL, shmds_bitset_to_string(b.get(), nullptr, 4, nullptr));
    EXPECT_EQ(-EINVAL, shmds_bitset_fill(n));
    EXPECT_EQ(-EINVAL, shmds_bitset_zero(n));
    EXPECT_EQ(-EINVAL, shmds_bitset_fill_range(n, 0, 1));
    EXPECT_EQ(-EINVAL, shmds_bitset_zero_range(n, 0, 1));
    EXPECT_EQ(-EINVAL, shmds_bitset_freeze(n));
    EXPECT_EQ(-EINVAL, shmds_bitset_is_frozen(n));
    EXPECT_EQ(-EINVAL, shmds_bitset_stats(n, nullptr));
    EXPECT_EQ(-EINVAL, shmds_bitset_stats(b.get(), nullptr));
    shmds_bitset_stats_t s{};
    s.struct_size = 4;
    EXPECT_EQ(-EINVAL, shmds_bitset_stats(b.get(), &s));
    shmds_bitset_close(nullptr);
}

// ------------------------------------------------------------------- per-bit verbs

TEST(BitsetBits, SetAndClearReturnTheOldBitToggleTheNew) {
    for (std::uint64_t n : kSizes) {
        auto b = make_bitset(n);
        shmds_bitset_t *h = b.get();
        for (std::uint64_t bit : {std::uint64_t{0}, n / 2, n - 1}) {
            EXPECT_EQ(0, shmds_bitset_test(h, bit));
            EXPECT_EQ(0, shmds_bitset_set(h, bit)) << n << " " << bit;
            EXPECT_EQ(1, shmds_bitset_set(h, bit));
            EXPECT_EQ(1, shmds_bitset_test(h, bit));
            EXPECT_EQ(1, shmds_bitset_clear(h, bit));
            EXPECT_EQ(0, shmds_bitset_clear(h, bit));
            EXPECT_EQ(1, shmds_bitset_toggle(h, bit));
            EXPECT_EQ(1, shmds_bitset_test(h, bit));
            EXPECT_EQ(0, shmds_bitset_toggle(h, bit));
            EXPECT_EQ(0, shmds_bitset_test(h, bit));
        }
        EXPECT_EQ(0u, shmds_bitset_count(h));
    }
}

TEST(BitsetBits, OutOfRangeBitsAreRefusedWithASentence) {
    for (std::uint64_t n : kSizes) {
        auto b = make_bitset(n);
        for (std::uint64_t bit : {n, n + 1, std::uint64_t{64} * ((n + 63) / 64), ~std::uint64_t{0}}) {
            EXPECT_EQ(-ERANGE, shmds_bitset_set(b.get(), bit)) << n << " " << bit;
            EXPECT_TRUE(has("out of range")) << shmds_last_error();
            EXPECT_EQ(-ERANGE, shmds_bitset_clear(b.get(), bit));
            EXPECT_EQ(-ERANGE, shmds_bitset_toggle(b.get(), bit));
            EXPECT_EQ(-ERANGE, shmds_bitset_test(b.get(), bit));
        }
        // Nothing changed, not even a tail bit of the last word.
        EXPECT_EQ(0u, raw_word(b.get(), (n - 1) / 64)->load());
    }
}

// ------------------------------------------------------------------- scans

TEST(BitsetScan, CountAnyNoneFollowTheBits) {
    auto b = make_bitset(130);
    shmds_bitset_t *h = b.get();
    EXPECT_EQ(0, shmds_bitset_any(h));
    EXPECT_EQ(1, shmds_bitset_none(h));
    for (std::uint64_t bit : {0, 63, 64, 129}) ASSERT_EQ(0, shmds_bitset_set(h, bit));
    EXPECT_EQ(4u, shmds_bitset_count(h));
    EXPECT_EQ(1, shmds_bitset_any(h));
    EXPECT_EQ(0, shmds_bitset_none(h));
    EXPECT_EQ(4u, bitset_stats(h).count);
}

TEST(BitsetScan, FirstSetAndFirstClearFromAPosition) {
    auto b = make_bitset(200);
    shmds_bitset_t *h = b.get();
    std::uint64_t bit = 999;
    EXPECT_EQ(-ENOENT, shmds_bitset_first_set(h, 0, &bit));
    EXPECT_EQ(0, shmds_bitset_first_clear(h, 0, &bit));
    EXPECT_EQ(0u, bit);
    for (std::uint64_t s : {5, 64, 65, 199}) ASSERT_EQ(0, shmds_bitset_set(h, s));
    struct { std::uint64_t from, want; } sets[] = {{0, 5}, {5, 5}, {6, 64}, {64, 64}, {65, 65},
                                                   {66, 199}, {199, 199}};
    for (auto c : sets) {
        ASSERT_EQ(0, shmds_bitset_first_set(h, c.from, &bit)) << c.from;
        EXPECT_EQ(c.want, bit) << c.from;
    }
    EXPECT_EQ(0, shmds_bitset_first_clear(h, 5, &bit));
    EXPECT_EQ(6u, bit);
    EXPECT_EQ(0, shmds_bitset_first_clear(h, 64, &bit));
    EXPECT_EQ(66u, bit);
    EXPECT_EQ(-ENOENT, shmds_bitset_first_clear(h, 199, &bit));
    // from == nbits ends an iteration; beyond it is out of range.
    EXPECT_EQ(-ENOENT, shmds_bitset_first_set(h, 200, &bit));
    EXPECT_EQ(-ENOENT, shmds_bitset_first_clear(h, 200, &bit));
    EXPECT_EQ(-ERANGE, shmds_bitset_first_set(h, 201, &bit));
    EXPECT_EQ(-ERANGE, shmds_bitset_first_clear(h, ~0ull, &bit));
    // A full set has no clear bit: the tail bits of the last word do not count.
    ASSERT_EQ(0, shmds_bitset_fill(h));
    EXPECT_EQ(-ENOENT, shmds_bitset_first_clear(h, 0, &bit));
    EXPECT_EQ(200u, shmds_bitset_count(h));
}

TEST(BitsetScan, SetBitsListsAscendingAndPages) {
    auto b = make_bitset(300);
    shmds_bitset_t *h = b.get();
    std::vector<std::uint64_t> want;
    for (std::uint64_t i = 0; i < 300; i += 7) {
        ASSERT_EQ(0, shmds_bitset_set(h, i));
        want.push_back(i);
    }
    std::vector<std::uint64_t> got(want.size() + 5);
    std::size_t n = 99;
    ASSERT_EQ(0, shmds_bitset_set_bits(h, 0, got.data(), got.size(), &n));
    got.resize(n);
    EXPECT_EQ(want, got);
    // Paging: 4 at a time from the last one + 1.
    std::vector<std::uint64_t> paged;
    std::uint64_t page[4], from = 0;
    for (;;) {
        ASSERT_EQ(0, shmds_bitset_set_bits(h, from, page, 4, &n));
        paged.insert(paged.end(), page, page + n);
        if (n < 4) break;
        from = page[3] + 1;
    }
    EXPECT_EQ(want, paged);
    ASSERT_EQ(0, shmds_bitset_set_bits(h, 8, page, 2, &n));
    ASSERT_EQ(2u, n);
    EXPECT_EQ(14u, page[0]);
    EXPECT_EQ(21u, page[1]);
    ASSERT_EQ(0, shmds_bitset_set_bits(h, 0, nullptr, 0, &n));
    EXPECT_EQ(0u, n);
    ASSERT_EQ(0, shmds_bitset_set_bits(h, 300, page, 4, &n));
    EXPECT_EQ(0u, n);
    EXPECT_EQ(-ERANGE, shmds_bitset_set_bits(h, 301, page, 4, &n));
    EXPECT_EQ(0u, n);
}

TEST(BitsetScan, ToStringIsBitZeroFirstAndNeedsRoomForTheNul) {
    auto b = make_bitset(70);
    shmds_bitset_t *h = b.get();
    for (std::uint64_t s : {0, 2, 64, 69}) ASSERT_EQ(0, shmds_bitset_set(h, s));
    std::string want(70, '0');
    for (std::size_t s : {0, 2, 64, 69}) want[s] = '1';
    EXPECT_EQ(want, str_of(h));
    char small[70];
    std::size_t needed = 0;
    std::memset(small, 'x', sizeof small);
    EXPECT_EQ(-ENOBUFS, shmds_bitset_to_string(h, small, sizeof small, &needed));
    EXPECT_EQ(71u, needed);
    EXPECT_EQ('x', small[0]);  // nothing written
    EXPECT_TRUE(has("71 bytes")) << shmds_last_error();
    EXPECT_EQ(-ENOBUFS, shmds_bitset_to_string(h, nullptr, 0, &needed));
    EXPECT_EQ(71u, needed);
    auto one = make_bitset(1);
    EXPECT_EQ("0", str_of(one.get()));
}

TEST(BitsetScan, WordsAreTheBitsInPlaceAndTheInlineTestMatchesTest) {
    auto b = make_bitset(70);
    shmds_bitset_t *h = b.get();
    EXPECT_EQ(nullptr, shmds_bitset_words(nullptr));
    const std::uint64_t *words = shmds_bitset_words(h);
    ASSERT_NE(nullptr, words);
    for (std::uint64_t s : {0, 5, 63, 64, 69}) ASSERT_EQ(0, shmds_bitset_set(h, s));
    EXPECT_EQ((1ull << 0) | (1ull << 5) | (1ull << 63), __atomic_load_n(&words[0], __ATOMIC_ACQUIRE));
    EXPECT_EQ((1ull << 0) | (1ull << 5), __atomic_load_n(&words[1], __ATOMIC_ACQUIRE));
    for (std::uint64_t bit = 0; bit < 72; ++bit) {
        const int want = shmds_bitset_test(h, bit);
        EXPECT_EQ(want, shmds_bitset_words_test(words, 70, bit)) << bit;
        EXPECT_EQ(want, shmds_bitset_words_test_inline(words, 70, bit)) << bit;
    }
    // The handle's size bounds the index, whatever the tail bits hold.
    raw_word(h, 1)->fetch_or(1ull << 6);  // bit 70: a tail bit
    EXPECT_EQ(-ERANGE, shmds_bitset_words_test_inline(words, 70, 70));
    EXPECT_EQ(-ERANGE, shmds_bitset_words_test(words, 70, ~std::uint64_t{0}));
}

// ------------------------------------------------------------------- bulk verbs

TEST(BitsetBulk, FillAndZeroTheWholeSetNeverTouchTheTailBits) {
    for (std::uint64_t n : kSizes) {
        auto b = make_bitset(n);
        shmds_bitset_t *h = b.get();
        ASSERT_EQ(0, shmds_bitset_fill(h));
        EXPECT_EQ(n, shmds_bitset_count(h)) << n;
        EXPECT_EQ(std::string(n, '1'), str_of(h));
        const std::uint64_t rest = n % 64;
        const std::uint64_t last = raw_word(h, (n - 1) / 64)->load();
        EXPECT_EQ(rest ? (1ull << rest) - 1 : ~0ull, last) << n;
        ASSERT_EQ(0, shmds_bitset_zero(h));
        EXPECT_EQ(0u, shmds_bitset_count(h));
        for (std::uint64_t i = 0; i < (n + 63) / 64; ++i) EXPECT_EQ(0u, raw_word(h, i)->load());
    }
}

TEST(BitsetBulk, RangesChangeExactlyTheirBits) {
    auto b = make_bitset(200);
    shmds_bitset_t *h = b.get();
    ASSERT_EQ(0, shmds_bitset_fill_range(h, 3, 130));  // bits 3..132, over three words
    std::string want(200, '0');
    for (int i = 3; i < 133; ++i) want[i] = '1';
    EXPECT_EQ(want, str_of(h));
    ASSERT_EQ(0, shmds_bitset_zero_range(h, 60, 10));  // 60..69, across a word boundary
    for (int i = 60; i < 70; ++i) want[i] = '0';
    EXPECT_EQ(want, str_of(h));
    ASSERT_EQ(0, shmds_bitset_fill_range(h, 199, 1));
    ASSERT_EQ(0, shmds_bitset_fill_range(h, 64, 64));  // exactly word 1
    want[199] = '1';
    for (int i = 64; i < 128; ++i) want[i] = '1';
    EXPECT_EQ(want, str_of(h));
    ASSERT_EQ(0, shmds_bitset_fill_range(h, 200, 0));  // empty, at the end: fine
    ASSERT_EQ(0, shmds_bitset_zero_range(h, 0, 0));
    EXPECT_EQ(want, str_of(h));
    EXPECT_EQ(-ERANGE, shmds_bitset_fill_range(h, 150, 51));
    EXPECT_TRUE(has("holds 200 bits")) << shmds_last_error();
    EXPECT_EQ(-ERANGE, shmds_bitset_zero_range(h, 201, 0));
    EXPECT_EQ(-ERANGE, shmds_bitset_zero_range(h, 1, ~0ull));  // from + n would wrap
    EXPECT_EQ(want, str_of(h));
}

// ------------------------------------------------------------------- a hostile peer

TEST(BitsetHostile, TailBitsSetByAPeerAreIgnoredByEveryRead) {
    auto b = make_bitset(70);
    shmds_bitset_t *h = b.get();
    raw_word(h, 1)->store(~0ull << 6);  // only bits 70.. of the set: all tail
    EXPECT_EQ(0u, shmds_bitset_count(h));
    EXPECT_EQ(0, shmds_bitset_any(h));
    std::uint64_t bit;
    EXPECT_EQ(-ENOENT, shmds_bitset_first_set(h, 0, &bit));
    EXPECT_EQ(0, shmds_bitset_first_clear(h, 64, &bit));
    EXPECT_EQ(64u, bit);
    std::size_t n;
    std::uint64_t out[8];
    ASSERT_EQ(0, shmds_bitset_set_bits(h, 0, out, 8, &n));
    EXPECT_EQ(0u, n);
    EXPECT_EQ(std::string(70, '0'), str_of(h));
}

// ------------------------------------------------------------------- freeze

TEST(BitsetFreeze, EveryMutationIsRefusedReadsGoOnAndItLastsForGood) {
    TempPath p("bitset-freeze");
    shmds_options_t o = bitset_path_options(p);
    auto b = make_bitset(100, &o);
    shmds_bitset_t *h = b.get();
    ASSERT_EQ(0, shmds_bitset_set(h, 10));
    EXPECT_EQ(0, shmds_bitset_is_frozen(h));
    ASSERT_EQ(0, shmds_bitset_freeze(h));
    ASSERT_EQ(0, shmds_bitset_freeze(h));  // idempotent
    EXPECT_EQ(1, shmds_bitset_is_frozen(h));
    EXPECT_EQ(1u, bitset_stats(h).frozen);
    EXPECT_EQ(-EROFS, shmds_bitset_set(h, 11));
    EXPECT_TRUE(has("frozen")) << shmds_last_error();
    EXPECT_EQ(-EROFS, shmds_bitset_clear(h, 10));
    EXPECT_EQ(-EROFS, shmds_bitset_toggle(h, 10));
    EXPECT_EQ(-EROFS, shmds_bitset_fill(h));
    EXPECT_EQ(-EROFS, shmds_bitset_zero(h));
    EXPECT_EQ(-EROFS, shmds_bitset_fill_range(h, 0, 1));
    EXPECT_EQ(-EROFS, shmds_bitset_zero_range(h, 0, 1));
    EXPECT_EQ(-ERANGE, shmds_bitset_set(h, 100));  // the range is checked first
    EXPECT_EQ(1, shmds_bitset_test(h, 10));
    EXPECT_EQ(0, shmds_bitset_test(h, 11));
    EXPECT_EQ(1u, shmds_bitset_count(h));
    // Another handle, opened later, sees the set frozen too.
    shmds_bitset_t *raw = nullptr;
    ASSERT_EQ(0, shmds_bitset_open(&o, &raw));
    BitsetPtr again(raw);
    EXPECT_EQ(1, shmds_bitset_is_frozen(again.get()));
    EXPECT_EQ(-EROFS, shmds_bitset_set(again.get(), 1));
    EXPECT_EQ(1u, shmds_bitset_count(again.get()));
}

TEST(BitsetFreeze, ADamagedFlagIsReportedAndCountsAsFrozen) {
    auto b = make_bitset(10);
    auto *e = reinterpret_cast<shmds::bitset::Bitset *>(b.get());
    auto *ctl = reinterpret_cast<shmds::bitset::BitsetControl *>(e->segment().base() + 256);
    ctl->frozen.store(77);
    EXPECT_EQ(SHMDS_ECORRUPT, shmds_bitset_freeze(b.get()));
    EXPECT_TRUE(has("damaged")) << shmds_last_error();
    EXPECT_EQ(-EROFS, shmds_bitset_set(b.get(), 1));
    EXPECT_EQ(1, shmds_bitset_is_frozen(b.get()));
}

// ------------------------------------------------------------------- read-only open

TEST(BitsetReadOnly, MutationsAreRefusedNeverAFaultAndChangesShowThrough) {
    TempPath p("bitset-ro");
    shmds_options_t o = bitset_path_options(p);
    auto w = make_bitset(90, &o);
    ASSERT_EQ(0, shmds_bitset_set(w.get(), 3));
    shmds_bitset_t *raw = nullptr;
    ASSERT_EQ(0, shmds_bitset_open_read_only(&o, &raw)) << shmds_last_error();
    BitsetPtr ro(raw);
    shmds_bitset_t *h = ro.get();
    EXPECT_EQ(1u, bitset_stats(h).read_only);
    EXPECT_EQ(1, shmds_bitset_test(h, 3));
    EXPECT_EQ(-EROFS, shmds_bitset_set(h, 4));
    EXPECT_TRUE(has("read-only")) << shmds_last_error();
    EXPECT_EQ(-EROFS, shmds_bitset_clear(h, 3));
    EXPECT_EQ(-EROFS, shmds_bitset_toggle(h, 3));
    EXPECT_EQ(-EROFS, shmds_bitset_fill(h));
    EXPECT_EQ(-EROFS, shmds_bitset_zero(h));
    EXPECT_EQ(-EROFS, shmds_bitset_fill_range(h, 0, 1));
    EXPECT_EQ(-EROFS, shmds_bitset_zero_range(h, 0, 1));
    EXPECT_EQ(-EROFS, shmds_bitset_freeze(h));  // not frozen yet: only a writer may
    EXPECT_EQ(0, shmds_bitset_is_frozen(h));
    // The writer's changes show through the read-only mapping as they happen.
    ASSERT_EQ(0, shmds_bitset_set(w.get(), 80));
    EXPECT_EQ(1, shmds_bitset_test(h, 80));
    EXPECT_EQ(2u, shmds_bitset_count(h));
    ASSERT_EQ(0, shmds_bitset_freeze(w.get()));
    EXPECT_EQ(0, shmds_bitset_freeze(h));  // already frozen: nothing to store
    EXPECT_EQ(1, shmds_bitset_is_frozen(h));
    std::uint64_t bit;
    ASSERT_EQ(0, shmds_bitset_first_set(h, 4, &bit));
    EXPECT_EQ(80u, bit);
    // The mapping really is PROT_READ: a store into it faults (in a child).
    std::atomic<std::uint64_t> *word = raw_word(h, 0);
    const pid_t pid = fork_child([&] {
        exit_on_fault();
        word->store(0xff);
        return 0;
    });
    const ChildExit e = wait_child(pid, std::chrono::seconds(10));
    EXPECT_TRUE(e.exited && e.code == kFaultExit) << e.describe();
    EXPECT_EQ(2u, shmds_bitset_count(w.get()));
}

// ------------------------------------------------------------------ eventfd

TEST(BitsetEventfd, ExplicitNotifyOnlyAndSharedFd) {
    auto b = make_bitset(8);
    EXPECT_EQ(-ENOENT, shmds_bitset_notify(b.get()));
    EXPECT_EQ(-ENOENT, shmds_bitset_eventfd_consume(b.get(), nullptr));
    const int fd = shmds_bitset_eventfd(b.get());
    ASSERT_GE(fd, 0);
    EXPECT_EQ(fd, shmds_bitset_eventfd(b.get()));
    ASSERT_EQ(0, shmds_bitset_set(b.get(), 1));  // bit verbs never signal
    ASSERT_EQ(0, shmds_bitset_fill(b.get()));
    std::uint64_t c = 0;
    EXPECT_EQ(-EAGAIN, shmds_bitset_eventfd_consume(b.get(), &c));
    ASSERT_EQ(0, shmds_bitset_notify(b.get()));
    ASSERT_EQ(0, shmds_bitset_notify(b.get()));
    ASSERT_EQ(0, shmds_bitset_eventfd_consume(b.get(), &c));
    EXPECT_EQ(2u, c);
    auto other = make_bitset(8);
    ASSERT_EQ(0, shmds_bitset_set_eventfd(other.get(), fd));
    ASSERT_EQ(0, shmds_bitset_notify(other.get()));
    ASSERT_EQ(0, shmds_bitset_eventfd_consume(b.get(), &c));
    EXPECT_EQ(1u, c);
    EXPECT_EQ(-EBADF, shmds_bitset_set_eventfd(other.get(), 1 << 20));
    ASSERT_EQ(0, shmds_bitset_set_eventfd(other.get(), -1));
    EXPECT_EQ(-ENOENT, shmds_bitset_notify(other.get()));
    EXPECT_EQ(-EINVAL, shmds_bitset_eventfd(nullptr));
    EXPECT_EQ(-EINVAL, shmds_bitset_set_eventfd(nullptr, -1));
    EXPECT_EQ(-EINVAL, shmds_bitset_notify(nullptr));
    EXPECT_EQ(-EINVAL, shmds_bitset_eventfd_consume(nullptr, nullptr));
}

TEST(BitsetEventfd, CreationFailureIsReported) {
    auto b = make_bitset(8);
    expect_eventfd_creation_fails([&] { return shmds_bitset_eventfd(b.get()); },
                                  [&] { return shmds_bitset_notify(b.get()); });
}

// ------------------------------------------------------------------ threads

// Threads sharing one handle race set() on the same bits: exactly one wins each bit.
TEST(BitsetThreads, ExactlyOneSetterWinsEachBit) {
    constexpr std::uint64_t kBits = 2000;
    constexpr int kThreads = 4;
    auto b = make_bitset(kBits);
    std::vector<std::uint64_t> wins(kThreads, 0);
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t)
        ts.emplace_back([&, t] {
            for (std::uint64_t i = 0; i < kBits; ++i) {
                const std::uint64_t bit = (i * 7 + std::uint64_t(t)) % kBits;  // distinct orders
                const int old = shmds_bitset_set(b.get(), bit);
                if (old == 0) ++wins[t];
            }
        });
    for (auto &t : ts) t.join();
    std::uint64_t total = 0;
    for (auto w : wins) total += w;
    EXPECT_EQ(kBits, total);
    EXPECT_EQ(kBits, shmds_bitset_count(b.get()));
}
