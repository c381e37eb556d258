#include "seeds.hpp"

#include <shmds/shmds.h>

#include <cstdio>
#include <cstring>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace shmds_fuzz {

namespace {

// Structures with variants open twice untouched (as "any" and as their own variant);
// the sync primitives, which have one, once.
constexpr int kVariantOpens = 2;
constexpr int kSyncOpens = 1;

std::vector<std::uint8_t> image_of(int fd) {
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) return {};
    std::vector<std::uint8_t> out(std::size_t(st.st_size));
    if (pread(fd, out.data(), out.size(), 0) != ssize_t(out.size())) return {};
    return out;
}

shmds_options_t memfd_options() {
    shmds_options_t opts = SHMDS_OPTIONS_INIT;
    opts.backing = SHMDS_BACKING_MEMFD;
    opts.name = "fuzz-seed";
    return opts;
}

void report(const std::string &name) {
    std::fprintf(stderr, "fuzz seeds: %s: %s\n", name.c_str(), shmds_last_error());
}

// A thread that runs f and exits: whatever it holds is held by a dead thread.
template <typename F>
void in_a_thread_that_exits(F &&f) {
    std::thread(std::forward<F>(f)).join();
}

const char *element_name(int variant) {
    static const char *names[] = {"any", "int16", "int32", "int64", "bytes"};
    return names[variant];
}

// A queue filled and partly drained, so that its ring positions and (for bytes) its
// arena frontiers are not at their initial places.
Seed queue_seed(int variant, std::uint64_t capacity, int pushes, int pops) {
    Seed s{std::string("queue-") + element_name(variant) + "-cap" + std::to_string(capacity) +
               "-" + std::to_string(pushes) + "-" + std::to_string(pops),
           {}, kVariantOpens};
    shmds_options_t opts = memfd_options();
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(variant, capacity);
    shmds_queue_t *q = nullptr;
    if (shmds_queue_create(&opts, &cfg, &q) != 0) {
        report(s.name);
        return s;
    }
    char msg[300];
    for (int i = 0; i < pushes; ++i) {
        if (variant == SHMDS_QUEUE_BYTES) {
            std::memset(msg, 'a' + i % 26, sizeof msg);
            shmds_queue_push_bytes(q, msg, std::size_t(i * 37 % 300), SHMDS_NOWAIT);
        } else {
            shmds_queue_push_int(q, i * 1001 % 30000, SHMDS_NOWAIT);
        }
    }
    for (int i = 0; i < pops; ++i) {
        std::size_t len;
        std::int64_t v;
        if (variant == SHMDS_QUEUE_BYTES)
            shmds_queue_pop_bytes(q, msg, sizeof msg, &len, SHMDS_NOWAIT);
        else
            shmds_queue_pop_int(q, &v, SHMDS_NOWAIT);
    }
    s.image = image_of(shmds_queue_fd(q));
    shmds_queue_close(q);
    return s;
}

// A ring after `publishes` messages: past capacity, it has lapped.
Seed pubsub_seed(int variant, std::uint64_t capacity, std::uint64_t msg_size, int publishes) {
    Seed s{std::string("pubsub-") + element_name(variant) + "-cap" + std::to_string(capacity) +
               "-" + std::to_string(publishes),
           {}, kVariantOpens};
    shmds_options_t opts = memfd_options();
    shmds_pubsub_config_t cfg = SHMDS_PUBSUB_CONFIG_INIT(variant, capacity);
    cfg.msg_size = msg_size;
    shmds_pubsub_t *ps = nullptr;
    if (shmds_pubsub_create(&opts, &cfg, &ps) != 0) {
        report(s.name);
        return s;
    }
    char msg[100];
    for (int i = 0; i < publishes; ++i) {
        if (variant == SHMDS_PUBSUB_BYTES) {
            std::memset(msg, 'A' + i % 26, sizeof msg);
            shmds_pubsub_publish_bytes(ps, msg, std::size_t(i * 13 % 100));
        } else {
            shmds_pubsub_publish_int(ps, i * 777 % 30000 - 15000);
        }
    }
    s.image = image_of(shmds_pubsub_fd(ps));
    shmds_pubsub_close(ps);
    return s;
}

