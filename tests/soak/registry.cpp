#include "soak.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace soak {
namespace {

// Filled by the Registrar objects of the workload files during static initialisation,
// so a new workload needs no line here.
std::vector<Registration> &table() {
    static std::vector<Registration> all;
    return all;
}

}  // namespace

Registrar::Registrar(const Registration &r) {
    for (const Registration &known : table())
        if (std::strcmp(known.name, r.name) == 0) {
            std::fprintf(stderr, "soak: two workloads are registered as %s\n", r.name);
            std::abort();
        }
    table().push_back(r);
    std::sort(table().begin(), table().end(), [](const Registration &a, const Registration &b) {
        return std::strcmp(a.name, b.name) < 0;
    });
}

const std::vector<Registration> &registry() { return table(); }

}  // namespace soak
