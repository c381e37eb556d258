// What every sync primitive's segment has in common:
//
//   [SegmentHeader 256 B][control block of the primitive]
//
// Each primitive is its own structure type with one variant and at most two geometry
// words (semaphore: max and initial; barrier: parties; rwlock: reader slots). This
// base class is the SegmentClient for all of them: the primitive says how big its
// control block is for a geometry (rejecting impossible ones) and how to initialise
// it; creation, opening, validation and the private geometry copy live here once.
#pragma once

#include "core/engine_factory.hpp"
#include "core/header.hpp"
#include "core/segment.hpp"

#include <atomic>
#include <memory>
#include <cstdint>
#include <string>

namespace shmds::sync {

inline constexpr std::uint32_t kOnlyVariant = 1;

struct Shape {
    std::uint64_t control_bytes;  // size of the control block after the header
    std::uint64_t layout_hash;    // core::LayoutHash of the primitive's shared structs
};

class SyncSegment : public core::SegmentClient {
public:
    std::uint8_t *control() const noexcept { return segment_.base() + sizeof(core::SegmentHeader); }
    core::Segment &segment() noexcept { return segment_; }
    std::atomic<std::uint64_t> &recoveries() const noexcept { return segment_.header().recoveries; }
    // The primitive's one recovery count (core::Segment::recoveries).
    std::uint64_t recovery_count() const noexcept { return segment_.recoveries(); }
    std::uint64_t geometry(int i) const noexcept { return geometry_[i]; }

    // The descriptor behind the segment, or -ENOENT (with a sentence) if anonymous.
    int fd() const noexcept;

    core::StructureType type() const noexcept override { return type_; }
    std::uint32_t wanted_variant() const noexcept override { return kOnlyVariant; }
    const char *variant_name(std::uint32_t v) const noexcept override;
    int describe(core::SegmentShape &s) override;
    int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[core::kGeometryWords],
                core::SegmentShape &s) override;
    void initialize(std::uint8_t *base) noexcept override;

protected:
    explicit SyncSegment(core::StructureType type) noexcept : type_(type) {}

    // Create (or attach to the same primitive at that path) with these geometry words,
    // or open an existing one: the core's one create/open sequence (EngineFactory).
    template <class Primitive>
    static int create_as(const shmds_options_t *opts, std::uint64_t g0, std::uint64_t g1,
                         const char *noun, std::unique_ptr<Primitive> &out) {
        return core::EngineFactory::make<Primitive>(true, opts, noun, out, [&](Primitive &p) {
            p.geometry_[0] = g0;
            p.geometry_[1] = g1;
        });
    }
    template <class Primitive>
    static int open_as(const shmds_options_t *opts, const char *noun,
                       std::unique_ptr<Primitive> &out) {
        return core::EngineFactory::make<Primitive>(false, opts, noun, out, [](Primitive &) {});
    }

    // The control block's shape for a geometry; 0 or a fail() code naming the problem.
    virtual int shape(std::uint64_t g0, std::uint64_t g1, Shape &out) const = 0;
    // Lay out the control block in new, zeroed memory (geometry() is set).
    virtual void init_control(std::uint8_t *control) noexcept = 0;
    // The WaitPoints of the control block, for the recovery count (Segment::track).
    virtual void track_waitpoints(core::Segment &) noexcept {}

private:
    friend struct core::EngineFactory;
    // control() reads the mapping directly; only the WaitPoints are registered.
    void bind(std::uint8_t *) noexcept { track_waitpoints(segment_); }

    core::StructureType type_;
    core::Segment segment_;
    std::uint64_t geometry_[2] = {0, 0};
};

}  // namespace shmds::sync
