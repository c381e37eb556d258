// One interface over the deque and the stack (the one slot-deque engine behind both),
// with int64 or bytes elements, for the tests that check both the same way: the crash
// matrix, the fork stress and the lost-wake cases. Items are keys (uint64 > 0); a
// bytes item is the key followed by its complement, so a torn item shows.
#pragma once

#include "deque_helpers.hpp"

#include <shmds/deque.h>
#include <shmds/stack.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace seq_test {

enum class Structure { deque, stack };

class Seq {
public:
    Seq(Structure s, int type, std::uint64_t capacity) : s_(s), bytes_(type == SHMDS_TYPE_BYTES) {
        shmds_options_t o = SHMDS_OPTIONS_INIT;
        o.backing = SHMDS_BACKING_ANON;
        const std::uint64_t max_len = bytes_ ? 16 : 0;
        if (s == Structure::deque) {
            shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(type, capacity);
            cfg.max_len = max_len;
            rc_ = shmds_deque_create(&o, &cfg, &d_);
        } else {
            shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(type, capacity);
            cfg.max_len = max_len;
            rc_ = shmds_stack_create(&o, &cfg, &st_);
        }
    }
    ~Seq() {
        shmds_deque_close(d_);
        shmds_stack_close(st_);
    }
    Seq(const Seq &) = delete;
    Seq &operator=(const Seq &) = delete;

    int create_rc() const { return rc_; }
    bool is_stack() const { return s_ == Structure::stack; }

