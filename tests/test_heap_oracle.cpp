// The heap against std::priority_queue with the FIFO tie rule (heap_helpers.hpp's
// Model): long random sequences of every verb (push, push_multi, pop, pop_multi, peek,
// clear, full and empty refusals) on random capacities, min and max heaps, int64 and
// bytes values, comparing every result and the final contents. Priorities come from a
// small range so ties are common, plus the int64 extremes. The seed is printed;
// SHMDS_TEST_SEED replays it.
#include "heap_helpers.hpp"

#include <cstring>
#include <random>
#include <string>

using namespace heap_test;
using namespace shmds::test;

namespace {

constexpr std::uint64_t kMaxLen = 12;

// A bytes value carrying v: its 8 bytes, then a tail of 0..4 bytes (NUL and 0xFF
// included) whose length also depends on v, so a value's length is checked too.
std::string bytes_of(std::int64_t v) {
    std::string s(reinterpret_cast<const char *>(&v), 8);
    const std::size_t tail = std::size_t(v) % 5;
    for (std::size_t i = 0; i < tail; ++i) s.push_back(i % 2 ? '\xff' : '\0');
    return s;
}

class Subject {
public:
    Subject(bool bytes, std::uint64_t cap, bool max_heap)
        : bytes_(bytes),
          h_(make_heap(bytes ? SHMDS_TYPE_BYTES : SHMDS_TYPE_INT64, cap, bytes ? kMaxLen : 0,
                       max_heap ? SHMDS_HEAP_MAX : 0)) {}

