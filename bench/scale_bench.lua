-- scale_bench.lua — wrk requests for bench/scale_bench.mjs. MODE: get | patch | query.
-- ADDRS ("host:port,host:port") spreads wrk's threads over castor nodes directly: thread i
-- connects to node i mod N (the URL's host name still goes in Host and SNI, as the nodes
-- share one certificate and one public URL).
local mode = os.getenv("MODE")
local n = tonumber(os.getenv("TWINS"))
local rels = tonumber(os.getenv("RELS"))
local prefix = os.getenv("PREFIX")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("TOKEN"),
                  ["Content-Type"] = "application/json" }

local addrs = {}
for hp in string.gmatch(os.getenv("ADDRS") or "", "[^,]+") do
  local h, p = hp:match("^(.*):(%d+)$")
  addrs[#addrs + 1] = wrk.lookup(h, p)[1]
end
local started = 0
function setup(thread)
  if #addrs > 0 then
    thread.addr = addrs[(started % #addrs) + 1]
    started = started + 1
  end
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) % 100000)
end

-- The query mix: half point reads by $dtId, a quarter property filters with TOP, a quarter
-- one-hop relationship joins (t0..t(RELS-1) each feed the next twin).
local function query()
  local k = math.random(1, 4)
  local q
  if k <= 2 then
    q = "SELECT * FROM DIGITALTWINS T WHERE T.$dtId = 't" .. math.random(0, n - 1) .. "'"
  elseif k == 3 then
    q = "SELECT TOP(10) T.$dtId, T.temperature FROM DIGITALTWINS T WHERE " ..
        "IS_OF_MODEL(T, 'dtmi:bench:Sensor;1') AND T.name = 'sensor " .. math.random(0, n - 1) .. "'"
  else
    q = "SELECT S FROM DIGITALTWINS R JOIN S RELATED R.feeds WHERE R.$dtId = 't" ..
        math.random(0, rels - 1) .. "'"
  end
  return wrk.format("POST", prefix .. "/query?api-version=2022-05-31", headers,
    '{"query":"' .. q .. '"}')
end

request = function()
  if mode == "get" then
    return wrk.format("GET", prefix .. "/digitaltwins/t" .. math.random(0, n - 1) ..
      "?api-version=2022-05-31", headers)
  elseif mode == "patch" then
    headers["Content-Type"] = "application/json-patch+json"
    return wrk.format("PATCH", prefix .. "/digitaltwins/t" .. math.random(0, n - 1) ..
      "?api-version=2022-05-31", headers,
      '[{"op":"replace","path":"/temperature","value":' .. math.random() .. '}]')
  else
    return query()
  end
end

response = function(status, headers, body)
  if status >= 300 and not errored then
    errored = true
    io.stderr:write("status " .. status .. ": " .. body .. "\n")
  end
end
