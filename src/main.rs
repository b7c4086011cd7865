fn main() {
    scour::scan::contain::install_panic_hook();
    // The last catch: units of work contain their own panics (as gaps); one that escapes
    // them ends the run with one line and the error exit code, never a payload or a 101.
    let code = std::panic::catch_unwind(scour::cli::main).unwrap_or_else(|_| {
        eprintln!("scour: internal error: the scan stopped; no report was written");
        scour::verdict::EXIT_ERROR
    });
    std::process::exit(code);
}
