// What a structure must refuse, for every structure (DESIGN.md §3): a segment of another
// structure or variant (SHMDS_ETYPE, the sentence naming what the segment holds), and
// files that are truncated, garbage, or an unfinished create that is not ours to finish
// (SHMDS_ECORRUPT), by _open and by _create alike, without changing a byte of them.
// An interrupted create of our own (all zero, or still marked initialising, at the
// exact size) is the one damaged file _create finishes.
#include "conformance_test.hpp"

#include "core/header.hpp"  // the "initialising" magic an interrupted create leaves behind

#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

using namespace shmds::conformance;
using namespace shmds::test;

namespace {

class Refusals : public EntryTest {};

// The sentence after the path it starts with: what it says about the segment.
std::string after_path(const std::string &sentence, const std::string &path) {
    auto at = sentence.find(path);
    return at == std::string::npos ? sentence : sentence.substr(at + path.size());
}

TEST_P(Refusals, AnotherStructureOrVariantIsSHMDS_ETYPE) {
    TempPath path("cf");
    shmds_options_t po = path_options(path);
    Opened real(s());
    ASSERT_OK(s().create(&po, real.out()));
    const std::string before = read_whole_file(path.str());
    for (const Structure &other : registry()) {
        if (other.name == s().name) continue;
        SCOPED_TRACE("as " + other.name);
        for (const char *how : {"open", "create"}) {
            Handle wrong = nullptr;
            int r = std::strcmp(how, "open") == 0 ? other.open(&po, &wrong)
                                                   : other.create(&po, &wrong);
            EXPECT_EQ(SHMDS_ETYPE, r) << how << ": " << describe(r);
            EXPECT_EQ(nullptr, wrong) << how;
            if (wrong) other.close(wrong);
            const std::string said = after_path(shmds_last_error(), path.str());
            EXPECT_NE(std::string::npos, said.find(s().type_name))
                << how << ": the sentence does not name the " << s().type_name << ": " << said;
            if (other.type_name == s().type_name && !s().variant_name.empty()) {
                EXPECT_NE(std::string::npos, said.find(s().variant_name))
                    << how << ": the sentence does not name variant " << s().variant_name
                    << ": " << said;
            }
        }
    }
    EXPECT_EQ(before, read_whole_file(path.str())) << "a refused open changed the segment";
    EXPECT_OK(s().write(real.get()));  // still the structure it was
}

// The bytes of a fresh, valid segment of this structure.
std::string valid_segment(const Structure &s) {
    TempPath path("cf-valid");
    shmds_options_t po = path_options(path);
    Opened h(s);
    int r = s.create(&po, h.out());
    EXPECT_EQ(0, r) << describe(r);
    h.reset();
    return read_whole_file(path.str());
}

// Put `bytes` at a path; _open and _create must both refuse it with `code` and leave
// it exactly as it was.
void expect_refused_untouched(const Structure &s, const std::string &bytes, int code,
                              const std::string &what) {
    SCOPED_TRACE(what);
    TempPath path("cf-bad");
    write_whole_file(path.str(), bytes);
    shmds_options_t po = path_options(path);
    for (const char *how : {"open", "create"}) {
        Handle h = nullptr;
        int r = std::strcmp(how, "open") == 0 ? s.open(&po, &h) : s.create(&po, &h);
        EXPECT_EQ(code, r) << how << ": " << describe(r);
        EXPECT_EQ(nullptr, h) << how;
        if (h) s.close(h);
        if (r != 0) {
            EXPECT_NE('\0', shmds_last_error()[0]) << how << ": no sentence";
        }
        const std::string after = read_whole_file(path.str());
        EXPECT_TRUE(after == bytes) << how << " changed the file (" << bytes.size() << " -> "
                                    << after.size() << " bytes)";
    }
}

TEST_P(Refusals, TruncatedFilesAreSHMDS_ECORRUPTAndUntouched) {
    const std::string whole = valid_segment(s());
    ASSERT_GT(whole.size(), sizeof(shmds::core::SegmentHeader));
    expect_refused_untouched(s(), whole.substr(0, whole.size() - 1), SHMDS_ECORRUPT,
                             "one byte short");
    expect_refused_untouched(s(), whole.substr(0, whole.size() / 2), SHMDS_ECORRUPT, "half");
    expect_refused_untouched(s(), whole.substr(0, 100), SHMDS_ECORRUPT,
                             "shorter than the header");
    // An empty file is a create that has not started: _create may claim it, _open not.
    TempPath empty("cf-empty");
    write_whole_file(empty.str(), "");
    shmds_options_t po = path_options(empty);
    Handle h = nullptr;
    int r = s().open(&po, &h);
    EXPECT_EQ(SHMDS_ECORRUPT, r) << "empty: " << describe(r);
    EXPECT_EQ(nullptr, h);
    EXPECT_EQ("", read_whole_file(empty.str()));
}

// Deterministic noise whose first byte is never zero, so it can pass neither for a
// segment nor for an unfinished create.
std::string noise(std::size_t n, std::uint64_t seed) {
    std::string out(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        out[i] = char(seed >> 56);
    }
    if (n) out[0] = 'G';
    return out;
}

TEST_P(Refusals, GarbageFilesAreSHMDS_ECORRUPTAndUntouched) {
    const std::string whole = valid_segment(s());
    expect_refused_untouched(s(), noise(whole.size(), 1), SHMDS_ECORRUPT,
                             "noise of the segment's size");
    expect_refused_untouched(s(), noise(4096, 2), SHMDS_ECORRUPT, "4 KiB of noise");
    expect_refused_untouched(s(), "not a segment\n", SHMDS_ECORRUPT, "a short text file");
    // A valid header over a body of noise is the structure's own validation to catch
    // (regions recomputed); this file only asks that nothing is written.
    std::string scribbled = whole;
    std::string body = noise(whole.size() - sizeof(shmds::core::SegmentHeader), 3);
    scribbled.replace(sizeof(shmds::core::SegmentHeader), body.size(), body);
    TempPath path("cf-body");
    write_whole_file(path.str(), scribbled);
    shmds_options_t po = path_options(path);
    Handle h = nullptr;
    int r = s().open(&po, &h);
    if (h) s().close(h);
    EXPECT_TRUE(r == 0 || r == SHMDS_ECORRUPT) << "noise body: " << describe(r);
    EXPECT_TRUE(read_whole_file(path.str()) == scribbled) << "opening changed a noise body";
}

TEST_P(Refusals, UnfinishedCreatesOfTheWrongSizeAreSHMDS_ECORRUPTAndUntouched) {
    const std::string whole = valid_segment(s());
    expect_refused_untouched(s(), std::string(whole.size() / 2, '\0'), SHMDS_ECORRUPT,
                             "all zero, half the size");
    expect_refused_untouched(s(), std::string(whole.size() + 4096, '\0'), SHMDS_ECORRUPT,
                             "all zero, 4 KiB too long");
    std::string initialising = whole.substr(0, whole.size() / 2);
    std::memcpy(&initialising[0], &shmds::core::kMagicInitializing, sizeof(std::uint64_t));
    expect_refused_untouched(s(), initialising, SHMDS_ECORRUPT,
                             "marked initialising, half the size");
}

TEST_P(Refusals, UnfinishedCreatesOfAnotherUserAreSHMDS_ECORRUPTAndUntouched) {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to give a file to another user";
    const std::string whole = valid_segment(s());
    TempPath path("cf-theirs");
    write_whole_file(path.str(), std::string(whole.size(), '\0'));
    ASSERT_EQ(0, chown(path.c_str(), 65534, 65534));
    shmds_options_t po = path_options(path);
    for (const char *how : {"open", "create"}) {
        Handle h = nullptr;
        int r = std::strcmp(how, "open") == 0 ? s().open(&po, &h) : s().create(&po, &h);
        EXPECT_EQ(SHMDS_ECORRUPT, r) << how << ": " << describe(r);
        EXPECT_EQ(nullptr, h);
        if (h) s().close(h);
    }
    EXPECT_TRUE(read_whole_file(path.str()) == std::string(whole.size(), '\0'));
    struct stat st {};
    ASSERT_EQ(0, stat(path.c_str(), &st));
    EXPECT_EQ(65534u, st.st_uid);
}

// The contrast that shows the refusals above are about the damage: our own interrupted
// create at the exact size is refused by _open (nothing to attach to) and finished by
// _create, after which both handles share the segment.
TEST_P(Refusals, OurInterruptedCreateIsFinishedByCreateOnly) {
    const std::string whole = valid_segment(s());
    std::string initialising = whole;
    std::memcpy(&initialising[0], &shmds::core::kMagicInitializing, sizeof(std::uint64_t));
    for (const auto &[what, bytes] : {std::pair<const char *, std::string>{"all zero",
                                                                          std::string(whole.size(), '\0')},
                                      {"marked initialising", initialising}}) {
        SCOPED_TRACE(what);
        TempPath path("cf-ours");
        write_whole_file(path.str(), bytes);
        shmds_options_t po = path_options(path);
        Opened opened(s()), created(s()), again(s());
        int r = s().open(&po, opened.out());
        EXPECT_EQ(SHMDS_ECORRUPT, r) << "open: " << describe(r);
        EXPECT_TRUE(read_whole_file(path.str()) == bytes) << "open changed the file";
        ASSERT_OK(s().create(&po, created.out()));
        ASSERT_OK(s().open(&po, again.out()));
        ASSERT_OK(s().write(created.get()));
        EXPECT_OK(s().read(again.get()));
    }
}

CONFORMANCE_INSTANTIATE(Refusals);

}  // namespace