    int push(std::int64_t p, std::int64_t v) {
        if (!bytes_) return shmds_heap_push_int(h_.get(), p, v, SHMDS_NOWAIT);
        const std::string s = bytes_of(v);
        return shmds_heap_push_bytes(h_.get(), p, s.data(), s.size(), SHMDS_NOWAIT);
    }
    int push_multi(const std::vector<std::int64_t> &ps, const std::vector<std::int64_t> &vs,
                   std::size_t *pushed) {
        if (!bytes_)
            return shmds_heap_push_multi_int(h_.get(), ps.data(), vs.data(), ps.size(), pushed,
                                             SHMDS_NOWAIT);
        std::vector<std::string> ss;
        std::vector<const void *> datas;
        std::vector<std::size_t> lens;
        for (std::int64_t v : vs) ss.push_back(bytes_of(v));
        for (const auto &s : ss) datas.push_back(s.data()), lens.push_back(s.size());
        return shmds_heap_push_multi_bytes(h_.get(), ps.data(), datas.data(), lens.data(),
                                           ps.size(), pushed, SHMDS_NOWAIT);
    }
    // Pop (or peek) one item; the value decoded and its bytes checked.
    int pop(std::int64_t *p, std::int64_t *v, bool peek) {
        if (!bytes_)
            return peek ? shmds_heap_peek_int(h_.get(), p, v)
                        : shmds_heap_pop_int(h_.get(), p, v, SHMDS_NOWAIT);
        char buf[kMaxLen];
        std::size_t len = 0;
        const int rc = peek ? shmds_heap_peek_bytes(h_.get(), p, buf, sizeof buf, &len)
                            : shmds_heap_pop_bytes(h_.get(), p, buf, sizeof buf, &len, SHMDS_NOWAIT);
        if (rc == 0) decode(std::string(buf, len), v);
        return rc;
    }
    int pop_multi(std::size_t max, std::vector<std::int64_t> *ps, std::vector<std::int64_t> *vs) {
        std::size_t got = 0;
        ps->assign(max, 0);
        vs->assign(max, 0);
        int rc;
        if (!bytes_) {
            rc = shmds_heap_pop_multi_int(h_.get(), ps->data(), vs->data(), max, &got, SHMDS_NOWAIT);
        } else {
            std::vector<char> buf(max * kMaxLen);
            std::vector<std::size_t> lens(max);
            rc = shmds_heap_pop_multi_bytes(h_.get(), ps->data(), buf.data(), buf.size(),
                                            lens.data(), max, &got, SHMDS_NOWAIT);
            std::size_t at = 0;
            for (std::size_t i = 0; i < got; at += lens[i], ++i)
                decode(std::string(buf.data() + at, lens[i]), &(*vs)[i]);
        }
        ps->resize(got);
        vs->resize(got);
        return rc;
    }
    shmds_heap_t *get() { return h_.get(); }

private:
    static void decode(const std::string &s, std::int64_t *v) {
        ASSERT_GE(s.size(), 8u);
        std::memcpy(v, s.data(), 8);
        ASSERT_EQ(bytes_of(*v), s) << "every byte and the length kept";
    }
    bool bytes_;
    HeapPtr h_;
};

void run_oracle(bool bytes, bool max_heap) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    auto priority = [&]() -> std::int64_t {
        switch (rng() % 20) {
            case 0: return INT64_MIN;
            case 1: return INT64_MAX;
            default: return std::int64_t(rng() % 8) - 4;
        }
    };
    for (int round = 0; round < 25; ++round) {
        const std::uint64_t cap = 1 + rng() % 40;
        Subject s(bytes, cap, max_heap);
        Model model(max_heap);
        std::int64_t next = 1;
        for (int step = 0; step < 500; ++step) {
            SCOPED_TRACE(testing::Message() << "seed " << seed << " round " << round << " step "
                                            << step << " cap " << cap);
            switch (rng() % 8) {
                case 0:
                case 1:
                case 2: {
                    const std::int64_t p = priority();
                    const int rc = s.push(p, next);
                    if (model.size() == cap) {
                        ASSERT_EQ(-EAGAIN, rc);
                    } else {
                        ASSERT_EQ(0, rc) << shmds_last_error();
                        model.push(p, next);
                    }
                    ++next;
                    break;
                }
                case 3: {
                    std::vector<std::int64_t> ps, vs;
                    for (std::uint64_t i = 0, n = rng() % 6; i < n; ++i) {
                        ps.push_back(priority());
                        vs.push_back(next++);
                    }
                    std::size_t pushed = 99;
                    const int rc = s.push_multi(ps, vs, &pushed);
                    const std::size_t room = cap - model.size();
                    const std::size_t want = std::min(ps.size(), room);
                    ASSERT_EQ(want, pushed);
                    ASSERT_EQ(want == ps.size() ? 0 : -EAGAIN, rc);
                    for (std::size_t i = 0; i < want; ++i) model.push(ps[i], vs[i]);
                    break;
                }
                case 4:
                case 5:
                case 6: {
                    const bool peek = rng() % 4 == 0;
                    std::int64_t p = 0, v = 0;
                    const int rc = s.pop(&p, &v, peek);
                    if (model.empty()) {
                        ASSERT_EQ(-EAGAIN, rc);
                        break;
                    }
                    ASSERT_EQ(0, rc) << shmds_last_error();
                    const ModelItem want = peek ? model.top() : model.pop();
                    ASSERT_EQ(want.priority, p);
                    ASSERT_EQ(want.value, v);
                    break;
                }
                case 7: {
                    if (rng() % 8 == 0) {
                        std::uint64_t removed = 0;
                        ASSERT_EQ(0, shmds_heap_clear(s.get(), &removed));
                        ASSERT_EQ(model.size(), removed);
                        model.clear();
                        break;
                    }
                    std::vector<std::int64_t> ps, vs;
                    const std::size_t max = 1 + rng() % 5;
                    const int rc = s.pop_multi(max, &ps, &vs);
                    if (model.empty()) {
                        ASSERT_EQ(-EAGAIN, rc);
                        break;
                    }
                    ASSERT_EQ(0, rc) << shmds_last_error();
                    ASSERT_EQ(std::min(max, model.size()), vs.size());
                    for (std::size_t i = 0; i < vs.size(); ++i) {
                        const ModelItem want = model.pop();
                        ASSERT_EQ(want.priority, ps[i]);
                        ASSERT_EQ(want.value, vs[i]);
                    }
                    break;
                }
            }
            ASSERT_EQ(model.size(), shmds_heap_size(s.get()));
        }
        std::int64_t p, v;
        while (!model.empty()) {
            const ModelItem want = model.pop();
            ASSERT_EQ(0, s.pop(&p, &v, false));
            ASSERT_EQ(want.priority, p);
            ASSERT_EQ(want.value, v);
        }
        ASSERT_EQ(-EAGAIN, s.pop(&p, &v, false));
    }
}

TEST(HeapOracle, MinInt64) { run_oracle(false, false); }
TEST(HeapOracle, MaxInt64) { run_oracle(false, true); }
TEST(HeapOracle, MinBytes) { run_oracle(true, false); }
TEST(HeapOracle, MaxBytes) { run_oracle(true, true); }

}  // namespace