// With `busy`: three requests sent, the first received and answered, so the segment
// holds a READY slot, two ACQUIRED ones and two queued requests.
Seed reqrep_seed(int variant, bool busy) {
    const bool bytes = variant == SHMDS_REQREP_BYTES;
    Seed s{std::string("reqrep-") + (bytes ? "bytes" : "int64") + (busy ? "-busy" : "-fresh"), {},
           kVariantOpens};
    shmds_options_t opts = memfd_options();
    shmds_reqrep_config_t cfg = SHMDS_REQREP_CONFIG_INIT(variant, busy ? 4 : 1, busy ? 3 : 1);
    if (bytes) {
        cfg.req_size = busy ? 64 : 16;
        cfg.resp_size = busy ? 32 : 16;
    }
    shmds_reqrep_t *rr = nullptr;
    if (shmds_reqrep_create(&opts, &cfg, &rr) != 0) {
        report(s.name);
        return s;
    }
    for (int i = 0; busy && i < 3; ++i) {
        std::uint64_t id;
        if (bytes) shmds_reqrep_send_bytes(rr, "request", 7 - std::size_t(i), &id, SHMDS_NOWAIT);
        else shmds_reqrep_send_int(rr, 100 + i, &id, SHMDS_NOWAIT);
    }
    if (busy) {
        std::uint64_t id = 0;
        char buf[64];
        std::size_t len;
        std::int64_t v;
        if (bytes && shmds_reqrep_recv_bytes(rr, buf, sizeof buf, &len, &id, SHMDS_NOWAIT) == 0)
            shmds_reqrep_reply_bytes(rr, id, "answer", 6);
        if (!bytes && shmds_reqrep_recv_int(rr, &v, &id, SHMDS_NOWAIT) == 0)
            shmds_reqrep_reply_int(rr, id, -v);
    }
    s.image = image_of(shmds_reqrep_fd(rr));
    shmds_reqrep_close(rr);
    return s;
}

// Make a primitive with create(&opts, &h), put it in its state with use(h), keep the image.
template <typename Handle, typename Create, typename Use, typename Fd, typename Close>
Seed sync_seed(const char *name, Create &&create, Use &&use, Fd &&fd, Close &&close) {
    Seed s{name, {}, kSyncOpens};
    shmds_options_t opts = memfd_options();
    Handle *h = nullptr;
    if (create(&opts, &h) != 0) {
        report(s.name);
        return s;
    }
    use(h);
    s.image = image_of(fd(h));
    close(h);
    return s;
}

void add_sync_seeds(std::vector<Seed> &seeds) {
    auto nothing = [](auto *) {};
    auto mutex = [&](const char *name, auto use) {
        seeds.push_back(sync_seed<shmds_mutex_t>(name, shmds_mutex_create, use, shmds_mutex_fd,
                                                 shmds_mutex_close));
    };
    mutex("mutex-fresh", nothing);
    mutex("mutex-held-by-dead-thread", [](shmds_mutex_t *m) {
        in_a_thread_that_exits([m] { shmds_mutex_lock(m, SHMDS_FOREVER); });
    });

    auto semaphore = [&](const char *name, std::uint32_t max, std::uint32_t initial, auto use) {
        seeds.push_back(sync_seed<shmds_semaphore_t>(
            name,
            [&](const shmds_options_t *o, shmds_semaphore_t **out) {
                return shmds_semaphore_create(o, max, initial, out);
            },
            use, shmds_semaphore_fd, shmds_semaphore_close));
    };
    semaphore("semaphore-4-2", 4, 2, nothing);
    // 256 holder slots; this process holds 5 permits in one of them.
    semaphore("semaphore-300-held", 300, 300,
              [](shmds_semaphore_t *s) { shmds_semaphore_acquire_n(s, 5, SHMDS_NOWAIT); });

    auto barrier = [&](const char *name, std::uint32_t parties, auto use) {
        seeds.push_back(sync_seed<shmds_barrier_t>(
            name,
            [&](const shmds_options_t *o, shmds_barrier_t **out) {
                return shmds_barrier_create(o, parties, out);
            },
            use, shmds_barrier_fd, shmds_barrier_close));
    };
    barrier("barrier-2", 2, nothing);
    // One party arrived and timed out: the generation is broken.
    barrier("barrier-3-broken", 3,
            [](shmds_barrier_t *b) { shmds_barrier_wait(b, 1'000'000); });

    auto rwlock = [&](const char *name, std::uint32_t slots, auto use) {
        seeds.push_back(sync_seed<shmds_rwlock_t>(
            name,
            [&](const shmds_options_t *o, shmds_rwlock_t **out) {
                return shmds_rwlock_create(o, slots, out);
            },
            use, shmds_rwlock_fd, shmds_rwlock_close));
    };
    rwlock("rwlock-4", 4, nothing);
    rwlock("rwlock-2-read-by-dead-thread", 2, [](shmds_rwlock_t *rw) {
        in_a_thread_that_exits([rw] { shmds_rwlock_rdlock(rw, SHMDS_FOREVER); });
    });

    auto condvar = [&](const char *name, auto use) {
        seeds.push_back(sync_seed<shmds_condvar_t>(name, shmds_condvar_create, use,
                                                   shmds_condvar_fd, shmds_condvar_close));
    };
    condvar("condvar-fresh", nothing);
    condvar("condvar-held-by-dead-thread", [](shmds_condvar_t *cv) {
        in_a_thread_that_exits([cv] { shmds_condvar_lock(cv, SHMDS_FOREVER); });
    });

    auto once = [&](const char *name, auto use) {
        seeds.push_back(
            sync_seed<shmds_once_t>(name, shmds_once_create, use, shmds_once_fd, shmds_once_close));
    };
    once("once-fresh", nothing);
    once("once-done", [](shmds_once_t *o) {
        if (shmds_once_enter(o, SHMDS_NOWAIT) == 1) shmds_once_done(o);
    });
    // Entered by a thread that has exited; its process (this one) is the initializer.
    once("once-entered", [](shmds_once_t *o) {
        in_a_thread_that_exits([o] { shmds_once_enter(o, SHMDS_NOWAIT); });
    });
}

