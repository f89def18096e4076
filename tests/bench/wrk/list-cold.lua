-- (2b) the list of (2) with Cache-Control: no-cache: read and decrypted from the store every
-- time, as after a write, instead of answered again from memory (OSC_LIST_CACHE_SIZE).
package.path = (debug.getinfo(1, "S").source:match("@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local req

function init(args)
   local headers = {}
   for k, v in pairs(c.headers) do headers[k] = v end
   headers["Cache-Control"] = "no-cache"
   req = wrk.format("GET", "/configs?environment=" .. (os.getenv("OSC_BENCH_LIST_ENV") or "bench-list"),
                    headers)
end

function request()
   return req
end
