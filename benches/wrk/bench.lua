-- wrk script for benches/pocketbase.sh. The mode comes from BENCH_MODE:
--
--   static      the request given on wrk's command line, or METHOD and BODY
--               from the environment (a JSON POST such as a login)
--   authlite    rotating refresh: POST /user/refresh {"refreshToken": …}
--   pocketbase  POST /api/collections/users/auth-refresh, Authorization: <token>
--
-- In the refresh modes each answer's new token is the next request's token:
-- a thread holds a stack of tokens (from TOKENS, a file of one token a line,
-- dealt out over WRK_THREADS threads); a request takes one, its 200 answer
-- gives back the rotated one. A connection waits for its answer before it
-- sends again, so no session ever has two refreshes in flight, and as the
-- stack is last-in first-out a connection keeps rotating the same session.
-- Give each thread more tokens than connections: wrk sends one trial request
-- before the run (its token is lost), and so is the token of a request that
-- fails. At the end one line starting RESULT carries the figures.

local mode = os.getenv("BENCH_MODE") or "static"
local threads = {}

if mode == "static" then
  local method = os.getenv("METHOD")
  if method then
    wrk.method = method
    wrk.body = os.getenv("BODY")
    wrk.headers["Content-Type"] = "application/json"
  end
end

function setup(thread)
  table.insert(threads, thread)
  local n, id = tonumber(os.getenv("WRK_THREADS") or "1"), #threads
  local file = os.getenv("TOKENS")
  local mine, i = {}, 0
  if file then
    for line in io.lines(file) do
      if i % n == id - 1 and line ~= "" then
        table.insert(mine, line)
      end
      i = i + 1
    end
  end
  thread:set("dealt", table.concat(mine, " "))
end

function init(args)
  free, lost, starved = {}, 0, 0
  for token in string.gmatch(dealt or "", "%S+") do
    table.insert(free, token)
  end
end

local function next_token()
  local token = table.remove(free)
  if token == nil then
    starved = starved + 1
    return "none"
  end
  return token
end

local function carry(status, body, pattern)
  local token = status == 200 and body and body:match(pattern)
  if token then
    table.insert(free, token)
  else
    lost = lost + 1
  end
end

if mode == "authlite" then
  function request()
    return wrk.format("POST", "/user/refresh", { ["Content-Type"] = "application/json" },
      '{"refreshToken":"' .. next_token() .. '"}')
  end
  function response(status, headers, body)
    carry(status, body, '"refreshToken"%s*:%s*"([^"]+)"')
  end
elseif mode == "pocketbase" then
  function request()
    return wrk.format("POST", "/api/collections/users/auth-refresh", { Authorization = next_token() })
  end
  function response(status, headers, body)
    carry(status, body, '"token"%s*:%s*"([^"]+)"')
  end
end

function done(summary, latency, requests)
  local lost_total, starved_total = 0, 0
  for _, thread in ipairs(threads) do
    lost_total = lost_total + (thread:get("lost") or 0)
    starved_total = starved_total + (thread:get("starved") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f non2xx=%d socket_errors=%d p50_ms=%.2f p99_ms=%.2f lost=%d starved=%d\n",
    summary.requests, summary.duration / 1e6, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, lost_total, starved_total))
end