// A map with entries inline and in the arena, some removed (tombstones, free blocks),
// grown past its first table. An evicting one (flags) takes 30 inserts into 20 entries,
// so it has evicted and its hand and list are mid-way; default_ttl_ms gives the
// entries an expiry.
Seed hashmap_seed(int key_type, int value_type, std::uint64_t shards, std::uint64_t flags = 0,
                  std::uint64_t default_ttl_ms = 0) {
    Seed s{std::string("hashmap-") + shmds_type_name(key_type) + "-" + shmds_type_name(value_type) +
               "-shards" + std::to_string(shards) + (flags ? "-evict" : "") +
               (default_ttl_ms ? "-ttl" : ""),
           {}, kVariantOpens};
    shmds_options_t opts = memfd_options();
    shmds_hashmap_config_t cfg =
        SHMDS_HASHMAP_CONFIG_INIT(key_type, value_type, flags ? 20 : 40);
    cfg.shards = shards;
    cfg.flags = flags;
    cfg.default_ttl_ms = default_ttl_ms;
    shmds_hashmap_t *m = nullptr;
    if (shmds_hashmap_create(&opts, &cfg, &m) != 0) {
        report(s.name);
        return s;
    }
    const std::string text(60, 'x');
    for (int i = 0; i < 30; ++i) {
        const std::string k = "seed-key-number-" + std::to_string(i);
        if (key_type == SHMDS_TYPE_BYTES && value_type == SHMDS_TYPE_BYTES)
            shmds_hashmap_put_bb(m, k.data(), k.size(), text.data(), std::size_t(i * 2));
        else if (key_type == SHMDS_TYPE_BYTES)
            shmds_hashmap_put_bi(m, k.data(), k.size(), i);
        else if (value_type == SHMDS_TYPE_BYTES)
            shmds_hashmap_put_ib(m, i, text.data(), std::size_t(i * 2));
        else
            shmds_hashmap_put_ii(m, i, i);
    }
    for (int i = 0; i < 30; i += 3) {
        const std::string k = "seed-key-number-" + std::to_string(i);
        if (key_type == SHMDS_TYPE_BYTES)
            shmds_hashmap_remove_b(m, k.data(), k.size());
        else
            shmds_hashmap_remove_i(m, i);
    }
    s.image = image_of(shmds_hashmap_fd(m));
    shmds_hashmap_close(m);
    return s;
}

