// The out-of-process key-value stores of hashmap_bench.cpp, each run as its users run it
// (the subject interface is in kv_subjects.hpp):
//
//   LmdbKv    LMDB on tmpfs, no fsync (MDB_NOSYNC): each process opens the environment
//             itself (LMDB forbids using one across fork()), keeps one read transaction
//             and renews it per get (mdb_txn_renew / mdb_txn_reset, LMDB's documented
//             reuse); every write is its own write transaction. Integer keys use
//             MDB_INTEGERKEY.
//   RedisKv   redis-server started by the bench on a Unix socket in a temp dir,
//             persistence off, one hiredis connection per process, one synchronous
//             command per operation. Integer keys and values travel as decimal text,
//             as Redis stores them (INCR needs it); bytes as binary-safe strings.
//
// A store missing at build time registers rows that skip with the reason; redis-server
// missing at run time skips its rows too.
#pragma once

#include "harness.hpp"
#include "kv_shapes.hpp"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <sys/types.h>
#include <type_traits>

#if SHMDS_BENCH_HAVE_LMDB
#include <lmdb.h>
#endif
#if SHMDS_BENCH_HAVE_HIREDIS
#include <hiredis/hiredis.h>
#endif

namespace shmds::bench::kv {

// A private directory under `parent`, removed with everything in it at destruction.
class TempDir {
public:
    explicit TempDir(const char *parent);
    ~TempDir();
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    const std::string &path() const { return path_; }

private:
    std::string path_;
};

// The executable `program` found in $PATH, or "" (a server peer then skips its rows).
std::string find_in_path(const char *program);

// ---------------------------------------------------------------- LMDB

#if SHMDS_BENCH_HAVE_LMDB
void check_mdb(int rc, const char *call);

template <typename Shape>
class LmdbKv {
public:
    using Key = typename Shape::Key;
    using Value = typename Shape::Value;
    static constexpr bool kInt = std::is_same_v<Shape, IntShape>;

    explicit LmdbKv(std::uint64_t n) : dir_("/dev/shm") {
        open();
        MDB_txn *w;
        check_mdb(mdb_txn_begin(env_, nullptr, 0, &w), "mdb_txn_begin");
        for (std::uint64_t i = 0; i < n; ++i) {
            KeyBuf kb(Shape::key(i));
            Value v = Shape::value(i, 0);
            MDB_val val{sizeof v, &v};
            if (int rc = mdb_put(w, dbi_, &kb.val, &val, 0)) {
                mdb_txn_abort(w);
                check_mdb(rc, "mdb_put");
            }
        }
        check_mdb(mdb_txn_commit(w), "mdb_txn_commit");
        close();  // the children open their own environment
    }
    ~LmdbKv() { close(); }
    LmdbKv(const LmdbKv &) = delete;
    LmdbKv &operator=(const LmdbKv &) = delete;

    std::string note() const { return "tmpfs, NOSYNC, read txn renewed per get"; }
    void attach() { open(); }
    void detach() { close(); }

