// A libshmds hash map from C++: shmds::hash_map<std::string, std::string> in an
// anonymous segment shared with a forked child, which memoises answers in it; the
// parent reads them back as std::optional, races the child on get_or_set and walks
// the map with range-for.
//
//   c++ -std=c++17 hashmap_example.cpp $(pkg-config --cflags --libs shmds)
#include <shmds/shmds.hpp>

#include <cerrno>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <sys/wait.h>
#include <unistd.h>

int main() {
    try {
        auto memo = shmds::hash_map<std::string, std::string>::create(
            shmds::backing::anonymous(), 1000);  // fork() children share it

        pid_t child = fork();
        if (child == 0) {
            memo.put("2+2", "4");
            memo.put(std::string("nul\0key", 7), "bytes are exact");  // keys are bytes
            _exit(memo.add("2+2", "5") ? 1 : 0);  // add: only if absent, so false here
        }
        if (child < 0) throw std::system_error(errno, std::generic_category(), "fork");
        int status = 0;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;

        std::optional<std::string> four = memo.get("2+2");     // std::nullopt when absent
        auto missing = memo.get("3+3");
        auto [value, inserted] = memo.get_or_set("3+3", "6");  // one atomic step
        std::cout << "2+2 = " << four.value_or("?") << ", 3+3 "
                  << (missing ? "was" : "was not") << " memoised, now " << value
                  << (inserted ? " (inserted here)" : "") << "\n";
        const bool exact = memo.get(std::string("nul\0key", 7)) == "bytes are exact";
        int entries = 0;
        for (const auto &[question, answer] : memo) {  // every entry, each exactly once
            std::cout << "  " << question.size() << "-byte key -> " << answer << "\n";
            ++entries;
        }
        return four == "4" && !missing && inserted && exact && entries == 3 ? 0 : 1;
    } catch (const std::system_error &e) {  // shmds::error is one
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}
