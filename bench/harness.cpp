// The harness's driver: registry, command line, repetitions and medians, the table, the
// JSON lines and the targets.
#include "harness.hpp"

#include "procs.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <set>
#include <string>
#include <vector>

namespace shmds::bench {

namespace {

std::vector<Case> &cases() {
    static std::vector<Case> all;  // function-local: filled during static initialisation
    return all;
}

std::vector<Target> &targets() {
    static std::vector<Target> all;
    return all;
}

struct Options {
    std::vector<std::string> filters;  // any may match; empty = everything
    bool quick = false;
    bool json = false;
    bool list = false;
    bool pin = true;
    double seconds = 0.5;
    int reps = 5;
};

[[noreturn]] void usage(const char *argv0, int code) {
    std::fprintf(code ? stderr : stdout,
                 "usage: %s [--filter SUBSTR[,SUBSTR...]] [--quick] [--seconds N] [--reps N]\n"
                 "          [--json] [--no-pin] [--list]\n"
                 "  --filter   run the cases whose \"workload/subject\" contains a SUBSTR (the\n"
                 "             peers they are compared with run too)\n"
                 "  --quick    short runs, one repetition, no warm-up (CI smoke)\n"
                 "  --seconds  measured seconds per repetition (default 0.5)\n"
                 "  --reps     repetitions per case; the median is reported (default 5)\n"
                 "  --json     one JSON line per result on stdout; the table goes to stderr\n"
                 "  --no-pin   do not pin processes to CPUs\n"
                 "  --list     list the cases and exit\n",
                 argv0);
    std::exit(code);
}

double parse_number(const char *argv0, const char *opt, const char *text) {
    char *end = nullptr;
    errno = 0;
    const double v = std::strtod(text, &end);
    if (errno || end == text || *end || !(v > 0) || !std::isfinite(v)) {
        std::fprintf(stderr, "%s: %s needs a positive number, not \"%s\"\n", argv0, opt, text);
        usage(argv0, 2);
    }
    return v;
}

Options parse(int argc, char **argv) {
    Options o;
    bool seconds_given = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> const char * {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s: %s needs a value\n", argv[0], a.c_str());
                usage(argv[0], 2);
            }
            return argv[++i];
        };
        if (a == "--filter") {
            std::string f = value();
            for (std::size_t at = 0; at <= f.size();) {
                std::size_t comma = f.find(',', at);
                if (comma == std::string::npos) comma = f.size();
                if (comma > at) o.filters.push_back(f.substr(at, comma - at));
                at = comma + 1;
            }
        } else if (a == "--quick") {
            o.quick = true;
        } else if (a == "--seconds") {
            o.seconds = parse_number(argv[0], "--seconds", value());
            seconds_given = true;
        } else if (a == "--reps") {
            o.reps = int(parse_number(argv[0], "--reps", value()));
            if (o.reps < 1) o.reps = 1;
        } else if (a == "--json") {
            o.json = true;
        } else if (a == "--no-pin") {
            o.pin = false;
        } else if (a == "--list") {
            o.list = true;
        } else if (a == "--help" || a == "-h") {
            usage(argv[0], 0);
        } else {
            std::fprintf(stderr, "%s: unknown option \"%s\"\n", argv[0], a.c_str());
            usage(argv[0], 2);
        }
    }
    if (o.quick) {
        if (!seconds_given) o.seconds = 0.05;
        o.reps = 1;
    }
    return o;
}

std::string key(const Case &c) { return c.workload + "/" + c.subject; }

bool matches(const Options &o, const Case &c) {
    if (o.filters.empty()) return true;
    const std::string k = key(c);
    return std::any_of(o.filters.begin(), o.filters.end(),
                       [&](const std::string &f) { return k.find(f) != std::string::npos; });
}

