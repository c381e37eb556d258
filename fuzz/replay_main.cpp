// The fuzz target without libFuzzer, so an ordinary build and test run exercise it:
//
//   fuzz_open_replay                    a seeded corpus of valid segments, mutated
//                                       (SHMDS_TEST_SEED=N replays a run)
//   fuzz_open_replay FILE|DIR...        replay inputs, e.g. a crash file from libFuzzer
//   fuzz_open_replay --write-seeds DIR  write valid segments of every variant: a seed
//                                       corpus for the libFuzzer build
//
// Exit 0 when every input was handled (a crash or sanitizer report ends the process
// first); 1 when the harness itself is broken (a valid segment did not open).
#include "fuzz_open.hpp"

#include <shmds/shmds.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <dirent.h>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace {

using Bytes = std::vector<std::uint8_t>;

struct Seed {
    std::string name;
    Bytes image;
};

Bytes read_fd(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return {};
    Bytes out(std::size_t(st.st_size));
    if (pread(fd, out.data(), out.size(), 0) != ssize_t(out.size())) return {};
    return out;
}

// A memfd queue of `variant`, filled and partly drained so that its ring positions and
// (for bytes) its arena frontiers are not at their initial places.
Seed make_seed(int variant, std::uint64_t capacity, int pushes, int pops) {
    static const char *names[] = {"any", "int16", "int32", "int64", "bytes"};
    Seed s;
    s.name = std::string(names[variant]) + "-cap" + std::to_string(capacity) + "-" +
             std::to_string(pushes) + "-" + std::to_string(pops);
    shmds_options_t opts = SHMDS_OPTIONS_INIT;
    opts.backing = SHMDS_BACKING_MEMFD;
    opts.name = "fuzz-seed";
    shmds_queue_config_t cfg = SHMDS_QUEUE_CONFIG_INIT(variant, capacity);
    shmds_queue_t *q = nullptr;
    if (shmds_queue_create(&opts, &cfg, &q) != 0) {
        std::fprintf(stderr, "fuzz_open_replay: seed %s: %s\n", s.name.c_str(),
                     shmds_last_error());
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
        if (variant == SHMDS_QUEUE_BYTES) shmds_queue_pop_bytes(q, msg, sizeof msg, &len, SHMDS_NOWAIT);
        else shmds_queue_pop_int(q, &v, SHMDS_NOWAIT);
    }
    s.image = read_fd(shmds_queue_fd(q));
    shmds_queue_close(q);
    return s;
}

std::vector<Seed> make_seeds() {
    std::vector<Seed> seeds;
    for (int variant = SHMDS_QUEUE_INT16; variant <= SHMDS_QUEUE_INT64; ++variant) {
        seeds.push_back(make_seed(variant, 2, 0, 0));
        seeds.push_back(make_seed(variant, 8, 11, 6));
    }
    seeds.push_back(make_seed(SHMDS_QUEUE_BYTES, 2, 1, 0));
    seeds.push_back(make_seed(SHMDS_QUEUE_BYTES, 16, 40, 33));  // wrapped arena
    return seeds;
}

std::uint64_t pick_seed() {
    if (const char *env = std::getenv("SHMDS_TEST_SEED")) return std::strtoull(env, nullptr, 0);
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return std::uint64_t(ts.tv_sec) * 1000003u ^ std::uint64_t(ts.tv_nsec) ^
           (std::uint64_t(getpid()) << 32);
}

