// The type vocabulary of common.h: names and sizes of shmds_type_t from the engines'
// table (core/elem_type.hpp), and the check that the two agree number for number.
#include "api.hpp"
#include "core/elem_type.hpp"
#include "core/variant.hpp"

#include <shmds/common.h>

using namespace shmds;
using core::ElementVariant;

// Stored in segment headers: the C vocabulary and the engines' numbers must agree.
static_assert(SHMDS_TYPE_INT16 == int(ElementVariant::int16));
static_assert(SHMDS_TYPE_INT32 == int(ElementVariant::int32));
static_assert(SHMDS_TYPE_INT64 == int(ElementVariant::int64));
static_assert(SHMDS_TYPE_BYTES == int(ElementVariant::bytes));
static_assert(SHMDS_TYPE_INT8 == int(core::ElemType::int8));
static_assert(SHMDS_TYPE_UINT8 == int(core::ElemType::uint8));
static_assert(SHMDS_TYPE_UINT16 == int(core::ElemType::uint16));
static_assert(SHMDS_TYPE_UINT32 == int(core::ElemType::uint32));
static_assert(SHMDS_TYPE_UINT64 == int(core::ElemType::uint64));
static_assert(SHMDS_TYPE_F32 == int(core::ElemType::f32));
static_assert(SHMDS_TYPE_F64 == int(core::ElemType::f64));


extern "C" {

SHMDS_API const char *shmds_type_name(int type) {
    const core::ElemTypeInfo *t = type > 0 ? core::elem_type_info(std::uint32_t(type)) : nullptr;
    return t ? t->name : "unknown";
}

SHMDS_API int shmds_type_size(int type) {
    const core::ElemTypeInfo *t = type > 0 ? core::elem_type_info(std::uint32_t(type)) : nullptr;
    if (!t) return core::fail(-EINVAL, "shmds_type_size: {} is not a shmds_type_t", type);
    return int(t->size);
}

}  // extern "C"
