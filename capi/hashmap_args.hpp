// The argument and result shapes of the hash map's C exports (capi/hashmap*.cpp): each
// turns a C argument into the engine's byte-string Span (integers range-checked to
// their 8 native bytes) or a result buffer back into the C type. No map logic here.
#pragma once

#include "core/int_range.hpp"
#include "hashmap/hashmap.hpp"
#include "lifecycle.hpp"

#include <shmds/hashmap.h>

#include <climits>
#include <cstring>

namespace shmds::capi::hm_args {

using shmds::core::fail;
using shmds::hashmap::ElemType;
using shmds::hashmap::HashMap;
using shmds::hashmap::OutBuf;
using shmds::hashmap::Span;
namespace capi = shmds::capi;
namespace hm = shmds::hashmap;

inline constexpr char kNoun[] = "hash map";
inline constexpr std::size_t kMaxStringLen = 0xffffffffu;  // entries keep 32-bit lengths

inline HashMap *engine(shmds_hashmap_t *m) noexcept { return capi::engine_of<HashMap>(m); }
inline const HashMap *engine(const shmds_hashmap_t *m) noexcept { return capi::engine_of<HashMap>(m); }

inline int int_bits(ElemType t) noexcept {
    return t == ElemType::int16 ? 16 : t == ElemType::int32 ? 32 : 64;
}

// ---- the shapes of arguments: each turns into a Span for the engine ---------------

// An integer key or value: 8 native bytes in `word`, after the range check.
struct IntArg {
    std::int64_t v;
    std::int64_t word = 0;
    int to_span(ElemType t, const char *fn, const char *what, Span &out) noexcept {
        if (!hm::is_int_type(t))
            return fail(SHMDS_EVARIANT, "{}: the map's {} type is {}; use the _{} verbs", fn, what,
                        shmds::core::elem_type_name(std::uint32_t(t)),
                        t == ElemType::bytes ? "b" : "f64");
        if (int r = shmds::core::check_int_range(v, int_bits(t), "the map's type")) return r;
        word = v;
        out = {&word, sizeof word};
        return 0;
    }
};

struct BytesArg {
    const void *p;
    std::size_t n;
    int to_span(ElemType t, const char *fn, const char *what, Span &out) const noexcept {
        if (t != ElemType::bytes)
            return fail(SHMDS_EVARIANT, "{}: the map's {} type is {}, not bytes", fn, what,
                        shmds::core::elem_type_name(std::uint32_t(t)));
        if (!p && n) return fail(-EINVAL, "{}: {} is NULL with length {}", fn, what, n);
        if (n > kMaxStringLen)
            return fail(-E2BIG, "{}: a {} of {} bytes exceeds 4 GiB - 1", fn, what, n);
        out = {p ? p : "", n};
        return 0;
    }
};

// An f64 value: its 8 bytes (compared bitwise by cas).
struct F64Arg {
    double v;
    std::uint64_t word = 0;
    int to_span(ElemType t, const char *fn, const char *what, Span &out) noexcept {
        if (t != ElemType::f64)
            return fail(SHMDS_EVARIANT, "{}: the map's {} type is {}, not f64", fn, what,
                        shmds::core::elem_type_name(std::uint32_t(t)));
        std::memcpy(&word, &v, sizeof word);
        out = {&word, sizeof word};
        return 0;
    }
};

// Where a value goes: an integer or f64 (decoded from 8 bytes) or the caller's buffer.
struct IntOut {
    std::int64_t *v;
    std::int64_t word = 0;
    std::size_t len = 0;
    OutBuf buf{};
    int prepare(ElemType t, const char *fn, OutBuf *&out) noexcept {
        if (!hm::is_int_type(t)) {
            Span ignored;
            return IntArg{0}.to_span(t, fn, "value", ignored);
        }
        if (!v) return capi::null_arg(fn, "the value pointer");
        buf = {&word, sizeof word, &len};
        out = &buf;
        return 0;
    }
    // After a verb that filled the buffer: a stored integer is always 8 bytes.
    int finish(int r) noexcept {
        if (r == -ENOBUFS || (r >= 0 && len != sizeof word))
            return fail(SHMDS_ECORRUPT, "an integer value in the hash map is {} bytes long", len);
        *v = word;
        return r;
    }
};

struct F64Out {
    double *v;
    std::uint64_t word = 0;
    std::size_t len = 0;
    OutBuf buf{};
    int prepare(ElemType t, const char *fn, OutBuf *&out) noexcept {
        Span ignored;
        if (int r = F64Arg{0}.to_span(t, fn, "value", ignored)) return r;
        if (!v) return capi::null_arg(fn, "the value pointer");
        buf = {&word, sizeof word, &len};
        out = &buf;
        return 0;
    }
    int finish(int r) noexcept {
        if (r == -ENOBUFS || (r >= 0 && len != sizeof word))
            return fail(SHMDS_ECORRUPT, "an f64 value in the hash map is {} bytes long", len);
        std::memcpy(v, &word, sizeof word);
        return r;
    }
};

struct BytesOut {
    void *p;
    std::size_t size;
    std::size_t *len;
    OutBuf buf{};
    int prepare(ElemType t, const char *fn, OutBuf *&out) noexcept {
        Span ignored;
        if (int r = BytesArg{nullptr, 0}.to_span(t, fn, "value", ignored)) return r;
        if (!len) return capi::null_arg(fn, "len");
        if (!p && size) return capi::null_arg(fn, "buf");
        buf = {p, size, len};
        out = &buf;
        return 0;
    }
    int finish(int r) noexcept { return r; }
};

// The map's key or value type checked against an argument shape, and the argument
// turned into a Span.
template <typename K>
int key_of(HashMap *m, const char *fn, K &k, Span &out) noexcept {
    return k.to_span(m->variant().key, fn, "key", out);
}
template <typename V>
int value_of(HashMap *m, const char *fn, V &v, Span &out) noexcept {
    return v.to_span(m->variant().value, fn, "value", out);
}

// The caller's buffers of a packed batch (cursor_next_batch, drain_batch): keys and
// values back to back, each entry's lengths in key_lens[i] and value_lens[i]; either
// side may be skipped by passing NULL for both its buffer and its lengths.
struct PackedBatch {
    void *keys;
    std::size_t keys_size;
    std::size_t *key_lens;
    void *values;
    std::size_t values_size;
    std::size_t *value_lens;
    std::size_t max_items;

