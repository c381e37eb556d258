// What a cache is measured against, shared by the tests and the benchmarks: a
// deterministic Zipf key stream and an exact LRU cache of the same capacity. Header-only
// and free of GoogleTest, so bench/ includes it too.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <list>
#include <random>
#include <unordered_map>
#include <vector>

namespace shmds::workload {

// Keys 0..n-1 with P(k) proportional to 1 / (k+1)^s, from a fixed seed.
class Zipf {
public:
    Zipf(std::size_t n, double s, std::uint64_t seed) : cdf_(n), rng_(seed) {
        double sum = 0;
        for (std::size_t i = 0; i < n; ++i) cdf_[i] = sum += 1.0 / std::pow(double(i + 1), s);
        for (double &c : cdf_) c /= sum;
    }
    std::int64_t next() {
        const double u = std::uniform_real_distribution<double>(0, 1)(rng_);
        return std::int64_t(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
    }

private:
    std::vector<double> cdf_;
    std::mt19937_64 rng_;
};

// An exact LRU cache of keys: access() returns whether it was a hit (a miss inserts the
// key, evicting the least recently used one when full).
class ExactLru {
public:
    explicit ExactLru(std::size_t cap) : cap_(cap) {}
    bool access(std::int64_t k) {
        auto it = where_.find(k);
        if (it != where_.end()) {
            order_.splice(order_.begin(), order_, it->second);
            return true;
        }
        if (order_.size() == cap_) {
            where_.erase(order_.back());
            order_.pop_back();
        }
        order_.push_front(k);
        where_[k] = order_.begin();
        return false;
    }

private:
    std::size_t cap_;
    std::list<std::int64_t> order_;  // most recent first
    std::unordered_map<std::int64_t, std::list<std::int64_t>::iterator> where_;
};

}  // namespace shmds::workload
