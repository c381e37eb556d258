// Exactly-once accounting for item-moving workloads (queues): every item gets a fresh id
// from a shared counter; producers confirm what they pushed, consumers mark what they
// got. A second mark of one id is a duplicate. After the run, an id never received is a
// loss, allowed only up to what killed processes held in flight (Worker::hold()).
#pragma once

#include "soak.hpp"

#include <atomic>
#include <cstdint>

namespace soak {

inline std::uint64_t mix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// An item id as an int64 with a 16-bit tag derived from it, so a torn or invented value
// shows (ids up to 2^47).
inline std::int64_t tagged_item(std::uint64_t id) {
    return static_cast<std::int64_t>((id << 16) | (mix64(id) >> 48));
}

// The id inside a tagged_item value, or false if its tag does not match.
inline bool untag_item(std::int64_t v, std::uint64_t &id) {
    auto u = static_cast<std::uint64_t>(v);
    id = u >> 16;
    return (u & 0xffff) == (mix64(id) >> 48);
}

class Ledger {
public:
    // Ids 0..capacity-1 (a multiple of 64). Supervisor, before the first fork.
    void setup(std::uint64_t capacity) {
        capacity_ = capacity;
        next_ = shared_array<std::atomic<std::uint64_t>>(1);
        received_ = shared_array<std::atomic<std::uint64_t>>(capacity / 64);
        confirmed_ = shared_array<std::atomic<std::uint64_t>>(capacity / 64);
    }

    // A fresh id; false once the id space is used up (the run then ends early).
    bool claim(std::uint64_t &id) {
        id = next_->fetch_add(1);
        if (id < capacity_) return true;
        finish_early("the item id space is used up");
        return false;
    }

    // The producer's push of `id` succeeded.
    void confirm(std::uint64_t id) { set(confirmed_, id); }

    // A consumer got `id`. Reports a violation for an id never claimed or got twice.
    void receive(std::uint64_t id, const char *by) {
        if (id >= claimed()) {
            violation("{} got item {}, which no producer claimed (only {} were)", by, id,
                      claimed());
            return;
        }
        if (set(received_, id))
            violation("duplicate: {} got item {} a second time", by, id);
    }

    // A consumer got the tagged_item value v: a violation if its tag is wrong (torn or
    // foreign), else receive(id, by).
    void receive_tagged(std::int64_t v, const char *by) {
        std::uint64_t id = 0;
        if (!untag_item(v, id))
            violation("torn value: {} got {:#x}, whose tag does not match its id", by,
                      static_cast<std::uint64_t>(v));
        else
            receive(id, by);
    }

    // A producer stopping cleanly gives back an id it claimed but never pushed.
    void withdraw(std::uint64_t id) { set(received_, id); }

    std::uint64_t claimed() const {
        std::uint64_t n = next_->load();
        return n < capacity_ ? n : capacity_;
    }

    struct Tally {
        std::uint64_t claimed = 0, received = 0;
        std::uint64_t lost_after_push = 0;   // confirmed pushed, never received
        std::uint64_t lost_before_push = 0;  // claimed, push never confirmed, never received
        std::uint64_t first_lost = UINT64_MAX;
    };

    Tally tally() const {
        Tally t;
        t.claimed = claimed();
        for (std::uint64_t id = 0; id < t.claimed; ++id) {
            if (test(received_, id)) {
                ++t.received;
                continue;
            }
            if (t.first_lost == UINT64_MAX) t.first_lost = id;
            if (test(confirmed_, id))
                ++t.lost_after_push;
            else
                ++t.lost_before_push;
        }
        return t;
    }

    // The shared check: losses within what killed producers and consumers held.
    void check(const char *structure, std::uint64_t producer_allowance,
               std::uint64_t consumer_allowance) const {
        Tally t = tally();
        note("items: {} claimed, {} received; lost {} pushed (killed consumers held {}), {} "
             "unpushed (killed producers held {})",
             t.claimed, t.received, t.lost_after_push, consumer_allowance, t.lost_before_push,
             producer_allowance);
        if (t.lost_after_push > consumer_allowance)
            violation("{} lost {} pushed items, but killed consumers held only {} (first lost "
                      "id {})",
                      structure, t.lost_after_push, consumer_allowance, t.first_lost);
        if (t.lost_before_push > producer_allowance)
            violation("{}: {} claimed items were never pushed nor received, but killed "
                      "producers held only {} (first lost id {})",
                      structure, t.lost_before_push, producer_allowance, t.first_lost);
    }

private:
    // Sets the bit; returns true if it was already set.
    static bool set(std::atomic<std::uint64_t> *bits, std::uint64_t id) {
        std::uint64_t mask = std::uint64_t{1} << (id % 64);
        return bits[id / 64].fetch_or(mask) & mask;
    }
    static bool test(const std::atomic<std::uint64_t> *bits, std::uint64_t id) {
        return bits[id / 64].load() & (std::uint64_t{1} << (id % 64));
    }

    std::uint64_t capacity_ = 0;
    std::atomic<std::uint64_t> *next_ = nullptr;
    std::atomic<std::uint64_t> *received_ = nullptr;
    std::atomic<std::uint64_t> *confirmed_ = nullptr;
};

}  // namespace soak
