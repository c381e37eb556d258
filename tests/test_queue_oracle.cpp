// Model-based (oracle) test: long seeded random sequences of queue operations, applied
// both to a real queue and to a plain in-process model, comparing every return code,
// every value and every stat after every step. Single process, every variant;
// the bytes queue through two handles, as two processes would use it.
//
// The bytes model keeps each message's arena region (its length rounded up to 8, at
// least 8, contiguous, wrapping past the arena's end by skipping to its start), with
// the frontiers derived from the first and last message; when the queue is empty, both
// are where the message last at tail - 1 ended (the descriptor ring keeps it, so the
// model keeps the ring's positions too). So it predicts exactly when the arena is full,
// and checks stats.arena_used.
//
// Replay a failure with SHMDS_TEST_SEED; the failing step and the steps before it are
// printed.
#include "support/proc.hpp"

#include <shmds/queue.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace shmds::test;

namespace {

using Result = ::testing::AssertionResult;

class Rng {
public:
    explicit Rng(std::uint64_t seed) : g_(seed) {}
    std::uint64_t below(std::uint64_t n) { return n ? g_() % n : 0; }
    std::uint64_t between(std::uint64_t lo, std::uint64_t hi) { return lo + below(hi - lo + 1); }
    bool percent(unsigned p) { return below(100) < p; }
    std::uint64_t raw() { return g_(); }

private:
    std::mt19937_64 g_;
};

// Operations never wait for another process here, so a blocking call can only time
// out: a few use a tiny timeout to check that -ETIMEDOUT replaces -EAGAIN.
struct Wait {
    std::int64_t ns;
    int would_block() const { return ns == SHMDS_NOWAIT ? -EAGAIN : -ETIMEDOUT; }
};
Wait random_wait(Rng &rng) {
    return {rng.percent(4) ? std::int64_t(rng.between(1'000, 20'000)) : SHMDS_NOWAIT};
}

struct Counters {
    std::uint64_t push_ok = 0, pop_ok = 0, push_full = 0, pop_empty = 0;
};

// Compares a return code and names the step on failure.
#define EXPECT_RC(expected, actual)                                                               \
    do {                                                                                          \
        const int e_ = (expected), a_ = (actual);                                                 \
        if (e_ != a_)                                                                             \
            return ::testing::AssertionFailure()                                                  \
                   << "returned " << a_ << " (" << shmds_errname(a_) << "), model expects " << e_ \
                   << " (" << shmds_errname(e_) << "); " << shmds_last_error();                   \
    } while (0)
#define EXPECT_SAME(what, expected, actual)                             \
    do {                                                                \
        const auto e_ = (expected);                                     \
        const auto a_ = (actual);                                       \
        if (!(e_ == a_))                                                \
            return ::testing::AssertionFailure()                        \
                   << what << " is " << a_ << ", model expects " << e_; \
    } while (0)

// Runs `steps` random operations, keeping the last few descriptions for the report.
// `outcomes` counts "operation -> result" pairs, so a run can show it reached the
// interesting cases (full, empty, buffer too small, too big) rather than passing idly.
template <typename Oracle>
Result run_oracle(Oracle &o, Rng &rng, int steps, std::map<std::string, int> &outcomes) {
    std::deque<std::string> recent;
    for (int i = 0; i < steps; ++i) {
        std::ostringstream what;
        o.begin_step();
        Result r = o.step(rng, what);
        const std::string op = what.str().substr(0, what.str().find('('));
        ++outcomes[op + " -> " + o.outcome()];
        if (r) r = o.check_gauges();
        recent.push_back(what.str());
        if (recent.size() > 8) recent.pop_front();
        if (!r) {
            std::ostringstream trail;
            for (const auto &s : recent) trail << "\n    " << s;
            return ::testing::AssertionFailure()
                   << "step " << i << ": " << r.message() << "\n  last steps:" << trail.str();
        }
    }
    return ::testing::AssertionSuccess();
}

// ------------------------------------------------------------------ integers

class IntOracle {
public:
    // The outcome of the last step, for the coverage summary.
    int note(int rc) { return rc_ = rc; }
    std::string outcome() const { return std::string(shmds_errname(rc_)) + tag_; }
    void begin_step() {
        rc_ = 0;
        tag_.clear();
    }