// One mutation of a valid image, chosen to reach past the header checks: flipped bits,
// interesting words at aligned offsets, changed lengths, or plain noise.
Bytes mutate(const Bytes &valid, std::mt19937_64 &rng) {
    Bytes b = valid;
    static const std::uint64_t interesting[] = {0, 1, 2, 7, 8, 64, 255, 4096, 0x7fffffff,
                                                0x80000000, 0xffffffff, 1ull << 32,
                                                1ull << 62, 1ull << 63, ~0ull};
    switch (rng() % 6) {
        case 0:  // a few flipped bits anywhere
            for (int n = 1 + int(rng() % 8); n > 0 && !b.empty(); --n)
                b[rng() % b.size()] ^= std::uint8_t(1u << (rng() % 8));
            break;
        case 1:  // an interesting 64-bit or 32-bit value at an aligned offset
            for (int n = 1 + int(rng() % 3); n > 0 && b.size() >= 8; --n) {
                std::uint64_t v = interesting[rng() % (sizeof interesting / sizeof *interesting)];
                if (rng() % 4 == 0) v += rng() % 16;
                const std::size_t width = rng() % 2 ? 8 : 4;
                const std::size_t at = (rng() % (b.size() / width)) * width;
                std::memcpy(b.data() + at, &v, width);
            }
            break;
        case 2:  // a few random bytes
            for (int n = 1 + int(rng() % 16); n > 0 && !b.empty(); --n)
                b[rng() % b.size()] = std::uint8_t(rng());
            break;
        case 3:  // shorter or longer
            b.resize(rng() % 2 ? rng() % (b.size() + 1) : b.size() + 1 + rng() % 128);
            break;
        case 4:  // the body replaced by noise, the header kept
            for (std::size_t i = 256; i < b.size(); ++i) b[i] = std::uint8_t(rng());
            break;
        default:  // noise of any length
            b.resize(rng() % 2048);
            for (auto &x : b) x = std::uint8_t(rng());
            break;
    }
    return b;
}

int run_seeded() {
    const std::uint64_t seed = pick_seed();
    std::fprintf(stderr, "[seed] SHMDS_TEST_SEED=%" PRIu64 " (set it to replay)\n", seed);
    std::mt19937_64 rng(seed);
    const std::vector<Seed> seeds = make_seeds();
    for (const Seed &s : seeds) {
        // Each untouched seed opens as "any" and as its own variant; if not, the harness
        // is testing nothing.
        if (s.image.empty() || shmds_fuzz_open_one(s.image.data(), s.image.size()) != 2) {
            std::fprintf(stderr, "fuzz_open_replay: valid seed %s did not open\n",
                         s.name.c_str());
            return 1;
        }
    }
    constexpr int kInputs = 6000;
    int opened = 0;
    for (int i = 0; i < kInputs; ++i) {
        const Bytes input = mutate(seeds[rng() % seeds.size()].image, rng);
        if (shmds_fuzz_open_one(input.data(), input.size()) > 0) ++opened;
    }
    std::printf("fuzz_open_replay: %d mutated inputs, %d opened, none crashed\n", kInputs,
                opened);
    return 0;
}

bool replay_file(const std::string &path) {
    FILE *f = std::fopen(path.c_str(), "rbe");
    if (!f) {
        std::fprintf(stderr, "fuzz_open_replay: %s: %s\n", path.c_str(), std::strerror(errno));
        return false;
    }
    Bytes data;
    std::uint8_t buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
    std::fclose(f);
    const int opened = shmds_fuzz_open_one(data.data(), data.size());
    std::printf("%s: %zu bytes, opened %d time(s)\n", path.c_str(), data.size(), opened);
    return true;
}

bool replay_path(const std::string &path) {
    struct stat st;
    if (stat(path.c_str(), &st) != 0) {
        std::fprintf(stderr, "fuzz_open_replay: %s: %s\n", path.c_str(), std::strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode)) return replay_file(path);
    DIR *d = opendir(path.c_str());
    if (!d) return false;
    bool ok = true;
    while (dirent *e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        ok = replay_path(path + "/" + e->d_name) && ok;
    }
    closedir(d);
    return ok;
}

int write_seeds(const std::string &dir) {
    for (const Seed &s : make_seeds()) {
        const std::string path = dir + "/" + s.name;
        FILE *f = std::fopen(path.c_str(), "wbe");
        if (!f || std::fwrite(s.image.data(), 1, s.image.size(), f) != s.image.size()) {
            std::fprintf(stderr, "fuzz_open_replay: cannot write %s\n", path.c_str());
            if (f) std::fclose(f);
            return 1;
        }
        std::fclose(f);
    }
    return 0;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc == 3 && std::strcmp(argv[1], "--write-seeds") == 0) return write_seeds(argv[2]);
    if (argc == 1) return run_seeded();
    bool ok = true;
    for (int i = 1; i < argc; ++i) ok = replay_path(argv[i]) && ok;
    return ok ? 0 : 1;
}
