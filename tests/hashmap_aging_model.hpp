// Test models for the hash map's TTL and eviction: a manual clock to inject with
// shmds_hashmap_set_clock, an exact model of one shard's SIEVE order and lazy expiry
// (what docs/hashmap-design.md §6-7 and hashmap.h promise, written the plain way), and
// (from support/cache_workload.hpp) an exact LRU cache and a deterministic Zipf stream.
#pragma once

#include "support/cache_workload.hpp"

#include <gtest/gtest.h>
#include <shmds/hashmap.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <list>
#include <optional>
#include <unordered_map>
#include <vector>

namespace shmds::test::hm {

struct ManualClock {
    std::uint64_t now = 1'000'000;
    static std::uint64_t read(void *self) { return static_cast<ManualClock *>(self)->now; }
    void attach(shmds_hashmap_t *m) { EXPECT_EQ(0, shmds_hashmap_set_clock(m, &read, this)); }
};

// One shard of an int64 -> int64 map with TTL and (optionally) SIEVE eviction.
class AgingModel {
public:
    struct Entry {
        std::int64_t value;
        std::uint64_t expire;  // absolute ms, 0 = never
        bool visited = false;
    };

    AgingModel(std::size_t max, bool evict, std::uint64_t default_ttl, const ManualClock &clock)
        : max_(max), evict_(evict), default_ttl_(default_ttl), clock_(clock), hand_(order_.end()) {}

    std::uint64_t evictions = 0, expirations = 0;
    std::size_t size() const { return entries_.size(); }

    // What a reader sees (a hit marks the entry visited).
    std::optional<std::int64_t> get(std::int64_t k) {
        Entry *e = live(k);
        if (!e) return std::nullopt;
        e->visited = true;
        return e->value;
    }
    std::optional<std::uint64_t> expire_of(std::int64_t k) {
        Entry *e = live(k);
        if (!e) return std::nullopt;
        e->visited = true;
        return e->expire;
    }
    // put / update: 0, -ENOENT (update of an absent key), -ENOSPC.
    int put(std::int64_t k, std::int64_t v, std::uint64_t ttl, bool only_update = false) {
        writer_meets(k);
        auto it = entries_.find(k);
        if (it != entries_.end()) {
            it->second.first = {v, expiry(ttl), true};
            return 0;
        }
        if (only_update) return -ENOENT;
        return insert(k, v, ttl);
    }
    int add(std::int64_t k, std::int64_t v, std::uint64_t ttl) {
        writer_meets(k);
        if (entries_.count(k)) return -EEXIST;
        return insert(k, v, ttl);
    }
    std::optional<std::int64_t> take(std::int64_t k) {
        writer_meets(k);
        auto it = entries_.find(k);
        if (it == entries_.end()) return std::nullopt;
        const std::int64_t v = it->second.first.value;
        erase(k);
        return v;
    }
    // incr_by: the new value, or nullopt for -ENOSPC. Keeps the expiry; a hit marks.
    std::optional<std::int64_t> incr(std::int64_t k, std::int64_t d) {
        writer_meets(k);
        auto it = entries_.find(k);
        if (it != entries_.end()) return it->second.first.value += d;
        if (insert(k, d, kDefault) != 0) return std::nullopt;
        return d;
    }
    // touch / persist / set_ttl: 0 or -ENOENT.
    int touch(std::int64_t k) {
        Entry *e = met(k);
        if (!e) return -ENOENT;
        if (default_ttl_) e->expire = clock_.now + default_ttl_;
        return 0;  // marked by met(), as every writer that finds its key
    }
    int set_expire(std::int64_t k, std::uint64_t ttl) {
        Entry *e = met(k);
        if (!e) return -ENOENT;
        e->expire = ttl ? clock_.now + ttl : 0;
        return 0;
    }
    // pop (newest = false) / shift: the entry, or nullopt when empty.
    std::optional<std::pair<std::int64_t, std::int64_t>> pop(bool newest) {
        while (!entries_.empty()) {
            const auto pos = newest ? std::prev(order_.end()) : victim();
            const std::int64_t k = *pos;
            Entry e = entries_.at(k).first;
            erase(k);
            if (expired(e)) {
                ++expirations;
                continue;
            }
            return std::make_pair(k, e.value);
        }
        return std::nullopt;
    }
    std::uint64_t flush() {
        std::vector<std::int64_t> gone;
        for (auto &[k, p] : entries_)
            if (expired(p.first)) gone.push_back(k);
        for (auto k : gone) erase(k);
        expirations += gone.size();
        return gone.size();
    }
    static constexpr std::uint64_t kDefault = ~std::uint64_t{0};

private:
    using Order = std::list<std::int64_t>;  // oldest first

    bool expired(const Entry &e) const { return e.expire != 0 && clock_.now >= e.expire; }
    std::uint64_t expiry(std::uint64_t ttl) const {
        if (ttl == kDefault) ttl = default_ttl_;
        return ttl ? clock_.now + ttl : 0;
    }
    Entry *live(std::int64_t k) {
        auto it = entries_.find(k);
        if (it == entries_.end() || expired(it->second.first)) return nullptr;
        return &it->second.first;
    }
    // A writer on key k reclaims it if it has expired; if it is live, finding it is a
    // hit (hashmap.h, "Marks": every verb that finds its key marks it).
    void writer_meets(std::int64_t k) {
        auto it = entries_.find(k);
        if (it == entries_.end()) return;
        if (expired(it->second.first)) {
            erase(k);
            ++expirations;
        } else {
            it->second.first.visited = true;
        }
    }
    Entry *met(std::int64_t k) {
        writer_meets(k);
        auto it = entries_.find(k);
        return it == entries_.end() ? nullptr : &it->second.first;
    }
    void erase(std::int64_t k) {
        auto it = entries_.find(k);
        if (hand_ == it->second.second) hand_ = std::next(hand_);
        order_.erase(it->second.second);
        entries_.erase(it);
    }
    // The SIEVE walk: from the hand (or the oldest) towards the newest, clearing marks.
    Order::iterator victim() {
        auto pos = hand_;
        for (;;) {
            if (pos == order_.end()) pos = order_.begin();
            Entry &e = entries_.at(*pos).first;
            if (!e.visited || expired(e)) break;
            e.visited = false;
            ++pos;
        }
        hand_ = pos;  // erase() then moves the hand to the victim's newer neighbour
        return pos;
    }
    int insert(std::int64_t k, std::int64_t v, std::uint64_t ttl) {
        if (entries_.size() >= max_) {
            if (evict_) {
                const std::int64_t gone = *victim();
                const bool was_expired = expired(entries_.at(gone).first);
                erase(gone);
                ++(was_expired ? expirations : evictions);
            } else if (flush() == 0) {  // a full map reclaims every expired entry
                return -ENOSPC;
            }
        }
        order_.push_back(k);
        entries_[k] = {Entry{v, expiry(ttl), false}, std::prev(order_.end())};
        return 0;
    }

    std::size_t max_;
    bool evict_;
    std::uint64_t default_ttl_;
    const ManualClock &clock_;
    Order order_;
    std::unordered_map<std::int64_t, std::pair<Entry, Order::iterator>> entries_;
    Order::iterator hand_;
};

// The Zipf stream and the exact LRU the eviction tests compare against (shared with
// the eviction bench).
using workload::ExactLru;
using workload::Zipf;

}  // namespace shmds::test::hm
