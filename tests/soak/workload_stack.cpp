// stack, BYTES: even workers push, odd ones pop (singly and in batches). Each item is
// the id, its tag and padding of a length derived from the id, so a torn, truncated or
// invented item shows; the ledger catches duplicates and losses beyond what the killed
// held in flight.
#include "ledger.hpp"

#include <shmds/stack.h>

#include <cerrno>
#include <cstring>

namespace soak {
namespace {

constexpr std::int64_t kTimeout = 100'000'000;
constexpr std::size_t kBatch = 6;
constexpr std::size_t kMaxLen = 40;

bool is_producer(unsigned index) { return index % 2 == 0; }

std::size_t encode(std::uint64_t id, std::uint8_t *out) {
    const std::uint64_t tag = mix64(id);
    std::memcpy(out, &id, 8);
    std::memcpy(out + 8, &tag, 8);
    const std::size_t len = 16 + std::size_t(tag % (kMaxLen - 15));
    for (std::size_t i = 16; i < len; ++i) out[i] = std::uint8_t(tag >> (i % 8 * 8));
    return len;
}

bool decode(const std::uint8_t *in, std::size_t len, std::uint64_t &id) {
    std::uint8_t want[kMaxLen];
    if (len < 16) return false;
    std::memcpy(&id, in, 8);
    return encode(id, want) == len && std::memcmp(want, in, len) == 0;
}

class Stack : public Workload {
public:
    void setup(const Params &) override {
        shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(SHMDS_TYPE_BYTES, 37);
        cfg.max_len = kMaxLen;
        int rc = shmds_stack_create(nullptr, &cfg, &s_);
        if (rc != 0) violation("shmds_stack_create: {}", describe_rc(rc));
        ledger_.setup(std::uint64_t{1} << 31);
    }

    Step step(Worker &w) override { return is_producer(w.index()) ? produce(w) : consume(w); }

    void finish(Worker &) override {
        if (pending_) ledger_.withdraw(id_);
    }

    void verify(const Params &, const Deaths &deaths) override {
        std::uint8_t buf[kMaxLen];
        std::size_t len = 0;
        std::uint64_t drained = 0;
        int rc;
        while ((rc = shmds_stack_pop_bytes(s_, buf, sizeof buf, &len, SHMDS_NOWAIT)) == 0) {
            record(buf, len, "the final drain");
            ++drained;
        }
        if (rc != -EAGAIN) violation("final drain: shmds_stack_pop_bytes: {}", describe_rc(rc));
        note("drained {} items left on the stack", drained);
        ledger_.check("stack bytes", deaths.held_where(is_producer),
                      deaths.held_where([](unsigned i) { return !is_producer(i); }));
        shmds_stack_close(s_);
    }

private:
    Step produce(Worker &w) {
        if (!pending_) {
            w.hold(1);
            if (!ledger_.claim(id_)) {
                w.release();
                return Step::idle;
            }
            pending_ = true;
        }
        std::uint8_t item[kMaxLen];
        const std::size_t len = encode(id_, item);
        const int rc =
            shmds_stack_push_bytes(s_, item, len, w.chance(10) ? SHMDS_NOWAIT : kTimeout);
        if (rc == 0) {
            ledger_.confirm(id_);
            pending_ = false;
            w.release();
            return Step::progress;
        }
        if (rc != -ETIMEDOUT && rc != -EAGAIN) violation("shmds_stack_push_bytes: {}", describe_rc(rc));
        return Step::idle;
    }

    Step consume(Worker &w) {
        std::uint8_t buf[kBatch * kMaxLen];
        std::size_t lens[kBatch], got = 0;
        int rc;
        if (w.chance(30)) {
            w.hold(kBatch);
            rc = shmds_stack_pop_multi_bytes(s_, buf, sizeof buf, lens, kBatch, &got, kTimeout);
        } else {
            w.hold(1);
            rc = shmds_stack_pop_bytes(s_, buf, kMaxLen, &lens[0],
                                       w.chance(10) ? SHMDS_NOWAIT : kTimeout);
            got = rc == 0 ? 1 : 0;
        }
        for (std::size_t i = 0, at = 0; i < got; at += lens[i], ++i)
            record(buf + at, lens[i], "a consumer");
        w.release();
        if (rc == 0 && got > 0) return Step::progress;
        if (rc != 0 && rc != -ETIMEDOUT && rc != -EAGAIN)
            violation("shmds_stack_pop: {}", describe_rc(rc));
        return Step::idle;
    }

    void record(const std::uint8_t *item, std::size_t len, const char *by) {
        std::uint64_t id = 0;
        if (!decode(item, len, id))
            violation("torn item: {} got {} bytes that do not match their id", by, len);
        else
            ledger_.receive(id, by);
    }

    shmds_stack_t *s_ = nullptr;
    Ledger ledger_;
    bool pending_ = false;
    std::uint64_t id_ = 0;
};

}  // namespace
}  // namespace soak

SOAK_WORKLOAD(stack, "exactly once, except items held by killed workers; bytes intact", 2,
              soak::Stack);
