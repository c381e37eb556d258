// The create/open sequence shared by structures whose handle is one engine object
// (queue, pubsub, reqrep): allocate the handle, let the engine record what the caller
// asked for, map and validate the segment, then point the engine into the mapping.
// An engine declares `friend struct core::EngineFactory;` and provides a
// `core::Segment segment_` member and `void bind(std::uint8_t *base) noexcept`.
#pragma once

#include "core/error.hpp"
#include "core/segment.hpp"

#include <cerrno>
#include <memory>
#include <new>

namespace shmds::core {

struct EngineFactory {
    enum class Mode { create, open };

    // prepare(engine) runs before the segment is mapped: it stores the requested
    // configuration or the wanted variant, which the SegmentClient callbacks read.
    template <class Engine, class Prepare>
    static int attach(Mode mode, const shmds_options_t *opts, const char *noun,
                      Prepare &&prepare, std::unique_ptr<Engine> &out) {
        std::unique_ptr<Engine> e(new (std::nothrow) Engine());
        if (!e) return fail(-ENOMEM, "out of memory for a {} handle", noun);
        prepare(*e);
        int r = mode == Mode::create ? segment_create(opts, *e, e->segment_)
                                     : segment_open(opts, *e, e->segment_);
        if (r) return r;
        e->bind(e->segment_.base());
        out = std::move(e);
        return 0;
    }
};

}  // namespace shmds::core
