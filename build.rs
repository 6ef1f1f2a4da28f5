//! Rebuilds the server when a migration is added or changed: `store::migrate` embeds the
//! `migrations/` folders at compile time (diesel's `embed_migrations!`), and cargo does not
//! notice a new file there by itself; a build that missed one would start on an old schema.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