// A cache of two small pages that has expunged (through its one spare frame), with
// removed and expiring items.
Seed cache_seed() {
    Seed s{"cache-2x4k", {}, 1};
    shmds_options_t opts = memfd_options();
    shmds_cache_config_t cfg = SHMDS_CACHE_CONFIG_INIT;
    cfg.page_size = 4096;
    cfg.num_pages = 2;
    cfg.spare_frames = 1;
    shmds_cache_t *c = nullptr;
    if (shmds_cache_create(&opts, &cfg, &c) != 0) {
        report(s.name);
        return s;
    }
    const std::string text(90, 'x');
    for (int i = 0; i < 120; ++i) {
        const std::string k = "seed-key-" + std::to_string(i);
        shmds_cache_set(c, k.data(), k.size(), text.data(), std::size_t(i % 90),
                        i % 7 == 0 ? 1 : SHMDS_CACHE_EXPIRE_NEVER);
        if (i % 5 == 0) shmds_cache_remove(c, k.data(), k.size());
    }
    s.image = image_of(shmds_cache_fd(c));
    shmds_cache_close(c);
    return s;
}

// A stack or a deque (capacity 5: not a power of two) pushed at both ends and partly
// popped, so its counters sit off the origin and its slots hold items of every length.
Seed sequential_seed(bool deque, int type, std::uint64_t capacity) {
    Seed s{std::string(deque ? "deque-" : "stack-") + shmds_type_name(type) + "-cap" +
               std::to_string(capacity),
           {}, kVariantOpens};
    shmds_options_t opts = memfd_options();
    std::uint8_t msg[24] = {0, 0xff, 'a', 0};
    int fd = -1;
    shmds_deque_t *d = nullptr;
    shmds_stack_t *st = nullptr;
    const std::uint64_t max_len = type == SHMDS_TYPE_BYTES ? sizeof msg : 0;
    if (deque) {
        shmds_deque_config_t cfg = SHMDS_DEQUE_CONFIG_INIT(type, capacity);
        cfg.max_len = max_len;
        if (shmds_deque_create(&opts, &cfg, &d) != 0) {
            report(s.name);
            return s;
        }
        fd = shmds_deque_fd(d);
    } else {
        shmds_stack_config_t cfg = SHMDS_STACK_CONFIG_INIT(type, capacity);
        cfg.max_len = max_len;
        if (shmds_stack_create(&opts, &cfg, &st) != 0) {
            report(s.name);
            return s;
        }
        fd = shmds_stack_fd(st);
    }
    for (int i = 0; i < 9; ++i) {
        const int end = i % 2 ? SHMDS_DEQUE_FRONT : SHMDS_DEQUE_BACK;
        const std::size_t len = std::size_t(i * 5 % (sizeof msg + 1));
        std::int64_t v = 0;
        double x = 0;
        if (type == SHMDS_TYPE_BYTES) {
            if (d) shmds_deque_push_bytes(d, end, msg, len, SHMDS_NOWAIT);
            else shmds_stack_push_bytes(st, msg, len, SHMDS_NOWAIT);
        } else if (type == SHMDS_TYPE_F64) {
            if (d) shmds_deque_push_f64(d, end, i * 0.5, SHMDS_NOWAIT);
            else shmds_stack_push_f64(st, i * 0.5, SHMDS_NOWAIT);
        } else {
            if (d) shmds_deque_push_int(d, end, i * 13, SHMDS_NOWAIT);
            else shmds_stack_push_int(st, i * 13, SHMDS_NOWAIT);
        }
        if (i % 3 == 2) {
            char buf[sizeof msg];
            std::size_t got = 0;
            if (type == SHMDS_TYPE_BYTES)
                d ? shmds_deque_pop_bytes(d, end, buf, sizeof buf, &got, SHMDS_NOWAIT)
                  : shmds_stack_pop_bytes(st, buf, sizeof buf, &got, SHMDS_NOWAIT);
            else if (type == SHMDS_TYPE_F64)
                d ? shmds_deque_pop_f64(d, end, &x, SHMDS_NOWAIT)
                  : shmds_stack_pop_f64(st, &x, SHMDS_NOWAIT);
            else
                d ? shmds_deque_pop_int(d, end, &v, SHMDS_NOWAIT)
                  : shmds_stack_pop_int(st, &v, SHMDS_NOWAIT);
        }
    }
    s.image = image_of(fd);
    shmds_deque_close(d);
    shmds_stack_close(st);
    return s;
}

