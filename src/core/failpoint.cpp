#include "core/failpoint.hpp"

#if SHMDS_FAILPOINTS

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unistd.h>

namespace shmds::core {

namespace {
// Failpoints sit on hot paths of test builds, so the common case (this name was seen
// before and is not armed) is a few relaxed loads, no lock.
constexpr int kMaxNames = 128;
std::atomic<const char *> g_seen_names[kMaxNames];
std::atomic<int> g_seen_count{0};
std::mutex g_mutex;  // for registering a new name and for arming
std::string g_armed;
std::atomic<bool> g_any_armed{false};
std::once_flag g_env_once;
std::string g_seen_text;
constexpr char kStopSuffix[] = "@stop";  // "NAME@stop": stop there instead of dying

void read_env() {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (const char *env = std::getenv("SHMDS_FAILPOINT"); env && *env) {
        g_armed = env;
        g_any_armed.store(true);
    }
}

bool seen(const char *name) {
    int n = g_seen_count.load(std::memory_order_acquire);
    for (int i = 0; i < n; ++i)
        if (g_seen_names[i].load(std::memory_order_relaxed) == name) return true;
    return false;
}
}  // namespace

void failpoint_arm(const char *name) noexcept {
    std::call_once(g_env_once, read_env);
    std::lock_guard<std::mutex> lock(g_mutex);
    g_armed = name ? name : "";
    g_any_armed.store(!g_armed.empty());
}

const char *failpoint_seen() noexcept {
    std::lock_guard<std::mutex> lock(g_mutex);
    g_seen_text.clear();
    for (int i = 0; i < g_seen_count.load(); ++i) {
        if (i) g_seen_text += ',';
        g_seen_text += g_seen_names[i].load();
    }
    return g_seen_text.c_str();
}

void failpoint_hit(const char *name) noexcept {
    std::call_once(g_env_once, read_env);
    if (!seen(name)) {
        std::lock_guard<std::mutex> lock(g_mutex);
        int n = g_seen_count.load();
        if (!seen(name) && n < kMaxNames) {
            g_seen_names[n].store(name);
            g_seen_count.store(n + 1, std::memory_order_release);
        }
    }
    if (!g_any_armed.load(std::memory_order_relaxed)) return;
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (g_armed == name) ::kill(::getpid(), SIGKILL);
        const std::size_t n = std::strlen(name);
        if (g_armed.size() != n + sizeof kStopSuffix - 1 || g_armed.compare(0, n, name) != 0 ||
            g_armed.compare(n, std::string::npos, kStopSuffix) != 0)
            return;
        g_armed.clear();  // once: the continued process runs on
        g_any_armed.store(false);
    }
    ::kill(::getpid(), SIGSTOP);  // the whole process, outside the mutex
}

}  // namespace shmds::core

#endif