    IntOracle(shmds_queue_t *q, int variant) : q_(q), cap_(shmds_queue_capacity(q)) {
        switch (variant) {
            case SHMDS_QUEUE_INT16:
                lo_ = INT16_MIN;
                hi_ = INT16_MAX;
                break;
            case SHMDS_QUEUE_INT32:
                lo_ = INT32_MIN;
                hi_ = INT32_MAX;
                break;
            default:
                lo_ = INT64_MIN;
                hi_ = INT64_MAX;
                break;
        }
    }

    Result step(Rng &rng, std::ostringstream &what) {
        switch (rng.below(12)) {
            case 0:
            case 1:
            case 2: return push(rng, what);
            case 3:
            case 4: return push_multi(rng, what);
            case 5:
            case 6: return pop(rng, what);
            case 7: return pop_multi(rng, what);
            case 8: return drain(rng, what);
            case 9: return peek(what);
            case 10: return rng.percent(15) ? clear(what) : push_multi(rng, what);
            default: return gauges(what);
        }
    }

    Result check_gauges() {
        EXPECT_SAME("size()", std::uint64_t(m_.size()), shmds_queue_size(q_));
        shmds_queue_stats_t st{};
        st.struct_size = sizeof st;
        EXPECT_RC(0, shmds_queue_stats(q_, &st));
        EXPECT_SAME("stats.size", std::uint64_t(m_.size()), st.size);
        EXPECT_SAME("stats.capacity", cap_, st.capacity);
        EXPECT_SAME("stats.push_ok", c_.push_ok, st.push_ok);
        EXPECT_SAME("stats.pop_ok", c_.pop_ok, st.pop_ok);
        EXPECT_SAME("stats.push_full", c_.push_full, st.push_full);
        EXPECT_SAME("stats.pop_empty", c_.pop_empty, st.pop_empty);
        EXPECT_SAME("stats.recoveries", std::uint64_t(0), st.recoveries);
        EXPECT_SAME("stats.arena_capacity", std::uint64_t(0), st.arena_capacity);
        return ::testing::AssertionSuccess();
    }

private:
    std::int64_t value(Rng &rng) {
        if (rng.percent(3) && lo_ != INT64_MIN)  // out of range for the narrow variants
            return rng.percent(50) ? hi_ + 1 + std::int64_t(rng.below(1000)) : lo_ - 1;
        if (rng.percent(5)) return rng.percent(50) ? lo_ : hi_;
        const std::uint64_t span = std::uint64_t(hi_) - std::uint64_t(lo_) + 1;  // 0: all of int64
        return std::int64_t(std::uint64_t(lo_) + (span ? rng.raw() % span : rng.raw()));
    }
    bool fits(std::int64_t v) const { return v >= lo_ && v <= hi_; }
    bool full() const { return m_.size() >= cap_; }

    Result push(Rng &rng, std::ostringstream &what) {
        const std::int64_t v = value(rng);
        const Wait w = random_wait(rng);
        what << "push(" << v << ", " << w.ns << "ns)";
        const int rc = note(shmds_queue_push_int(q_, v, w.ns));
        if (!fits(v)) {
            EXPECT_RC(-ERANGE, rc);
        } else if (full()) {
            ++c_.push_full;
            EXPECT_RC(w.would_block(), rc);
        } else {
            EXPECT_RC(0, rc);
            m_.push_back(v);
            ++c_.push_ok;
        }
        return ::testing::AssertionSuccess();
    }

