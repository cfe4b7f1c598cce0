-- wrk script for the data API's keyset pages, walked as a client walks a table: each answer's nextCursor is followed;
-- a walk ends after WALK pages on average and a new one starts at a random cursor of CURSORS_FILE (cursors of real
-- row ids sampled across the whole table, URL-encoded).
-- usage: wrk ... -s pages.lua URL -- CURSORS_FILE KEY MODE   (MODE = page: the data API | anchor-page: /page?cursor=)
local WALK = 20
local counter = 0
local threads = {}
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

-- Cursors the answers handed back, not yet followed: at most one per connection of this thread.
local pending = {}

function init(args)
  starts = {}
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do if #line > 0 then starts[#starts + 1] = line end end
  f:close()
  key, mode = args[2], args[3]
  headers = mode == "page" and { ["Authorization"] = "Bearer " .. key } or {}
  math.randomseed(42 + (tid or 0))
  followed, started = 0, 0
end

function response(status, headers, body)
  -- nextCursor is in the envelope after the rows: look at the tail only.
  local next = string.match(string.sub(body, -160), '"nextCursor":"([^"]+)"')
  if next then
    pending[#pending + 1] = string.gsub(next, "[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end)
  end
end

function request()
  local cursor = table.remove(pending)
  if cursor == nil or math.random(WALK) == 1 then
    cursor = starts[math.random(#starts)]
    started = started + 1
  else
    followed = followed + 1
  end
  if mode == "anchor-page" then return wrk.format("GET", "/page?cursor=" .. cursor) end
  return wrk.format("GET", "/api/v1/data/population-basic?$limit=100&cursor=" .. cursor, headers)
end

function done(summary, latency, requests)
  local f, s = 0, 0
  for _, thread in ipairs(threads) do
    f = f + thread:get("followed")
    s = s + thread:get("started")
  end
  io.write(string.format("walks: %d started, %d pages followed a nextCursor\n", s, f))
end
