//! The `deskbridge` binary: everything is in the library; see `cli`.

/// sled allocates and frees small buffers at a high rate; glibc's malloc spent ~18 % of the
/// ingest benchmark's CPU in its own bookkeeping (BENCHMARKS.md). mimalloc does that work
/// for a fraction of the cost.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    deskbridge::cli::main()
}
