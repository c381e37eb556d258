// The create/open sequence of every structure: allocate the handle (the engine object),
// let the engine record what the caller asked for, map and validate the segment (the
// core recomputes and compares its shape: SegmentClient::reshape), then point the
// engine into the mapping. An engine declares `friend struct core::EngineFactory;` and
// provides `core::Segment segment_` and `void bind(std::uint8_t *base) noexcept`; the
// create()/open() shorthands below also use `Config requested_` (with a `variant`
// field) and `std::uint32_t wanted_variant_`, and engines without variants call make().
#pragma once

#include "core/error.hpp"
#include "core/segment.hpp"

#include <cerrno>
#include <memory>
#include <new>

namespace shmds::core {

struct EngineFactory {
    // Create (or attach to the same-variant segment already there) from `cfg`.
    template <class Engine, class Config>
    static int create(const shmds_options_t *opts, const Config &cfg, const char *noun,
                      std::unique_ptr<Engine> &out) {
        return make<Engine>(true, opts, noun, out, [&](Engine &e) {
            e.requested_ = cfg;
            e.wanted_variant_ = std::uint32_t(cfg.variant);
        });
    }

    // Attach to an existing segment; wanted_variant 0 accepts any of 1..max_variant.
    template <class Engine>
    static int open(const shmds_options_t *opts, std::uint32_t wanted_variant,
                    std::uint32_t max_variant, const char *noun, std::unique_ptr<Engine> &out) {
        if (wanted_variant > max_variant)
            return fail(-EINVAL, "unknown {} variant {}", noun, wanted_variant);
        return make<Engine>(false, opts, noun, out,
                              [&](Engine &e) { e.wanted_variant_ = wanted_variant; });
    }

    // The whole sequence. prepare(engine) runs before the segment is mapped: the
    // SegmentClient callbacks read what it records.
    template <class Engine, class Prepare>
    static int make(bool create, const shmds_options_t *opts, const char *noun,
                    std::unique_ptr<Engine> &out, Prepare &&prepare) {
        return build(create ? Access::create : Access::open, opts, noun, out, prepare);
    }

    // Attach to an existing segment mapped PROT_READ (segment_open's read_only): for an
    // engine that can seal its segment against writes and never stores into it after.
    template <class Engine, class Prepare>
    static int make_read_only(const shmds_options_t *opts, const char *noun,
                              std::unique_ptr<Engine> &out, Prepare &&prepare) {
        return build(Access::open_read_only, opts, noun, out, prepare);
    }

private:
    enum class Access { create, open, open_read_only };
    template <class Engine, class Prepare>
    static int build(Access access, const shmds_options_t *opts, const char *noun,
                     std::unique_ptr<Engine> &out, Prepare &prepare) {
        std::unique_ptr<Engine> e(new (std::nothrow) Engine());
        if (!e) return fail(-ENOMEM, "out of memory for a {} handle", noun);
        prepare(*e);
        int r = access == Access::create
                    ? segment_create(opts, *e, e->segment_)
                    : segment_open(opts, *e, e->segment_, access == Access::open_read_only);
        if (r) return r;
        e->bind(e->segment_.base());
        out = std::move(e);
        return 0;
    }
};

}  // namespace shmds::core
