#include "log/log.hpp"

#include "core/block.hpp"
#include "core/error.hpp"
#include "core/failpoint.hpp"
#include "core/robust_mutex.hpp"

#include <cerrno>
#include <climits>
#include <cstring>

namespace shmds::log {

namespace {
constexpr auto kRelaxed = std::memory_order_relaxed;
constexpr auto kAcquire = std::memory_order_acquire;
constexpr auto kRelease = std::memory_order_release;

core::SegmentShape shape_of(const Geometry &g) {
    static_assert(kGeomCapacity == 0);
    return core::SegmentShape::of(kVariant, 1, std::uint32_t(kEntryAlign), g.total, layout_hash(),
                                  {g.capacity});
}

// Appends take the lock without a deadline: it is held for one copy, and a dead
// holder is taken over by the waiters' probes (core/robust_mutex.hpp).
Deadline lock_deadline() noexcept { return Deadline::from_timeout(-1); }

// How far past an append's end its prefetch reaches: some 28 appends of 64 bytes. One
// process's 64-byte appends measured +10% at 512 and +25% at 2048 (Intel, in a VM).
constexpr std::uint64_t kWriteAhead = 2048;

int fail_stale() noexcept {
    return core::fail_static(-ESTALE, "the log was reset during the read, or since its epoch");
}
}  // namespace

// ---- lifecycle ----------------------------------------------------------------------

int Log::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Log> &out) {
    return core::EngineFactory::make<Log>(true, opts, "log", out,
                                          [&](Log &l) { l.requested_ = cfg; });
}

int Log::open(const shmds_options_t *opts, std::unique_ptr<Log> &out) {
    return core::EngineFactory::make<Log>(false, opts, "log", out, [](Log &) {});
}

int Log::describe(core::SegmentShape &s) {
    if (int r = compute_geometry(requested_.capacity, geom_)) return r;
    s = shape_of(geom_);
    return 0;
}

int Log::reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                 core::SegmentShape &s) {
    if (variant != kVariant) return core::fail(-EINVAL, "unknown log variant {}", variant);
    if (int r = compute_geometry(geometry[kGeomCapacity], geom_)) return r;
    s = shape_of(geom_);
    return 0;
}

void Log::initialize(std::uint8_t *base) noexcept {
    auto *ctl = reinterpret_cast<LogControl *>(base + geom_.control_off);
    core::robust_mutex_init(ctl->mutex);
    ctl->commit.store(0, kRelaxed);
    ctl->epoch.store(0, kRelaxed);
    ctl->truncation.store(0, kRelaxed);
    ctl->resets.store(0, kRelaxed);
    ctl->append_full.store(0, kRelaxed);
    core::draw_hash_seed(ctl->seed);
    core::waitpoint_init(ctl->appended);
}

void Log::bind(std::uint8_t *base) noexcept {
    ctl_ = reinterpret_cast<LogControl *>(base + geom_.control_off);
    data_ = base + geom_.data_off;
    // Read once: a peer scribbling the seed later only makes entries fail their tag.
    seed_ = core::HashSeed{ctl_->seed[0], ctl_->seed[1]};
    segment_.track(ctl_->appended);
}

// ---- entries ------------------------------------------------------------------------

std::uint32_t Log::tag(std::uint64_t offset, std::uint32_t len) const noexcept {
    return std::uint32_t(core::hash_u64(core::hash_u64(offset, seed_) ^ len, seed_));
}

int Log::check_tail(std::uint64_t tail) const noexcept {
    if (SHMDS_UNLIKELY(tail > geom_.capacity))
        return core::fail(SHMDS_ECORRUPT, "log tail {} lies beyond its {}-byte data region", tail,
                          geom_.capacity);
    return 0;
}

