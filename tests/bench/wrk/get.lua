-- (1) GET /configs/{key}?environment=E with a user key the server has already derived:
-- the cached-read path (key cache hit, one SQLite lookup, one Fernet decrypt).
package.path = (debug.getinfo(1, "S").source:match("@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local req

function init(args)
   req = wrk.format("GET", "/configs/" .. c.key .. "?environment=" .. c.env, c.headers)
end

function request()
   return req
end
