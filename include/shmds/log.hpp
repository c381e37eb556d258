// libshmds C++ veneer: shmds::log over the C log API (shmds/log.h).
//
//   auto audit = shmds::log::create(shmds::backing::path("/dev/shm/audit"), 1 << 20);
//   std::uint64_t at = audit.append("job 17 done");
//   for (const shmds::log::entry &e : audit.entries()) use(e.offset, e.data);
//   auto c = audit.cursor_at(at);                 // follow the tail:
//   while (audit.wait_for(seen, std::chrono::seconds(1))) while (auto e = c.next()) ...
//
// A full log, an offset at the tail and timeouts are values (std::optional, bool);
// every other failure the C function reports throws shmds::error, including -ESTALE
// once the log was reset under a cursor or an iteration. A duration of zero or less is
// a probe that never waits (shmds::detail::to_timeout_ns). Crash behaviour and thread
// safety are those of the C API.
#ifndef SHMDS_LOG_HPP
#define SHMDS_LOG_HPP

#include <shmds/detail.hpp>
#include <shmds/log.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace shmds {

/** An append-only log of byte entries in shared memory; move-only, closes its handle
 * when destroyed. */
class log : public detail::handle_base<shmds_log_t, shmds_log_close>,
            public detail::eventfd_verbs<log, shmds_log_eventfd, shmds_log_set_eventfd,
                                         shmds_log_notify, shmds_log_eventfd_consume> {
public:
    using stats_type = shmds_log_stats_t;

    /** One entry as read: where it is, where the next one starts, its bytes. */
    struct entry {
        std::uint64_t offset = 0;
        std::uint64_t next = 0;
        std::string data;
    };

    /**
     * Create a log whose data region holds `capacity` bytes, or attach to the log
     * already at that path. Throws shmds::error (-EINVAL bad capacity, -EEXIST with
     * exclusive(), SHMDS_ETYPE another structure, ...). Waits only for a concurrent
     * creator.
     */
    static log create(const backing &where, std::uint64_t capacity) {
        const shmds_log_config_t cfg = SHMDS_LOG_CONFIG_INIT(capacity);
        return log(detail::new_handle(shmds_log_create, where.options(), &cfg));
    }

    /** Attach to an existing log. Throws shmds::error (-ENOENT, SHMDS_ETYPE, ...). */
    static log open(const backing &where) {
        return log(detail::new_handle(shmds_log_open, where.options()));
    }

    /** Adopt a C log handle (takes ownership). */
    explicit log(shmds_log_t *handle) noexcept : handle_base(handle) {}

    // ---- appends (wait only for the append lock) ----
    /** Append one entry; its offset. Throws shmds::error (-EINVAL empty, -ENOSPC, -E2BIG). */
    std::uint64_t append(std::string_view data) {
        std::uint64_t off = 0;
        detail::check(shmds_log_append(handle(), data.data(), data.size(), &off));
        return off;
    }
    /** Append one entry if it fits; std::nullopt when the log lacks the room (-ENOSPC). */
    std::optional<std::uint64_t> try_append(std::string_view data) {
        std::uint64_t off = 0;
        if (!detail::outcome<-ENOSPC>(shmds_log_append(handle(), data.data(), data.size(), &off)))
            return std::nullopt;
        return off;
    }
    /** Append all entries as one commit (all or none); their offsets. Throws as append(). */
    std::vector<std::uint64_t> append_multi(const std::vector<std::string> &entries) {
        const detail::byte_views views(entries);
        std::vector<std::uint64_t> offs(entries.size());
        detail::check(shmds_log_append_multi(handle(), views.datas.data(), views.lens.data(),
                                             entries.size(), offs.data()));
        return offs;
    }

    // ---- reads (never block) ----
    /**
     * The entry at `offset`; std::nullopt if offset is the tail (nothing there yet).
     * Throws shmds::error (-ERANGE, -ENOENT truncated, -EINVAL not an entry's start,
     * -ESTALE, SHMDS_ECORRUPT).
     */
    std::optional<entry> read_entry(std::uint64_t offset) const {
        entry e;
        e.offset = offset;
        const int rc = detail::read_bytes(e.data, SHMDS_NOWAIT, [&](void *b, std::size_t n,
                                                                    std::size_t *len, std::int64_t) {
            return shmds_log_read_entry(handle(), offset, b, n, len, &e.next);
        });
        if (!detail::outcome<-EAGAIN>(rc)) return std::nullopt;
        return e;
    }

    /**
     * Call f(std::string_view data, std::uint64_t offset) for each entry from `from` to
     * the tail as it is now; f may return bool (false stops after that entry) or void.
     * Returns the offset after the last entry visited. Throws as read_entry(); an
     * exception from f propagates after the C call returns.
     */
    template <class F>
    std::uint64_t each_entry(std::uint64_t from, F &&f) const {
        struct context {
            F *f;
            std::exception_ptr error;
        } ctx{&f, nullptr};
        std::uint64_t final = from;
        const std::int64_t rc = shmds_log_each_entry(
            handle(), from,
            [](const void *d, std::size_t len, std::uint64_t off, void *p) -> int {
                auto *c = static_cast<context *>(p);
                try {
                    const std::string_view data(static_cast<const char *>(d), len);
                    if constexpr (std::is_same_v<decltype((*c->f)(data, off)), void>) {
                        (*c->f)(data, off);
                        return 0;
                    } else {
                        return (*c->f)(data, off) ? 0 : 1;
                    }
                } catch (...) {
                    c->error = std::current_exception();
                    return 1;
                }
            },
            &ctx, &final);
        if (ctx.error) std::rethrow_exception(ctx.error);
        if (rc < 0) detail::check(int(rc));
        return final;
    }

    /** A reading position in one epoch: next() walks entries, then follows the tail. */
    class cursor {
    public:
        /** The next entry, or std::nullopt at the tail. Throws as read_entry() (-ESTALE
         * once the log was reset since the cursor began). */
        std::optional<entry> next() {
            entry e;
            std::uint64_t off = 0;
            const int rc = detail::read_bytes(e.data, SHMDS_NOWAIT, [&](void *b, std::size_t n,
                                                                        std::size_t *len,
                                                                        std::int64_t) {
                return shmds_log_cursor_next(log_, &c_, b, n, len, &off);
            });
            if (!detail::outcome<-EAGAIN>(rc)) return std::nullopt;
            e.offset = off;
            e.next = c_.offset;
            return e;
        }
        /** The offset of the entry next() reads. */
        std::uint64_t offset() const noexcept { return c_.offset; }
        /** The epoch the cursor belongs to. */
        std::uint64_t epoch() const noexcept { return c_.epoch; }

    private:
        friend class log;
        cursor(shmds_log_t *l, std::uint64_t from) : log_(l) {
            detail::check(shmds_log_cursor_init(l, &c_, from));
        }
        shmds_log_t *log_;
        shmds_log_cursor_t c_{};
    };

    /** A cursor at `from` in the current epoch. Throws -ESTALE during a reset. */
    cursor cursor_at(std::uint64_t from) const { return cursor(handle(), from); }

    /** Input iterator over entries through a cursor; equal to end() at the tail. */
    class iterator {
    public:
        using iterator_category = std::input_iterator_tag;
        using value_type = entry;
        using difference_type = std::ptrdiff_t;
        using pointer = const entry *;
        using reference = const entry &;

        iterator() = default;  // end()
        reference operator*() const { return *current_; }
        pointer operator->() const { return &*current_; }
        iterator &operator++() {
            current_ = cursor_->next();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator &a, const iterator &b) {
            return a.current_.has_value() == b.current_.has_value() &&
                   (!a.current_ || a.current_->offset == b.current_->offset);
        }
        friend bool operator!=(const iterator &a, const iterator &b) { return !(a == b); }

    private:
        friend class log;
        explicit iterator(cursor c) : cursor_(std::move(c)) { current_ = cursor_->next(); }
        std::optional<cursor> cursor_;
        std::optional<entry> current_;
    };

    /** The entries from `from` to the tail, for range-for (each step reads through a
     * cursor, so entries appended meanwhile are included). */
    class range {
    public:
        iterator begin() const { return iterator(log_->cursor_at(from_)); }
        iterator end() const { return iterator(); }

    private:
        friend class log;
        range(const log *l, std::uint64_t from) : log_(l), from_(from) {}
        const log *log_;
        std::uint64_t from_;
    };
    /** The visible entries (from the truncation point), for range-for. */
    range entries() const { return range(this, truncation()); }
    /** The entries from `from`, for range-for. */
    range entries(std::uint64_t from) const { return range(this, from); }

    // ---- gauges (snapshots; never block; 0 for a moved-from log) ----
    std::uint64_t tail_offset() const noexcept { return shmds_log_tail_offset(handle()); }
    std::uint64_t entry_count() const noexcept { return shmds_log_entry_count(handle()); }
    std::uint64_t data_size() const noexcept { return shmds_log_data_size(handle()); }
    std::uint64_t available() const noexcept { return shmds_log_available(handle()); }
    std::uint64_t capacity() const noexcept { return shmds_log_capacity(handle()); }
    std::uint64_t truncation() const noexcept { return shmds_log_truncation(handle()); }
    std::uint64_t epoch() const noexcept { return shmds_log_epoch(handle()); }
    std::uint64_t recoveries() const noexcept { return shmds_log_recoveries(handle()); }

    // ---- waiting and changes ----
    /** Block until entry_count() > count; true then, false on timeout. Throws -ESTALE
     * (reset meanwhile). */
    template <class Rep, class Period>
    bool wait_for(std::uint64_t count, std::chrono::duration<Rep, Period> d) {
        return detail::done(shmds_log_wait_for(handle(), count, detail::to_timeout_ns(d)));
    }
    /** wait_for until a time point on any clock. */
    template <class Clock, class Duration>
    bool wait_until(std::uint64_t count, std::chrono::time_point<Clock, Duration> t) {
        return detail::done(shmds_log_wait_for(handle(), count, detail::until_timeout_ns(t)));
    }
    /** Block as long as it takes until entry_count() > count. Throws -ESTALE. */
    void wait_for(std::uint64_t count) { detail::check(shmds_log_wait_for(handle(), count, SHMDS_FOREVER)); }

    /** Hide the entries below `offset` (an entry's start or the tail; only forward). */
    void truncate(std::uint64_t offset) { detail::check(shmds_log_truncate(handle(), offset)); }
    /** Empty the log and start a new epoch. */
    void reset() { detail::check(shmds_log_reset(handle())); }
    /** Counters and geometry (shmds_log_stats_t). Throws shmds::error. */
    stats_type stats() const { return detail::read_stats(shmds_log_stats, handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the log); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_log_fd(handle())); }

    // eventfd(), set_eventfd(), notify(), consume_events(): detail::eventfd_verbs.
};

}  // namespace shmds

#endif  // SHMDS_LOG_HPP
