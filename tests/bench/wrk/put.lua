-- (4) PUT /configs/{key}?environment=E: update of one existing key, over and over
-- (Fernet encrypt, SQLite UPDATE + commit, SSE publish with no subscribers).
package.path = (debug.getinfo(1, "S").source:match("@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local counter = 0
local path

function init(args)
   path = "/configs/" .. (os.getenv("OSC_BENCH_PUT_KEY") or c.key) .. "?environment=" .. c.env
end

function request()
   counter = counter + 1
   return wrk.format("PUT", path, c.json_headers, string.format('{"value":"update %d"}', counter))
end
