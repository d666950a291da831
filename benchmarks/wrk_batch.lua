-- POST /v1/numbers/lookup with one fixed JSON body ({"numbers": [...]}) read from a file.
-- Usage: wrk -s wrk_batch.lua URL -- BODY_FILE API_KEY   (used by benchmarks/bench_registry.py)

local req

function init(args)
  local file = assert(io.open(args[1], "rb"))
  local body = file:read("*a")
  file:close()
  local headers = { ["Authorization"] = "Bearer " .. args[2], ["Content-Type"] = "application/json" }
  req = wrk.format("POST", "/v1/numbers/lookup", headers, body)
end

function request()
  return req
end

function done(summary, latency, _)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RFRESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