    bool get(const Key &k, Value &v) {
        check_mdb(mdb_txn_renew(read_), "mdb_txn_renew");
        KeyBuf kb(k);
        MDB_val val;
        const int rc = mdb_get(read_, dbi_, &kb.val, &val);
        if (rc == 0) {
            if (val.mv_size != sizeof v) throw Failure("lmdb: a value of another length");
            std::memcpy(&v, val.mv_data, sizeof v);
        }
        mdb_txn_reset(read_);
        if (rc == MDB_NOTFOUND) return false;
        check_mdb(rc, "mdb_get");
        return true;
    }
    void put(const Key &k, const Value &v) {
        MDB_txn *w;
        check_mdb(mdb_txn_begin(env_, nullptr, 0, &w), "mdb_txn_begin");
        KeyBuf kb(k);
        Value copy = v;
        MDB_val val{sizeof copy, &copy};
        if (int rc = mdb_put(w, dbi_, &kb.val, &val, 0)) {
            mdb_txn_abort(w);
            check_mdb(rc, "mdb_put");
        }
        check_mdb(mdb_txn_commit(w), "mdb_txn_commit");
    }
    std::int64_t incr(const Key &k) {
        MDB_txn *w;
        check_mdb(mdb_txn_begin(env_, nullptr, 0, &w), "mdb_txn_begin");
        KeyBuf kb(k);
        MDB_val val;
        std::int64_t now = 0;
        int rc = mdb_get(w, dbi_, &kb.val, &val);
        if (rc == 0 && val.mv_size != sizeof now) rc = MDB_CORRUPTED;
        else if (rc == 0) std::memcpy(&now, val.mv_data, sizeof now);
        else if (rc == MDB_NOTFOUND) rc = 0;  // a missing counter starts from 0
        ++now;
        val = MDB_val{sizeof now, &now};
        if (rc == 0) rc = mdb_put(w, dbi_, &kb.val, &val, 0);
        if (rc) {
            mdb_txn_abort(w);
            check_mdb(rc, "lmdb incr");
        }
        check_mdb(mdb_txn_commit(w), "mdb_txn_commit");
        return now;
    }
    std::uint64_t sum(std::uint64_t n) {
        open();
        std::uint64_t total = 0;
        for (std::uint64_t i = 0; i < n; ++i) {
            std::int64_t v = 0;
            if (!get(IntShape::key(i), v)) throw Failure("a counter's key is missing after the run");
            total += std::uint64_t(v);
        }
        close();
        return total;
    }

private:
    // Integer keys as MDB_INTEGERKEY wants them: a native size_t.
    struct KeyBuf {
        explicit KeyBuf(const Key &k) : key(k) {}
        Key key;
        MDB_val val{sizeof key, &key};
        KeyBuf(const KeyBuf &) = delete;
    };
    static constexpr unsigned kDbFlags = kInt ? MDB_INTEGERKEY : 0;

    void open() {
        if (env_) return;
        check_mdb(mdb_env_create(&env_), "mdb_env_create");
        check_mdb(mdb_env_set_mapsize(env_, std::size_t{1} << 30), "mdb_env_set_mapsize");
        check_mdb(mdb_env_open(env_, dir_.path().c_str(), MDB_NOSYNC, 0600), "mdb_env_open");
        MDB_txn *t;
        check_mdb(mdb_txn_begin(env_, nullptr, 0, &t), "mdb_txn_begin");
        check_mdb(mdb_dbi_open(t, nullptr, kDbFlags, &dbi_), "mdb_dbi_open");
        check_mdb(mdb_txn_commit(t), "mdb_txn_commit");
        check_mdb(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &read_), "mdb_txn_begin(RDONLY)");
        mdb_txn_reset(read_);
    }
    void close() {
        if (read_) mdb_txn_abort(read_);
        read_ = nullptr;
        if (env_) mdb_env_close(env_);
        env_ = nullptr;
    }

    TempDir dir_;
    MDB_env *env_ = nullptr;
    MDB_dbi dbi_ = 0;
    MDB_txn *read_ = nullptr;
};
#endif

// ---------------------------------------------------------------- Redis

#if SHMDS_BENCH_HAVE_HIREDIS
// redis-server on a Unix socket in a temp dir, persistence off, for the life of the
// object. Throws Skip when redis-server is not installed.
class RedisServer {
public:
    RedisServer();
    ~RedisServer();
    RedisServer(const RedisServer &) = delete;
    RedisServer &operator=(const RedisServer &) = delete;
    const std::string &socket() const { return socket_; }

private:
    TempDir dir_;
    std::string socket_;
    pid_t pid_ = -1;
};

redisContext *redis_connect(const std::string &socket);
// Check a reply's type; frees it and throws Failure on an error reply or another type.
redisReply *redis_expect(void *reply, redisContext *c, int type, const char *what);

template <typename Shape>
class RedisKv {
public:
    using Key = typename Shape::Key;
    using Value = typename Shape::Value;
    static constexpr bool kInt = std::is_same_v<Shape, IntShape>;

