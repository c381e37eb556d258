// shmds-soak: the kill soak (see soak.hpp). Exit status 0 when every workload passed,
// 1 on any violation (with --expect-violation: when any workload passed), 2 on a usage
// error.
#include "supervisor.hpp"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

void usage(FILE *to) {
    std::fprintf(to,
        "usage: shmds-soak [--structure NAME|all] [--seconds S] [--workers N]\n"
        "                  [--kill-interval-ms MS] [--bound-ms MS] [--seed N] [--list]\n"
        "                  [--expect-violation]\n"
        "  Worker processes run operations on one structure while random workers are\n"
        "  SIGKILLed and respawned; then the workload's invariants are checked.\n"
        "  --structure       a workload from --list, or all (default: all, one after another,\n"
        "                    except the canary_ ones, which break the rules on purpose)\n"
        "  --seconds         run time of each workload (default 10)\n"
        "  --workers         worker processes (default 4, at most 64)\n"
        "  --kill-interval-ms  mean time between kills, 0 = no kills (default 50)\n"
        "  --bound-ms        longest a worker's step, or a stretch without any successful\n"
        "                    operation, may last before the run fails as wedged (default 2000)\n"
        "  --seed            the random seed (default: from the clock; always printed)\n"
        "  --expect-violation  succeed only if every workload run reports a violation\n"
        "                    (tests the soak's own detection with the canaries)\n");
}

bool parse_u64(const char *text, unsigned long long &out) {
    if (text == nullptr || *text == '\0' || *text == '-') return false;
    char *end = nullptr;
    errno = 0;
    out = std::strtoull(text, &end, 10);
    return errno == 0 && *end == '\0';
}

[[noreturn]] void bad(const std::string &what) {
    std::fprintf(stderr, "shmds-soak: %s\n", what.c_str());
    usage(stderr);
    std::exit(2);
}

}  // namespace

int main(int argc, char **argv) {
    soak::RunOptions opt;
    opt.seed = static_cast<std::uint64_t>(
        std::chrono::steady_clock::now().time_since_epoch().count());
    std::string structure = "all";
    bool expect_violation = false;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            usage(stdout);
            return 0;
        }
        if (arg == "--list") {
            for (const soak::Registration &r : soak::registry())
                std::printf("%-14s %s\n", r.name, r.checks);
            return 0;
        }
        if (arg == "--expect-violation") {
            expect_violation = true;
            continue;
        }
        const char *value = i + 1 < argc ? argv[i + 1] : nullptr;
        unsigned long long n = 0;
        if (arg == "--structure" && value) {
            structure = value;
        } else if (arg == "--seconds" && value) {
            char *end = nullptr;
            opt.seconds = std::strtod(value, &end);
            if (*end != '\0' || !(opt.seconds > 0) || opt.seconds > 1e6)
                bad("--seconds needs a positive number, got '" + std::string(value) + "'");
        } else if (arg == "--workers" && value) {
            if (!parse_u64(value, n) || n < 1 || n > 64)
                bad("--workers needs 1..64, got '" + std::string(value) + "'");
            opt.workers = static_cast<unsigned>(n);
        } else if (arg == "--kill-interval-ms" && value) {
            if (!parse_u64(value, n) || n > 3600000)
                bad("--kill-interval-ms needs 0..3600000, got '" + std::string(value) + "'");
            opt.kill_interval_ms = static_cast<unsigned>(n);
        } else if (arg == "--bound-ms" && value) {
            if (!parse_u64(value, n) || n < 100 || n > 3600000)
                bad("--bound-ms needs 100..3600000, got '" + std::string(value) + "'");
            opt.bound_ms = static_cast<unsigned>(n);
        } else if (arg == "--seed" && value) {
            if (!parse_u64(value, n)) bad("--seed needs an unsigned integer, got '" + std::string(value) + "'");
            opt.seed = n;
        } else {
            bad(value ? "unknown option '" + arg + "'" : "'" + arg + "' needs a value or is unknown");
        }
        ++i;
    }

    std::vector<const soak::Registration *> chosen;
    for (const soak::Registration &r : soak::registry())
        if (structure == r.name || (structure == "all" && std::strncmp(r.name, "canary_", 7) != 0))
            chosen.push_back(&r);
    if (chosen.empty()) bad("no workload named '" + structure + "' (see --list)");

    std::printf("shmds-soak: seed %llu\n", static_cast<unsigned long long>(opt.seed));
    unsigned failed = 0;
    for (const soak::Registration *r : chosen) {
        if (opt.workers < r->min_workers) {
            std::fprintf(stderr, "shmds-soak: %s needs at least %u workers\n", r->name,
                         r->min_workers);
            return 2;
        }
        if (!soak::run_workload(*r, opt)) ++failed;
    }
    if (expect_violation) {
        if (failed == chosen.size()) return 0;
        std::printf("shmds-soak: %zu of %zu workloads found no violation, but one was expected\n",
                    chosen.size() - failed, chosen.size());
        return 1;
    }
    if (failed) std::printf("shmds-soak: %u of %zu workloads FAILED\n", failed, chosen.size());
    return failed ? 1 : 0;
}
