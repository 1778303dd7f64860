-- token_bench.lua — wrk script: client_credentials grants against castor's v2 token endpoint
-- over keep-alive TLS. CLIENT_ID and CLIENT_SECRET come from the environment.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.body = "grant_type=client_credentials&client_id=" .. os.getenv("CLIENT_ID") ..
           "&client_secret=" .. os.getenv("CLIENT_SECRET") ..
           "&scope=https%3A%2F%2Fdigitaltwins.azure.net%2F.default"

local errors = 0
response = function(status, headers, body)
  if status ~= 200 then errors = errors + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("tokens/s  %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("p50       %.2f ms\n", latency:percentile(50) / 1000))
  io.write(string.format("p99       %.2f ms\n", latency:percentile(99) / 1000))
  io.write(string.format("non-200   %d of %d\n", summary.errors.status, summary.requests))
end
