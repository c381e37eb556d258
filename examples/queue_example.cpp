// A libshmds queue from C++: shmds::queue<std::string> in a file under /dev/shm, a forked
// child that opens it by path and pushes words, a parent that pops them with a timeout,
// and clean-up.
//
//   c++ -std=c++17 queue_example.cpp $(pkg-config --cflags --libs shmds)
#include <shmds/shmds.hpp>

#include <cerrno>
#include <chrono>
#include <iostream>
#include <string>
#include <system_error>
#include <sys/wait.h>
#include <unistd.h>

// Removes the segment file when main() returns (a forked child _exit()s: it never does).
struct remove_at_exit {
    std::string path;
    ~remove_at_exit() { shmds_unlink(path.c_str()); }
};

static const char *const words[] = {"hello", "from", "the", "child"};

static int produce(const std::string &path) {
    try {
        auto q = shmds::queue<std::string>::open(shmds::backing::path(path));
        for (const char *w : words) q.push(w);  // blocks while full
        return 0;
    } catch (const shmds::error &e) {
        std::cerr << "child: " << e.what() << "\n";
        return 1;
    }
}

int main() {
    const std::string path = "/dev/shm/shmds-example-cpp-" + std::to_string(getpid());
    try {
        auto q = shmds::queue<std::string>::create(shmds::backing::path(path).exclusive(), 64);
        remove_at_exit cleanup{path};

        pid_t child = fork();
        if (child == 0) _exit(produce(path));
        if (child < 0) throw std::system_error(errno, std::generic_category(), "fork");

        std::string sentence;
        for (const char *expected : words) {
            auto msg = q.try_pop_for(std::chrono::seconds(2));  // std::nullopt on timeout
            if (!msg || *msg != expected) {
                std::cerr << "expected \"" << expected << "\", got "
                          << (msg ? "\"" + *msg + "\"" : "nothing within 2 s") << "\n";
                waitpid(child, nullptr, 0);
                return 1;
            }
            sentence += (sentence.empty() ? "" : " ") + *msg;
        }
        std::cout << "got: " << sentence << "\n";

        int status = 0;
        waitpid(child, &status, 0);
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
    } catch (const std::system_error &e) {  // shmds::error is one
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
