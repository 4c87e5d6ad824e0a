-- GET BENCH_PATH, each request signed in as the next user of BENCH_TOKENS (none: anonymous).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local common = dofile(here .. "common.lua")

local tokens
local index = 0
local path = os.getenv("BENCH_PATH") or "/"

function init(args)
  tokens = common.load_tokens()
  -- Each thread starts at its own place in the list, so threads do not move in step.
  index = math.random(math.max(#tokens, 1))
end

function request()
  local headers = {["Accept"] = "application/json"}
  if #tokens > 0 then
    index = index % #tokens + 1
    headers["Authorization"] = "Bearer " .. tokens[index]
  end
  return wrk.format("GET", path, headers)
end

done = common.done