    Result push_multi(Rng &rng, std::ostringstream &what) {
        std::vector<std::int64_t> vs(rng.below(cap_ + 3));
        bool all_fit = true;
        for (auto &v : vs) {
            v = rng.percent(90) ? std::clamp<std::int64_t>(value(rng), lo_, hi_) : value(rng);
            all_fit = all_fit && fits(v);
        }
        const Wait w = random_wait(rng);
        what << "push_multi(n=" << vs.size() << ", " << w.ns << "ns)";
        std::size_t pushed = 99;
        const int rc = note(shmds_queue_push_multi_int(q_, vs.data(), vs.size(), &pushed, w.ns));
        std::size_t expect = 0;
        if (vs.empty()) {
            EXPECT_RC(0, rc);
        } else if (!all_fit) {
            EXPECT_RC(-ERANGE, rc);
        } else {
            expect = std::min<std::size_t>(vs.size(), cap_ - m_.size());
            if (expect < vs.size()) ++c_.push_full;
            EXPECT_RC(expect < vs.size() ? w.would_block() : 0, rc);
        }
        EXPECT_SAME("pushed", expect, pushed);
        m_.insert(m_.end(), vs.begin(), vs.begin() + std::ptrdiff_t(expect));
        c_.push_ok += expect;
        return ::testing::AssertionSuccess();
    }

    Result pop(Rng &rng, std::ostringstream &what) {
        const Wait w = random_wait(rng);
        what << "pop(" << w.ns << "ns)";
        std::int64_t v = 0;
        const int rc = note(shmds_queue_pop_int(q_, &v, w.ns));
        if (m_.empty()) {
            ++c_.pop_empty;
            EXPECT_RC(w.would_block(), rc);
            return ::testing::AssertionSuccess();
        }
        EXPECT_RC(0, rc);
        EXPECT_SAME("popped value", m_.front(), v);
        m_.pop_front();
        ++c_.pop_ok;
        return ::testing::AssertionSuccess();
    }

    Result take_many(std::size_t max, bool drain, const Wait &w) {
        std::vector<std::int64_t> out(max + 1, 0x5a5a);
        std::size_t got = 99;
        const int rc = note(drain ? shmds_queue_drain_int(q_, out.data(), max, &got)
                                  : shmds_queue_pop_multi_int(q_, out.data(), max, &got, w.ns));
        const std::size_t expect = std::min<std::size_t>(max, m_.size());
        if (expect == 0 && max > 0 && !drain) {
            ++c_.pop_empty;
            EXPECT_RC(w.would_block(), rc);
        } else {
            EXPECT_RC(0, rc);
        }
        EXPECT_SAME("got", expect, got);
        for (std::size_t i = 0; i < expect; ++i) {
            EXPECT_SAME("value " + std::to_string(i), m_.front(), out[i]);
            m_.pop_front();
        }
        EXPECT_SAME("the slot after the last value", std::int64_t(0x5a5a), out[expect]);
        c_.pop_ok += expect;
        return ::testing::AssertionSuccess();
    }

    Result pop_multi(Rng &rng, std::ostringstream &what) {
        const std::size_t max = rng.below(cap_ + 3);
        const Wait w = random_wait(rng);
        what << "pop_multi(max=" << max << ", " << w.ns << "ns)";
        return take_many(max, false, w);
    }

    Result drain(Rng &rng, std::ostringstream &what) {
        const std::size_t max = rng.below(cap_ + 3);
        what << "drain(max=" << max << ")";
        return take_many(max, true, {SHMDS_NOWAIT});
    }

    Result peek(std::ostringstream &what) {
        what << "peek()";
        std::int64_t v = 0;
        const int rc = note(shmds_queue_peek_int(q_, &v));
        if (m_.empty()) {
            EXPECT_RC(-EAGAIN, rc);
        } else {
            EXPECT_RC(0, rc);
            EXPECT_SAME("peeked value", m_.front(), v);
        }
        return ::testing::AssertionSuccess();
    }

