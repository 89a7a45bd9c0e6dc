//! `include_dir!` embeds `templates/` at compile time but cargo does not know the macro reads it:
//! without this, editing a template would leave the binary (and the snapshot tests) stale.

fn main() {
    println!("cargo:rerun-if-changed=templates");
}
