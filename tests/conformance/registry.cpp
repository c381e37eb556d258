// The registry behind structure.hpp: files register factories during static
// initialisation; the entries are built once, on first use (after main started), so
// the order in which the linker runs the files' initialisers does not matter.
#include "structure.hpp"

#include <cstdio>
#include <cstdlib>
#include <set>

namespace shmds::conformance {
namespace {

using Factory = std::vector<Structure> (*)();

std::vector<Factory> &factories() {
    static std::vector<Factory> list;
    return list;
}

}  // namespace

Registration::Registration(Factory make) { factories().push_back(make); }

const std::vector<Structure> &registry() {
    static const std::vector<Structure> all = [] {
        std::vector<Structure> out;
        std::set<std::string> names;
        for (Factory make : factories())
            for (Structure &s : make()) {
                // A duplicate name would make two entries share test names and shards.
                if (!names.insert(s.name).second) {
                    std::fprintf(stderr, "conformance: structure '%s' registered twice\n",
                                 s.name.c_str());
                    std::abort();
                }
                out.push_back(std::move(s));
            }
        return out;
    }();
    return all;
}

const Structure *find_structure(const std::string &name) {
    for (const Structure &s : registry())
        if (s.name == name) return &s;
    return nullptr;
}

}  // namespace shmds::conformance
