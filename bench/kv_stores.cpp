#include "kv_stores.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <dirent.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace shmds::bench::kv {

TempDir::TempDir(const char *parent) {
    std::string templ = std::string(parent) + "/shmds-bench-kv-XXXXXX";
    if (!mkdtemp(templ.data()))
        throw Failure("mkdtemp in " + std::string(parent) + ": " + std::strerror(errno));
    path_ = templ;
}

// Only what the stores put there: plain files, no subdirectories.
TempDir::~TempDir() {
    if (DIR *d = opendir(path_.c_str())) {
        while (const dirent *e = readdir(d))
            if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0)
                unlink((path_ + "/" + e->d_name).c_str());
        closedir(d);
    }
    rmdir(path_.c_str());
}

#if SHMDS_BENCH_HAVE_LMDB
void check_mdb(int rc, const char *call) {
    if (__builtin_expect(rc != 0, 0)) throw Failure(std::string(call) + ": " + mdb_strerror(rc));
}
#endif

std::string find_in_path(const char *program) {
    const char *path = std::getenv("PATH");
    std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
    for (std::size_t at = 0; at <= dirs.size();) {
        std::size_t colon = dirs.find(':', at);
        if (colon == std::string::npos) colon = dirs.size();
        const std::string candidate = dirs.substr(at, colon - at) + "/" + program;
        // A regular file: a PATH entry may hold a directory of the name (meson's test
        // PATH starts with /usr/lib/x86_64-linux-gnu, which has a perl/ directory).
        struct stat st {};
        if (colon > at && stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            access(candidate.c_str(), X_OK) == 0)
            return candidate;
        at = colon + 1;
    }
    return "";
}

#if SHMDS_BENCH_HAVE_HIREDIS
namespace {

bool exited(pid_t pid, int &status) { return waitpid(pid, &status, WNOHANG) == pid; }

}  // namespace

RedisServer::RedisServer() : dir_("/tmp"), socket_(dir_.path() + "/redis.sock") {
    const std::string binary = find_in_path("redis-server");
    if (binary.empty()) throw Skip("redis-server is not installed (apt install redis-server)");
    const std::string log = dir_.path() + "/redis.log";
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ < 0) throw Failure(std::string("fork: ") + std::strerror(errno));
    if (pid_ == 0) {
        // Dies with the bench, whatever kills it.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(126);
        const int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            dup2(null, 2);
        }
        execl(binary.c_str(), "redis-server", "--port", "0", "--unixsocket", socket_.c_str(),
              "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir",
              dir_.path().c_str(), "--daemonize", "no", "--loglevel", "warning", "--logfile",
              log.c_str(), static_cast<char *>(nullptr));
        _exit(127);
    }
    // Ready when it answers PING on its socket (a few ms; 10 s at most).
    const std::int64_t give_up = now_ns() + 10'000'000'000;
    for (;;) {
        int status;
        if (exited(pid_, status)) {
            pid_ = -1;
            throw Failure("redis-server exited at start (see its log: " + log + ")");
        }
        if (redisContext *c = redisConnectUnix(socket_.c_str())) {
            void *r = c->err ? nullptr : redisCommand(c, "PING");
            const bool up = r && static_cast<redisReply *>(r)->type == REDIS_REPLY_STATUS;
            if (r) freeReplyObject(r);
            redisFree(c);
            if (up) return;
        }
        if (now_ns() > give_up) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            pid_ = -1;
            throw Failure("redis-server did not answer on " + socket_ + " within 10 s");
        }
        usleep(2000);
    }
}

RedisServer::~RedisServer() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    const std::int64_t give_up = now_ns() + 3'000'000'000;
    int status;
    while (!exited(pid_, status)) {
        if (now_ns() > give_up) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
            return;
        }
        usleep(2000);
    }
}

redisContext *redis_connect(const std::string &socket) {
    redisContext *c = redisConnectUnix(socket.c_str());
    if (!c) throw Failure("redisConnectUnix: out of memory");
    if (c->err) {
        const std::string why = c->errstr;
        redisFree(c);
        throw Failure("redisConnectUnix " + socket + ": " + why);
    }
    return c;
}

redisReply *redis_expect(void *reply, redisContext *c, int type, const char *what) {
    auto *r = static_cast<redisReply *>(reply);
    if (__builtin_expect(r && r->type == type, 1)) return r;
    std::string why = !r                             ? std::string(c->errstr)
                      : r->type == REDIS_REPLY_ERROR ? std::string(r->str, r->len)
                                                     : "reply of type " + std::to_string(r->type);
    if (r) freeReplyObject(r);
    throw Failure(std::string("redis ") + what + ": " + why);
}
#endif

}  // namespace shmds::bench::kv
