#include "core/elem_type.hpp"

#include "core/error.hpp"
#include "core/int_range.hpp"

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>

namespace shmds::core {

namespace {

// Indexed by the type number; row 0 is no type.
constexpr ElemTypeInfo kTypes[] = {
    {nullptr, 0, ElemKind::bytes},
    {"int16", 2, ElemKind::signed_int},
    {"int32", 4, ElemKind::signed_int},
    {"int64", 8, ElemKind::signed_int},
    {"bytes", 0, ElemKind::bytes},
    {"int8", 1, ElemKind::signed_int},
    {"uint8", 1, ElemKind::unsigned_int},
    {"uint16", 2, ElemKind::unsigned_int},
    {"uint32", 4, ElemKind::unsigned_int},
    {"uint64", 8, ElemKind::unsigned_int},
    {"f32", 4, ElemKind::floating},
    {"f64", 8, ElemKind::floating},
};
constexpr std::uint32_t kTypeCount = sizeof kTypes / sizeof kTypes[0];
static_assert(kTypeCount == std::uint32_t(ElemType::f64) + 1, "a type without a row");

template <typename T>
void store(void *out, T v) noexcept {
    std::memcpy(out, &v, sizeof v);
}
template <typename T>
T load(const void *in) noexcept {
    T v;
    std::memcpy(&v, in, sizeof v);
    return v;
}

int wrong_kind(ElemType t, const char *verb, const char *what) noexcept {
    return fail(-EINVAL, "{}: cannot {} {} elements", what, verb,
                elem_type_name(std::uint32_t(t)));
}

// The range of a signed type of `size` bytes.
std::int64_t signed_max(std::uint32_t size) noexcept {
    return size >= 8 ? std::numeric_limits<std::int64_t>::max()
                     : (std::int64_t{1} << (size * 8 - 1)) - 1;
}
std::uint64_t unsigned_max(std::uint32_t size) noexcept {
    return size >= 8 ? std::numeric_limits<std::uint64_t>::max()
                     : (std::uint64_t{1} << (size * 8)) - 1;
}

void store_width(void *out, std::uint32_t size, std::uint64_t bits) noexcept {
    switch (size) {
        case 1: store(out, std::uint8_t(bits)); break;
        case 2: store(out, std::uint16_t(bits)); break;
        case 4: store(out, std::uint32_t(bits)); break;
        default: store(out, bits); break;
    }
}

}  // namespace

const ElemTypeInfo *elem_type_info(std::uint32_t type) noexcept {
    return type > 0 && type < kTypeCount ? &kTypes[type] : nullptr;
}

const char *elem_type_name(std::uint32_t type) noexcept {
    const ElemTypeInfo *i = elem_type_info(type);
    return i ? i->name : "unknown-type";
}

int encode_int(ElemType t, std::int64_t v, void *out, const char *what) noexcept {
    const ElemTypeInfo *i = elem_type_info(std::uint32_t(t));
    if (!i || i->kind == ElemKind::floating || i->kind == ElemKind::bytes)
        return wrong_kind(t, "store integers in", what);
    if (i->kind == ElemKind::unsigned_int) {
        if (v < 0) return fail(-ERANGE, "value {} does not fit {} (0..{})", v, what, unsigned_max(i->size));
        return encode_uint(t, std::uint64_t(v), out, what);
    }
    if (int r = check_int_range(v, int(i->size * 8), what)) return r;
    store_width(out, i->size, std::uint64_t(v));
    return 0;
}

int encode_uint(ElemType t, std::uint64_t v, void *out, const char *what) noexcept {
    const ElemTypeInfo *i = elem_type_info(std::uint32_t(t));
    if (!i || i->kind == ElemKind::floating || i->kind == ElemKind::bytes)
        return wrong_kind(t, "store integers in", what);
    if (i->kind == ElemKind::signed_int) {
        if (v > std::uint64_t(signed_max(i->size)))
            return fail(-ERANGE, "value {} does not fit {} (at most {})", v, what,
                        signed_max(i->size));
        return encode_int(t, std::int64_t(v), out, what);
    }
    if (v > unsigned_max(i->size))
        return fail(-ERANGE, "value {} does not fit {} (0..{})", v, what, unsigned_max(i->size));
    store_width(out, i->size, v);
    return 0;
}

int encode_float(ElemType t, double v, void *out, const char *what) noexcept {
    if (t == ElemType::f64) {
        store(out, v);
        return 0;
    }
    if (t != ElemType::f32) return wrong_kind(t, "store floating-point values in", what);
    // NaN and the infinities are values of f32 too; a finite double beyond its range
    // would silently become an infinity, which is refused instead.
    if (std::isfinite(v) && std::fabs(v) > double(FLT_MAX))
        return fail(-ERANGE, "value {} does not fit {} (|v| <= {})", v, what, double(FLT_MAX));
    store(out, float(v));
    return 0;
}

int decode_int(ElemType t, const void *in, std::int64_t *v, const char *what) noexcept {
    switch (t) {
        case ElemType::int8: *v = load<std::int8_t>(in); return 0;
        case ElemType::int16: *v = load<std::int16_t>(in); return 0;
        case ElemType::int32: *v = load<std::int32_t>(in); return 0;
        case ElemType::int64: *v = load<std::int64_t>(in); return 0;
        case ElemType::uint8: *v = load<std::uint8_t>(in); return 0;
        case ElemType::uint16: *v = load<std::uint16_t>(in); return 0;
        case ElemType::uint32: *v = load<std::uint32_t>(in); return 0;
        case ElemType::uint64: {
            const std::uint64_t u = load<std::uint64_t>(in);
            if (u > std::uint64_t(std::numeric_limits<std::int64_t>::max()))
                return fail(-ERANGE, "{}: element {} does not fit int64_t; read it as uint64",
                            what, u);
            *v = std::int64_t(u);
            return 0;
        }
        default: return wrong_kind(t, "read integers from", what);
    }
}

int decode_uint(ElemType t, const void *in, std::uint64_t *v, const char *what) noexcept {
    const ElemTypeInfo *i = elem_type_info(std::uint32_t(t));
    if (i && i->kind == ElemKind::unsigned_int) {
        switch (i->size) {
            case 1: *v = load<std::uint8_t>(in); return 0;
            case 2: *v = load<std::uint16_t>(in); return 0;
            case 4: *v = load<std::uint32_t>(in); return 0;
            default: *v = load<std::uint64_t>(in); return 0;
        }
    }
    std::int64_t s = 0;
    if (int r = decode_int(t, in, &s, what)) return r;
    if (s < 0) return fail(-ERANGE, "{}: element {} is negative; read it as a signed integer", what, s);
    *v = std::uint64_t(s);
    return 0;
}

int decode_float(ElemType t, const void *in, double *v, const char *what) noexcept {
    if (t == ElemType::f64) {
        *v = load<double>(in);
        return 0;
    }
    if (t == ElemType::f32) {
        *v = double(load<float>(in));
        return 0;
    }
    return wrong_kind(t, "read floating-point values from", what);
}

}  // namespace shmds::core
