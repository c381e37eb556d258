#include "deque/deque.hpp"

namespace shmds::deque {

namespace {
const Names kDequeNames = {
    "deque",
    "deque.push.locked", "deque.push.slot_written", "deque.push.committed", "deque.push.unwoken",
    "deque.pop.locked", "deque.pop.copied", "deque.pop.committed", "deque.pop.unwoken",
    "deque.clear.locked", "deque.clear.committed", "deque.clear.unwoken",
    "deque.peek.locked", "deque.stats.locked",
};
}  // namespace

Deque::Deque() noexcept : SlotDeque(core::StructureType::deque, kDequeNames) {}

int Deque::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Deque> &out) {
    return core::EngineFactory::create(opts, cfg, "deque", out);
}

int Deque::open(const shmds_options_t *opts, std::uint32_t wanted_type,
                std::unique_ptr<Deque> &out) {
    return core::EngineFactory::open(opts, wanted_type, std::uint32_t(ElemType::f64), "deque",
                                     out);
}

}  // namespace shmds::deque
