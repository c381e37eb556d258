// libshmds C++ veneer: shmds::bitset over the C bit set API (shmds/bitset.h).
//
//   auto done = shmds::bitset::create(shmds::backing::path("/dev/shm/jobs-done"), 10000);
//   if (!done.set(job)) { /* this process marked the job first */ }
//   if (done.test(job)) ...;
//   for (std::uint64_t b : done.set_bits()) report(b);
//   done.freeze();                                  // read-only for good, for everyone
//   auto view = shmds::bitset::open_read_only(shmds::backing::path("/dev/shm/jobs-done"));
//
// Per-bit verbs return bool (set/clear: the old bit; toggle: the new bit); every
// failure the C function reports throws shmds::error (std::errc::result_out_of_range
// for a bit >= size(), -EROFS for a mutation of a frozen set or through a read-only
// handle). Nothing blocks. Crash behaviour and thread safety are those of the C API;
// the set keeps no per-process state, so nothing here depends on the process that made
// the object (it may be used in a fork() child).
#ifndef SHMDS_BITSET_HPP
#define SHMDS_BITSET_HPP

#include <shmds/bitset.h>
#include <shmds/detail.hpp>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace shmds {

/** A fixed-size set of bits in shared memory; move-only, closes its handle. */
class bitset
    : public detail::handle_base<shmds_bitset_t, shmds_bitset_close>,
      public detail::eventfd_verbs<bitset, shmds_bitset_eventfd, shmds_bitset_set_eventfd,
                                   shmds_bitset_notify, shmds_bitset_eventfd_consume> {
public:
    using stats_type = shmds_bitset_stats_t;

    /**
     * Create a set of `nbits` clear bits (1 ..= 2^36), or attach to the set already at
     * that path (its size wins). Throws shmds::error (-EINVAL bad size, -EEXIST with
     * exclusive(), SHMDS_ETYPE another structure, ...). Waits only for a concurrent creator.
     */
    static bitset create(const backing &where, std::uint64_t nbits) {
        shmds_bitset_config_t cfg = SHMDS_BITSET_CONFIG_INIT(nbits);
        return bitset(detail::new_handle(shmds_bitset_create, where.options(), &cfg));
    }
    /** Attach to an existing set. Throws shmds::error (-ENOENT, SHMDS_ETYPE). */
    static bitset open(const backing &where) {
        return bitset(detail::new_handle(shmds_bitset_open, where.options()));
    }
    /** Attach mapped PROT_READ: reads work, every mutation throws -EROFS. */
    static bitset open_read_only(const backing &where) {
        return bitset(detail::new_handle(shmds_bitset_open_read_only, where.options()));
    }
    /** Adopt a C handle (takes ownership). */
    explicit bitset(shmds_bitset_t *handle) noexcept : handle_base(handle) {}

    // ---- per-bit (one atomic instruction each) ----
    /** Set `bit`; returns its old value (false: this call set it). */
    bool set(std::uint64_t bit) { return detail::check(shmds_bitset_set(handle(), bit)) != 0; }
    /** Clear `bit`; returns its old value (true: this call cleared it). */
    bool clear(std::uint64_t bit) { return detail::check(shmds_bitset_clear(handle(), bit)) != 0; }
    /** Flip `bit`; returns its new value. */
    bool toggle(std::uint64_t bit) { return detail::check(shmds_bitset_toggle(handle(), bit)) != 0; }
    /** Read `bit`. */
    bool test(std::uint64_t bit) const {
        return detail::check(shmds_bitset_test(handle(), bit)) != 0;
    }
    bool operator[](std::uint64_t bit) const { return test(bit); }

    // ---- scans ----
    /** The number of bits (fixed at creation). */
    std::uint64_t size() const noexcept { return shmds_bitset_size(handle()); }
    /** The number of set bits. */
    std::uint64_t count() const noexcept { return shmds_bitset_count(handle()); }
    bool any() const { return detail::check(shmds_bitset_any(handle())) != 0; }
    bool none() const { return detail::check(shmds_bitset_none(handle())) != 0; }
    /** The lowest set bit at or after `from`, or std::nullopt. Throws for from > size(). */
    std::optional<std::uint64_t> first_set(std::uint64_t from = 0) const {
        std::uint64_t b = 0;
        if (!detail::outcome<-ENOENT>(shmds_bitset_first_set(handle(), from, &b)))
            return std::nullopt;
        return b;
    }
    /** The lowest clear bit at or after `from`, or std::nullopt. */
    std::optional<std::uint64_t> first_clear(std::uint64_t from = 0) const {
        std::uint64_t b = 0;
        if (!detail::outcome<-ENOENT>(shmds_bitset_first_clear(handle(), from, &b)))
            return std::nullopt;
        return b;
    }
    /** Every set bit at or after `from`, ascending (paged through the C call). */
    std::vector<std::uint64_t> set_bits(std::uint64_t from = 0) const {
        std::vector<std::uint64_t> out;
        constexpr std::size_t kPage = 1024;
        std::uint64_t page[kPage];
        for (;;) {
            std::size_t n = 0;
            detail::check(shmds_bitset_set_bits(handle(), from, page, kPage, &n));
            out.insert(out.end(), page, page + n);
            if (n < kPage) return out;
            from = page[kPage - 1] + 1;
        }
    }
    /** size() characters '0'/'1', bit 0 first. */
    std::string to_string() const {
        std::string s(std::size_t(size()) + 1, '\0');
        detail::check(shmds_bitset_to_string(handle(), s.data(), s.size(), nullptr));
        s.pop_back();
        return s;
    }

    // ---- bulk (one atomic change per word; not atomic as a whole) ----
    void fill() { detail::check(shmds_bitset_fill(handle())); }
    void zero() { detail::check(shmds_bitset_zero(handle())); }
    void fill(std::uint64_t from, std::uint64_t n) {
        detail::check(shmds_bitset_fill_range(handle(), from, n));
    }
    void zero(std::uint64_t from, std::uint64_t n) {
        detail::check(shmds_bitset_zero_range(handle(), from, n));
    }

    // ---- freeze ----
    /** Make the set read-only for good (every handle, every process). */
    void freeze() { detail::check(shmds_bitset_freeze(handle())); }
    bool frozen() const { return detail::check(shmds_bitset_is_frozen(handle())) != 0; }

    /** Geometry and counters (shmds_bitset_stats_t). Throws shmds::error. */
    stats_type stats() const { return detail::read_stats(shmds_bitset_stats, handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the set); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_bitset_fd(handle())); }
    /** Flush a file-backed set to its file. */
    void sync() const { detail::check(shmds_bitset_sync(handle())); }

    // eventfd(), set_eventfd(), notify(), consume_events(): detail::eventfd_verbs.
};

}  // namespace shmds

#endif  // SHMDS_BITSET_HPP
