-- Shared by the bench scripts: bearer tokens read from a file, and a done() hook
-- that prints the run's figures as one JSON line for bench/run.py to parse.
--
-- Environment: BENCH_TOKENS  file with one access token per line (optional)
local M = {}

function M.load_tokens()
  local tokens = {}
  local path = os.getenv("BENCH_TOKENS")
  if path and path ~= "" then
    for line in io.lines(path) do
      if line ~= "" then tokens[#tokens + 1] = line end
    end
  end
  return tokens
end

local function json_number(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  return string.format("%.3f", x)
end

function M.done(summary, latency, requests)
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local parts = {
    '"requests":' .. summary.requests,
    '"seconds":' .. json_number(seconds),
    '"rps":' .. json_number(summary.requests / seconds),
    '"errors_connect":' .. e.connect,
    '"errors_read":' .. e.read,
    '"errors_write":' .. e.write,
    '"errors_timeout":' .. e.timeout,
    '"non_2xx_3xx":' .. e.status,
    '"latency_mean_ms":' .. json_number(latency.mean / 1000),
    '"latency_max_ms":' .. json_number(latency.max / 1000),
  }
  for _, p in ipairs({50, 90, 95, 99}) do
    parts[#parts + 1] = string.format('"p%d_ms":%s', p, json_number(latency:percentile(p) / 1000))
  end
  io.write("BENCH_JSON {" .. table.concat(parts, ",") .. "}\n")
end

return M