    bool want_keys() const noexcept { return keys || key_lens; }
    bool want_values() const noexcept { return values || value_lens; }

    int check(const char *fn) const noexcept {
        if (max_items > std::size_t(INT_MAX))
            return fail(-EINVAL, "{}: max_items {} exceeds INT_MAX", fn, max_items);
        if ((!keys && keys_size) || (!values && values_size))
            return fail(-EINVAL, "{}: a buffer is NULL with a nonzero size", fn);
        if ((want_keys() && !key_lens) || (want_values() && !value_lens))
            return fail(-EINVAL, "{}: a buffer is given without its lengths array", fn);
        return 0;
    }

    // Packs entries while take(key_out, value_out) returns 1 (an entry copied); 0 is the
    // end, anything else an error or an entry that did not fit. Entries copied before it
    // are returned and it comes first on the next call, so nothing copied is lost.
    template <class Take>
    int fill(Take &&take) const {
        auto *kb = static_cast<unsigned char *>(keys);
        auto *vb = static_cast<unsigned char *>(values);
        std::size_t koff = 0, voff = 0;
        int count = 0;
        for (std::size_t i = 0; i < max_items; ++i) {
            OutBuf ko{kb ? kb + koff : nullptr, keys_size - koff,
                      want_keys() ? &key_lens[i] : nullptr};
            OutBuf vo{vb ? vb + voff : nullptr, values_size - voff,
                      want_values() ? &value_lens[i] : nullptr};
            const int r = take(want_keys() ? &ko : nullptr, want_values() ? &vo : nullptr);
            if (r != 1) return count == 0 ? r : count;
            if (want_keys()) koff += key_lens[i];
            if (want_values()) voff += value_lens[i];
            ++count;
        }
        return count;
    }
};

}  // namespace shmds::capi::hm_args
