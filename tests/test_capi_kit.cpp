// The C-API kit (capi/api.hpp) on its own: versioned structs copied across the ABI
// only up to the caller's struct_size, whichever side is the newer. The structures'
// own calls are exercised through the shared library in test_capi_abi.cpp.
#include "api.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

namespace {

namespace capi = shmds::capi;

// A struct as release 1 shipped it, and as a later release grew it.
struct ThingV1 {
    std::size_t struct_size;
    std::uint64_t a;
    std::uint64_t b;
};
struct ThingV2 {
    std::size_t struct_size;
    std::uint64_t a;
    std::uint64_t b;
    std::uint64_t c;  // added later
};
constexpr std::size_t kThingV1Size = SHMDS_V1_SIZE(ThingV2, b);
static_assert(kThingV1Size == sizeof(ThingV1));

constexpr unsigned char kGuard = 0xAB;

// An old caller (built against V1) asks a new library (V2) for its struct: the library
// writes the fields the caller knows and not one byte past its struct.
TEST(CapiKit, CopyOutWritesNothingPastAnOlderCallersStruct) {
    unsigned char mem[sizeof(ThingV1) + 32];
    std::memset(mem, kGuard, sizeof mem);
    auto *old = reinterpret_cast<ThingV1 *>(mem);
    old->struct_size = sizeof(ThingV1);
    const ThingV2 ours{sizeof(ThingV2), 1, 2, 3};
    ASSERT_EQ(0, capi::copy_versioned("f", "out", reinterpret_cast<ThingV2 *>(old), ours,
                                      kThingV1Size));
    EXPECT_EQ(sizeof(ThingV1), old->struct_size);  // the caller's size is kept
    EXPECT_EQ(1u, old->a);
    EXPECT_EQ(2u, old->b);
    for (std::size_t i = sizeof(ThingV1); i < sizeof mem; ++i)
        ASSERT_EQ(kGuard, mem[i]) << "byte " << i << " past the caller's struct was written";
}

// A new caller (V2) on an old library (V1): the field the library does not know is
// zeroed, never left as stack garbage the caller would take for a value.
TEST(CapiKit, CopyOutZeroesTheFieldsALongerCallerHasAndWeDoNot) {
    ThingV2 theirs;
    std::memset(&theirs, kGuard, sizeof theirs);
    theirs.struct_size = sizeof theirs;
    const ThingV1 ours{sizeof(ThingV1), 1, 2};
    ASSERT_EQ(0, capi::copy_versioned("f", "out", reinterpret_cast<ThingV1 *>(&theirs), ours,
                                      sizeof(ThingV1)));
    EXPECT_EQ(sizeof theirs, theirs.struct_size);
    EXPECT_EQ(1u, theirs.a);
    EXPECT_EQ(2u, theirs.b);
    EXPECT_EQ(0u, theirs.c);
}

TEST(CapiKit, CopyOutRefusesAStructSmallerThanTheFirstVersionAndWritesNothing) {
    ThingV2 theirs;
    std::memset(&theirs, kGuard, sizeof theirs);
    theirs.struct_size = kThingV1Size - 1;
    const ThingV2 ours{sizeof(ThingV2), 1, 2, 3};
    EXPECT_EQ(-EINVAL, capi::copy_versioned("shmds_x_stats", "stats", &theirs, ours,
                                            kThingV1Size));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "stats->struct_size is 23"));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "shmds_x_stats"));
    EXPECT_EQ(kThingV1Size - 1, theirs.struct_size);
    const auto *bytes = reinterpret_cast<const unsigned char *>(&theirs);
    for (std::size_t i = sizeof(std::size_t); i < sizeof theirs; ++i) ASSERT_EQ(kGuard, bytes[i]);
    EXPECT_EQ(-EINVAL, capi::copy_versioned<ThingV2>("f", "stats", nullptr, ours, kThingV1Size));
}

