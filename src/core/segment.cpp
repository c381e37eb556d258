#include "core/segment.hpp"

#include "core/error.hpp"
#include "core/owner.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utility>

namespace shmds::core {

namespace {

constexpr int kOpenRetries = 100;
constexpr int kEmptyRetries = 20;  // x 1 ms
constexpr mode_t kDefaultMode = 0600;

struct Options {
    int backing = SHMDS_BACKING_ANON;
    std::string name;
    int fd = -1;
    std::uint32_t flags = 0;
    mode_t mode = kDefaultMode;
};

constexpr std::size_t kOptionsV1Size = offsetof(shmds_options_t, mode) + sizeof(std::uint32_t);

int read_options(const shmds_options_t *in, Options &out) {
    if (!in) return 0;  // NULL means anonymous with defaults
    if (in->struct_size < kOptionsV1Size)
        return fail(-EINVAL, "shmds_options_t.struct_size is {} but must be at least {}; "
                             "initialise options with SHMDS_OPTIONS_INIT",
                    in->struct_size, kOptionsV1Size);
    out.backing = in->backing;
    out.fd = in->fd;
    out.flags = in->flags;
    constexpr std::uint32_t kKnownFlags = SHMDS_EXCL | SHMDS_ACCEPT_UNSEALED;
    if (in->flags & ~kKnownFlags)
        return fail(-EINVAL, "unknown option flags 0x{:x}", in->flags & ~kKnownFlags);
    if (in->mode & ~std::uint32_t(07777))
        return fail(-EINVAL, "file mode 0{:o} has bits outside 07777", in->mode);
    out.mode = in->mode ? mode_t(in->mode) : kDefaultMode;
    switch (in->backing) {
        case SHMDS_BACKING_ANON:
            return 0;
        case SHMDS_BACKING_PATH:
        case SHMDS_BACKING_MEMFD:
            if (!in->name || !*in->name)
                return fail(-EINVAL, "{} backing needs a non-empty name",
                            in->backing == SHMDS_BACKING_PATH ? "path" : "memfd");
            out.name = in->name;
            return 0;
        case SHMDS_BACKING_FD:
            if (in->fd < 0) return fail(-EBADF, "fd backing needs a descriptor, got {}", in->fd);
            return 0;
        default:
            return fail(-EINVAL, "unknown backing {}", in->backing);
    }
}

std::string where_of(const Options &o) {
    switch (o.backing) {
        case SHMDS_BACKING_PATH: return o.name;
        case SHMDS_BACKING_MEMFD: return "memfd:" + o.name;
        case SHMDS_BACKING_FD: return fmt::format("fd {}", o.fd);
        default: return "anonymous segment";
    }
}

int sys_fail(int err, const std::string &where, const char *what) {
    return fail(-err, "{}: {} failed: {}", where, what, std::strerror(err));
}

// A received descriptor must not let its sender (or anyone holding it) shrink the file
// under our mapping: that is SIGBUS on our next access. Accept a file sealed against
// shrinking; one that still can be sealed is sealed once it has its final size
// (`seal_now`; before attaching, it only counts as acceptable); refuse the rest unless
// the caller accepted the risk (common.h, "What a backing can promise"). Checked before
// attaching, so a refused file is never written, and again after, to seal it.
int check_fd_seals(int fd, const std::string &where, const Options &o, bool seal_now) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals >= 0 && !(seals & F_SEAL_SHRINK) && !(seals & F_SEAL_SEAL)) {
        if (!seal_now) return 0;
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0) return 0;
        seals = fcntl(fd, F_GET_SEALS);  // someone sealed it meanwhile: look again
    }
    if (seals >= 0 && (seals & F_SEAL_SHRINK)) return 0;
    if (o.flags & SHMDS_ACCEPT_UNSEALED) return 0;
    return fail(-EPERM,
                "{}: the file behind the descriptor is not sealed against shrinking ({}), so "
                "another process could truncate it and kill this one with SIGBUS; share a "
                "SHMDS_BACKING_MEMFD segment's descriptor, or set SHMDS_ACCEPT_UNSEALED to "
                "accept the risk",
                where, seals < 0 ? "not a sealable memfd" : "a memfd whose seals are fixed");
}

