// The deque and the stack against sequential std:: models: long random sequences of
// every verb (both ends, singles and batches, peek, drain, clear, full and empty
// refusals) on random capacities, comparing every result and the final contents. The
// seed is printed; SHMDS_TEST_SEED replays it.
#include "seq_adapter.hpp"

#include <deque>
#include <random>

using namespace shmds::test;
using seq_test::Seq;
using seq_test::Structure;

namespace {

void run_oracle(Structure structure, int type) {
    const std::uint64_t seed = test_seed();
    std::mt19937_64 rng(seed);
    const bool stack = structure == Structure::stack;
    for (int round = 0; round < 30; ++round) {
        const std::uint64_t cap = 1 + rng() % 9;
        Seq s(structure, type, cap);
        ASSERT_EQ(0, s.create_rc()) << shmds_last_error();
        std::deque<std::uint64_t> model;  // front = deque front; a stack's top = back
        std::uint64_t next = 1;
        for (int step = 0; step < 400; ++step) {
            SCOPED_TRACE(testing::Message() << "seed " << seed << " round " << round << " step "
                                            << step << " cap " << cap);
            const int end = rng() & 1 ? SHMDS_DEQUE_BACK : SHMDS_DEQUE_FRONT;
            const bool back = stack || end == SHMDS_DEQUE_BACK;
            switch (rng() % 7) {
                case 0:
                case 1: {  // push
                    const int rc = s.push(next, SHMDS_NOWAIT, end);
                    if (model.size() == cap) {
                        ASSERT_EQ(-EAGAIN, rc);
                    } else {
                        ASSERT_EQ(0, rc) << shmds_last_error();
                        back ? model.push_back(next) : model.push_front(next);
                    }
                    ++next;
                    break;
                }
                case 2: {  // push_multi, partial when full
                    std::vector<std::uint64_t> keys;
                    for (std::uint64_t i = 0, n = rng() % 5; i < n; ++i) keys.push_back(next++);
                    std::size_t pushed = 99;
                    const int rc = s.push_multi(keys, &pushed, SHMDS_NOWAIT, end);
                    const std::size_t room = cap - model.size();
                    const std::size_t want = keys.size() < room ? keys.size() : room;
                    ASSERT_EQ(want, pushed);
                    ASSERT_EQ(want == keys.size() ? 0 : -EAGAIN, rc);
                    for (std::size_t i = 0; i < want; ++i)
                        back ? model.push_back(keys[i]) : model.push_front(keys[i]);
                    break;
                }
                case 3:
                case 4: {  // pop
                    std::uint64_t k = 0;
                    const int rc = s.pop(&k, SHMDS_NOWAIT, end);
                    if (model.empty()) {
                        ASSERT_EQ(-EAGAIN, rc);
                    } else {
                        ASSERT_EQ(0, rc) << shmds_last_error();
                        ASSERT_EQ(back ? model.back() : model.front(), k);
                        back ? model.pop_back() : model.pop_front();
                    }
                    break;
                }
                case 5: {  // pop_multi
                    std::vector<std::uint64_t> keys;
                    const std::size_t max = 1 + rng() % 4;
                    const int rc = s.pop_multi(&keys, max, SHMDS_NOWAIT, end);
                    if (model.empty()) {
                        ASSERT_EQ(-EAGAIN, rc);
                        break;
                    }
                    ASSERT_EQ(0, rc) << shmds_last_error();
                    ASSERT_EQ(std::min(max, model.size()), keys.size());
                    for (std::uint64_t k : keys) {
                        ASSERT_EQ(back ? model.back() : model.front(), k);
                        back ? model.pop_back() : model.pop_front();
                    }
                    break;
                }
                case 6: {
                    if (rng() % 10 == 0) {
                        ASSERT_EQ(0, s.clear());
                        model.clear();
                    } else {
                        ASSERT_EQ(model.empty() ? -EAGAIN : 0, s.peek());
                    }
                    break;
                }
            }
            ASSERT_EQ(model.size(), s.stats().size);
        }
        std::vector<std::uint64_t> rest;
        ASSERT_EQ(0, s.drain_all(&rest, SHMDS_DEQUE_BACK));
        ASSERT_EQ(std::vector<std::uint64_t>(model.rbegin(), model.rend()), rest);
    }
}

TEST(SeqOracle, DequeInt64) { run_oracle(Structure::deque, SHMDS_TYPE_INT64); }
TEST(SeqOracle, DequeBytes) { run_oracle(Structure::deque, SHMDS_TYPE_BYTES); }
TEST(SeqOracle, StackInt64) { run_oracle(Structure::stack, SHMDS_TYPE_INT64); }
TEST(SeqOracle, StackBytes) { run_oracle(Structure::stack, SHMDS_TYPE_BYTES); }

}  // namespace