    Result clear(std::ostringstream &what) {
        what << "clear()";
        std::uint64_t removed = 99;
        EXPECT_RC(0, shmds_queue_clear(q_, &removed));
        EXPECT_SAME("removed", std::uint64_t(m_.size()), removed);
        m_.clear();
        return ::testing::AssertionSuccess();
    }

    Result gauges(std::ostringstream &what) {
        what << "is_full/is_empty/capacity";
        EXPECT_SAME("is_full()", int(full()), shmds_queue_is_full(q_));
        EXPECT_SAME("is_empty()", int(m_.empty()), shmds_queue_is_empty(q_));
        EXPECT_SAME("capacity()", cap_, shmds_queue_capacity(q_));
        return ::testing::AssertionSuccess();
    }

    shmds_queue_t *q_;
    std::uint64_t cap_;
    std::int64_t lo_, hi_;
    int rc_ = 0;
    std::string tag_;
    std::deque<std::int64_t> m_;
    Counters c_;
};

// --------------------------------------------------------------------- bytes

class BytesOracle {
public:
    // The outcome of the last step, for the coverage summary.
    int note(int rc) { return rc_ = rc; }
    std::string outcome() const { return std::string(shmds_errname(rc_)) + tag_; }
    void begin_step() {
        rc_ = 0;
        tag_.clear();
    }

    // Two handles on one queue, as two processes would hold: each step uses either, so
    // what one handle remembers of the ring (a push's last look at the front) is put
    // to the test by the other's pushes and pops.
    BytesOracle(shmds_queue_t *q, shmds_queue_t *other)
        : q_(q), handles_{q, other}, cap_(shmds_queue_capacity(q)), descs_(cap_, Region{0, 0}) {
        shmds_queue_stats_t st{};
        st.struct_size = sizeof st;
        shmds_queue_stats(q, &st);
        arena_ = st.arena_capacity;
    }

    Result step(Rng &rng, std::ostringstream &what) {
        q_ = handles_[rng.below(2)];
        switch (rng.below(14)) {
            case 0:
            case 1:
            case 2: return push(rng, what, false);
            case 3: return push(rng, what, true);
            case 4:
            case 5: return push_multi(rng, what);
            case 6:
            case 7: return pop(rng, what, false);
            case 8: return pop(rng, what, true);
            case 9: return take_many(rng, what, false);
            case 10: return take_many(rng, what, true);
            case 11: return peek(rng, what);
            case 12: return rng.percent(15) ? clear(what) : push(rng, what, false);
            default: return gauges(what);
        }
    }

    Result check_gauges() {
        EXPECT_SAME("size()", std::uint64_t(m_.size()), shmds_queue_size(q_));
        shmds_queue_stats_t st{};
        st.struct_size = sizeof st;
        EXPECT_RC(0, shmds_queue_stats(q_, &st));
        EXPECT_SAME("stats.size", std::uint64_t(m_.size()), st.size);
        EXPECT_SAME("stats.capacity", cap_, st.capacity);
        EXPECT_SAME("stats.arena_capacity", arena_, st.arena_capacity);
        EXPECT_SAME("stats.arena_used", used(), st.arena_used);
        EXPECT_SAME("stats.push_ok", c_.push_ok, st.push_ok);
        EXPECT_SAME("stats.pop_ok", c_.pop_ok, st.pop_ok);
        EXPECT_SAME("stats.push_full", c_.push_full, st.push_full);
        EXPECT_SAME("stats.pop_empty", c_.pop_empty, st.pop_empty);
        EXPECT_SAME("stats.recoveries", std::uint64_t(0), st.recoveries);
        return ::testing::AssertionSuccess();
    }

private:
    struct Msg {
        std::string data;
        std::uint64_t start, alloc;  // arena region, modulo the arena size
    };