// Recompute the shape from the stored variant and geometry words and compare it with
// the header, field by field: one check and one sentence shape for every structure.
int check_shape(const SegmentHeader &h, SegmentClient &client, const std::string &where) {
    const char *name = structure_name(h.type);
    SegmentShape want;
    if (client.reshape(h.variant, h.geometry, want) != 0)
        return fail(SHMDS_ECORRUPT, "{}: impossible {} geometry: {}", where, name, last_error());
    if (want.layout_hash != h.layout_hash)
        return fail(SHMDS_EVERSION,
                    "{}: layout hash 0x{:016x} differs from this build's 0x{:016x} (made by an "
                    "incompatible libshmds build)",
                    where, h.layout_hash, want.layout_hash);
    auto mismatch = [&](const std::string &field, std::uint64_t stored, std::uint64_t expected) {
        return fail(SHMDS_ECORRUPT,
                    "{}: the header's {} is {} but its own {} geometry gives {}", where, field,
                    stored, name, expected);
    };
    if (want.variant != h.variant) return mismatch("variant", h.variant, want.variant);
    if (want.elem_size != h.elem_size) return mismatch("element size", h.elem_size, want.elem_size);
    if (want.elem_align != h.elem_align)
        return mismatch("element alignment", h.elem_align, want.elem_align);
    for (int i = 0; i < kGeometryWords; ++i)
        if (want.geometry[i] != h.geometry[i])
            return mismatch(fmt::format("geometry word {}", i), h.geometry[i], want.geometry[i]);
    if (want.total_size != h.total_size) return mismatch("size", h.total_size, want.total_size);
    // Last: every check above names the field it refuses; this one catches an edit
    // that left the header consistent with itself.
    if (h.shape_check != header_shape_check(h))
        return fail(SHMDS_ECORRUPT,
                    "{}: the header's layout fields are not the ones its creator wrote (check "
                    "word 0x{:016x}, they hash to 0x{:016x}): a damaged {} header",
                    where, h.shape_check, header_shape_check(h), name);
    return 0;
}

// Fill in the common header of a new segment; magic is left "initializing" until the
// structure has laid itself out.
void write_header(std::uint8_t *base, const SegmentShape &desc, StructureType type) {
    auto &h = *reinterpret_cast<SegmentHeader *>(base);
    h.magic.store(kMagicInitializing, std::memory_order_relaxed);
    h.layout_version = kLayoutVersion;
    h.header_size = sizeof(SegmentHeader);
    h.type = std::uint32_t(type);
    h.variant = desc.variant;
    h.elem_size = desc.elem_size;
    h.elem_align = desc.elem_align;
    h.layout_hash = desc.layout_hash;
    h.total_size = desc.total_size;
    h.creator = self_owner();
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    h.created_realtime_ns = std::uint64_t(ts.tv_sec) * 1000000000u + std::uint64_t(ts.tv_nsec);
    std::memcpy(h.geometry, desc.geometry, sizeof h.geometry);
    h.shape_check = header_shape_check(h);
    h.recoveries.store(0, std::memory_order_relaxed);
}

void initialize(std::uint8_t *base, const SegmentShape &desc, SegmentClient &client) {
    write_header(base, desc, client.type());
    client.initialize(base);
    // The commit point: a peer that sees this magic sees a fully built structure.
    reinterpret_cast<SegmentHeader *>(base)->magic.store(kMagic, std::memory_order_release);
}

// Everything an existing segment must satisfy before any of it is used.
int validate(const std::uint8_t *base, std::size_t size, SegmentClient &client,
             const std::string &where) {
    if (size < sizeof(SegmentHeader))
        return fail(SHMDS_ECORRUPT, "{}: truncated: {} bytes, a segment header needs {}", where,
                    size, sizeof(SegmentHeader));
    const auto &h = *reinterpret_cast<const SegmentHeader *>(base);
    std::uint64_t magic = h.magic.load(std::memory_order_acquire);
    if (magic == 0 || magic == kMagicInitializing)
        return fail(SHMDS_ECORRUPT,
                    "{}: creation never finished (its creator died while initialising); "
                    "remove it and create it again",
                    where);
    if (magic != kMagic)
        return fail(SHMDS_ECORRUPT, "{}: not a libshmds segment (magic 0x{:016x})", where, magic);
    if (h.layout_version != kLayoutVersion || h.header_size != sizeof(SegmentHeader))
        return fail(SHMDS_EVERSION,
                    "{}: layout version {} (header {} bytes), this library reads version {} "
                    "({} bytes)",
                    where, h.layout_version, h.header_size, kLayoutVersion, sizeof(SegmentHeader));
    if (h.type != std::uint32_t(client.type()))
        return fail(SHMDS_ETYPE, "{}: holds a {}, not a {}", where, structure_name(h.type),
                    structure_name(std::uint32_t(client.type())));
    std::uint32_t wanted = client.wanted_variant();
    if (wanted != 0 && h.variant != wanted)
        return fail(SHMDS_ETYPE, "{}: holds a {} of variant {}, not {}", where,
                    structure_name(h.type), client.variant_name(h.variant),
                    client.variant_name(wanted));
    if (h.total_size != size)
        return fail(SHMDS_ECORRUPT, "{}: is {} bytes but its header says {} (truncated?)", where,
                    size, h.total_size);
    return check_shape(h, client, where);
}

