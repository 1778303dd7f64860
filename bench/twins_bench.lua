-- twins_bench.lua — wrk requests for bench/twins_bench.mjs. MODE: get | patch | rel.
-- Each wrk thread gets its own Lua state; ids are drawn at random from TWINS twins.
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
