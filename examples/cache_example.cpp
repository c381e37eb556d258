// A libshmds cache from C++, as a Cache::FastMmap user writes it: shmds::cache in a
// /dev/shm file with the anchor's options, a forked worker filling it, then get with
// std::optional, per-item expiry with std::chrono, get_and_remove, multi_set/multi_get
// under a page key and get_keys with details. The Perl it replaces:
//
//   my $cache = Cache::FastMmap->new(share_file => $file, cache_size => '10m',
//       expire_time => '1h', empty_on_exit => 1, unlink_on_exit => 1);
//   $cache->set('session:42', $token, '20m');
//   my $v = $cache->get('session:42');
//   $cache->multi_set('user:42', { name => 'Ada', lang => 'en' });
//
//   c++ -std=c++17 cache_example.cpp $(pkg-config --cflags --libs shmds)
#include <shmds/shmds.hpp>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <sys/wait.h>
#include <unistd.h>

int main() {
    using namespace std::chrono_literals;
    const std::string file = "/dev/shm/shmds-cache-example-cpp-" + std::to_string(getpid());
    try {
        auto cfg = shmds::cache::config();
        cfg.cache_size = 10u << 20;                 // cache_size => '10m'
        cfg.default_expire_ms = 60 * 60 * 1000;     // expire_time => '1h'
        cfg.lifecycle = SHMDS_CACHE_EMPTY_ON_EXIT | SHMDS_CACHE_UNLINK_ON_EXIT;
        auto cache = shmds::cache::create(shmds::backing::path(file).exclusive(), cfg);

        pid_t child = fork();
        if (child == 0) {  // a worker (a child's close would skip the exit actions anyway)
            bool ok = cache.set("session:42", "token-abc", 20min)     // relative expiry
                      && cache.set("flash", "shown once")             // the default hour
                      && cache.multi_set("user:42", {{"name", "Ada"}, {"lang", "en"}}) == 2;
            _exit(ok ? 0 : 1);
        }
        if (child < 0) throw std::system_error(errno, std::generic_category(), "fork");
        int status = 0;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;

        std::optional<std::string> token = cache.get("session:42");  // std::nullopt on a miss
        std::optional<std::string> flash = cache.get_and_remove("flash");
        const bool flash_gone = !cache.exists("flash");
        auto user = cache.multi_get("user:42", {"name", "lang", "email"});
        std::cout << "session:42 = " << token.value_or("(miss)") << ", flash = "
                  << flash.value_or("(miss)") << (flash_gone ? " (taken)" : "") << ", user:42 "
                  << user[0].value_or("?") << "/" << user[1].value_or("?") << ", email "
                  << (user[2] ? "known" : "unknown") << "\n";

        const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        for (const auto &e : cache.get_keys(shmds::cache::key_detail::meta))  // get_keys(1)
            std::cout << "  " << e.key << " expires in "
                      << (e.expire_on_ms ? (std::int64_t(e.expire_on_ms) - now_ms) / 60000 : -1)
                      << " min\n";
        const auto stats = cache.stats();  // get_statistics
        std::cout << stats.reads << " reads, " << stats.hits << " hits\n";
        // Leaving the scope destroys the cache: the creator empties and unlinks it.
        return token == "token-abc" && flash == "shown once" && flash_gone &&
                       user[0] == "Ada" && user[1] == "en" && !user[2] && stats.items == 3
                   ? 0
                   : 1;
    } catch (const std::system_error &e) {  // shmds::error is one
        std::cerr << "error: " << e.what() << "\n";
        shmds_unlink(file.c_str());
        return 1;
    }
}
