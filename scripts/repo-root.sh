# Sourced by the scripts here (not run): moves to the repository root and
# sets `root` and `target_dir` (CARGO_TARGET_DIR, read like cargo reads it:
# a relative one from the caller's directory; else target/ in the root).
caller_dir="$(pwd)"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$(pwd)"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
case "$target_dir" in
    /*) ;;
    *) target_dir="$caller_dir/$target_dir" ;;
esac
