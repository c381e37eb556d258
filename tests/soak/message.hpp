// Self-checking messages for the pubsub and reqrep workloads: a header naming the sender
// (worker index, incarnation, sequence number) and a length, a check word over them, and
// a payload pattern derived from all of it, so a torn, truncated or mixed-up message is
// recognised by whoever receives it.
#pragma once

#include "ledger.hpp"

#include <cstdint>
#include <cstring>

namespace soak {

struct MessageHeader {
    std::uint32_t sender;
    std::uint32_t incarnation;
    std::uint64_t seq;
    std::uint32_t len;    // the whole message, header included
    std::uint32_t check;  // over the fields above and `salt`
};

constexpr std::size_t kMessageHeader = sizeof(MessageHeader);

inline std::uint32_t header_check(const MessageHeader &h, std::uint64_t salt) {
    return static_cast<std::uint32_t>(
        mix64(mix64(h.seq ^ salt) ^ (std::uint64_t{h.sender} << 32 | h.incarnation) ^ h.len) >> 32);
}

inline std::uint8_t pattern_byte(const MessageHeader &h, std::uint64_t salt, std::size_t i) {
    return static_cast<std::uint8_t>(mix64(h.check ^ (std::uint64_t{i} << 40) ^ salt) >> 56);
}

// Write a message of `len` bytes (at least kMessageHeader) into buf.
inline void write_message(std::uint8_t *buf, std::size_t len, std::uint32_t sender,
                          std::uint32_t incarnation, std::uint64_t seq, std::uint64_t salt) {
    MessageHeader h{sender, incarnation, seq, static_cast<std::uint32_t>(len), 0};
    h.check = header_check(h, salt);
    std::memcpy(buf, &h, sizeof h);
    for (std::size_t i = kMessageHeader; i < len; ++i) buf[i] = pattern_byte(h, salt, i);
}

// Read back a message of `len` bytes; false if it is not exactly what write_message wrote.
inline bool read_message(const std::uint8_t *buf, std::size_t len, std::uint64_t salt,
                         MessageHeader &h) {
    if (len < kMessageHeader) return false;
    std::memcpy(&h, buf, sizeof h);
    if (h.len != len || h.check != header_check(h, salt)) return false;
    for (std::size_t i = kMessageHeader; i < len; ++i)
        if (buf[i] != pattern_byte(h, salt, i)) return false;
    return true;
}

}  // namespace soak