    std::uint64_t used() const {
        std::uint64_t u = 0;
        for (const auto &m : m_) u += m.alloc;
        return u;
    }
    struct Region {
        std::uint64_t start, alloc;
    };
    Region &desc(std::uint64_t pos) { return descs_[pos & (cap_ - 1)]; }
    std::uint64_t after_last() const {
        const Region &r = descs_[(tail_pos_ - 1) & (cap_ - 1)];
        return (r.start + r.alloc) % arena_;
    }
    std::uint64_t read_at() const { return m_.empty() ? after_last() : m_.front().start; }
    std::uint64_t write_at() const {
        return m_.empty() ? after_last() : (m_.back().start + m_.back().alloc) % arena_;
    }

    std::string message(Rng &rng) {
        std::size_t len;
        const unsigned kind = unsigned(rng.below(100));
        if (kind < 8)
            len = 0;
        else if (kind < 60)
            len = rng.between(1, 64);
        else if (kind < 92)
            len = rng.between(65, 1024);
        else
            len = arena_ - 24 + rng.below(40);  // around the whole arena: fits alone or E2BIG
        std::string s(len, '\0');
        for (auto &ch : s) ch = char(rng.raw());
        return s;
    }

    // 0, -E2BIG or -EAGAIN, placing the message in the model when it fits.
    int model_push(const std::string &data, bool front) {
        const std::uint64_t len = data.size();
        const std::uint64_t need = len ? (len + 7) / 8 * 8 : 8;
        if (len > arena_ || need > arena_) return -E2BIG;
        if (m_.size() >= cap_) {
            tag_ = " (ring full)";
            return -EAGAIN;
        }
        Msg m{data, 0, 0};
        if (!front) {
            const std::uint64_t at = write_at();
            m.start = at;
            m.alloc = need <= arena_ - at ? need : (arena_ - at) + need;
        } else {
            const std::uint64_t at = read_at();
            m.start = need <= at ? at - need : arena_ - need;
            m.alloc = need <= at ? need : need + at;
        }
        if (used() + m.alloc > arena_) {
            tag_ = " (arena full)";
            return -EAGAIN;
        }
        if (front) {
            desc(tail_pos_ - m_.size() - 1) = {m.start, m.alloc};
            m_.push_front(std::move(m));
        } else {
            desc(tail_pos_++) = {m.start, m.alloc};
            m_.push_back(std::move(m));
        }
        ++c_.push_ok;
        return 0;
    }

    Result push(Rng &rng, std::ostringstream &what, bool front) {
        const std::string data = message(rng);
        const Wait w = random_wait(rng);
        what << (front ? "push_front(" : "push(") << data.size() << " B, " << w.ns << "ns)";
        const int rc = note(front ? shmds_queue_push_front_bytes(q_, data.data(), data.size(), w.ns)
                                  : shmds_queue_push_bytes(q_, data.data(), data.size(), w.ns));
        int expect = model_push(data, front);
        if (expect == -EAGAIN) {
            ++c_.push_full;
            expect = w.would_block();
        }
        EXPECT_RC(expect, rc);
        return ::testing::AssertionSuccess();
    }

    Result push_multi(Rng &rng, std::ostringstream &what) {
        const std::size_t n = rng.percent(3) ? 64 + rng.below(10) : rng.below(cap_ + 3);
        std::vector<std::string> msgs;
        std::vector<const void *> datas;
        std::vector<std::size_t> lens;
        for (std::size_t i = 0; i < n; ++i) {
            msgs.push_back(rng.percent(70) ? std::string(rng.below(48), char('a' + i % 26))
                                           : message(rng));
        }
        for (const auto &m : msgs) {
            datas.push_back(m.data());
            lens.push_back(m.size());
        }
        const Wait w = random_wait(rng);
        what << "push_multi(n=" << n << ", " << w.ns << "ns)";
        std::size_t pushed = 99;
        const int rc =
            note(shmds_queue_push_multi_bytes(q_, datas.data(), lens.data(), n, &pushed, w.ns));
        std::size_t expect_pushed = 0;
        int expect = 0;
        while (expect_pushed < n && (expect = model_push(msgs[expect_pushed], false)) == 0)
            ++expect_pushed;
        if (expect == -EAGAIN) {
            ++c_.push_full;
            expect = w.would_block();
        }
        EXPECT_RC(expect, rc);
        EXPECT_SAME("pushed", expect_pushed, pushed);
        return ::testing::AssertionSuccess();
    }

