-- Shared by the run-http-bench scenarios. The scenario parameters come from the
-- environment run-http-bench sets: OSC_BENCH_USER_KEY, OSC_BENCH_KEY, OSC_BENCH_ENV.
local M = {}

M.user_key = os.getenv("OSC_BENCH_USER_KEY") or "bench-user-key-0001"
M.key = os.getenv("OSC_BENCH_KEY") or "bench-get"
M.env = os.getenv("OSC_BENCH_ENV") or "bench"

M.headers = {
   ["X-User-Key"] = M.user_key,
   ["Accept"] = "application/json",
}

M.json_headers = {
   ["X-User-Key"] = M.user_key,
   ["Accept"] = "application/json",
   ["Content-Type"] = "application/json",
}

return M
