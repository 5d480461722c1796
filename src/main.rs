fn main() {
    std::process::exit(dockopt::run(std::env::args_os()));
}