    std::size_t buffer_size(Rng &rng, std::size_t next_len) {
        if (rng.percent(15)) return rng.below(next_len + 1);  // often too small by a little
        return rng.percent(50) ? arena_ : next_len + rng.below(600);
    }

    Result pop(Rng &rng, std::ostringstream &what, bool back) {
        const std::size_t next = m_.empty() ? 0 : (back ? m_.back() : m_.front()).data.size();
        std::vector<char> buf(buffer_size(rng, next) + 1, '\x7f');
        const std::size_t size = buf.size() - 1;
        const Wait w = random_wait(rng);
        what << (back ? "pop_back(buf " : "pop(buf ") << size << ", " << w.ns << "ns)";
        std::size_t len = 99;
        const int rc = note(back ? shmds_queue_pop_back_bytes(q_, buf.data(), size, &len, w.ns)
                                 : shmds_queue_pop_bytes(q_, buf.data(), size, &len, w.ns));
        if (m_.empty()) {
            ++c_.pop_empty;
            EXPECT_RC(w.would_block(), rc);
            return ::testing::AssertionSuccess();
        }
        const Msg &m = back ? m_.back() : m_.front();
        EXPECT_SAME("len", m.data.size(), len);
        if (m.data.size() > size) {
            EXPECT_RC(-ENOBUFS, rc);
            return ::testing::AssertionSuccess();
        }
        EXPECT_RC(0, rc);
        if (std::string(buf.data(), len) != m.data)
            return ::testing::AssertionFailure() << "popped bytes differ from the model's";
        EXPECT_SAME("the byte after the message", '\x7f', buf[len]);
        if (back) {
            m_.pop_back();
            --tail_pos_;
        } else {
            m_.pop_front();
        }
        ++c_.pop_ok;
        return ::testing::AssertionSuccess();
    }

    Result take_many(Rng &rng, std::ostringstream &what, bool drain) {
        const std::size_t max = rng.below(cap_ + 3);
        std::size_t total = 0;
        for (std::size_t i = 0; i < std::min<std::size_t>(max, m_.size()); ++i)
            total += m_[i].data.size();
        const std::size_t size = rng.percent(20)   ? rng.below(total + 1)
                                 : rng.percent(50) ? total
                                                   : total + rng.below(2000);
        std::vector<char> buf(size + 1, '\x7f');
        std::vector<std::size_t> lens(max + 1, 4242);
        const Wait w = drain ? Wait{SHMDS_NOWAIT} : random_wait(rng);
        what << (drain ? "drain(max=" : "pop_multi(max=") << max << ", buf " << size << ", " << w.ns
             << "ns)";
        std::size_t got = 99;
        const int rc =
            note(drain ? shmds_queue_drain_bytes(q_, buf.data(), size, lens.data(), max, &got)
                       : shmds_queue_pop_multi_bytes(q_, buf.data(), size, lens.data(), max, &got,
                                                     w.ns));
        if (max == 0 || (m_.empty() && drain)) {
            EXPECT_RC(0, rc);
            EXPECT_SAME("got", std::size_t(0), got);
            return ::testing::AssertionSuccess();
        }
        if (m_.empty()) {
            ++c_.pop_empty;
            EXPECT_RC(w.would_block(), rc);
            EXPECT_SAME("got", std::size_t(0), got);
            return ::testing::AssertionSuccess();
        }
        if (m_.front().data.size() > size) {
            EXPECT_RC(-ENOBUFS, rc);
            EXPECT_SAME("got", std::size_t(0), got);
            EXPECT_SAME("lens[0] (needed)", m_.front().data.size(), lens[0]);
            return ::testing::AssertionSuccess();
        }
        EXPECT_RC(0, rc);
        std::size_t expect = 0, at = 0;
        while (expect < max && expect < m_.size() && at + m_[expect].data.size() <= size)
            at += m_[expect++].data.size();
        EXPECT_SAME("got", expect, got);
        at = 0;
        for (std::size_t i = 0; i < expect; ++i) {
            EXPECT_SAME("lens[" + std::to_string(i) + "]", m_.front().data.size(), lens[i]);
            if (std::string(buf.data() + at, lens[i]) != m_.front().data)
                return ::testing::AssertionFailure() << "message " << i << " differs";
            at += lens[i];
            m_.pop_front();
        }
        EXPECT_SAME("lens after the last message", std::size_t(4242), lens[expect]);
        EXPECT_SAME("the byte after the messages", '\x7f', buf[at]);
        c_.pop_ok += expect;
        return ::testing::AssertionSuccess();
    }