// A ring buffer after `writes` values: past capacity, it has lapped.
Seed ringbuffer_seed(int type, std::uint64_t capacity, int writes) {
    Seed s{std::string("ringbuffer-") + shmds_type_name(type) + "-cap" + std::to_string(capacity) +
               "-" + std::to_string(writes),
           {}, kVariantOpens};
    shmds_options_t opts = memfd_options();
    shmds_ringbuffer_config_t cfg = SHMDS_RINGBUFFER_CONFIG_INIT(type, capacity);
    shmds_ringbuffer_t *r = nullptr;
    if (shmds_ringbuffer_create(&opts, &cfg, &r) != 0) {
        report(s.name);
        return s;
    }
    for (int i = 0; i < writes; ++i) {
        if (type == SHMDS_TYPE_F64)
            shmds_ringbuffer_write_f64(r, i * 0.5, nullptr);
        else
            shmds_ringbuffer_write_int(r, i % 100, nullptr);
    }
    s.image = image_of(shmds_ringbuffer_fd(r));
    shmds_ringbuffer_close(r);
    return s;
}

// A buffer with values in it (and, for bytes, NUL and 0xFF bytes).
Seed buffer_seed(int type, std::uint64_t length) {
    Seed s{std::string("buffer-") + shmds_type_name(type) + "-" + std::to_string(length), {},
           kVariantOpens};
    shmds_options_t opts = memfd_options();
    shmds_buffer_config_t cfg =
        SHMDS_BUFFER_CONFIG_INIT(type, length, type == SHMDS_TYPE_BYTES ? 6 : 0);
    shmds_buffer_t *b = nullptr;
    if (shmds_buffer_create(&opts, &cfg, &b) != 0) {
        report(s.name);
        return s;
    }
    for (std::uint64_t i = 0; i < length; ++i) {
        if (type == SHMDS_TYPE_BYTES)
            shmds_buffer_set_bytes(b, i, "\xff\0x", 3, -1);
        else if (type == SHMDS_TYPE_F64)
            shmds_buffer_set_f64(b, i, double(i) * 0.5);
        else
            shmds_buffer_set_int(b, i, std::int64_t(i % 100));
    }
    s.image = image_of(shmds_buffer_fd(b));
    shmds_buffer_close(b);
    return s;
}

// A heap after pushes and a pop: a sifted array, a moving slot, and bytes entries of
// several lengths (NUL and 0xFF included).
Seed heap_seed(int type, std::uint64_t capacity, int pushes, bool max_heap) {
    Seed s{std::string("heap-") + shmds_type_name(type) + "-cap" + std::to_string(capacity) +
               (max_heap ? "-max" : ""),
           {}, kVariantOpens};
    shmds_options_t opts = memfd_options();
    shmds_heap_config_t cfg = SHMDS_HEAP_CONFIG_INIT(type, capacity);
    if (type == SHMDS_TYPE_BYTES) cfg.max_len = 24;
    if (max_heap) cfg.flags = SHMDS_HEAP_MAX;
    shmds_heap_t *h = nullptr;
    if (shmds_heap_create(&opts, &cfg, &h) != 0) {
        report(s.name);
        return s;
    }
    for (int i = 0; i < pushes; ++i) {
        const std::int64_t prio = (i * 7) % 5;
        if (type == SHMDS_TYPE_BYTES)
            shmds_heap_push_bytes(h, prio, "\0\xffpayload", std::size_t(i % 10), SHMDS_NOWAIT);
        else
            shmds_heap_push_int(h, prio, i, SHMDS_NOWAIT);
    }
    std::int64_t p = 0, v = 0;
    char buf[32];
    std::size_t len = 0;
    if (type == SHMDS_TYPE_BYTES)
        shmds_heap_pop_bytes(h, &p, buf, sizeof buf, &len, SHMDS_NOWAIT);
    else
        shmds_heap_pop_int(h, &p, &v, SHMDS_NOWAIT);
    s.image = image_of(shmds_heap_fd(h));
    shmds_heap_close(h);
    return s;
}