    // end: SHMDS_DEQUE_FRONT/BACK (a stack ignores it: it works at its top).
    int push(std::uint64_t key, std::int64_t timeout, int end = SHMDS_DEQUE_BACK) {
        if (bytes_) {
            std::uint8_t b[16];
            encode(key, b);
            return d_ ? shmds_deque_push_bytes(d_, end, b, 16, timeout)
                      : shmds_stack_push_bytes(st_, b, 16, timeout);
        }
        return d_ ? shmds_deque_push_int(d_, end, std::int64_t(key), timeout)
                  : shmds_stack_push_int(st_, std::int64_t(key), timeout);
    }
    int push_multi(const std::vector<std::uint64_t> &keys, std::size_t *pushed,
                   std::int64_t timeout, int end = SHMDS_DEQUE_BACK) {
        if (bytes_) {
            std::vector<std::uint8_t> store(keys.size() * 16);
            std::vector<const void *> datas(keys.size());
            std::vector<std::size_t> lens(keys.size(), 16);
            for (std::size_t i = 0; i < keys.size(); ++i) {
                encode(keys[i], &store[i * 16]);
                datas[i] = &store[i * 16];
            }
            return d_ ? shmds_deque_push_multi_bytes(d_, end, datas.data(), lens.data(),
                                                     keys.size(), pushed, timeout)
                      : shmds_stack_push_multi_bytes(st_, datas.data(), lens.data(), keys.size(),
                                                     pushed, timeout);
        }
        std::vector<std::int64_t> v(keys.begin(), keys.end());
        return d_ ? shmds_deque_push_multi_int(d_, end, v.data(), v.size(), pushed, timeout)
                  : shmds_stack_push_multi_int(st_, v.data(), v.size(), pushed, timeout);
    }
    // Pop one key; a torn or zero item is returned as key 0 with rc -EPROTO.
    int pop(std::uint64_t *key, std::int64_t timeout, int end = SHMDS_DEQUE_FRONT) {
        if (bytes_) {
            std::uint8_t b[32];
            std::size_t len = 0;
            const int rc = d_ ? shmds_deque_pop_bytes(d_, end, b, sizeof b, &len, timeout)
                              : shmds_stack_pop_bytes(st_, b, sizeof b, &len, timeout);
            if (rc) return rc;
            return decode(b, len, key);
        }
        std::int64_t v = 0;
        const int rc = d_ ? shmds_deque_pop_int(d_, end, &v, timeout)
                          : shmds_stack_pop_int(st_, &v, timeout);
        *key = std::uint64_t(v);
        return rc == 0 && v <= 0 ? -EPROTO : rc;
    }
    int pop_multi(std::vector<std::uint64_t> *keys, std::size_t max, std::int64_t timeout,
                  int end = SHMDS_DEQUE_FRONT) {
        std::size_t got = 0;
        int rc;
        if (bytes_) {
            std::vector<std::uint8_t> buf(max * 16);
            std::vector<std::size_t> lens(max);
            rc = d_ ? shmds_deque_pop_multi_bytes(d_, end, buf.data(), buf.size(), lens.data(), max,
                                                  &got, timeout)
                    : shmds_stack_pop_multi_bytes(st_, buf.data(), buf.size(), lens.data(), max,
                                                  &got, timeout);
            for (std::size_t i = 0, at = 0; i < got; at += lens[i], ++i) {
                std::uint64_t k = 0;
                if (decode(&buf[at], lens[i], &k)) return -EPROTO;
                keys->push_back(k);
            }
        } else {
            std::vector<std::int64_t> v(max);
            rc = d_ ? shmds_deque_pop_multi_int(d_, end, v.data(), max, &got, timeout)
                    : shmds_stack_pop_multi_int(st_, v.data(), max, &got, timeout);
            for (std::size_t i = 0; i < got; ++i) keys->push_back(std::uint64_t(v[i]));
        }
        return rc;
    }
    int clear() { return d_ ? shmds_deque_clear(d_, nullptr) : shmds_stack_clear(st_, nullptr); }
    int peek() {
        if (bytes_) {
            std::uint8_t b[32];
            std::size_t len;
            return d_ ? shmds_deque_peek_bytes(d_, SHMDS_DEQUE_FRONT, b, sizeof b, &len)
                      : shmds_stack_peek_bytes(st_, b, sizeof b, &len);
        }
        std::int64_t v;
        return d_ ? shmds_deque_peek_int(d_, SHMDS_DEQUE_FRONT, &v) : shmds_stack_peek_int(st_, &v);
    }
    struct Stats {
        std::uint64_t size, push_ok, pop_ok, recoveries, cleared;
        std::uint32_t push_waiters, pop_waiters;
    };
    int stats(Stats *out) {
        if (d_) {
            shmds_deque_stats_t s{};
            s.struct_size = sizeof s;
            const int rc = shmds_deque_stats(d_, &s);
            *out = {s.size, s.push_ok, s.pop_ok, s.recoveries, s.cleared, s.push_waiters,
                    s.pop_waiters};
            return rc;
        }
        shmds_stack_stats_t s{};
        s.struct_size = sizeof s;
        const int rc = shmds_stack_stats(st_, &s);
        *out = {s.size, s.push_ok, s.pop_ok, s.recoveries, s.cleared, s.push_waiters,
                s.pop_waiters};
        return rc;
    }
    Stats stats() {
        Stats s{};
        EXPECT_EQ(0, stats(&s)) << shmds_last_error();
        return s;
    }
    // Everything left, in the order a pop at `end` takes it.
    int drain_all(std::vector<std::uint64_t> *keys, int end = SHMDS_DEQUE_FRONT) {
        for (;;) {
            std::uint64_t k = 0;
            const int rc = pop(&k, SHMDS_NOWAIT, end);
            if (rc == -EAGAIN) return 0;
            if (rc) return rc;
            keys->push_back(k);
        }
    }

private:
    static void encode(std::uint64_t key, std::uint8_t *b) {
        const std::uint64_t inv = ~key;
        std::memcpy(b, &key, 8);
        std::memcpy(b + 8, &inv, 8);
    }
    static int decode(const std::uint8_t *b, std::size_t len, std::uint64_t *key) {
        std::uint64_t k = 0, inv = 0;
        if (len != 16) return -EPROTO;
        std::memcpy(&k, b, 8);
        std::memcpy(&inv, b + 8, 8);
        *key = k;
        return k != 0 && inv == ~k ? 0 : -EPROTO;
    }

    Structure s_;
    bool bytes_;
    int rc_ = 0;
    shmds_deque_t *d_ = nullptr;
    shmds_stack_t *st_ = nullptr;
};

}  // namespace seq_test
