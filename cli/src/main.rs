//! The `scaletest` binary: the allocator, then the command line (`scaletest_cli::main`).

use std::process::ExitCode;

/// Every allocation counted on its thread, so that the SDK path can report what the tracer
/// allocates per span. The system allocator by default; jemalloc with `--features jemalloc`.
#[cfg(not(feature = "jemalloc"))]
#[global_allocator]
static GLOBAL: scenario_runtime::alloc::Counting<std::alloc::System> =
    scenario_runtime::alloc::Counting(std::alloc::System);
#[cfg(feature = "jemalloc")]
#[global_allocator]
static GLOBAL: scenario_runtime::alloc::Counting<tikv_jemallocator::Jemalloc> =
    scenario_runtime::alloc::Counting(tikv_jemallocator::Jemalloc);

fn main() -> ExitCode {
    // With jemalloc, freed memory goes back to the system on its background threads instead of
    // in the middle of an allocation: the generator frees about as many bytes as it sends, and
    // purging inline made a third of its CPU time page faults (`scaletest bench` measures it).
    // An error leaves the default (inline purging), which works, only slower.
    #[cfg(feature = "jemalloc")]
    let _ = tikv_jemalloc_ctl::background_thread::write(true);
    scaletest_cli::main()
}
