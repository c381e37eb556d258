// What the conformance test files share: a fixture per test file, parameterised by
// registry entry name, and helpers for handles, options and files.
#pragma once

#include "structure.hpp"
#include "support/proc.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace shmds::conformance {

// The names of the entries `keep` accepts (all by default), as test parameters.
std::vector<std::string> entry_names(bool (*keep)(const Structure &) = nullptr);

// "All/<Fixture>.<Test>/<entry name>": meson shards the suite by family with
// --gtest_filter=*/<family>_*.
std::string entry_test_name(const testing::TestParamInfo<std::string> &info);

class EntryTest : public testing::TestWithParam<std::string> {
protected:
    const Structure &s() const { return *find_structure(GetParam()); }
};

// A handle closed on every way out of a test.
class Opened {
public:
    explicit Opened(const Structure &s) : s_(s) {}
    ~Opened() { reset(); }
    Opened(const Opened &) = delete;
    Opened &operator=(const Opened &) = delete;
    Handle *out() { return &h_; }
    Handle get() const { return h_; }
    void reset() {
        if (h_) s_.close(h_);
        h_ = nullptr;
    }

private:
    const Structure &s_;
    Handle h_ = nullptr;
};

shmds_options_t path_options(const test::TempPath &path);
shmds_options_t memfd_options(const char *label);
shmds_options_t fd_options(int fd);

// A failed call's code with its name and sentence, for assertion messages.
std::string describe(int code);

std::string read_whole_file(const std::string &path);
void write_whole_file(const std::string &path, const std::string &bytes);

}  // namespace shmds::conformance

// Run every test of Fixture over every entry, or over those `keep` accepts.
#define CONFORMANCE_INSTANTIATE_IF(Fixture, keep)                                           \
    INSTANTIATE_TEST_SUITE_P(All, Fixture,                                                  \
                             testing::ValuesIn(::shmds::conformance::entry_names(keep)),    \
                             ::shmds::conformance::entry_test_name)
#define CONFORMANCE_INSTANTIATE(Fixture) CONFORMANCE_INSTANTIATE_IF(Fixture, nullptr)

// expr must return 0; otherwise the code, its name and the library's sentence.
#define ASSERT_OK(expr)                                                                    \
    do {                                                                                   \
        const int rc_ = (expr);                                                            \
        ASSERT_EQ(0, rc_) << #expr << ": " << ::shmds::conformance::describe(rc_);         \
    } while (0)
#define EXPECT_OK(expr)                                                                    \
    do {                                                                                   \
        const int rc_ = (expr);                                                            \
        EXPECT_EQ(0, rc_) << #expr << ": " << ::shmds::conformance::describe(rc_);         \
    } while (0)
