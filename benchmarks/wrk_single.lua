-- GET /v1/numbers/{number} for random numbers of a list (one E.164 number per line).
-- Usage: wrk -s wrk_single.lua URL -- NUMBERS_FILE API_KEY   (used by benchmarks/bench_registry.py)

local requests = {}

function init(args)
  local headers = { ["Authorization"] = "Bearer " .. args[2] }
  for line in io.lines(args[1]) do
    if #line > 0 then
      requests[#requests + 1] = wrk.format("GET", "/v1/numbers/" .. line, headers)
    end
  end
  math.randomseed(os.time())
end

function request()
  return requests[math.random(#requests)]
end

-- One machine-readable line: rate, latency percentiles (microseconds) and errors.
function done(summary, latency, _)
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RFRESULT requests=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, seconds, summary.requests / seconds, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
