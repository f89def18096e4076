-- (5) the same request as get.lua, sent to bench-ceiling (which ignores path and headers):
-- identical bytes on the wire, so the ratio compares server cost only.
package.path = (debug.getinfo(1, "S").source:match("@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local req

function init(args)
   req = wrk.format("GET", "/configs/" .. c.key .. "?environment=" .. c.env, c.headers)
end

function request()
   return req
end
