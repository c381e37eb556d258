// libshmds C++17 veneer umbrella: header-only RAII classes over the C API.
#ifndef SHMDS_SHMDS_HPP
#define SHMDS_SHMDS_HPP

#include <shmds/error.hpp>
#include <shmds/hashmap.hpp>
#include <shmds/cache.hpp>
#include <shmds/deque.hpp>
#include <shmds/stack.hpp>
#include <shmds/log.hpp>
#include <shmds/heap.hpp>
#include <shmds/pool.hpp>
#include <shmds/queue.hpp>
#include <shmds/pubsub.hpp>
#include <shmds/reqrep.hpp>
#include <shmds/sync.hpp>
#include <shmds/ringbuffer.hpp>
#include <shmds/bitset.hpp>
#include <shmds/buffer.hpp>
#include <shmds/graph.hpp>

#endif  // SHMDS_SHMDS_HPP