    explicit RedisKv(std::uint64_t n) : c_(redis_connect(server_.socket())) {
        // Loaded in pipelined batches, as a bulk load would be.
        constexpr std::uint64_t kBatch = 1024;
        for (std::uint64_t at = 0; at < n; at += kBatch) {
            const std::uint64_t end = std::min(n, at + kBatch);
            for (std::uint64_t i = at; i < end; ++i) {
                const Key key = Shape::key(i);
                const Value value = Shape::value(i, 0);
                const Text k(key), v(value);
                redisAppendCommand(c_, "SET %b %b", k.p, k.n, v.p, v.n);
            }
            for (std::uint64_t i = at; i < end; ++i) {
                void *r = nullptr;
                if (redisGetReply(c_, &r) != REDIS_OK) redis_expect(nullptr, c_, 0, "SET");
                freeReplyObject(redis_expect(r, c_, REDIS_REPLY_STATUS, "SET"));
            }
        }
    }
    ~RedisKv() { redisFree(c_); }
    RedisKv(const RedisKv &) = delete;
    RedisKv &operator=(const RedisKv &) = delete;

    std::string note() const { return "Unix socket, hiredis, no persistence"; }
    // A child gets its own connection (the parent's socket is left alone).
    void attach() { c_ = redis_connect(server_.socket()); }
    void detach() {}

    bool get(const Key &k, Value &v) {
        const Text kt(k);
        void *raw = redisCommand(c_, "GET %b", kt.p, kt.n);
        if (raw && static_cast<redisReply *>(raw)->type == REDIS_REPLY_NIL) {
            freeReplyObject(raw);
            return false;
        }
        redisReply *r = redis_expect(raw, c_, REDIS_REPLY_STRING, "GET");
        const bool ok = decode(r->str, r->len, v);
        freeReplyObject(r);
        if (!ok) throw Failure("redis: GET returned a value of another form");
        return true;
    }
    void put(const Key &k, const Value &v) {
        const Text kt(k), vt(v);
        freeReplyObject(redis_expect(redisCommand(c_, "SET %b %b", kt.p, kt.n, vt.p, vt.n), c_,
                                     REDIS_REPLY_STATUS, "SET"));
    }
    std::int64_t incr(const Key &k) {
        const Text kt(k);
        redisReply *r =
            redis_expect(redisCommand(c_, "INCR %b", kt.p, kt.n), c_, REDIS_REPLY_INTEGER, "INCR");
        const std::int64_t now = r->integer;
        freeReplyObject(r);
        return now;
    }
    // Pipelined, so checking 100k counters takes a moment, not 100k round trips.
    std::uint64_t sum(std::uint64_t n) {
        std::uint64_t total = 0;
        for (std::uint64_t i = 0; i < n; ++i) {
            const Text kt(IntShape::key(i));
            redisAppendCommand(c_, "GET %b", kt.p, kt.n);
        }
        for (std::uint64_t i = 0; i < n; ++i) {
            void *raw = nullptr;
            if (redisGetReply(c_, &raw) != REDIS_OK) redis_expect(nullptr, c_, 0, "GET");
            redisReply *r = redis_expect(raw, c_, REDIS_REPLY_STRING, "GET");
            std::int64_t v = 0;
            const bool ok = decode(r->str, r->len, v);
            freeReplyObject(r);
            if (!ok) throw Failure("redis: a counter is not an integer");
            total += std::uint64_t(v);
        }
        return total;
    }

private:
    // A key or value as Redis sees it: decimal text for integers, the bytes themselves
    // otherwise (pointing into the key or value, which must outlive it).
    struct Text {
        explicit Text(std::int64_t x) : p(buf), n(std::size_t(std::to_chars(buf, buf + sizeof buf, x).ptr - buf)) {}
        template <std::size_t N>
        explicit Text(const unsigned char (&b)[N]) : p(reinterpret_cast<const char *>(b)), n(N) {}
        template <typename T, typename = decltype(T::b)>
        explicit Text(const T &t) : Text(t.b) {}
        char buf[24];
        const char *p;
        std::size_t n;
    };
    static bool decode(const char *s, std::size_t len, std::int64_t &v) {
        const auto [end, ec] = std::from_chars(s, s + len, v);
        return ec == std::errc() && end == s + len;
    }
    template <typename T, typename = decltype(T::b)>
    static bool decode(const char *s, std::size_t len, T &v) {
        if (len != sizeof v.b) return false;
        std::memcpy(v.b, s, len);
        return true;
    }

    RedisServer server_;
    redisContext *c_;
};
#endif

}  // namespace shmds::bench::kv
