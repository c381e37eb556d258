// libshmds C++ veneer: shmds::reqrep<T> over the C API (shmds/reqrep.h).
//
//   auto rr = shmds::reqrep<std::string>::create(shmds::backing::path("/dev/shm/rpc"), 64, 16);
//   // server:
//   if (auto req = rr.recv_for(std::chrono::seconds(1))) rr.reply(req->id, "ok: " + req->value);
//   // client:
//   auto answer = rr.request_for("ping", std::chrono::milliseconds(100));  // nullopt: timed out
//
// T is std::int64_t or std::string. Full, empty, timeouts, and replies refused because
// the request was cancelled or recycled are values; real failures throw shmds::error.
#ifndef SHMDS_REQREP_HPP
#define SHMDS_REQREP_HPP

#include <shmds/error.hpp>
#include <shmds/reqrep.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace shmds {

template <class T>
class reqrep {
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

    static reqrep create(const backing &where, std::uint64_t request_capacity,
                         std::uint64_t response_slots, std::uint64_t req_size = 0,
                         std::uint64_t resp_size = 0) {
        shmds_reqrep_config_t cfg =
            SHMDS_REQREP_CONFIG_INIT(variant, request_capacity, response_slots);
        cfg.req_size = req_size;
        cfg.resp_size = resp_size;
        shmds_reqrep_t *h = nullptr;
        detail::check(shmds_reqrep_create(where.options(), &cfg, &h));
        return reqrep(h);
    }
    static reqrep open(const backing &where) {
        shmds_reqrep_t *h = nullptr;
        detail::check(shmds_reqrep_open(where.options(), variant, &h));
        return reqrep(h);
    }

    explicit reqrep(shmds_reqrep_t *handle) : h_(handle) {
        shmds_reqrep_stats_t s{};
        s.struct_size = sizeof s;
        if (h_ && shmds_reqrep_stats(h_, &s) == 0) {
            req_size_ = s.req_size;
            resp_size_ = s.resp_size;
        }
    }
    reqrep(reqrep &&o) noexcept
        : h_(std::exchange(o.h_, nullptr)), req_size_(o.req_size_), resp_size_(o.resp_size_) {}
    reqrep &operator=(reqrep &&o) noexcept {
        if (this != &o) {
            shmds_reqrep_close(h_);
            h_ = std::exchange(o.h_, nullptr);
            req_size_ = o.req_size_;
            resp_size_ = o.resp_size_;
        }
        return *this;
    }
    reqrep(const reqrep &) = delete;
    reqrep &operator=(const reqrep &) = delete;
    ~reqrep() { shmds_reqrep_close(h_); }

    shmds_reqrep_t *handle() const noexcept { return h_; }

    // ---- client ----
    /** Send if there is room and a free slot now; the id, or nullopt. */
    std::optional<id_type> try_send(const T &v) { return send_raw(v, SHMDS_NOWAIT); }
    template <class Rep, class Period>
    std::optional<id_type> send_for(const T &v, std::chrono::duration<Rep, Period> d) {
        return send_raw(v, detail::to_timeout_ns(d));
    }
    id_type send(const T &v) { return *send_raw(v, SHMDS_FOREVER); }

    /** The reply to id if it is there now. Throws for a stale or cancelled id. */
    std::optional<T> try_get(id_type id) { return get_raw(id, SHMDS_NOWAIT); }
    template <class Rep, class Period>
    std::optional<T> get_for(id_type id, std::chrono::duration<Rep, Period> d) {
        return get_raw(id, detail::to_timeout_ns(d));
    }
    T get(id_type id) { return *get_raw(id, SHMDS_FOREVER); }

    /** Send and wait under one deadline; nullopt (and cancelled) on timeout. */
    template <class Rep, class Period>
    std::optional<T> request_for(const T &v, std::chrono::duration<Rep, Period> d) {
        return request_raw(v, detail::to_timeout_ns(d));
    }
    T request(const T &v) { return *request_raw(v, SHMDS_FOREVER); }