    Result peek(Rng &rng, std::ostringstream &what) {
        const std::size_t next = m_.empty() ? 0 : m_.front().data.size();
        std::vector<char> buf(buffer_size(rng, next) + 1, '\x7f');
        const std::size_t size = buf.size() - 1;
        what << "peek(buf " << size << ")";
        std::size_t len = 99;
        const int rc = note(shmds_queue_peek_bytes(q_, buf.data(), size, &len));
        if (m_.empty()) {
            EXPECT_RC(-EAGAIN, rc);
            return ::testing::AssertionSuccess();
        }
        EXPECT_SAME("len", next, len);
        if (next > size) {
            EXPECT_RC(-ENOBUFS, rc);
            return ::testing::AssertionSuccess();
        }
        EXPECT_RC(0, rc);
        if (std::string(buf.data(), len) != m_.front().data)
            return ::testing::AssertionFailure() << "peeked bytes differ from the model's";
        return ::testing::AssertionSuccess();
    }

    Result clear(std::ostringstream &what) {
        what << "clear()";
        std::uint64_t removed = 99;
        EXPECT_RC(0, shmds_queue_clear(q_, &removed));
        EXPECT_SAME("removed", std::uint64_t(m_.size()), removed);
        m_.clear();
        return ::testing::AssertionSuccess();
    }

    Result gauges(std::ostringstream &what) {
        what << "is_full/is_empty/capacity";
        EXPECT_SAME("is_full()", int(m_.size() >= cap_), shmds_queue_is_full(q_));
        EXPECT_SAME("is_empty()", int(m_.empty()), shmds_queue_is_empty(q_));
        EXPECT_SAME("capacity()", cap_, shmds_queue_capacity(q_));
        return ::testing::AssertionSuccess();
    }

