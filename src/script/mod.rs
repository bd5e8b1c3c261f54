//! Lua scripting (Redis 7.0's EVAL/FUNCTION engine): for now only the
//! libraries Redis scripts rely on (`cjson`, `cmsgpack`, `bit`, `struct`).

pub mod lib;
