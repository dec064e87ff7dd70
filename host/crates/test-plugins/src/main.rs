//! Prints the directory of the compiled example games, for scripts that
//! start a server with them (`scripts/schemathesis.sh`):
//! `cargo run -q -p arcade-test-plugins`.

fn main() {
    println!("{}", arcade_test_plugins::examples_dir().display());
}