    shmds_queue_t *q_;  // this step's handle
    shmds_queue_t *handles_[2];
    std::uint64_t cap_;
    std::vector<Region> descs_;  // the descriptor ring, popped messages' regions included
    std::uint64_t tail_pos_ = 0;  // head is tail_pos_ - m_.size()
    std::uint64_t arena_ = 0;
    int rc_ = 0;
    std::string tag_;
    std::deque<Msg> m_;
    Counters c_;
};

// ----------------------------------------------------------------- the runs

constexpr int kConfigs = 6;  // queue geometries per variant, drawn from the seed
constexpr int kStepsPerConfig = 6000;

std::uint64_t expected_capacity(std::uint64_t requested) {
    std::uint64_t c = 2;
    while (c < requested) c *= 2;
    return c;
}

struct OracleCase {
    const char *name;
    int variant;
    std::vector<const char *> must_reach;  // outcomes any honest run reaches
};

void PrintTo(const OracleCase &c, std::ostream *os) { *os << c.name; }

class QueueOracle : public ::testing::TestWithParam<OracleCase> {};

TEST_P(QueueOracle, EveryStepMatchesTheModel) {
    const OracleCase &oc = GetParam();
    Rng rng(test_seed() ^ std::uint64_t(oc.variant) * 0x9e3779b97f4a7c15ull);
    std::map<std::string, int> outcomes;
    for (int config = 0; config < kConfigs; ++config) {
        // Small rings fill up; for bytes, arenas from the minimum up to a few pages make
        // both the ring and the arena run out.
        const std::uint64_t requested = rng.between(1, 40);
        shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(oc.variant, requested);
        if (oc.variant == SHMDS_QUEUE_BYTES) cfg.arena_bytes = rng.between(4096, 12000);
        shmds_queue_t *q = nullptr;
        shmds_options_t memfd = SHMDS_OPTIONS_INIT;
        memfd.backing = SHMDS_BACKING_MEMFD;
        memfd.name = "oracle";
        ASSERT_EQ(0, shmds_queue_create(&memfd, &cfg, &q)) << shmds_last_error();
        ASSERT_EQ(expected_capacity(requested), shmds_queue_capacity(q));
        SCOPED_TRACE("capacity " + std::to_string(requested) + ", arena " +
                     std::to_string(cfg.arena_bytes));
        if (oc.variant == SHMDS_QUEUE_BYTES) {
            shmds_options_t by_fd = SHMDS_OPTIONS_INIT;
            by_fd.backing = SHMDS_BACKING_FD;
            by_fd.fd = shmds_queue_fd(q);
            shmds_queue_t *other = nullptr;
            ASSERT_EQ(0, shmds_queue_open(&by_fd, SHMDS_QUEUE_BYTES, &other)) << shmds_last_error();
            BytesOracle o(q, other);
            EXPECT_TRUE(run_oracle(o, rng, kStepsPerConfig, outcomes));
            shmds_queue_close(other);
        } else {
            IntOracle o(q, oc.variant);
            EXPECT_TRUE(run_oracle(o, rng, kStepsPerConfig, outcomes));
        }
        shmds_queue_close(q);
        if (HasFailure()) return;
    }
    std::string summary;
    for (const auto &[what, n] : outcomes) summary += "  " + what + ": " + std::to_string(n) + "\n";
    for (const char *needed : oc.must_reach)
        EXPECT_TRUE(outcomes.count(needed)) << "the run never reached \"" << needed << "\"\n"
                                            << summary;
}

const std::vector<const char *> kIntOutcomes = {
    "push -> EAGAIN",   "push -> ETIMEDOUT",   "push_multi -> EAGAIN", "pop -> EAGAIN",
    "pop -> ETIMEDOUT", "pop_multi -> EAGAIN", "peek -> EAGAIN",       "drain -> OK"};
std::vector<const char *> narrow_outcomes() {
    auto v = kIntOutcomes;
    v.push_back("push -> ERANGE");
    v.push_back("push_multi -> ERANGE");
    return v;
}

INSTANTIATE_TEST_SUITE_P(
    Variants, QueueOracle,
    ::testing::Values(OracleCase{"int16", SHMDS_QUEUE_INT16, narrow_outcomes()},
                      OracleCase{"int32", SHMDS_QUEUE_INT32, narrow_outcomes()},
                      OracleCase{"int64", SHMDS_QUEUE_INT64, kIntOutcomes},
                      OracleCase{"bytes",
                                 SHMDS_QUEUE_BYTES,
                                 {"push -> EAGAIN (ring full)", "push -> EAGAIN (arena full)",
                                  "push_front -> EAGAIN (arena full)", "push -> E2BIG",
                                  "push_multi -> E2BIG", "push_multi -> EAGAIN (arena full)",
                                  "pop -> ENOBUFS", "pop_back -> ENOBUFS", "pop -> EAGAIN",
                                  "pop -> ETIMEDOUT", "pop_multi -> ENOBUFS", "peek -> ENOBUFS",
                                  "peek -> EAGAIN", "drain -> OK"}}),
    [](const ::testing::TestParamInfo<OracleCase> &i) { return std::string(i.param.name); });

}  // namespace
