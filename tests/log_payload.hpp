// A self-checking log entry for the cross-process tests: who wrote it, its number, a
// filler of a length that varies with both, and a checksum over everything, so a torn
// or misplaced entry is recognised wherever it is read.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace shmds::test::logt {

struct Payload {
    std::uint32_t writer = 0;
    std::uint32_t counter = 0;
};

inline std::uint64_t payload_sum(const unsigned char *p, std::size_t n) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

inline std::string encode_payload(std::uint32_t writer, std::uint32_t counter) {
    const std::size_t filler = (writer * 7 + counter * 13) % 97;
    std::string s(8 + filler + 8, '\0');
    std::memcpy(&s[0], &writer, 4);
    std::memcpy(&s[4], &counter, 4);
    for (std::size_t i = 0; i < filler; ++i) s[8 + i] = char((writer + counter + i) & 0xff);
    const std::uint64_t sum =
        payload_sum(reinterpret_cast<const unsigned char *>(s.data()), 8 + filler);
    std::memcpy(&s[8 + filler], &sum, 8);
    return s;
}

// False for anything that is not exactly what encode_payload wrote.
inline bool decode_payload(const void *data, std::size_t len, Payload *out) {
    if (len < 16) return false;
    const auto *p = static_cast<const unsigned char *>(data);
    std::uint64_t sum;
    std::memcpy(&sum, p + len - 8, 8);
    if (sum != payload_sum(p, len - 8)) return false;
    std::memcpy(&out->writer, p, 4);
    std::memcpy(&out->counter, p + 4, 4);
    return len == encode_payload(out->writer, out->counter).size();
}

}  // namespace shmds::test::logt
