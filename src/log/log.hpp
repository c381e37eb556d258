// The log engine: an append-only sequence of byte entries in one segment.
//
// Appenders serialise on one robust mutex: each writes its entry at the committed tail
// and then publishes (count, tail) with one release store (layout.hpp). The mutex
// releases with a plain store, so an append pays one locked instruction (log.cpp, hold). Readers take no
// lock: they read only below the tail they acquired, and every offset and length they
// read from shared memory is checked against the data region and that tail. A killed
// appender leaves nothing readers can see: the next appender takes the lock over and
// writes over the uncommitted bytes, so there is never a hole to skip.
//
// reset() runs under the mutex and moves the epoch to odd and back to even around its
// stores; readers read the epoch before and after each copy (a seqlock), so a read
// that raced a reset reports -ESTALE instead of returning new bytes as an old entry.
// The C API turns handles into this object and nothing else.
#pragma once

#include "core/deadline.hpp"
#include "core/engine_factory.hpp"
#include "core/eventfd.hpp"
#include "core/keyed_hash.hpp"
#include "core/segment.hpp"
#include "log/layout.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>

namespace shmds::log {

using core::Deadline;

struct Config {
    std::uint64_t capacity;  // data region bytes
};

// An entry to append.
struct ByteSpan {
    const void *data;
    std::size_t len;
};

// Where a read puts an entry: up to buf_size bytes at buf; *len receives its length
// (also on -ENOBUFS, when it did not fit).
struct ReadBuffer {
    void *buf;
    std::size_t buf_size;
    std::size_t *len;
};

struct Stats {
    std::uint64_t entries, tail, truncation, data_size, capacity, available, epoch, resets,
        append_full, recoveries, segment_bytes;
    std::uint32_t waiters;
};

class Log final : public core::SegmentClient {
public:
    static int create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Log> &out);
    static int open(const shmds_options_t *opts, std::unique_ptr<Log> &out);

    // Append entries[0..n) at the tail as one commit: all or none. offsets[i] (if not
    // null) receives entry i's offset. 0; -EINVAL (an empty entry); -E2BIG (longer than
    // kMaxEntry); -ENOSPC (not enough room left: nothing written); SHMDS_ECORRUPT.
    // Waits for the lock only while another appender holds it (a dead one is taken
    // over within ~10 ms).
    int append(const ByteSpan *entries, std::size_t n, std::uint64_t *offsets) noexcept;

    // The epoch a reader starts from: the current one, or -ESTALE (through *epoch's
    // return) while a reset is in progress.
    int begin_read(std::uint64_t *epoch) const noexcept;
    // Read the entry at `offset` as of `epoch`. 0 with *next = the following entry's
    // offset; -EAGAIN (offset is the tail: no entry yet); -ERANGE (beyond the tail);
    // -ENOENT (below the truncation point); -EINVAL (not an entry's start); -ENOBUFS
    // (*out.len = its length; nothing copied); -ESTALE (the log was reset since `epoch`
    // or during the copy); SHMDS_ECORRUPT (a damaged tail or length).
    int read_at(std::uint64_t epoch, std::uint64_t offset, const ReadBuffer &out,
                std::uint64_t *next) const noexcept;

    std::uint64_t tail() const noexcept { return commit_tail(commit()); }
    std::uint64_t count() const noexcept { return commit_count(commit()); }
    std::uint64_t truncation() const noexcept {
        return ctl_->truncation.load(std::memory_order_acquire);
    }
    std::uint64_t epoch() const noexcept { return ctl_->epoch.load(std::memory_order_acquire); }
    std::uint64_t capacity() const noexcept { return geom_.capacity; }
    // Bytes of the visible entries (headers and padding included): tail - truncation.
    std::uint64_t data_size() const noexcept;
    // Bytes still free for appends (each entry takes entry_size(len) of them).
    std::uint64_t available() const noexcept;

    // Block until more than `count` entries were appended. 0; -EAGAIN (NOWAIT) or
    // -ETIMEDOUT; -ESTALE (the log was reset meanwhile).
    int wait_for(std::uint64_t count, const Deadline &dl) noexcept;

    // Hide the entries below `offset` (which must be an entry's start or the tail, at
    // or past the current truncation point). 0; -EINVAL; -ERANGE; SHMDS_ECORRUPT.
    int truncate(std::uint64_t offset) noexcept;
    // Empty the log and start a new epoch. 0 or SHMDS_ECORRUPT.
    int reset() noexcept;

    int stats(Stats &s) noexcept;

    core::EventNotifier &events() noexcept { return events_; }
    core::Segment &segment() noexcept { return segment_; }
    std::uint64_t recovery_count() const noexcept { return segment_.recoveries(); }

    // SegmentClient
    core::StructureType type() const noexcept override { return core::StructureType::log; }
    std::uint32_t wanted_variant() const noexcept override { return kVariant; }
    const char *variant_name(std::uint32_t v) const noexcept override {
        return v == kVariant ? "bytes" : "unknown-variant";
    }
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

private:
    friend struct core::EngineFactory;
    Log() = default;
    void bind(std::uint8_t *base) noexcept;

    std::uint64_t commit() const noexcept { return ctl_->commit.load(std::memory_order_acquire); }
    std::uint32_t tag(std::uint64_t offset, std::uint32_t len) const noexcept;
    int check_tail(std::uint64_t tail) const noexcept;
    int check_entries(const ByteSpan *entries, std::size_t n, std::uint64_t *total) const noexcept;
    int append_locked(const ByteSpan *entries, std::size_t n, std::uint64_t total,
                      std::uint64_t *offsets) noexcept;
    // The header at `offset` (< tail <= capacity, 8-aligned): its length if it is an
    // entry's start whose bytes end at or below `tail`; else the failure code.
    int entry_at(std::uint64_t offset, std::uint64_t tail, std::uint32_t *len) const noexcept;
    bool stale(std::uint64_t epoch) const noexcept;
    core::PlainLock appenders() noexcept;
    static void repair(void *self) noexcept;
    void wake_readers(const char *unwoken) noexcept;

    core::Segment segment_;
    Geometry geom_{};
    Config requested_{};
    LogControl *ctl_ = nullptr;
    std::uint8_t *data_ = nullptr;
    core::HashSeed seed_{};
    core::EventNotifier events_;
};

}  // namespace shmds::log