// An old caller's input struct is followed by whatever lies next in its memory: the
// library reads only what struct_size covers and keeps its defaults for the rest.
TEST(CapiKit, ReadInTakesOnlyWhatTheCallersStructCoversAndDefaultsTheRest) {
    unsigned char mem[sizeof(ThingV2)];
    std::memset(mem, kGuard, sizeof mem);  // "c" would be 0xABAB... if it were read
    auto *old = reinterpret_cast<ThingV1 *>(mem);
    old->struct_size = sizeof(ThingV1);
    old->a = 10;
    old->b = 20;
    ThingV2 ours{0, 0, 0, 77};  // 77: the default of the field the caller lacks
    ASSERT_EQ(0, capi::read_versioned("f", "cfg", reinterpret_cast<const ThingV2 *>(old), ours,
                                      kThingV1Size));
    EXPECT_EQ(sizeof(ThingV2), ours.struct_size);  // handed on as a complete struct
    EXPECT_EQ(10u, ours.a);
    EXPECT_EQ(20u, ours.b);
    EXPECT_EQ(77u, ours.c);
}

TEST(CapiKit, ReadInIgnoresFieldsALongerCallerHasAndWeDoNot) {
    ThingV2 theirs{sizeof(ThingV2), 10, 20, 30};
    ThingV1 ours{0, 1, 2};
    ASSERT_EQ(0, capi::read_versioned("f", "cfg", reinterpret_cast<const ThingV1 *>(&theirs),
                                      ours, sizeof(ThingV1)));
    EXPECT_EQ(sizeof(ThingV1), ours.struct_size);
    EXPECT_EQ(10u, ours.a);
    EXPECT_EQ(20u, ours.b);
}

TEST(CapiKit, ReadInRefusesAStructSmallerThanTheFirstVersion) {
    ThingV2 theirs{sizeof(std::size_t), 10, 20, 30};
    ThingV2 ours{0, 1, 2, 3};
    EXPECT_EQ(-EINVAL, capi::read_versioned("shmds_x_create", "cfg", &theirs, ours,
                                            kThingV1Size));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "cfg->struct_size is 8"));
    EXPECT_EQ(1u, ours.a);  // nothing read
    EXPECT_EQ(-EINVAL, capi::read_versioned<ThingV2>("shmds_x_create", "cfg", nullptr, ours,
                                                     kThingV1Size));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "shmds_x_create: cfg is NULL"));
}

TEST(CapiKit, RingVariantsAreTheFourStoredElementTypes) {
    for (int v : {SHMDS_TYPE_INT16, SHMDS_TYPE_INT32, SHMDS_TYPE_INT64, SHMDS_TYPE_BYTES})
        EXPECT_EQ(0, capi::check_ring_variant("f", v, "SHMDS_QUEUE")) << v;
    for (int v : {0, int(SHMDS_TYPE_INT8), int(SHMDS_TYPE_F64), -1}) {
        EXPECT_EQ(-EINVAL, capi::check_ring_variant("shmds_queue_create", v, "SHMDS_QUEUE"));
        EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "is not one of SHMDS_QUEUE_INT16"));
    }
}

TEST(CapiKit, OptionsInKeepsNullAsNullAndCompletesAnOlderStruct) {
    capi::OptionsIn none;
    ASSERT_EQ(0, none.read("f", nullptr));
    EXPECT_EQ(nullptr, none.get());

    shmds_options_t given = SHMDS_OPTIONS_INIT;
    given.backing = SHMDS_BACKING_MEMFD;
    given.name = "x";
    capi::OptionsIn in;
    ASSERT_EQ(0, in.read("f", &given));
    ASSERT_NE(nullptr, in.get());
    EXPECT_NE(&given, in.get());  // a copy of this version, not the caller's memory
    EXPECT_EQ(sizeof(shmds_options_t), in.get()->struct_size);
    EXPECT_EQ(SHMDS_BACKING_MEMFD, in.get()->backing);
    EXPECT_STREQ("x", in.get()->name);

    given.struct_size = 4;
    capi::OptionsIn bad;
    EXPECT_EQ(-EINVAL, bad.read("shmds_queue_open", &given));
    EXPECT_NE(nullptr, std::strstr(shmds_last_error(), "opts->struct_size is 4"));
}

}  // namespace
