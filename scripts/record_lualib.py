#!/usr/bin/env python3
"""Records what redis-server 7.0.15 returns for calls of the Lua libraries
built into its scripting (cjson, cmsgpack, bit, struct), as the Rust
test-table rows of src/script/lib/*.rs: each case (one line of a file in
scripts/lualib_cases/) is a Lua expression run as
`return D(pcall(function() return EXPR end))` on one line, where D renders
the results (or the error) as text; SCRIPT FLUSH before each case gives it
a fresh Lua state, as each unit test case has.

Usage: scripts/record_lualib.py PORT scripts/lualib_cases/cjson.cases"""
import sys, redis

PRELUDE = (
    "local function S(v,d) d=d or 0 if d>40 then return '...' end local t=type(v) "
    "if t=='string' then return '\"'..(v:gsub('[^%w%p ]',function(c) return string.format('\\\\%02x',c:byte()) end))..'\"' "
    "elseif t=='number' then if v~=v then return 'nan' elseif v==1/0 then return 'inf' elseif v==-1/0 then return '-inf' end return string.format('%.17g',v) "
    "elseif t=='table' then local ks={} for k in pairs(v) do ks[#ks+1]=k end local r={} for _,k in ipairs(ks) do r[#r+1]=S(k,d+1)..'='..S(v[k],d+1) end table.sort(r) return '{'..table.concat(r,',')..'}' "
    "else return tostring(t=='userdata' and 'userdata' or t=='function' and 'function' or v) end end "
    "local function D(ok,...) local n=select('#',...) local r={} for i=1,n do r[i]=S((select(i,...))) end "
    "if ok then return table.concat(r,' ') else return 'ERR:'..table.concat(r,' ') end end "
)

def main():
    port, casefile = int(sys.argv[1]), sys.argv[2]
    r = redis.Redis(port=port)
    for line in open(casefile):
        expr = line.rstrip("\n")
        if not expr.strip() or expr.startswith("--"):
            continue
        script = PRELUDE + "return D(pcall(function() return " + expr + " end))"
        r.script_flush()  # a fresh Lua state per case, like the unit tests
        try:
            out = r.eval(script, 0)
        except redis.ResponseError as e:
            out = b"SCRIPTERR:" + str(e).encode()
        print("    (%s, %s)," % (rs(expr), rs(out.decode("latin-1"))))

def rs(s):
    return "r#\"" + s + "\"#" if "\"#" not in s else repr(s)

if __name__ == "__main__":
    main()