int Log::entry_at(std::uint64_t offset, std::uint64_t tail, std::uint32_t *len) const noexcept {
    // A relaxed atomic load: after a reset an appender may be rewriting this word while
    // we read it; the epoch check that follows every read discards what we saw then.
    const std::uint64_t word =
        __atomic_load_n(reinterpret_cast<const std::uint64_t *>(data_ + offset), __ATOMIC_RELAXED);
    EntryHeader h;
    std::memcpy(&h, &word, sizeof h);
    if (h.tag != tag(offset, h.len))
        return core::fail(-EINVAL, "log offset {} is not at an entry boundary", offset);
    if (h.len == 0 || h.len > tail - offset - kEntryHeader)
        return core::fail(SHMDS_ECORRUPT,
                          "log entry at offset {} claims {} bytes but the tail is at {}", offset,
                          h.len, tail);
    *len = h.len;
    return 0;
}

bool Log::stale(std::uint64_t epoch) const noexcept {
    // Orders every load of the read before this one (the seqlock's reader side).
    std::atomic_thread_fence(kAcquire);
    return ctl_->epoch.load(kRelaxed) != epoch;
}

int Log::begin_read(std::uint64_t *epoch) const noexcept {
    *epoch = ctl_->epoch.load(kAcquire);
    if (*epoch & 1) return core::fail_static(-ESTALE, "the log is being reset");
    return 0;
}

int Log::read_at(std::uint64_t epoch, std::uint64_t offset, const ReadBuffer &out,
                 std::uint64_t *next) const noexcept {
    const std::uint64_t tail = this->tail();
    const std::uint64_t truncation = this->truncation();
    std::uint32_t len = 0;
    int r = check_tail(tail);
    if (r == 0) {
        if (offset % kEntryAlign)
            r = core::fail(-EINVAL, "log offset {} is not at an entry boundary (entries are "
                                    "8-byte aligned)", offset);
        else if (offset < truncation)
            r = core::fail(-ENOENT, "log offset {} lies below the truncation point {}", offset,
                           truncation);
        else if (offset == tail)
            r = core::fail_static(-EAGAIN, "no entry at the log's tail yet");
        else if (offset > tail)
            r = core::fail(-ERANGE, "log offset {} lies beyond the tail {}", offset, tail);
        else
            r = entry_at(offset, tail, &len);
    }
    if (r == 0) {
        *out.len = len;
        if (len > out.buf_size)
            r = core::fail(-ENOBUFS, "log entry of {} bytes does not fit the {}-byte buffer", len,
                           out.buf_size);
        else
            std::memcpy(out.buf, data_ + offset + kEntryHeader, len);
    }
    // Whatever we found, a reset since `epoch` makes it meaningless.
    if (stale(epoch)) return fail_stale();
    if (r == 0) *next = offset + entry_size(len);
    return r;
}

std::uint64_t Log::data_size() const noexcept {
    const std::uint64_t tail = this->tail(), truncation = this->truncation();
    return truncation < tail ? tail - truncation : 0;
}

std::uint64_t Log::available() const noexcept {
    const std::uint64_t tail = this->tail();
    return tail < geom_.capacity ? geom_.capacity - tail : 0;
}

// ---- appends ------------------------------------------------------------------------

int Log::check_entries(const ByteSpan *entries, std::size_t n, std::uint64_t *total) const noexcept {
    std::uint64_t sum = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t len = entries[i].len;
        if (len == 0)
            return core::fail(-EINVAL, "log entry {} is empty; a log entry holds at least one "
                                       "byte", i);
        if (len > kMaxEntry)
            return core::fail(-E2BIG, "log entry {} of {} bytes exceeds the maximum {}", i, len,
                              kMaxEntry);
        sum += entry_size(len);
        if (sum > geom_.capacity)
            return core::fail(-ENOSPC, "log entries need more than the log's {} bytes",
                              geom_.capacity);
    }
    *total = sum;
    return 0;
}

