/*
 * libshmds umbrella header: include this to get every structure.
 * Link with `pkg-config --cflags --libs shmds`.
 */
#ifndef SHMDS_SHMDS_H
#define SHMDS_SHMDS_H

#include <shmds/common.h>
#include <shmds/queue.h>
#include <shmds/pubsub.h>
#include <shmds/reqrep.h>
#include <shmds/sync.h>
#include <shmds/hashmap.h>
#include <shmds/cache.h>
#include <shmds/deque.h>
#include <shmds/stack.h>
#include <shmds/ringbuffer.h>
#include <shmds/buffer.h>
#include <shmds/log.h>
#include <shmds/bitset.h>
#include <shmds/heap.h>
#include <shmds/graph.h>
#include <shmds/pool.h>

#endif /* SHMDS_SHMDS_H */
