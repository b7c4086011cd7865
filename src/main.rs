fn main() {
    std::process::exit(scour::cli::main());
}