bool all_zero(const std::uint8_t *p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        if (p[i]) return false;
    return true;
}

// Reserve the file's blocks now, so a full /dev/shm fails here with ENOSPC instead of
// killing a process with SIGBUS on first touch.
int reserve(int fd, std::size_t size, const std::string &where) {
    int r = posix_fallocate(fd, 0, off_t(size));
    if (r == EOPNOTSUPP || r == EINVAL) {
        if (ftruncate(fd, off_t(size)) != 0) return sys_fail(errno, where, "ftruncate");
        return 0;
    }
    if (r == ENOSPC) return fail(-ENOSPC, "{}: no space for {} bytes", where, size);
    if (r != 0) return sys_fail(r, where, "posix_fallocate");
    return 0;
}

int map(int fd, std::size_t size, const std::string &where, std::uint8_t **out,
        bool read_only = false) {
    void *p = mmap(nullptr, size, read_only ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd, 0);
    if (p == MAP_FAILED) return sys_fail(errno, where, "mmap");
    *out = static_cast<std::uint8_t *>(p);
    return 0;
}

class FlockGuard {
public:
    FlockGuard(int fd, int op) : fd_(fd) {
        while (flock(fd_, op) != 0 && errno == EINTR) {
        }
    }
    ~FlockGuard() { flock(fd_, LOCK_UN); }
    FlockGuard(const FlockGuard &) = delete;
    FlockGuard &operator=(const FlockGuard &) = delete;

private:
    int fd_;
};

// Given an open descriptor of a file-like backing (path or received fd): initialise it
// if it is new, adopt it if it is a valid segment, refuse it otherwise. Runs under an
// exclusive flock so racing creators serialise and all end up on one object.
int create_or_attach_fd(int fd, const std::string &where, SegmentClient &client,
                        const SegmentShape *desc, std::uint8_t **base, std::size_t *size,
                        bool *created, bool *tried_init = nullptr, bool read_only = false) {
    FlockGuard lock(fd, desc ? LOCK_EX : LOCK_SH);
    struct stat st;
    if (fstat(fd, &st) != 0) return sys_fail(errno, where, "fstat");
    if (!S_ISREG(st.st_mode))
        return fail(-EINVAL, "{}: not a regular file or memfd", where);
    bool reinit = false;
    if (st.st_size == 0) {
        if (!desc)
            return fail(SHMDS_ECORRUPT, "{}: is empty (creation unfinished, or not a segment)",
                        where);
        reinit = true;
    } else if (desc) {
        // An existing file: ours to re-initialise only if it is an interrupted create.
        std::uint8_t *p = nullptr;
        std::size_t n = std::size_t(st.st_size);
        if (int r = map(fd, n, where, &p)) return r;
        std::uint64_t magic = n >= sizeof(SegmentHeader)
                                  ? reinterpret_cast<SegmentHeader *>(p)->magic.load(
                                        std::memory_order_acquire)
                                  : 1;
        bool unfinished = (magic == kMagicInitializing && n >= sizeof(SegmentHeader)) ||
                          (magic == 0 && all_zero(p, n));
        if (unfinished && n == desc->total_size && st.st_uid == geteuid()) {
            reinit = true;
            munmap(p, n);
        } else {
            *base = p;
            *size = n;
            if (int r = validate(p, n, client, where)) return r;
            *created = false;
            return 0;
        }
    }
    if (reinit) {
        if (tried_init) *tried_init = true;
        if (st.st_uid != geteuid())
            return fail(-EACCES, "{}: refusing to initialise a file owned by uid {}", where,
                        st.st_uid);
        if (st.st_size != 0 && ftruncate(fd, 0) != 0) return sys_fail(errno, where, "ftruncate");
        if (int r = reserve(fd, desc->total_size, where)) return r;
        if (int r = map(fd, desc->total_size, where, base)) return r;
        *size = desc->total_size;
        initialize(*base, *desc, client);
        *created = true;
        return 0;
    }
    // Attach only.
    std::size_t n = std::size_t(st.st_size);
    if (int r = map(fd, n, where, base, read_only)) return r;
    *size = n;
    *created = false;
    return validate(*base, n, client, where);
}

