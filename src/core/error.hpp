// The thread-local "last error" sentence behind shmds_last_error(), and the one helper
// every layer uses to fail: set the sentence, return the code.
#pragma once

#include <shmds/common.h>

#include <fmt/format.h>

#include <string>
#include <utility>

namespace shmds::core {

void set_last_error(std::string message);
// For hot failure paths (a try-pop on an empty queue): records a sentence with static
// storage without formatting or allocating.
void set_last_error_static(const char *message) noexcept;
const char *last_error() noexcept;

inline int fail_static(int code, const char *message) noexcept {
    set_last_error_static(message);
    return code;
}

// Record a sentence for the caller and return `code`, so failing is one line:
//     return fail(-EINVAL, "capacity {} exceeds the maximum {}", cap, max);
template <typename... Args>
int fail(int code, fmt::format_string<Args...> format, Args &&...args) {
    try {
        set_last_error(fmt::format(format, std::forward<Args>(args)...));
    } catch (...) {
        // Out of memory while describing an error: keep the code, lose the sentence.
    }
    return code;
}

const char *error_name(int code) noexcept;
const char *error_string(int code) noexcept;

}  // namespace shmds::core
