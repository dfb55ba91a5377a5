#pragma once

#include <cstdint>

namespace relais::testing {

// A SQLite VFS that behaves like a disk with a volatile write cache: what is
// written stays in this process's memory until the file is synced, and only
// a sync puts it in the real file. `cut_power` (or reaching `cut_after_writes`
// mutating calls) then keeps a random part of what was never synced, as a
// disk losing power may, and ends the process at once with `_exit`, exactly
// where it was. The real files are then what a machine would find on reboot.
//
// Registered under the name `power_loss_vfs_name`, on top of the default VFS.
// Thread-safe: the open files and the counters are guarded by one mutex.
inline constexpr const char* power_loss_vfs_name = "relais-power-loss";

// Registers the VFS. `cut_after_writes` = 0 cuts only on demand; `seed`
// chooses which unsynced writes survive the cut.
void install_power_loss_vfs(std::uint64_t cut_after_writes, std::uint64_t seed, int exit_code);

[[noreturn]] void cut_power();

}  // namespace relais::testing