int open_path(const Options &o, bool create, const std::string &where, int *fd_out,
              bool *we_made_it, bool read_only = false) {
    const char *path = o.name.c_str();
    for (int attempt = 0; attempt < kOpenRetries; ++attempt) {
        if (create) {
            int fd = ::open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, o.mode);
            if (fd >= 0) {
                // The umask masked the mode we asked for; set it exactly.
                if (fchmod(fd, o.mode) != 0) {
                    int e = errno;
                    ::close(fd);
                    ::unlink(path);
                    return sys_fail(e, where, "fchmod");
                }
                *fd_out = fd;
                *we_made_it = true;
                return 0;
            }
            if (errno != EEXIST) return sys_fail(errno, where, "open(O_CREAT|O_EXCL)");
            if (o.flags & SHMDS_EXCL) return fail(-EEXIST, "{}: already exists", where);
        }
        int fd = ::open(path, (read_only ? O_RDONLY : O_RDWR) | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
            *fd_out = fd;
            *we_made_it = false;
            return 0;
        }
        if (errno == ENOENT && create) continue;  // unlinked between our two opens: retry
        if (errno == ELOOP) return fail(-ELOOP, "{}: is a symbolic link (refused)", where);
        return sys_fail(errno, where, "open");
    }
    return fail(-EAGAIN, "{}: created and removed by others {} times in a row", where,
                kOpenRetries);
}

}  // namespace

Segment::~Segment() { reset(); }

