-- (3) POST /configs with a key never used before on every request: the write path
-- (Fernet encrypt, SQLite INSERT + commit, SSE publish with no subscribers).
-- Keys are "c-<run>-<thread>-<counter>": <run> is OSC_BENCH_RUN (run-http-bench sets it
-- from the clock and its PID) or else os.time(), so that two runs against the same store
-- never collide; <thread> is numbered in setup(); <counter> counts per thread.
package.path = (debug.getinfo(1, "S").source:match("@(.*/)") or "./") .. "?.lua;" .. package.path
local c = require("common")

local threads = 0
local run = os.getenv("OSC_BENCH_RUN") or tostring(os.time())

function setup(thread)
   thread:set("tid", threads)
   threads = threads + 1
end

local counter = 0
local prefix

function init(args)
   prefix = "/configs"
   counter = 0
end

function request()
   counter = counter + 1
   local body = string.format(
      '{"key":"c-%s-%d-%d","value":{"n":%d,"s":"bench value"},"environment":"%s","category":"bench"}',
      run, tid, counter, counter, c.env .. "-create")
   return wrk.format("POST", prefix, c.json_headers, body)
end