void Log::repair(void *self) noexcept {
    // Appends and truncations commit with one store each, so a dead appender left the
    // old state. Only a reset writes several words: finish it.
    auto *log = static_cast<Log *>(self);
    LogControl *ctl = log->ctl_;
    const std::uint64_t e = ctl->epoch.load(kRelaxed);
    if (e & 1) {
        ctl->commit.store(0, kRelaxed);
        ctl->truncation.store(0, kRelaxed);
        ctl->resets.store(ctl->resets.load(kRelaxed) + 1, kRelaxed);
        ctl->epoch.store(e + 1, kRelease);
    }
}

int Log::append_locked(const ByteSpan *entries, std::size_t n, std::uint64_t total,
                       std::uint64_t *offsets) noexcept {
    SHMDS_FAILPOINT("log.append.locked");
    const std::uint64_t c = ctl_->commit.load(kRelaxed);
    std::uint64_t tail = commit_tail(c);
    if (int r = check_tail(tail)) return r;
    if (total > geom_.capacity - tail) {
        ctl_->append_full.fetch_add(1, kRelaxed);
        return core::fail(-ENOSPC, "log has {} bytes left; the append needs {}",
                          geom_.capacity - tail, total);
    }
    // Start owning the lines the next appends will write: a log past its first lap
    // writes lines no cache holds, and the unlock waits for each of them. This append's
    // span (up to kWriteAhead of it), shifted ahead, so back to back appends reach every
    // line once.
    if (geom_.capacity - tail > total + kWriteAhead)
        core::prefetch_lines_for_write(data_ + tail + kWriteAhead,
                                       total < kWriteAhead ? total : kWriteAhead);
    // Pairs with a reader's acquire fence before its epoch re-check: a reader that sees
    // these bytes also sees the epoch a reset stored before we took the lock.
    std::atomic_thread_fence(kRelease);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint32_t len = std::uint32_t(entries[i].len);
        const EntryHeader h{len, tag(tail, len)};
        std::uint64_t word;
        std::memcpy(&word, &h, sizeof word);
        __atomic_store_n(reinterpret_cast<std::uint64_t *>(data_ + tail), word, __ATOMIC_RELAXED);
        std::uint8_t *p = data_ + tail + kEntryHeader;
        std::memcpy(p, entries[i].data, len);
        const std::uint64_t padded = core::align_up(len, kEntryAlign);
        if (padded != len) std::memset(p + len, 0, padded - len);
        if (offsets) offsets[i] = tail;
        tail += entry_size(len);
    }
    SHMDS_FAILPOINT("log.append.data_written");
    ctl_->commit.store(pack_commit(commit_count(c) + n, tail), kRelease);  // the commit
    SHMDS_FAILPOINT("log.append.committed");
    return 0;
}

// The appenders' lock. It releases with a plain store: every change readers wait for
// (a commit, a reset) is made under it, and wait_for's sleepers pass through it after
// announcing (core/waitpoint.hpp, LockPassage), so the wake after an append needs no
// fence of its own and an append pays one locked instruction, its lock's CAS.
core::PlainLock Log::appenders() noexcept {
    return {ctl_->mutex, &Log::repair, this, &segment_.header().recoveries};
}

// `unwoken` names the failpoint between the commit and the wake: a process killed there
// wakes nobody, and sleepers look again on their own within 100 ms (core/block.hpp).
void Log::wake_readers([[maybe_unused]] const char *unwoken) noexcept {
    SHMDS_FAILPOINT(unwoken);
    core::waitpoint_wake(ctl_->appended, INT_MAX);
}

int Log::append(const ByteSpan *entries, std::size_t n, std::uint64_t *offsets) noexcept {
    if (n == 0) return 0;
    std::uint64_t total = 0;
    if (int r = check_entries(entries, n, &total)) {
        if (r == -ENOSPC) ctl_->append_full.fetch_add(1, kRelaxed);
        return r;
    }
    int r;
    {
        const core::RobustLock lock = appenders().hold(lock_deadline());
        if (!lock.owns()) return SHMDS_ECORRUPT;  // a word naming ourselves: sentence set
        r = append_locked(entries, n, total, offsets);
    }
    // After the unlock: a woken reader on our CPU may run at once.
    if (r == 0) wake_readers("log.append.unwoken");
    return r;
}