// A pool with slots of every state: allocated and stamped, allocated and untouched, freed.
Seed pool_seed(int variant, std::uint64_t elem_size) {
    Seed s{std::string("pool-") + (variant == SHMDS_POOL_RAW ? "raw" : shmds_type_name(variant)),
           {}, kVariantOpens};
    shmds_options_t opts = memfd_options();
    shmds_pool_config_t cfg = SHMDS_POOL_CONFIG_INIT(variant, 6, elem_size);
    shmds_pool_t *p = nullptr;
    if (shmds_pool_create(&opts, &cfg, &p) != 0) {
        report(s.name);
        return s;
    }
    std::uint64_t slot[4];
    for (std::uint64_t &i : slot) shmds_pool_try_alloc(p, &i);
    for (int k = 0; k < 3; ++k) {
        if (variant == SHMDS_POOL_RAW)
            shmds_pool_set_raw(p, slot[k], "seed", 4);
        else if (variant == SHMDS_TYPE_BYTES)
            shmds_pool_set_bytes(p, slot[k], "seed\0\xff", 6);
        else if (variant == SHMDS_TYPE_F32 || variant == SHMDS_TYPE_F64)
            shmds_pool_set_f64(p, slot[k], k * 0.5);
        else
            shmds_pool_set_int(p, slot[k], k + 1);
    }
    shmds_pool_free(p, slot[3]);
    s.image = image_of(shmds_pool_fd(p));
    shmds_pool_close(p);
    return s;
}

// A log with entries of many lengths, a truncation point and one reset behind it.
Seed log_seed() {
    Seed s{"log-4k", {}, 1};
    shmds_options_t opts = memfd_options();
    shmds_log_config_t cfg = SHMDS_LOG_CONFIG_INIT(4096);
    shmds_log_t *l = nullptr;
    if (shmds_log_create(&opts, &cfg, &l) != 0) {
        report(s.name);
        return s;
    }
    const std::string text(200, 'x');
    std::uint64_t off = 0, cut = 0;
    for (int round = 0; round < 2; ++round) {
        for (int i = 1; i < 40; ++i) {
            if (shmds_log_append(l, text.data(), std::size_t(i * 37 % 200 + 1), &off) != 0) break;
            if (i == 10) cut = off;
        }
        if (round == 0) shmds_log_reset(l);
    }
    shmds_log_truncate(l, cut);
    s.image = image_of(shmds_log_fd(l));
    shmds_log_close(l);
    return s;
}

// A bit set with a pattern over a partial last word, opened writable and read-only.
Seed bitset_seed(std::uint64_t nbits, bool frozen) {
    Seed s{"bitset-" + std::to_string(nbits) + (frozen ? "-frozen" : ""), {}, 2};
    shmds_options_t opts = memfd_options();
    shmds_bitset_config_t cfg = SHMDS_BITSET_CONFIG_INIT(nbits);
    shmds_bitset_t *b = nullptr;
    if (shmds_bitset_create(&opts, &cfg, &b) != 0) {
        report(s.name);
        return s;
    }
    for (std::uint64_t i = 0; i < nbits; i += 3) shmds_bitset_set(b, i);
    if (frozen) shmds_bitset_freeze(b);
    s.image = image_of(shmds_bitset_fd(b));
    shmds_bitset_close(b);
    return s;
}

// A graph with nodes, edges (a self-loop among them) and a removed node, whose edges went
// with it: free slots on both free lists, a node slot's generation past 1.
Seed graph_seed() {
    Seed s{"graph-8x16", {}, 1};
    shmds_options_t opts = memfd_options();
    shmds_graph_config_t cfg = SHMDS_GRAPH_CONFIG_INIT(8, 16);
    shmds_graph_t *g = nullptr;
    if (shmds_graph_create(&opts, &cfg, &g) != 0) {
        report(s.name);
        return s;
    }
    std::uint64_t ids[6] = {};
    for (int i = 0; i < 6; ++i) shmds_graph_add_node(g, i * 10, &ids[i]);
    for (int i = 0; i < 6; ++i) {
        shmds_graph_add_edge(g, ids[i], ids[(i + 1) % 6], i);
        shmds_graph_add_edge(g, ids[i], ids[(i + 3) % 6], -i);
    }
    shmds_graph_add_edge(g, ids[4], ids[4], 44);
    shmds_graph_remove_node(g, ids[2]);
    std::uint64_t again = 0;
    shmds_graph_add_node(g, 99, &again);  // reuses the removed node's slot
    shmds_graph_add_edge(g, again, ids[0], 9);
    shmds_graph_remove_edge(g, ids[0], ids[1]);
    s.image = image_of(shmds_graph_fd(g));
    shmds_graph_close(g);
    return s;
}

}  // namespace

