// Segment lifecycle (DESIGN.md §3): create, attach and validate mapped shared memory
// with any of the four backings. Structures describe themselves through SegmentClient;
// this file owns everything about files, descriptors, mappings and the common header.
#pragma once

#include "core/header.hpp"
#include "core/waitpoint.hpp"

#include <shmds/common.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace shmds::core {

// Implemented once per structure engine.
class SegmentClient {
public:
    virtual ~SegmentClient() = default;
    virtual StructureType type() const noexcept = 0;
    // The variant the caller asked for (0 = any, only when opening).
    virtual std::uint32_t wanted_variant() const noexcept = 0;
    virtual const char *variant_name(std::uint32_t variant) const noexcept = 0;
    // For a new segment: its shape from the caller's configuration. 0 or a fail() code
    // naming what is wrong with the configuration.
    virtual int describe(SegmentShape &s) = 0;
    // For an existing segment whose identity checked out: the shape its stored variant and
    // geometry words imply, computed exactly as describe() computes a new one, and kept
    // as the engine's private geometry (the header is never trusted again). 0, or a
    // fail() code for an impossible variant or geometry. The core compares the result
    // with the header field by field, so the engine writes no checks of its own.
    virtual int reshape(std::uint32_t variant, const std::uint64_t (&geometry)[kGeometryWords],
                        SegmentShape &s) = 0;
    // Lay out the structure in a new, zeroed segment (the common header is written).
    virtual void initialize(std::uint8_t *base) noexcept = 0;
};

class Segment {
public:
    Segment() = default;
    ~Segment();
    Segment(const Segment &) = delete;
    Segment &operator=(const Segment &) = delete;
    Segment(Segment &&other) noexcept;
    Segment &operator=(Segment &&other) noexcept;

    std::uint8_t *base() const noexcept { return base_; }
    std::size_t size() const noexcept { return size_; }
    // The descriptor behind the mapping (file or memfd), -1 for anonymous memory.
    int fd() const noexcept { return fd_; }
    int backing() const noexcept { return backing_; }
    const std::string &name() const noexcept { return name_; }
    bool created() const noexcept { return created_; }
    SegmentHeader &header() const noexcept { return *reinterpret_cast<SegmentHeader *>(base_); }
    // "/dev/shm/jobs", "memfd:jobs", "anonymous segment" or "fd 7": for error sentences.
    std::string describe() const;

    int sync() const noexcept;

    // The structure's one recovery count: the header's counter (lock takeovers, reclaimed
    // claims, repairs) plus the dead sleepers each tracked WaitPoint took out of its
    // registry. An engine tracks every WaitPoint of its control block once, in bind().
    void track(const WaitPoint &wp) noexcept;
    std::uint64_t recoveries() const noexcept;

private:
    friend int segment_create(const shmds_options_t *, SegmentClient &, Segment &);
    friend int segment_open(const shmds_options_t *, SegmentClient &, Segment &, bool);
    void reset() noexcept;

    std::uint8_t *base_ = nullptr;
    std::size_t size_ = 0;
    int fd_ = -1;
    int backing_ = SHMDS_BACKING_ANON;
    std::string name_;
    bool created_ = false;
    static constexpr int kMaxTracked = 8;
    const WaitPoint *tracked_[kMaxTracked] = {};
    int n_tracked_ = 0;
};

// Create the segment, or attach to the existing one at the same path (its geometry wins,
// its variant must match). Concurrent creators of one path all succeed and see one object.
int segment_create(const shmds_options_t *opts, SegmentClient &client, Segment &out);

// Attach to an existing segment (PATH or FD backing only), validating everything.
// read_only: open the file O_RDONLY and map it PROT_READ (any store into it faults);
// the engine must know never to write, not even a lock word.
int segment_open(const shmds_options_t *opts, SegmentClient &client, Segment &out,
                 bool read_only = false);

}  // namespace shmds::core
