// The registry itself: meson runs the suite in one shard per family
// (--gtest_filter=*/<family>_*), so an entry whose family has no shard, or whose name
// does not start with its family, would silently never run.
#include "conformance_test.hpp"

#include <cstdlib>
#include <sstream>
#include <set>

using namespace shmds::conformance;

TEST(Registry, EveryEntryRunsInAMesonShard) {
    const char *env = std::getenv("SHMDS_CONFORMANCE_FAMILIES");
    if (!env) GTEST_SKIP() << "SHMDS_CONFORMANCE_FAMILIES is unset (meson test sets it)";
    std::set<std::string> shards;
    std::istringstream in(env);
    for (std::string f; in >> f;) shards.insert(f);
    ASSERT_FALSE(registry().empty());
    for (const Structure &s : registry()) {
        EXPECT_EQ(1u, shards.count(s.family))
            << s.name << ": family '" << s.family << "' has no shard in tests/meson.build";
        EXPECT_EQ(0u, s.name.rfind(s.family + "_", 0))
            << s.name << ": the name must start with '" << s.family << "_'";
        EXPECT_TRUE(s.create && s.open && s.close && s.fd && s.write && s.read)
            << s.name << ": a required hook is missing";
    }
}
