// The library's type vocabulary on the engine side (shmds_type_t in common.h): what a
// structure's items, keys and values are. Engines store elements as bytes of the type's
// width; the typed C entry points are thin adapters that encode a caller's int64_t,
// uint64_t or double into those bytes (range-checked: -ERANGE, never truncated) and
// decode them back. The numbers are stored in segment headers and never change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shmds::core {

enum class ElemType : std::uint32_t {
    int16 = 1,
    int32 = 2,
    int64 = 3,
    bytes = 4,
    int8 = 5,
    uint8 = 6,
    uint16 = 7,
    uint32 = 8,
    uint64 = 9,
    f32 = 10,
    f64 = 11,
};

enum class ElemKind : std::uint8_t { signed_int, unsigned_int, floating, bytes };

struct ElemTypeInfo {
    const char *name;    // "int8" ... "f64", "bytes"
    std::uint32_t size;  // bytes per element; 0 for bytes (each has its own length)
    ElemKind kind;
};

// The row for a stored or caller-given type number; nullptr when it names no type.
const ElemTypeInfo *elem_type_info(std::uint32_t type) noexcept;

// "int8" ... "bytes", or "unknown-type".
const char *elem_type_name(std::uint32_t type) noexcept;

// Encode a caller's value into `out` (the type's width, native byte order, any
// alignment). 0; -ERANGE (the value does not fit the type: nothing written); -EINVAL
// (a type of another kind, e.g. encode_int into f64 or bytes). Each fails with a
// sentence naming `what` ("a uint8 buffer").
int encode_int(ElemType t, std::int64_t v, void *out, const char *what) noexcept;
int encode_uint(ElemType t, std::uint64_t v, void *out, const char *what) noexcept;
int encode_float(ElemType t, double v, void *out, const char *what) noexcept;

// Decode an element. decode_int: any integer type (-ERANGE for a uint64 above
// INT64_MAX); decode_uint: any integer type (-ERANGE for a negative value);
// decode_float: f32 or f64. -EINVAL for a type of another kind.
int decode_int(ElemType t, const void *in, std::int64_t *v, const char *what) noexcept;
int decode_uint(ElemType t, const void *in, std::uint64_t *v, const char *what) noexcept;
int decode_float(ElemType t, const void *in, double *v, const char *what) noexcept;

// An element's bytes (native order, `width` 1, 2, 4 or 8) <-> its bits as an atomic of
// that width takes them, zero-extended. For structures that keep numeric elements in
// shared memory and change them with atomics (Buffer, Pool).
inline std::uint64_t element_bits(const void *in, std::uint64_t width) noexcept {
    switch (width) {
        case 1: { std::uint8_t v; std::memcpy(&v, in, 1); return v; }
        case 2: { std::uint16_t v; std::memcpy(&v, in, 2); return v; }
        case 4: { std::uint32_t v; std::memcpy(&v, in, 4); return v; }
        default: { std::uint64_t v; std::memcpy(&v, in, 8); return v; }
    }
}
inline void element_bytes(std::uint64_t bits, void *out, std::uint64_t width) noexcept {
    switch (width) {
        case 1: { const auto v = std::uint8_t(bits); std::memcpy(out, &v, 1); return; }
        case 2: { const auto v = std::uint16_t(bits); std::memcpy(out, &v, 2); return; }
        case 4: { const auto v = std::uint32_t(bits); std::memcpy(out, &v, 4); return; }
        default: std::memcpy(out, &bits, 8); return;
    }
}

}  // namespace shmds::core
