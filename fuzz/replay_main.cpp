// The fuzz target without libFuzzer, so an ordinary build and test run exercise it:
//
//   fuzz_open_replay                    a seeded corpus of valid segments, mutated
//                                       (SHMDS_TEST_SEED=N replays a run;
//                                       SHMDS_FUZZ_KEEP=FILE keeps the culprit)
//   fuzz_open_replay FILE|DIR...        replay inputs, e.g. a crash file from libFuzzer
//   fuzz_open_replay --write-seeds DIR  write valid segments of every structure and
//                                       variant: a seed corpus for the libFuzzer build
//
// Exit 0 when every input was handled (a crash, a sanitizer report or a call returning
// a code it does not document ends the process first); 1 when the harness itself is
// broken (a valid segment did not open).
#include "fuzz_open.hpp"
#include "seeds.hpp"

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
using shmds_fuzz::Seed;

bool write_file(const std::string &path, const Bytes &bytes) {
    FILE *f = std::fopen(path.c_str(), "wbe");
    const bool ok = f && std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
    if (f && std::fclose(f) != 0) return false;
    if (!ok) std::fprintf(stderr, "fuzz_open_replay: cannot write %s\n", path.c_str());
    return ok;
}

std::int64_t monotonic_ns() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
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
    const std::vector<Seed> seeds = shmds_fuzz::make_seeds();
    for (const Seed &s : seeds) {
        // Each untouched seed opens (as "any" and as its own variant, where there are
        // variants); if not, the harness is testing nothing.
        if (s.image.empty() || shmds_fuzz_open_one(s.image.data(), s.image.size()) != s.opens) {
            std::fprintf(stderr, "fuzz_open_replay: valid seed %s did not open\n",
                         s.name.c_str());
            return 1;
        }
    }
    constexpr int kInputs = 6000;
    // SHMDS_FUZZ_KEEP=FILE: each input is written there before it runs, so after a
    // crash or an abort FILE holds the input that caused it (replay it as an argument);
    // after a clean run it holds the slowest input instead.
    const char *keep = std::getenv("SHMDS_FUZZ_KEEP");
    int opened = 0;
    std::int64_t slowest_ns = 0;
    Bytes slowest;
    for (int i = 0; i < kInputs; ++i) {
        const Bytes input = mutate(seeds[rng() % seeds.size()].image, rng);
        if (keep && !write_file(keep, input)) return 1;
        const std::int64_t start = monotonic_ns();
        if (shmds_fuzz_open_one(input.data(), input.size()) > 0) ++opened;
        const std::int64_t took = monotonic_ns() - start;
        if (took > slowest_ns) {
            slowest_ns = took;
            if (keep) slowest = input;
        }
    }
    if (keep && !write_file(keep, slowest)) return 1;
    std::printf("fuzz_open_replay: %d mutated inputs, %d opened, none crashed; the slowest "
                "took %.1f ms\n",
                kInputs, opened, double(slowest_ns) / 1e6);
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
    for (const Seed &s : shmds_fuzz::make_seeds())
        if (!write_file(dir + "/" + s.name, s.image)) return 1;
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