// The selected cases plus the peers they name, and the peers' peers.
std::vector<const Case *> select(const Options &o) {
    std::set<std::string> wanted;
    for (const Case &c : cases())
        if (matches(o, c)) wanted.insert(key(c));
    for (std::size_t before = 0; before != wanted.size();) {
        before = wanted.size();
        for (const Case &c : cases())
            if (wanted.count(key(c)) && !c.ratio_to.empty())
                wanted.insert(c.workload + "/" + c.ratio_to);
    }
    // Grouped by workload (in order of first registration), so the table reads in blocks.
    std::vector<std::string> workloads;
    for (const Case &c : cases())
        if (std::find(workloads.begin(), workloads.end(), c.workload) == workloads.end())
            workloads.push_back(c.workload);
    std::vector<const Case *> out;
    for (const std::string &w : workloads)
        for (const Case &c : cases())
            if (c.workload == w && wanted.count(key(c))) out.push_back(&c);
    return out;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct Result {
    std::string workload, subject, metric, unit, ratio_to, note;
    double value = 0;
    double spread = 0;  // (max - min) / median over the repetitions kept
    double wait = -1;   // median share of time spent waiting for a CPU; -1 = unknown
    double ratio = NAN;
};

// One selected case across the rounds of a run.
struct CaseRun {
    const Case *c;
    int reps;
    std::vector<Sample> samples;
    std::string skipped;  // reason, when skipped
    std::string failed;   // sentence, when it broke
    bool finished() const {
        return !skipped.empty() || !failed.empty() || int(samples.size()) >= reps;
    }
};

RunParams params_for(const Options &o, const std::vector<int> &cpus) {
    RunParams p{};
    p.quick = o.quick;
    p.seconds = o.seconds;
    p.cpu_a = o.pin && !cpus.empty() ? cpus[0] : -1;
    p.cpu_b = o.pin && cpus.size() > 1 ? cpus[1] : p.cpu_a;
    return p;
}

// One repetition (after the case's warm-up when it is the first).
void run_repetition(CaseRun &cr, const Options &o, RunParams p) {
    const Case &c = *cr.c;
    try {
        if (cr.samples.empty() && c.warmup && !o.quick) {
            RunParams w = p;
            w.warmup = true;
            w.seconds = std::min(0.2, o.seconds / 2);
            Sample discard;
            c.run(w, discard);
        }
        Sample s;
        c.run(p, s);
        if (s.metrics().empty()) throw Failure("the case reported no metric");
        if (!cr.samples.empty() && s.metrics().size() != cr.samples.front().metrics().size())
            throw Failure("repetitions reported different metrics");
        cr.samples.push_back(std::move(s));
    } catch (const Skip &e) {
        cr.skipped = e.what();
    } catch (const std::exception &e) {
        cr.failed = e.what();
    }
}

// The repetitions a median is taken over: all of them, or, when each says how much other
// load disturbed it, the calmer half (rounded up). Load from elsewhere only ever slows
// a measurement down, so the calm repetitions are the ones that describe the subject.
std::vector<const Sample *> calm_samples(const std::vector<Sample> &samples) {
    std::vector<const Sample *> kept;
    for (const Sample &s : samples) kept.push_back(&s);
    const bool all_known = std::all_of(kept.begin(), kept.end(),
                                       [](const Sample *s) { return s->disturbance() >= 0; });
    if (!all_known) return kept;
    std::stable_sort(kept.begin(), kept.end(), [](const Sample *a, const Sample *b) {
        return a->disturbance() < b->disturbance();
    });
    kept.resize((kept.size() + 1) / 2);
    return kept;
}

// The median of each metric over the calm repetitions, with its spread.
std::vector<Result> summarise(const CaseRun &cr) {
    std::vector<Result> out;
    if (cr.samples.empty() || !cr.failed.empty()) return out;
    const Case &c = *cr.c;
    const std::vector<const Sample *> kept = calm_samples(cr.samples);
    std::vector<double> waits;
    for (const Sample *s : kept) waits.push_back(s->disturbance());
    const double wait = median(waits);
    for (std::size_t m = 0; m < cr.samples.front().metrics().size(); ++m) {
        std::vector<double> values;
        for (const Sample *s : kept) values.push_back(s->metrics()[m].value);
        const auto &first = cr.samples.front().metrics()[m];
        Result r;
        r.workload = c.workload;
        r.subject = c.subject;
        r.metric = first.name;
        r.unit = first.unit;
        r.ratio_to = c.ratio_to;
        r.note = cr.samples.back().note();
        r.value = median(values);
        const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
        r.spread = r.value != 0 ? (*hi - *lo) / std::fabs(r.value) : 0;
        r.wait = wait;
        out.push_back(r);
    }
    return out;
}

const Result *find(const std::vector<Result> &all, const std::string &workload,
                   const std::string &subject, const std::string &metric) {
    for (const Result &r : all)
        if (r.workload == workload && r.subject == subject && r.metric == metric) return &r;
    return nullptr;
}

std::string human(double v) {
    char buf[32];
    const double a = std::fabs(v);
    if (a >= 1e9) std::snprintf(buf, sizeof buf, "%.2fG", v / 1e9);
    else if (a >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", v / 1e6);
    else if (a >= 1e4) std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
    else if (a >= 100) std::snprintf(buf, sizeof buf, "%.0f", v);
    else std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

std::string json_string(const std::string &s) {
    std::string out = "\"";
    for (char ch : s) {
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20) {
            char esc[8];
            std::snprintf(esc, sizeof esc, "\\u%04x", ch);
            out += esc;
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

std::string json_number(double v) {
    if (!std::isfinite(v)) return "null";
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

void print_json(const Result &r) {
    std::printf("{\"workload\":%s,\"subject\":%s,\"metric\":%s,\"value\":%s,\"unit\":%s,"
                "\"ratio_to\":%s,\"ratio\":%s}\n",
                json_string(r.workload).c_str(), json_string(r.subject).c_str(),
                json_string(r.metric).c_str(), json_number(r.value).c_str(),
                json_string(r.unit).c_str(),
                r.ratio_to.empty() ? "null" : json_string(r.ratio_to).c_str(),
                json_number(r.ratio).c_str());
    std::fflush(stdout);
}

void print_table(std::FILE *out, const std::vector<Result> &all,
                 const std::vector<std::pair<std::string, std::string>> &not_run) {
    std::fprintf(out, "%-18s %-15s %-6s %10s %-8s %6s %5s  %-13s %7s  %s\n", "workload",
                 "subject", "metric", "value", "unit", "spread", "wait", "vs", "ratio", "note");
    std::string last;
    for (const Result &r : all) {
        if (!last.empty() && r.workload != last) std::fputc('\n', out);
        last = r.workload;
        char spread[16];
        std::snprintf(spread, sizeof spread, "%.0f%%", r.spread * 100);
        char wait[16] = "-";
        if (r.wait >= 0) std::snprintf(wait, sizeof wait, "%.0f%%", r.wait * 100);
        char ratio[24] = "";
        // Two significant digits below 0.01 (an idle sleeper against a spinning peer).
        if (std::isfinite(r.ratio))
            std::snprintf(ratio, sizeof ratio, r.ratio < 0.01 ? "%.2gx" : "%.2fx", r.ratio);
        std::fprintf(out, "%-18s %-15s %-6s %10s %-8s %6s %5s  %-13s %7s  %s\n",
                     r.workload.c_str(), r.subject.c_str(), r.metric.c_str(),
                     human(r.value).c_str(), r.unit.c_str(), spread, wait, r.ratio_to.c_str(),
                     ratio, r.note.c_str());
    }
    for (const auto &[what, why] : not_run) std::fprintf(out, "%-34s %s\n", what.c_str(), why.c_str());
}

void print_targets(std::FILE *out, const std::vector<Result> &all) {
    bool header = false;
    for (const Target &t : targets()) {
        const Result *a = find(all, t.workload, t.subject, t.metric);
        const Result *b = t.peer.empty() ? nullptr : find(all, t.workload, t.peer, t.metric);
        if (!a || (!t.peer.empty() && !b)) continue;
        if (!header) {
            std::fprintf(out, "\ntargets (medians of this run; checked here, never asserted):\n");
            header = true;
        }
        const double v = b ? a->value / b->value : a->value;
        const bool met = t.at_least ? v >= t.bound : v <= t.bound;
        char measured[64];
        if (b)
            std::snprintf(measured, sizeof measured, "%.2fx", v);
        else
            std::snprintf(measured, sizeof measured, "%s %s", human(v).c_str(), a->unit.c_str());
        char bound[48];
        std::snprintf(bound, sizeof bound, "%s %s%s", t.at_least ? ">=" : "<=",
                      human(t.bound).c_str(), b ? "x" : (" " + a->unit).c_str());
        std::fprintf(out, "  %-4s %-58s %14s  (%s)\n", met ? "met" : "MISS", t.what.c_str(),
                     measured, bound);
    }
}

std::string load_average() {
    char buf[128] = "unknown";
    if (std::FILE *f = std::fopen("/proc/loadavg", "r")) {
        if (!std::fgets(buf, sizeof buf, f)) std::snprintf(buf, sizeof buf, "unknown");
        std::fclose(f);
    }
    std::string s = buf;
    while (!s.empty() && s.back() == '\n') s.pop_back();
    return s;
}

}  // namespace

void Sample::add(std::string metric, double value, std::string unit) {
    metrics_.push_back(Metric{std::move(metric), value, std::move(unit)});
}

void add_case(Case c) { cases().push_back(std::move(c)); }
void add_target(Target t) { targets().push_back(std::move(t)); }

std::int64_t now_ns() noexcept {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace shmds::bench

int main(int argc, char **argv) {
    using namespace shmds::bench;
    const Options o = parse(argc, argv);
    const std::vector<const Case *> selected = select(o);
    if (o.list) {
        for (const Case *c : selected)
            std::printf("%s%s%s\n", key(*c).c_str(), c->ratio_to.empty() ? "" : "  (vs ",
                        c->ratio_to.empty() ? "" : (c->ratio_to + ")").c_str());
        return 0;
    }
    if (selected.empty()) {
        std::fprintf(stderr, "%s: no case matches the filter (see --list)\n", argv[0]);
        return 2;
    }
    const std::vector<int> cpus = usable_cpus();
    std::FILE *table = o.json ? stderr : stdout;
    std::fprintf(table, "shmds-bench: %zu cases, %s, %d repetition%s of %.2f s, median reported, "
                        "%zu CPU%s%s\n",
                 selected.size(), o.quick ? "quick" : "full", o.reps, o.reps == 1 ? "" : "s",
                 o.seconds, cpus.size(), cpus.size() == 1 ? "" : "s",
                 o.pin ? " (pinned)" : " (not pinned)");
    // Other work on the machine moves every cross-process figure; say how much there was.
    std::fprintf(table, "load average at start: %s\n", load_average().c_str());

    // Repetitions go round-robin over the cases, so a burst of load from elsewhere on
    // the machine lands on several subjects' repetitions instead of all of one's, and
    // the medians of a subject and of its peer come from interleaved moments.
    std::vector<CaseRun> runs;
    for (const Case *c : selected) {
        CaseRun cr{c, c->max_reps > 0 ? std::min(o.reps, c->max_reps) : o.reps, {}, {}, {}};
        if (c->spins && cpus.size() < 2)
            cr.skipped = "busy-waits across processes; needs 2 CPUs, this process may use " +
                         std::to_string(cpus.size());
        runs.push_back(std::move(cr));
    }
    const RunParams params = params_for(o, cpus);
    for (int round = 1; round <= o.reps; ++round) {
        for (CaseRun &cr : runs) {
            if (cr.finished()) continue;
            std::fprintf(stderr, "  round %d/%d: %s\n", round, o.reps, key(*cr.c).c_str());
            run_repetition(cr, o, params);
            if (!cr.failed.empty())
                std::fprintf(stderr, "  %s FAILED: %s\n", key(*cr.c).c_str(), cr.failed.c_str());
        }
    }

    std::vector<Result> all;
    std::vector<std::pair<std::string, std::string>> not_run;
    int failures = 0;
    for (const CaseRun &cr : runs) {
        if (!cr.failed.empty()) {
            ++failures;
            not_run.emplace_back(key(*cr.c), "FAILED: " + cr.failed);
        } else if (!cr.skipped.empty()) {
            not_run.emplace_back(key(*cr.c), "skipped: " + cr.skipped);
        }
        for (Result &r : summarise(cr)) all.push_back(std::move(r));
    }
    // Ratios once everything ran, so each compares figures of this same run.
    for (Result &r : all) {
        if (r.ratio_to.empty()) continue;
        const Result *peer = find(all, r.workload, r.ratio_to, r.metric);
        if (peer && peer->value != 0) r.ratio = r.value / peer->value;
    }
    if (o.json)
        for (const Result &r : all) print_json(r);
    std::fputc('\n', table);
    print_table(table, all, not_run);
    print_targets(table, all);
    std::fprintf(table, "load average at end: %s\n", load_average().c_str());
    return failures ? 1 : 0;
}
