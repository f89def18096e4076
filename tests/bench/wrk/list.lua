-- (2) GET /configs?environment=bench-list: a list of 100 entries, each decrypted.
package.path = (debug.getinfo(1, "S").source:match("@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local req

function init(args)
   req = wrk.format("GET", "/configs?environment=" .. (os.getenv("OSC_BENCH_LIST_ENV") or "bench-list"),
                    c.headers)
end

function request()
   return req
end
