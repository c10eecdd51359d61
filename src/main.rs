fn main() {
    std::process::exit(gaterouter_setup::cli::main());
}
