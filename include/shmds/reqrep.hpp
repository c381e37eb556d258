// libshmds C++ veneer: shmds::reqrep<T> over the C API (shmds/reqrep.h).
//
//   auto rr = shmds::reqrep<std::string>::create(shmds::backing::path("/dev/shm/rpc"), 64, 16);
//   // server:
//   if (auto req = rr.recv_for(std::chrono::seconds(1))) rr.reply(req->id, "ok: " + req->value);
//   // client:
//   auto answer = rr.request_for("ping", std::chrono::milliseconds(100));  // nullopt: timed out
//
// T is std::int64_t or std::string. Full, empty, timeouts, and replies refused because
// the request was cancelled or recycled are values; every other failure the C function
// reports throws shmds::error (a member marked noexcept never throws). A duration of
// zero or less is a probe that never waits. A received std::string is sized to the
// message, never to req_size/resp_size: reading grows it only on -ENOBUFS.
#ifndef SHMDS_REQREP_HPP
#define SHMDS_REQREP_HPP

#include <shmds/detail.hpp>
#include <shmds/reqrep.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>

namespace shmds {

/** Request/reply through shared memory, client and server in one; move-only. */
template <class T>
class reqrep : public detail::handle_base<shmds_reqrep_t, shmds_reqrep_close> {
    static_assert(std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::string>,
                  "shmds::reqrep carries std::int64_t or std::string");
    static constexpr bool is_bytes = std::is_same_v<T, std::string>;
    static constexpr int variant = is_bytes ? SHMDS_REQREP_BYTES : SHMDS_REQREP_INT64;

public:
    using value_type = T;
    using id_type = std::uint64_t;
    using stats_type = shmds_reqrep_stats_t;

    /** A received request: what to answer and the id to answer it with. */
    struct request_type {
        T value;
        id_type id;
    };

    /**
     * Create a segment with a queue of `request_capacity` requests and `response_slots`
     * replies in flight (std::string: requests up to `req_size`, replies up to
     * `resp_size` bytes; 0 picks the default), or attach to the same-variant one at that
     * path. Throws shmds::error (-EINVAL, -EEXIST, SHMDS_ETYPE, ...). Waits only for a
     * concurrent creator.
     */
    static reqrep create(const backing &where, std::uint64_t request_capacity,
                         std::uint64_t response_slots, std::uint64_t req_size = 0,
                         std::uint64_t resp_size = 0) {
        shmds_reqrep_config_t cfg =
            SHMDS_REQREP_CONFIG_INIT(variant, request_capacity, response_slots);
        cfg.req_size = req_size;
        cfg.resp_size = resp_size;
        return reqrep(detail::new_handle(shmds_reqrep_create, where.options(), &cfg));
    }
    /** Attach to an existing segment of this variant. Throws -ENOENT, SHMDS_ETYPE, ... */
    static reqrep open(const backing &where) {
        return reqrep(detail::new_handle(shmds_reqrep_open, where.options(), variant));
    }

    /** Adopt a C handle of this variant (takes ownership). */
    explicit reqrep(shmds_reqrep_t *handle) noexcept : handle_base(handle) {}

    // ---- client ----
    /**
     * Send if there is room and a free response slot now: the id to collect the reply
     * with, or std::nullopt. Never blocks. Throws -E2BIG (too long), SHMDS_ECORRUPT.
     */
    std::optional<id_type> try_send(const T &v) { return send_opt(v, SHMDS_NOWAIT); }
    /**
     * Send, blocking at most `d` for room and a slot; std::nullopt on timeout. Throws as
     * try_send().
     */
    template <class Rep, class Period>
    std::optional<id_type> send_for(const T &v, std::chrono::duration<Rep, Period> d) {
        return send_opt(v, detail::to_timeout_ns(d));
    }
    /** Send, blocking as long as it takes for room and a slot. Throws as try_send(). */
    id_type send(const T &v) {
        id_type id = 0;
        detail::check(send_raw(v, &id, SHMDS_FOREVER));
        return id;
    }

    /**
     * The reply to `id` if it is there now (collecting it frees the slot), else
     * std::nullopt. Never blocks. Throws -ENOENT (stale, collected or cancelled id).
     */
    std::optional<T> try_get(id_type id) { return get_opt(id, SHMDS_NOWAIT); }
    /**
     * The reply to `id`, blocking at most `d`; std::nullopt on timeout (the request
     * stays pending: cancel it). Throws as try_get().
     */
    template <class Rep, class Period>
    std::optional<T> get_for(id_type id, std::chrono::duration<Rep, Period> d) {
        return get_opt(id, detail::to_timeout_ns(d));
    }
    /** The reply to `id`, blocking as long as it takes. Throws as try_get(). */
    T get(id_type id) {
        T v{};
        detail::check(get_raw(id, v, SHMDS_FOREVER));
        return v;
    }

    /**
     * Send and wait for the reply, both under one deadline `d`; std::nullopt when
     * either could not happen in time (a sent request is then cancelled). Blocks at
     * most `d`. Throws as try_send() and try_get().
     */
    template <class Rep, class Period>
    std::optional<T> request_for(const T &v, std::chrono::duration<Rep, Period> d) {
        T out{};
        if (!detail::done(request_raw(v, out, detail::to_timeout_ns(d)))) return std::nullopt;
        return out;
    }
    /** Send and wait for the reply as long as it takes. Throws as request_for(). */
    T request(const T &v) {
        T out{};
        detail::check(request_raw(v, out, SHMDS_FOREVER));
        return out;
    }

