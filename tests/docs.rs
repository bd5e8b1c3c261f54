//! `docs/commands.md` is generated from the command table and must match it.

#[test]
fn commands_md_matches_the_table() {
    let expected = ferrokv::cmd::table::markdown();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/commands.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(path).unwrap_or_default();
    assert!(actual == expected, "docs/commands.md is stale: run `cargo run -- --commands-md > docs/commands.md`");
}
