// The type vocabulary of common.h: names and sizes of shmds_type_t, and the check that
// its values are the element variants the segments store (core/variant.hpp).
#include "api.hpp"
#include "core/variant.hpp"

#include <shmds/common.h>

using namespace shmds;
using core::ElementVariant;

// Stored in segment headers: the C vocabulary and the engines' numbers must agree.
static_assert(SHMDS_TYPE_INT16 == int(ElementVariant::int16));
static_assert(SHMDS_TYPE_INT32 == int(ElementVariant::int32));
static_assert(SHMDS_TYPE_INT64 == int(ElementVariant::int64));
static_assert(SHMDS_TYPE_BYTES == int(ElementVariant::bytes));

namespace {

struct TypeInfo {
    const char *name;
    int size;
};

// Indexed by shmds_type_t; 0 is no type.
constexpr TypeInfo kTypes[] = {
    {nullptr, 0},   {"int16", 2},  {"int32", 4},  {"int64", 8},  {"bytes", 0}, {"int8", 1},
    {"uint8", 1},   {"uint16", 2}, {"uint32", 4}, {"uint64", 8}, {"f32", 4},   {"f64", 8},
};
constexpr int kTypeCount = int(sizeof kTypes / sizeof kTypes[0]);
static_assert(kTypeCount == SHMDS_TYPE_F64 + 1, "a type without a row in kTypes");

const TypeInfo *info(int type) noexcept {
    return type > 0 && type < kTypeCount ? &kTypes[type] : nullptr;
}

}  // namespace

extern "C" {

SHMDS_API const char *shmds_type_name(int type) {
    const TypeInfo *t = info(type);
    return t ? t->name : "unknown";
}

SHMDS_API int shmds_type_size(int type) {
    const TypeInfo *t = info(type);
    if (!t) return core::fail(-EINVAL, "shmds_type_size: {} is not a shmds_type_t", type);
    return t->size;
}

}  // extern "C"