// ---- waiting, truncation, reset -----------------------------------------------------

int Log::wait_for(std::uint64_t count, const Deadline &dl) noexcept {
    std::uint64_t epoch = 0;
    if (int r = begin_read(&epoch)) return r;
    const int r = core::block_on(
        ctl_->appended, dl,
        [&] {
            if (ctl_->epoch.load(kAcquire) != epoch) return -ESTALE;
            return this->count() > count ? 0 : -EAGAIN;
        },
        [&] { return this->count() > count || ctl_->epoch.load(kRelaxed) != epoch; },
        core::SpinPace::eager,
        core::lock_passage(appenders(), dl));
    switch (r) {
        case 0: return 0;
        case -ESTALE: return core::fail_static(-ESTALE, "the log was reset during the wait");
        case -EAGAIN:
            return core::fail(-EAGAIN, "the log holds {} entries, not more than {}", this->count(),
                              count);
        case -ETIMEDOUT:
            return core::fail(-ETIMEDOUT, "the log still held {} entries (not more than {}) at "
                                          "the deadline", this->count(), count);
        default: return r;
    }
}

int Log::truncate(std::uint64_t offset) noexcept {
    const core::RobustLock lock = appenders().hold(lock_deadline());
    if (!lock.owns()) return SHMDS_ECORRUPT;
    const std::uint64_t tail = this->tail();
    const std::uint64_t now = ctl_->truncation.load(kRelaxed);
    if (int r = check_tail(tail)) return r;
    if (offset % kEntryAlign)
        return core::fail(-EINVAL, "log offset {} is not at an entry boundary (entries are "
                                   "8-byte aligned)", offset);
    if (offset < now)
        return core::fail(-EINVAL, "truncation only moves forward: {} lies below the current "
                                   "truncation point {}", offset, now);
    if (offset > tail)
        return core::fail(-ERANGE, "log offset {} lies beyond the tail {}", offset, tail);
    if (offset < tail) {
        std::uint32_t len;
        if (int r = entry_at(offset, tail, &len)) return r;
    }
    SHMDS_FAILPOINT("log.truncate.locked");
    ctl_->truncation.store(offset, kRelease);
    return 0;
}

int Log::reset() noexcept {
    {
        const core::RobustLock lock = appenders().hold(lock_deadline());
        if (!lock.owns()) return SHMDS_ECORRUPT;
        const std::uint64_t e = ctl_->epoch.load(kRelaxed);
        // Odd first: a reader that copies across any of the stores below sees the epoch
        // move. A holder killed in between leaves it odd; the repair finishes the reset.
        ctl_->epoch.store(e + 1, kRelaxed);
        std::atomic_thread_fence(kRelease);
        SHMDS_FAILPOINT("log.reset.begun");
        ctl_->commit.store(0, kRelaxed);
        ctl_->truncation.store(0, kRelaxed);
        ctl_->resets.store(ctl_->resets.load(kRelaxed) + 1, kRelaxed);
        ctl_->epoch.store(e + 2, kRelease);
    }
    // Sleepers in wait_for see the new epoch and return -ESTALE.
    wake_readers("log.reset.unwoken");
    return 0;
}

int Log::stats(Stats &s) noexcept {
    s = Stats{};
    const std::uint64_t c = commit();
    s.entries = commit_count(c);
    s.tail = commit_tail(c);
    s.truncation = truncation();
    s.data_size = s.truncation < s.tail ? s.tail - s.truncation : 0;
    s.capacity = geom_.capacity;
    s.available = s.tail < geom_.capacity ? geom_.capacity - s.tail : 0;
    s.epoch = epoch();
    s.resets = ctl_->resets.load(kRelaxed);
    s.append_full = ctl_->append_full.load(kRelaxed);
    s.recoveries = segment_.recoveries();
    s.waiters = core::waitpoint_sleepers(ctl_->appended);
    s.segment_bytes = geom_.total;
    return check_tail(s.tail);
}

}  // namespace shmds::log