std::vector<Seed> make_seeds() {
    std::vector<Seed> seeds;
    for (int variant = SHMDS_QUEUE_INT16; variant <= SHMDS_QUEUE_INT64; ++variant) {
        seeds.push_back(queue_seed(variant, 2, 0, 0));
        seeds.push_back(queue_seed(variant, 8, 11, 6));
    }
    seeds.push_back(queue_seed(SHMDS_QUEUE_BYTES, 2, 1, 0));
    seeds.push_back(queue_seed(SHMDS_QUEUE_BYTES, 16, 40, 33));  // wrapped arena
    for (int variant = SHMDS_PUBSUB_INT16; variant <= SHMDS_PUBSUB_INT64; ++variant) {
        seeds.push_back(pubsub_seed(variant, 2, 0, 0));
        seeds.push_back(pubsub_seed(variant, 8, 0, 11));
    }
    seeds.push_back(pubsub_seed(SHMDS_PUBSUB_BYTES, 2, 0, 0));
    seeds.push_back(pubsub_seed(SHMDS_PUBSUB_BYTES, 8, 100, 13));
    for (int variant : {SHMDS_REQREP_INT64, SHMDS_REQREP_BYTES}) {
        seeds.push_back(reqrep_seed(variant, false));
        seeds.push_back(reqrep_seed(variant, true));
    }
    add_sync_seeds(seeds);
    seeds.push_back(hashmap_seed(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 1));
    seeds.push_back(hashmap_seed(SHMDS_TYPE_INT16, SHMDS_TYPE_BYTES, 2));
    seeds.push_back(hashmap_seed(SHMDS_TYPE_BYTES, SHMDS_TYPE_INT32, 1));
    seeds.push_back(hashmap_seed(SHMDS_TYPE_BYTES, SHMDS_TYPE_BYTES, 4));
    seeds.push_back(hashmap_seed(SHMDS_TYPE_INT64, SHMDS_TYPE_INT64, 1, SHMDS_HASHMAP_EVICT, 60'000));
    seeds.push_back(hashmap_seed(SHMDS_TYPE_BYTES, SHMDS_TYPE_BYTES, 2, SHMDS_HASHMAP_EVICT, 0));
    seeds.push_back(cache_seed());
    for (int type : {SHMDS_TYPE_INT64, SHMDS_TYPE_UINT8, SHMDS_TYPE_F64, SHMDS_TYPE_BYTES}) {
        seeds.push_back(sequential_seed(false, type, 5));
        seeds.push_back(sequential_seed(true, type, 8));
    }
    seeds.push_back(ringbuffer_seed(SHMDS_TYPE_INT64, 5, 12));
    seeds.push_back(ringbuffer_seed(SHMDS_TYPE_UINT8, 3, 0));
    seeds.push_back(ringbuffer_seed(SHMDS_TYPE_F64, 7, 9));
    seeds.push_back(log_seed());
    seeds.push_back(bitset_seed(200, false));
    seeds.push_back(bitset_seed(64, true));
    seeds.push_back(buffer_seed(SHMDS_TYPE_INT32, 9));
    seeds.push_back(buffer_seed(SHMDS_TYPE_F64, 4));
    seeds.push_back(buffer_seed(SHMDS_TYPE_BYTES, 5));
    seeds.push_back(heap_seed(SHMDS_TYPE_INT64, 9, 7, false));
    seeds.push_back(heap_seed(SHMDS_TYPE_BYTES, 6, 5, true));
    seeds.push_back(graph_seed());
    seeds.push_back(pool_seed(SHMDS_POOL_RAW, 24));
    seeds.push_back(pool_seed(SHMDS_TYPE_UINT16, 0));
    seeds.push_back(pool_seed(SHMDS_TYPE_INT64, 0));
    seeds.push_back(pool_seed(SHMDS_TYPE_F32, 0));
    seeds.push_back(pool_seed(SHMDS_TYPE_BYTES, 16));
    return seeds;
}

}  // namespace shmds_fuzz
