#include "conformance_test.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace shmds::conformance {

std::vector<std::string> entry_names(bool (*keep)(const Structure &)) {
    std::vector<std::string> names;
    for (const Structure &s : registry())
        if (!keep || keep(s)) names.push_back(s.name);
    return names;
}

std::string entry_test_name(const testing::TestParamInfo<std::string> &info) {
    return info.param;
}

shmds_options_t path_options(const test::TempPath &path) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_PATH;
    o.name = path.c_str();
    return o;
}

shmds_options_t memfd_options(const char *label) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_MEMFD;
    o.name = label;
    return o;
}

shmds_options_t fd_options(int fd) {
    shmds_options_t o = SHMDS_OPTIONS_INIT;
    o.backing = SHMDS_BACKING_FD;
    o.fd = fd;
    return o;
}

std::string describe(int code) {
    if (code == 1) return "1 (the calls worked but showed no change)";
    return std::to_string(code) + " " + shmds_errname(code) + ": " + shmds_last_error();
}

std::string read_whole_file(const std::string &path) {
    std::string out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ADD_FAILURE() << "open " << path << ": " << std::strerror(errno);
        return out;
    }
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, std::size_t(n));
    ::close(fd);
    return out;
}

void write_whole_file(const std::string &path, const std::string &bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0) << path << ": " << std::strerror(errno);
    ASSERT_EQ(ssize_t(bytes.size()), ::write(fd, bytes.data(), bytes.size()));
    ::close(fd);
}

}  // namespace shmds::conformance
