#include "stack/stack.hpp"

namespace shmds::stack {

namespace {
const deque::Names kStackNames = {
    "stack",
    "stack.push.locked", "stack.push.slot_written", "stack.push.committed", "stack.push.unwoken",
    "stack.pop.locked", "stack.pop.copied", "stack.pop.committed", "stack.pop.unwoken",
    "stack.clear.locked", "stack.clear.committed", "stack.clear.unwoken",
    "stack.peek.locked", "stack.stats.locked",
};
}  // namespace

Stack::Stack() noexcept : SlotDeque(core::StructureType::stack, kStackNames) {}

int Stack::create(const shmds_options_t *opts, const Config &cfg, std::unique_ptr<Stack> &out) {
    return core::EngineFactory::create(opts, cfg, "stack", out);
}

int Stack::open(const shmds_options_t *opts, std::uint32_t wanted_type,
                std::unique_ptr<Stack> &out) {
    return core::EngineFactory::open(opts, wanted_type, std::uint32_t(deque::ElemType::f64),
                                     "stack", out);
}

}  // namespace shmds::stack
