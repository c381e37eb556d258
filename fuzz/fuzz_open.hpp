// The fuzz target's entry point, shared by the libFuzzer build and the replay driver.
#pragma once

#include <cstddef>
#include <cstdint>

// Present data[0..size) as an existing segment to the open function of every structure
// and variant, and exercise whatever opens. Returns how many of the opens succeeded.
int shmds_fuzz_open_one(const std::uint8_t *data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size);
