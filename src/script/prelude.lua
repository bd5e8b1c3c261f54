-- ferrokv's Lua prelude: Redis 7.0's scripting environment, run once when
-- the Lua state is made (src/script/mod.rs). It receives the real global
-- table and Rust helpers; it returns the protected global table scripts
-- see and the real `redis` table (the engine sets `call`, `pcall` and
-- `acl_check_cmd` in it, C functions: src/script/run.rs).
--
-- Redis 7.0 makes the global table and every library table read-only (its
-- Lua has a read-only table patch). Plain Lua 5.1 has no such tables, so
-- scripts see proxies: empty tables whose metatable reads through to the
-- real table and refuses writes with Redis's texts. The raw functions
-- (rawget, rawset, next, pairs, setmetatable) see through the proxies and
-- refuse to change them, so nothing a script does outlives it.

local real, rust = ...
local error, type, tostring, select = error, type, tostring, select
local raw_rawget, raw_rawset, raw_next, raw_pairs = rawget, rawset, next, pairs
local raw_setmetatable, raw_getmetatable = setmetatable, getmetatable
local raw_loadstring, raw_load, raw_setfenv = loadstring, load, setfenv
local string_byte, string_sub, string_find = string.byte, string.sub, string.find

-- proxy -> real table, and real table -> proxy.
local real_of = raw_setmetatable({}, { __mode = 'k' })
local proxy_of = raw_setmetatable({}, { __mode = 'k' })

local function readonly()
    error('Attempt to modify a readonly table', 2)
end

-- The scripts' global table (a proxy of `real`), made once `real` is
-- complete, at the end.
local G

local function nonexistent(_, name)
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
end

-- A read-only view of `t` (made once per table). For a global table
-- (`globals`), reading a name it does not hold is an error: `t` itself
-- gets a metatable whose __index raises it (as Redis 7.0 sets one on its
-- global table), so a name it holds is found by a table look-up, with no
-- function call (scripts read `redis` and `KEYS` on every call).
local function protect(t, globals)
    local p = proxy_of[t]
    if p then
        return p
    end
    p = {}
    if globals then
        raw_setmetatable(t, { __index = nonexistent, __metatable = false })
    end
    raw_setmetatable(p, { __index = t, __newindex = readonly, __metatable = false })
    real_of[p] = t
    proxy_of[t] = p
    return p
end


-- Functions that would see (or change) a proxy's insides.
real.rawget = function(t, k)
    return raw_rawget(real_of[t] or t, k)
end
real.rawset = function(t, k, v)
    if real_of[t] then
        error('Attempt to modify a readonly table', 0)
    end
    return raw_rawset(t, k, v)
end
real.next = function(t, k)
    return raw_next(real_of[t] or t, k)
end
real.pairs = function(t)
    local r = real_of[t]
    if r then
        return raw_next, r, nil
    end
    return raw_pairs(t)
end
-- Errors a Rust function raised reach Lua as userdata: pcall and xpcall
-- hand the script Redis's error table instead.
local unwrap = rust.unwrap_error
local raw_pcall, raw_xpcall = pcall, xpcall
-- Redis's pcall hands over an error table's message, not the table.
local function fix(ok, ...)
    if ok then
        return ok, ...
    end
    local e = unwrap((...))
    if type(e) == 'table' then
        local msg = raw_rawget(e, 'err')
        if type(msg) == 'string' then
            e = msg
        end
    end
    return false, e
end
real.pcall = function(...)
    return fix(raw_pcall(...))
end
real.xpcall = function(f, h)
    return raw_xpcall(f, function(e)
        return h(unwrap(e))
    end)
end
real.setmetatable = function(t, m)
    if real_of[t] then
        error('Attempt to modify a readonly table', 0)
    end
    return raw_setmetatable(t, m)
end

local raw_insert = table.insert
real.table.insert = function(t, ...)
    if real_of[t] then
        error('Attempt to modify a readonly table', 0)
    end
    return raw_insert(t, ...)
end

-- Code loaded by a script runs in the scripts' global table, and Redis
-- refuses precompiled chunks: the binary signature is read as text.
local function binary(s)
    return type(s) == 'string' and string_byte(s, 1) == 27
