// The cache bench's keys and its two out-of-process peers (cache_bench.cpp):
//
//   the anchor    Perl's Cache::FastMmap, run by bench/cache_fastmmap.pl (one process per
//                 measuring worker, pinned like ours; the script times its own window on
//                 CLOCK_MONOTONIC, the harness's clock, and checks what it read)
//   memcached     started by the bench on a Unix socket in a temp dir, 64 MiB, one
//                 connection per process and one text-protocol request per round trip
//                 (what a plain client does; only the untimed prefill pipelines)
//
// Keys and values are the same for every subject, and the script's formula: key i is the
// 16 ASCII bytes "%08x%08x" of (i * 2654435761 mod 2^32, i), valid memcached keys; keys
// N..2N-1 are never stored (the misses). A value is its key and a 16-digit generation, 32
// bytes, so a reader can tell a value of another key.
#pragma once

#include "harness.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace shmds::bench::cachebench {

inline constexpr std::uint64_t kKeys = 100000;
inline constexpr std::size_t kKeyLen = 16, kValueLen = 32;

struct Key {
    char b[kKeyLen];
};
Key key_of(std::uint64_t i);
// The value of key k at generation gen: kValueLen bytes into out.
void value_of(const Key &k, std::uint64_t gen, char *out);
bool value_valid(const Key &k, const char *v, std::size_t len);

// ---------------------------------------------------------------- the anchor

// Whether perl, Cache::FastMmap and the script are here; else why not (the rows skip).
bool anchor_available(std::string &why);

// What one run of the script reported.
struct AnchorResult {
    double ops, hits, begin_ns, end_ns, bad;
};

// One process of the script: started at construction (pinned to `cpu` unless -1),
// killed and reaped at destruction if still running.
class AnchorProcess {
public:
    AnchorProcess(const std::vector<std::string> &args, int cpu);
    ~AnchorProcess();
    AnchorProcess(const AnchorProcess &) = delete;
    AnchorProcess &operator=(const AnchorProcess &) = delete;

    // Wait for the "ready" line (Failure after timeout_s or if the script exits).
    void wait_ready(double timeout_s);
    // Start its measured window.
    void go();
    // Its result line, then its exit (Failure if it is not 0).
    AnchorResult finish(double timeout_s);
    // Run to completion without a go (the prefill).
    void wait_exit(double timeout_s);

private:
    std::string read_line(double timeout_s);
    pid_t pid_ = -1;
    int to_ = -1, from_ = -1;
    std::string buffered_;
};

// The script's command line for `op` on `file` (level "xs" or "api").
std::vector<std::string> anchor_args(const std::string &file, const std::string &op,
                                     const std::string &level, double seconds, int worker);

// ---------------------------------------------------------------- memcached

class MemcachedServer {
public:
    MemcachedServer();  // throws Skip if memcached is not installed
    ~MemcachedServer();
    MemcachedServer(const MemcachedServer &) = delete;
    MemcachedServer &operator=(const MemcachedServer &) = delete;
    const std::string &socket() const { return socket_; }

private:
    std::string dir_, socket_;
    pid_t pid_ = -1;
};

// One connection, one request per round trip (text protocol).
class MemcachedClient {
public:
    explicit MemcachedClient(const std::string &socket);
    ~MemcachedClient();
    MemcachedClient(const MemcachedClient &) = delete;
    MemcachedClient &operator=(const MemcachedClient &) = delete;

    // The value into v (room for kValueLen), its length into len; false on a miss.
    bool get(const Key &k, char *v, std::size_t &len);
    void set(const Key &k, const char *v);
    // Untimed setup: keys [0, n) at generation 0, pipelined in batches.
    void prefill(const std::vector<Key> &keys);

private:
    void send_all(const char *p, std::size_t n);
    // Read until `want` bytes are buffered; returns the buffer.
    const char *need(std::size_t want);
    int fd_ = -1;
    char buf_[64 * 1024];
    std::size_t have_ = 0;
};

}  // namespace shmds::bench::cachebench
