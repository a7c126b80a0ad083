//! The `deskbridge` binary: everything is in the library; see `cli`.

fn main() -> std::process::ExitCode {
    deskbridge::cli::main()
}