end
local function chunkid(s)
    local stop = string_find(s, '[%z\n]') or (#s + 1)
    return '[string "' .. string_sub(s, 1, stop - 1) .. '"]'
end
real.loadstring = function(s, name)
    if binary(s) then
        return nil, chunkid(name or s) .. ":1: unexpected symbol near 'char(27)'"
    end
    local f, e = raw_loadstring(s, name)
    if f then
        raw_setfenv(f, G)
    end
    return f, e
end
real.load = function(fn, name)
    local f, e = raw_load(fn, name)
    if f then
        raw_setfenv(f, G)
    end
    return f, e
end

-- Redis's math.random: its own rand48 generator, the same sequence as
-- redis-server's.
real.math.random = rust.random
real.math.randomseed = rust.randomseed

-- The redis table.
local redis = {}
real.redis = redis
-- call, pcall and acl_check_cmd are set by the engine (C functions, see
-- src/script/run.rs); the functions that raise errors are Rust functions, so that the frame of the
-- script calling them stays on the stack (a Lua function called as
-- `return f()` would replace it) and errors name the script's line.
redis.setresp = rust.setresp
redis.set_repl = rust.set_repl
redis.log = rust.log
redis.sha1hex = rust.sha1hex
local function error_table(code_and_msg)
    -- Redis's luaPushErrorBuff: "-CODE msg" keeps its code, anything
    -- else gets ERR; trailing line breaks go.
    local code, msg = 'ERR', code_and_msg
    if string_byte(code_and_msg, 1) == 45 then
        local space = string_find(code_and_msg, ' ', 1, true)
        if space then
            code, msg = string_sub(code_and_msg, 2, space - 1), string_sub(code_and_msg, space + 1)
        else
            msg = string_sub(code_and_msg, 2)
        end
    end
    msg = string.gsub(msg, '^[\r\n]+', '')
    msg = string.gsub(msg, '[\r\n]+$', '')
    return { err = code .. ' ' .. msg }
end
redis.error_reply = function(...)
    local msg = ...
    if select('#', ...) ~= 1 or type(msg) ~= 'string' then
        return error_table('wrong number or type of arguments')
    end
    if string_byte(msg, 1) ~= 45 then
        msg = '-' .. msg
    end
    return error_table(msg)
end
redis.status_reply = function(...)
    local msg = ...
    if select('#', ...) ~= 1 or type(msg) ~= 'string' then
        return error_table('wrong number or type of arguments')
    end
    return { ok = msg }
end
redis.replicate_commands = function()
    return true
end
redis.breakpoint = function()
    return false
end
redis.debug = function() end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.REDIS_VERSION = rust.version
redis.REDIS_VERSION_NUM = rust.version_num

real.__redis__err__handler = rust.error_handler

-- What Redis leaves out of the global table.
for _, name in ipairs({ 'print', 'setfenv', 'getfenv', 'newproxy', 'dofile', 'loadfile', 'module', 'require',
    'package', 'debug', 'os', 'io' }) do
    real[name] = nil
end

-- Library tables are read-only too (and strings' methods come from the
-- read-only string table).
for name, v in raw_pairs(real) do
    if type(v) == 'table' and v ~= real then
        real[name] = protect(v)
    end
end
-- The scripts' global table: from here on reading a missing name from
-- the real one raises (nothing below reads one).
G = protect(real, true)
real._G = G
local string_meta = raw_getmetatable('')
string_meta.__index = real.string
string_meta.__metatable = protect(string_meta)

-- The `redis` table of a library's code while FUNCTION LOAD runs it: only
-- what registering needs (anything else is "nonexistent").
local load_api = {
    register_function = rust.register_function,
    log = rust.log,
    REDIS_VERSION = rust.version,
    REDIS_VERSION_NUM = rust.version_num,
}
load_api.LOG_DEBUG, load_api.LOG_VERBOSE, load_api.LOG_NOTICE, load_api.LOG_WARNING = 0, 1, 2, 3
local load_redis = protect(load_api, true)

-- The global table of functions' libraries. As in Redis's functions
-- engine, one table for all libraries whose look-ups go to the scripts'
-- globals, except while FUNCTION LOAD runs a library's code: then only to
-- the loading API (`redis` as above; anything else is "nonexistent").
-- Redis swaps its global table's __index the same way, so a library's
-- local helper functions, which keep this table as their environment,
-- see the full globals when the library's functions run.
local load_env = raw_setmetatable({ redis = load_redis }, { __index = nonexistent, __metatable = false })
local fenv_meta = { __index = real, __newindex = readonly, __metatable = false }
local FG = raw_setmetatable({}, fenv_meta)
real_of[FG] = real
local function set_loading(on)
    fenv_meta.__index = on and load_env or real
end

-- What getmetatable shows of a proxy: Redis's read-only tables have no
-- metatable, but its global tables have their error metatable (read-only
-- too, its __index the function that raises).
local shown_meta = raw_setmetatable({}, { __mode = 'k' })
local global_meta = protect({ __index = nonexistent })
shown_meta[G] = global_meta
shown_meta[FG] = global_meta
do
    local getmetatable = raw_getmetatable
    real.getmetatable = function(...)
        if select('#', ...) == 0 then
            error("bad argument #1 to 'getmetatable' (value expected)", 2)
        end
        local t = ...
        if real_of[t] then
            return shown_meta[t]
        end
        local m = getmetatable(...)
        return m
    end
end

return G, redis, FG, set_loading