Segment::Segment(Segment &&o) noexcept
    : base_(std::exchange(o.base_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      fd_(std::exchange(o.fd_, -1)),
      backing_(o.backing_),
      name_(std::move(o.name_)),
      created_(o.created_),
      n_tracked_(std::exchange(o.n_tracked_, 0)) {
    std::copy(o.tracked_, o.tracked_ + kMaxTracked, tracked_);  // they point into the mapping
}

Segment &Segment::operator=(Segment &&o) noexcept {
    if (this != &o) {
        reset();
        base_ = std::exchange(o.base_, nullptr);
        size_ = std::exchange(o.size_, 0);
        fd_ = std::exchange(o.fd_, -1);
        backing_ = o.backing_;
        name_ = std::move(o.name_);
        created_ = o.created_;
        std::copy(o.tracked_, o.tracked_ + kMaxTracked, tracked_);
        n_tracked_ = std::exchange(o.n_tracked_, 0);
    }
    return *this;
}

void Segment::reset() noexcept {
    if (base_) munmap(base_, size_);
    if (fd_ >= 0) ::close(fd_);
    base_ = nullptr;
    size_ = 0;
    fd_ = -1;
    n_tracked_ = 0;
}

std::string Segment::describe() const {
    Options o;
    o.backing = backing_;
    o.name = name_;
    o.fd = fd_;
    return where_of(o);
}

void Segment::track(const WaitPoint &wp) noexcept {
    if (n_tracked_ < kMaxTracked) tracked_[n_tracked_++] = &wp;
}

std::uint64_t Segment::recoveries() const noexcept {
    std::uint64_t n = base_ ? header().recoveries.load(std::memory_order_relaxed) : 0;
    for (int i = 0; i < n_tracked_; ++i) n += tracked_[i]->repaired.load(std::memory_order_relaxed);
    return n;
}

int Segment::sync() const noexcept {
    if (!base_) return -EINVAL;
    if (msync(base_, size_, MS_SYNC) != 0) return -errno;
    return 0;
}

int segment_create(const shmds_options_t *opts, SegmentClient &client, Segment &out) {
    Options o;
    if (int r = read_options(opts, o)) return r;
    std::string where = where_of(o);
    SegmentShape desc;
    if (int r = client.describe(desc)) return r;

    Segment seg;
    seg.backing_ = o.backing;
    seg.name_ = o.name;
    switch (o.backing) {
        case SHMDS_BACKING_ANON: {
            void *p = mmap(nullptr, desc.total_size, PROT_READ | PROT_WRITE,
                           MAP_SHARED | MAP_ANONYMOUS, -1, 0);
            if (p == MAP_FAILED) return sys_fail(errno, where, "mmap");
            seg.base_ = static_cast<std::uint8_t *>(p);
            seg.size_ = desc.total_size;
            initialize(seg.base_, desc, client);
            seg.created_ = true;
            break;
        }
        case SHMDS_BACKING_MEMFD: {
            int fd = memfd_create(o.name.c_str(), MFD_CLOEXEC | MFD_ALLOW_SEALING);
            if (fd < 0) return sys_fail(errno, where, "memfd_create");
            seg.fd_ = fd;
            if (int r = reserve(fd, desc.total_size, where)) return r;
            // A peer must never be able to shrink the file under us (SIGBUS) or grow it;
            // sealing the seals keeps anyone from adding F_SEAL_WRITE later.
            if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
                return sys_fail(errno, where, "F_ADD_SEALS");
            if (int r = map(fd, desc.total_size, where, &seg.base_)) return r;
            seg.size_ = desc.total_size;
            initialize(seg.base_, desc, client);
            seg.created_ = true;
            break;
        }
        case SHMDS_BACKING_PATH:
        case SHMDS_BACKING_FD: {
            int fd = -1;
            bool made = false;
            if (o.backing == SHMDS_BACKING_PATH) {
                if (int r = open_path(o, true, where, &fd, &made)) return r;
            } else {
                fd = fcntl(o.fd, F_DUPFD_CLOEXEC, 3);
                if (fd < 0) return sys_fail(errno, where, "dup");
            }
            seg.fd_ = fd;
            if (o.backing == SHMDS_BACKING_FD)
                if (int r = check_fd_seals(fd, where, o, false)) return r;
            bool tried_init = false;
            int r = create_or_attach_fd(fd, where, client, &desc, &seg.base_, &seg.size_,
                                        &seg.created_, &tried_init);
            if (r == 0 && o.backing == SHMDS_BACKING_FD) r = check_fd_seals(fd, where, o, true);
            if (r) {
                // Leave no half-made file behind when our own initialisation of the file we
                // made failed (e.g. ENOSPC). A file another creator initialised is theirs.
                if (made && tried_init && !seg.created_) ::unlink(o.name.c_str());
                return r;
            }
            break;
        }
    }
    out = std::move(seg);
    return 0;
}

int segment_open(const shmds_options_t *opts, SegmentClient &client, Segment &out,
                 bool read_only) {
    Options o;
    if (int r = read_options(opts, o)) return r;
    std::string where = where_of(o);
    Segment seg;
    seg.backing_ = o.backing;
    seg.name_ = o.name;
    int fd = -1;
    switch (o.backing) {
        case SHMDS_BACKING_PATH: {
            bool made = false;
            if (int r = open_path(o, false, where, &fd, &made, read_only)) return r;
            break;
        }
        case SHMDS_BACKING_FD:
            fd = fcntl(o.fd, F_DUPFD_CLOEXEC, 3);
            if (fd < 0) return sys_fail(errno, where, "dup");
            break;
        case SHMDS_BACKING_MEMFD:
            return fail(-EINVAL, "{}: a memfd cannot be opened by name; pass its fd "
                                 "(shmds_send_fd) and open with SHMDS_BACKING_FD",
                        where);
        default:
            return fail(-EINVAL, "an anonymous segment cannot be opened; share it by fork() "
                                 "or create it as a memfd");
    }
    seg.fd_ = fd;
    if (o.backing == SHMDS_BACKING_FD)
        if (int r = check_fd_seals(fd, where, o, false)) return r;
    // A creator makes the file, then locks it to initialise: an opener can slip into that
    // instant and find it empty. Look again briefly before calling it unfinished.
    for (int attempt = 0;; ++attempt) {
        struct stat st;
        if (attempt < kEmptyRetries && fstat(fd, &st) == 0 && st.st_size == 0) {
            usleep(1000);
            continue;
        }
        break;
    }
    if (int r = create_or_attach_fd(fd, where, client, nullptr, &seg.base_, &seg.size_,
                                    &seg.created_, nullptr, read_only))
        return r;
    if (o.backing == SHMDS_BACKING_FD)
        if (int r = check_fd_seals(fd, where, o, true)) return r;
    out = std::move(seg);
    return 0;
}

}  // namespace shmds::core
