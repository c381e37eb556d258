// The conformance registry: every structure of the library describes itself once, here,
// through the public C API only, and tests/conformance/test_*.cpp run the same checks
// over every entry (issue 8 §7): the four backings share state, a segment refuses to
// open as anything else, damaged files are refused untouched, memfd seals, eventfd
// semantics, stats struct_size handling.
//
// Adding a structure: one file beside this one that builds its Structure entries and
// registers them with a static Registration, plus its name in tests/meson.build's
// conformance lists. Adding a per-structure hook: one field here, empty by default, so
// entries that do not fill it keep compiling and the test using it skips them.
//
// This header and the entry files use nothing but the public headers and the standard
// library (no GoogleTest): they are linked into conformance_peer too, the unrelated
// process that attaches through a received descriptor.
#pragma once

#include <shmds/shmds.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace shmds::conformance {

// A handle of any structure (shmds_queue_t *, shmds_mutex_t *, ...), type-erased.
using Handle = void *;

template <typename H>
H *as(Handle h) {
    return static_cast<H *>(h);
}

// One eventfd of a handle: most structures have one, reqrep one per channel.
struct EventfdOps {
    std::string channel;  // "" when the structure has a single eventfd
    std::function<int(Handle)> get;
    std::function<int(Handle, int)> set;
    std::function<int(Handle)> notify;
    std::function<int(Handle, std::uint64_t *)> consume;
    // A verb the header documents as signalling this eventfd (pubsub's publish_notify,
    // a publish that asks for it). Empty when only notify() signals it.
    std::function<int(Handle)> signalling_verb;
    // A verb that wakes waiters but, by the library's one eventfd rule (common.h), must
    // not signal the eventfd (the semaphore's release, the barrier's trip). Optional.
    std::function<int(Handle)> quiet_verb = {};
};

// The structure's stats call: a versioned struct whose first field is size_t struct_size.
struct StatsOps {
    std::function<int(Handle, void *)> fill;
    std::size_t v1_size = 0;  // through the last field of the first version of the struct
    std::size_t size = 0;     // sizeof the struct as this build knows it
};

struct Structure {
    std::string family;        // its meson suite: queue, pubsub, reqrep, sync
    std::string name;          // unique, family first: "queue_int16", "sync_mutex"
    std::string type_name;     // as shmds_last_error() names it: "queue", "mutex"
    std::string variant_name;  // as the sentences name it ("int16"); "" if no variants

    // Create with a small configuration (opts NULL = anonymous), or attach to the same
    // structure and variant already there. Open attaches to an existing one, asking for
    // exactly this variant. Both return the C API's code.
    std::function<int(const shmds_options_t *, Handle *)> create;
    std::function<int(const shmds_options_t *, Handle *)> open;
    std::function<void(Handle)> close;
    std::function<int(Handle)> fd;

    // The cheap proof that two handles share one segment: write() changes its state
    // through one handle; read() looks for that change through another, in this process
    // or another one, while the writer is still alive. write: 0 or the call's code.
    // read: 0 when it saw the change, the call's code when a call failed, 1 when the
    // calls worked but showed no change.
    std::function<int(Handle)> write;
    std::function<int(Handle)> read;

    std::vector<EventfdOps> eventfds;  // empty: the structure has no eventfd
    std::optional<StatsOps> stats;     // empty: no stats struct (sync: _recoveries only)
};

// Every registered entry, in registration order of the files, then as each file lists
// them. Built on first use, after every Registration ran.
const std::vector<Structure> &registry();

// The entry called `name`, or nullptr.
const Structure *find_structure(const std::string &name);

// A file's one registration: `make` returns its entries (one per variant).
struct Registration {
    explicit Registration(std::vector<Structure> (*make)());
};

// The value every integer write/read uses: fits the narrowest variant (int16).
inline constexpr std::int64_t kProbeValue = 12345;
// The message every bytes write/read uses.
inline constexpr char kProbeBytes[] = "shared through one segment";

}  // namespace shmds::conformance
