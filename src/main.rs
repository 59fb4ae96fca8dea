//! The `wembed` command: the library's CLI (`src/cli/`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
