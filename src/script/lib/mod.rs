//! The Lua libraries scripts rely on (cjson, cmsgpack, bit, struct): a stub the `lualib` branch replaces.
pub fn open_all(_lua: &mlua::Lua) -> mlua::Result<()> {
    Ok(())
}