    /**
     * Give up on `id`, freeing its slot; false if it was already collected, cancelled
     * or stale. Waits only while a server finishes copying the reply; throws -EAGAIN if
     * a live server has been writing it for over a second.
     */
    bool cancel(id_type id) { return detail::outcome<-ENOENT>(shmds_reqrep_cancel(handle(), id)); }
    /** Requests sent through this handle and not yet collected or cancelled. Never blocks. */
    std::uint64_t pending() const noexcept { return shmds_reqrep_pending(handle()); }

    // ---- server ----
    /** The oldest request if there is one now, else std::nullopt. Never blocks. Throws ECORRUPT. */
    std::optional<request_type> try_recv() { return recv_opt(SHMDS_NOWAIT); }
    /** The oldest request, blocking at most `d` for one; std::nullopt on timeout. */
    template <class Rep, class Period>
    std::optional<request_type> recv_for(std::chrono::duration<Rep, Period> d) {
        return recv_opt(detail::to_timeout_ns(d));
    }
    /** The oldest request, blocking as long as it takes. Throws SHMDS_ECORRUPT. */
    request_type recv() {
        request_type r{};
        detail::check(recv_raw(r, SHMDS_FOREVER));
        return r;
    }

    /**
     * Answer `id`; false if the request was cancelled, recycled or already answered.
     * Never blocks. Throws -E2BIG (longer than resp_size).
     */
    bool reply(id_type id, const T &v) {
        int rc;
        if constexpr (is_bytes)
            rc = shmds_reqrep_reply_bytes(handle(), id, v.data(), v.size());
        else
            rc = shmds_reqrep_reply_int(handle(), id, v);
        return detail::outcome<-ECANCELED, -ENOENT, -EEXIST>(rc);
    }

    /** Counters and geometry (shmds_reqrep_stats_t). Never blocks. */
    stats_type stats() const { return detail::read_stats(shmds_reqrep_stats, handle()); }
    /** The segment's fd for shmds_send_fd() (owned by the handle); throws -ENOENT if anonymous. */
    int fd() const { return detail::check(shmds_reqrep_fd(handle())); }
    /** Channel `c`'s eventfd, created on first use. Never blocks. */
    int eventfd(shmds_reqrep_channel_t c) {
        return detail::check(shmds_reqrep_eventfd(handle(), c));
    }
    /** Use `fd` as channel `c`'s eventfd (shmds_reqrep_set_eventfd()). Never blocks. */
    void set_eventfd(shmds_reqrep_channel_t c, int fd) {
        detail::check(shmds_reqrep_set_eventfd(handle(), c, fd));
    }
    /** Signal channel `c`'s eventfd. Never blocks; throws -ENOENT (no eventfd). */
    void notify(shmds_reqrep_channel_t c) { detail::check(shmds_reqrep_notify(handle(), c)); }
    /** Channel `c`'s pending event count, or std::nullopt if none. Never blocks; throws -ENOENT. */
    std::optional<std::uint64_t> consume_events(shmds_reqrep_channel_t c) {
        return detail::consume_events(shmds_reqrep_eventfd_consume, handle(), c);
    }

private:
    int send_raw(const T &v, id_type *id, std::int64_t timeout) {
        if constexpr (is_bytes)
            return shmds_reqrep_send_bytes(handle(), v.data(), v.size(), id, timeout);
        else
            return shmds_reqrep_send_int(handle(), v, id, timeout);
    }
    std::optional<id_type> send_opt(const T &v, std::int64_t timeout) {
        id_type id = 0;
        if (!detail::done(send_raw(v, &id, timeout))) return std::nullopt;
        return id;
    }

    int get_raw(id_type id, T &v, std::int64_t timeout) {
        if constexpr (is_bytes) {
            return detail::read_bytes(v, timeout, [&](void *b, std::size_t n, std::size_t *len,
                                                      std::int64_t left) {
                return shmds_reqrep_get_bytes(handle(), id, b, n, len, left);
            });
        } else {
            return shmds_reqrep_get_int(handle(), id, &v, timeout);
        }
    }
    std::optional<T> get_opt(id_type id, std::int64_t timeout) {
        T v{};
        if (!detail::done(get_raw(id, v, timeout))) return std::nullopt;
        return v;
    }

    int request_raw(const T &in, T &out, std::int64_t timeout) {
        if constexpr (is_bytes) {
            // Not shmds_reqrep_request_bytes(): it discards a reply longer than the buffer,
            // so the buffer would have to be resp_size (up to 16 MiB) on every call. The
            // same two steps under one deadline, with get's buffer grown to the reply.
            const detail::deadline dl(timeout);
            id_type id = 0;
            if (const int rc = send_raw(in, &id, timeout)) return rc;
            int rc;
            try {
                rc = get_raw(id, out, dl.left_ns());
            } catch (...) {  // std::bad_alloc while growing: do not leave the slot taken
                shmds_reqrep_cancel(handle(), id);
                throw;
            }
            // As the C verb: a reply not collected in time is given up, freeing the slot.
            if (rc == -EAGAIN || rc == -ETIMEDOUT) shmds_reqrep_cancel(handle(), id);
            return rc;
        } else {
            return shmds_reqrep_request_int(handle(), in, &out, timeout);
        }
    }

    int recv_raw(request_type &r, std::int64_t timeout) {
        if constexpr (is_bytes) {
            return detail::read_bytes(r.value, timeout, [&](void *b, std::size_t n,
                                                            std::size_t *len, std::int64_t left) {
                return shmds_reqrep_recv_bytes(handle(), b, n, len, &r.id, left);
            });
        } else {
            return shmds_reqrep_recv_int(handle(), &r.value, &r.id, timeout);
        }
    }
    std::optional<request_type> recv_opt(std::int64_t timeout) {
        request_type r{};
        if (!detail::done(recv_raw(r, timeout))) return std::nullopt;
        return r;
    }
};

}  // namespace shmds

#endif  // SHMDS_REQREP_HPP
