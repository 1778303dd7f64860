-- twins_bench.lua — wrk requests for bench/twins_bench.mjs. MODE: get | patch | rel.
-- Each wrk thread gets its own Lua state; ids are drawn at random from TWINS twins.
-- RATE (requests/s in all, with WRK_THREADS threads) paces the requests: each thread hands out
-- send times RATE/WRK_THREADS apart; a thread whose connections are all busy falls behind and
-- does not catch up in a burst, so the rate reached is what castor kept up with.
local mode = os.getenv("MODE")
local n = tonumber(os.getenv("TWINS"))
local prefix = os.getenv("PREFIX")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
                  ["Content-Type"] = "application/json" }
local counter = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)

request = function()
  local id = math.random(0, n - 1)
  if mode == "get" then
    return wrk.format("GET", prefix .. "/digitaltwins/t" .. id .. "?api-version=2022-05-31", headers)
  elseif mode == "patch" then
    headers["Content-Type"] = "application/json-patch+json"
    return wrk.format("PATCH", prefix .. "/digitaltwins/t" .. id .. "?api-version=2022-05-31", headers,
      '[{"op":"replace","path":"/temperature","value":' .. math.random() .. '}]')
  else
    counter = counter + 1
    local target = math.random(0, n - 1)
    if target == id then target = (id + 1) % n end
    return wrk.format("PUT", prefix .. "/digitaltwins/t" .. id .. "/relationships/r" ..
      math.random(1, 1000000000) .. "?api-version=2022-05-31", headers,
      '{"$targetId":"t' .. target .. '","$relationshipName":"feeds","since":"2024"}')
  end
end

response = function(status, headers, body)
  if status >= 300 and not errored then
    errored = true
    io.stderr:write("status " .. status .. ": " .. body .. "\n")
  end
end

local rate = tonumber(os.getenv("RATE") or "0")
if rate > 0 then
  local ffi = require("ffi")
  ffi.cdef [[
    struct bench_timespec { long tv_sec; long tv_nsec; };
    int clock_gettime(int clock, struct bench_timespec *ts);
  ]]
  local ts = ffi.new("struct bench_timespec")
  local function now_ms()
    ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local step = tonumber(os.getenv("WRK_THREADS") or "1") * 1000 / rate
  local slot = 0
  delay = function()
    local t = now_ms()
    if slot < t then slot = t end
    local wait = slot - t
    slot = slot + step
    return math.floor(wait)
  end
end
