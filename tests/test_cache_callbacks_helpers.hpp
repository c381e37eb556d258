// A backing store for the cache callback tests: read_cb, write_cb and delete_cb over a
// std::map, counting every call (per key for writes), with switches to make a
// callback fail or call back into the cache.
#pragma once

#include "test_cache_helpers.hpp"

#include <functional>
#include <map>
#include <string>

namespace shmds::test::cache {

struct Store {
    std::map<std::string, std::string> data;
    int reads = 0, writes = 0, deletes = 0;
    std::map<std::string, int> writes_of;  // per key
    int fail_with = 0;                     // a negative errno: every callback fails so
    std::uint64_t read_expire_ms = SHMDS_CACHE_EXPIRE_DEFAULT;
    // Called inside the next callback (re-entrancy tests); its code is kept in inner_rc.
    std::function<int()> inner;
    int inner_rc = 1;
    std::string inner_error;

    // Runs `inner` once (it is cleared first: a call it makes may reach a callback).
    void run_inner() {
        if (!inner) return;
        const std::function<int()> f = inner;
        inner = nullptr;
        inner_rc = f();
        inner_error = shmds_last_error();
    }

    static int read(void *ctx, const void *k, size_t kl, shmds_cache_value_t *out) {
        auto *s = static_cast<Store *>(ctx);
        ++s->reads;
        s->run_inner();
        if (s->fail_with) return s->fail_with;
        auto it = s->data.find(std::string(static_cast<const char *>(k), kl));
        if (it == s->data.end()) return SHMDS_CACHE_NOT_FOUND;
        out->value = it->second.data();
        out->value_len = it->second.size();
        out->expire_ms = s->read_expire_ms;
        return 0;
    }
    static int write(void *ctx, const void *k, size_t kl, const void *v, size_t vl,
                     uint64_t) {
        auto *s = static_cast<Store *>(ctx);
        s->run_inner();
        if (s->fail_with) return s->fail_with;
        const std::string key(static_cast<const char *>(k), kl);
        ++s->writes;
        ++s->writes_of[key];
        s->data[key] = std::string(static_cast<const char *>(v), vl);
        return 0;
    }
    static int del(void *ctx, const void *k, size_t kl) {
        auto *s = static_cast<Store *>(ctx);
        s->run_inner();
        if (s->fail_with) return s->fail_with;
        ++s->deletes;
        s->data.erase(std::string(static_cast<const char *>(k), kl));
        return 0;
    }

    // Callbacks on this store; the modes as given.
    shmds_cache_callbacks_t callbacks(bool write_back = false, bool cache_not_found = false,
                                      bool allow_recursive = false) {
        shmds_cache_callbacks_t cb = SHMDS_CACHE_CALLBACKS_INIT;
        cb.ctx = this;
        cb.read_cb = &Store::read;
        cb.write_cb = &Store::write;
        cb.delete_cb = &Store::del;
        cb.write_back = write_back;
        cb.cache_not_found = cache_not_found;
        cb.allow_recursive = allow_recursive;
        return cb;
    }
    void attach(shmds_cache_t *c, bool write_back = false, bool cache_not_found = false,
                bool allow_recursive = false) {
        const shmds_cache_callbacks_t cb = callbacks(write_back, cache_not_found, allow_recursive);
        ASSERT_EQ(0, shmds_cache_set_callbacks(c, &cb)) << shmds_last_error();
    }
};

// get_and_set callbacks: increment a decimal value (none counts as 0).
inline int increment(void *ctx, const void *, size_t, const void *v, size_t vl, int found,
                     shmds_cache_value_t *out) {
    auto *buf = static_cast<std::string *>(ctx);
    const long n = found ? std::stol(std::string(static_cast<const char *>(v), vl)) : 0;
    *buf = std::to_string(n + 1);
    out->value = buf->data();
    out->value_len = buf->size();
    return 0;
}

inline int remove_key(shmds_cache_t *c, const std::string &k) {
    return shmds_cache_remove(c, k.data(), k.size());
}

// The flags get_keys(1) reports for key, or -1 when it is not listed.
inline long flags_of(shmds_cache_t *c, const std::string &k) {
    struct Find {
        std::string key;
        long flags = -1;
    } f{k};
    EXPECT_EQ(0, shmds_cache_get_keys(
                     c, 1,
                     [](const shmds_cache_entry_t *e, void *p) {
                         auto *f = static_cast<Find *>(p);
                         if (std::string(static_cast<const char *>(e->key), e->key_len) == f->key)
                             f->flags = e->flags;
                         return 0;
                     },
                     &f));
    return f.flags;
}

}  // namespace shmds::test::cache