    /** Give up on id; false if it was already collected, cancelled or stale. */
    bool cancel(id_type id) {
        int rc = shmds_reqrep_cancel(h_, id);
        if (rc == -ENOENT) return false;
        detail::check(rc);
        return true;
    }
    std::uint64_t pending() const noexcept { return shmds_reqrep_pending(h_); }

    // ---- server ----
    std::optional<request_type> try_recv() { return recv_raw(SHMDS_NOWAIT); }
    template <class Rep, class Period>
    std::optional<request_type> recv_for(std::chrono::duration<Rep, Period> d) {
        return recv_raw(detail::to_timeout_ns(d));
    }
    request_type recv() { return *recv_raw(SHMDS_FOREVER); }

    /** Answer id; false if the request was cancelled, recycled or already answered. */
    bool reply(id_type id, const T &v) {
        int rc;
        if constexpr (is_bytes)
            rc = shmds_reqrep_reply_bytes(h_, id, v.data(), v.size());
        else
            rc = shmds_reqrep_reply_int(h_, id, v);
        if (rc == -ECANCELED || rc == -ENOENT || rc == -EEXIST) return false;
        detail::check(rc);
        return true;
    }

    stats_type stats() const {
        stats_type s{};
        s.struct_size = sizeof s;
        detail::check(shmds_reqrep_stats(h_, &s));
        return s;
    }
    int fd() const { return detail::check(shmds_reqrep_fd(h_)); }
    int eventfd(shmds_reqrep_channel_t c) { return detail::check(shmds_reqrep_eventfd(h_, c)); }
    void set_eventfd(shmds_reqrep_channel_t c, int fd) {
        detail::check(shmds_reqrep_set_eventfd(h_, c, fd));
    }
    void notify(shmds_reqrep_channel_t c) { detail::check(shmds_reqrep_notify(h_, c)); }

private:
    static bool would_block(int rc) {
        if (rc == 0) return false;
        if (rc == -EAGAIN || rc == -ETIMEDOUT) return true;
        throw error(rc);
    }

    std::optional<id_type> send_raw(const T &v, std::int64_t timeout) {
        id_type id = 0;
        int rc;
        if constexpr (is_bytes)
            rc = shmds_reqrep_send_bytes(h_, v.data(), v.size(), &id, timeout);
        else
            rc = shmds_reqrep_send_int(h_, v, &id, timeout);
        if (would_block(rc)) return std::nullopt;
        return id;
    }

    std::optional<T> get_raw(id_type id, std::int64_t timeout) {
        T v{};
        int rc;
        if constexpr (is_bytes) {
            v.resize(resp_size_);
            std::size_t len = 0;
            rc = shmds_reqrep_get_bytes(h_, id, &v[0], v.size(), &len, timeout);
            v.resize(len);
        } else {
            rc = shmds_reqrep_get_int(h_, id, &v, timeout);
        }
        if (would_block(rc)) return std::nullopt;
        return v;
    }

    std::optional<T> request_raw(const T &in, std::int64_t timeout) {
        T v{};
        int rc;
        if constexpr (is_bytes) {
            v.resize(resp_size_);
            std::size_t len = 0;
            rc = shmds_reqrep_request_bytes(h_, in.data(), in.size(), &v[0], v.size(), &len,
                                            timeout);
            v.resize(len);
        } else {
            rc = shmds_reqrep_request_int(h_, in, &v, timeout);
        }
        if (would_block(rc)) return std::nullopt;
        return v;
    }

    std::optional<request_type> recv_raw(std::int64_t timeout) {
        request_type r{};
        int rc;
        if constexpr (is_bytes) {
            r.value.resize(req_size_);
            std::size_t len = 0;
            rc = shmds_reqrep_recv_bytes(h_, &r.value[0], r.value.size(), &len, &r.id, timeout);
            r.value.resize(len);
        } else {
            rc = shmds_reqrep_recv_int(h_, &r.value, &r.id, timeout);
        }
        if (would_block(rc)) return std::nullopt;
        return r;
    }

    shmds_reqrep_t *h_ = nullptr;
    std::uint64_t req_size_ = 0;  // read once: the geometry never changes
    std::uint64_t resp_size_ = 0;
};

}  // namespace shmds

#endif  // SHMDS_REQREP_HPP
