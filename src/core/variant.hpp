// The element variants shared by the structures that carry typed items (queue, pubsub):
// their values are stored in segment headers, so they never change.
#pragma once

#include <cstdint>

namespace shmds::core {

enum class ElementVariant : std::uint32_t { int16 = 1, int32 = 2, int64 = 3, bytes = 4 };

inline const char *element_variant_name(std::uint32_t v) noexcept {
    switch (ElementVariant(v)) {
        case ElementVariant::int16: return "int16";
        case ElementVariant::int32: return "int32";
        case ElementVariant::int64: return "int64";
        case ElementVariant::bytes: return "bytes";
    }
    return "unknown-variant";
}

}  // namespace shmds::core
